// Chat dictionaries: a character's, the global one in Settings, and the
// core (not JavaScript) judging a rule.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import App from "../src/App.svelte";
import type { DictionaryRule } from "../src/lib/api";
import { installBackend, MockWorldBooks } from "./helpers/backend";
import { count, last, openAnn } from "./helpers/worldbooks";

describe("character page", () => {
  test("the character's chat dictionary is edited and saved with setDictionary", async () => {
    const store = new MockWorldBooks([]);
    store.dictionaries.set("ann", [{ find: "Ann", replace: "Annie", regex: false, caseSensitive: true, enabled: true, scope: "display" }]);
    const calls = await openAnn(store);
    const editor = await screen.findByTestId("dictionary-editor");
    await waitFor(() => expect(within(editor).getAllByTestId("dictionary-rule")).toHaveLength(1));
    expect(calls.some((c) => c.cmd === "get_dictionary" && (c.args as { characterId: string }).characterId === "ann")).toBe(true);
    const save = within(editor).getByTestId("dictionary-save") as HTMLButtonElement;
    expect(save.disabled).toBe(true);

    await fireEvent.click(within(editor).getByTestId("dictionary-add"));
    const rule = within(editor).getAllByTestId("dictionary-rule")[1]!;
    await fireEvent.input(within(rule).getByTestId("dictionary-find"), { target: { value: "smirk(s)?" } });
    await fireEvent.input(within(rule).getByTestId("dictionary-replace"), { target: { value: "smile$1" } });
    await fireEvent.click(within(rule).getByTestId("dictionary-regex"));
    await fireEvent.change(within(rule).getByTestId("dictionary-scope"), { target: { value: "prompt" } });
    expect(save.disabled).toBe(false);
    await fireEvent.click(save);
    await waitFor(() => expect(count(calls, "set_dictionary")).toBe(1));
    expect(last(calls, "set_dictionary")).toEqual({
      characterId: "ann",
      rules: [
        { find: "Ann", replace: "Annie", regex: false, caseSensitive: true, enabled: true, scope: "display" },
        { find: "smirk(s)?", replace: "smile$1", regex: true, caseSensitive: false, enabled: true, scope: "prompt" },
      ],
    });
    await waitFor(() => expect(save.disabled).toBe(true));
  });
});

describe("global chat dictionary", () => {
  test("Settings edits the global dictionary (characterId null); a bad regex blocks saving", async () => {
    const store = new MockWorldBooks([]);
    const calls = installBackend({ worldBooks: store });
    render(App);
    await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
    await fireEvent.click(screen.getByTestId("nav-settings"));
    const editor = await screen.findByTestId("dictionary-editor");
    await waitFor(() => expect(calls.some((c) => c.cmd === "get_dictionary")).toBe(true));
    expect(last(calls, "get_dictionary")).toEqual({ characterId: null });

    await fireEvent.click(within(editor).getByTestId("dictionary-add"));
    const rule = within(editor).getByTestId("dictionary-rule");
    await fireEvent.click(within(rule).getByTestId("dictionary-regex"));
    await fireEvent.input(within(rule).getByTestId("dictionary-find"), { target: { value: "(oops" } });
    await waitFor(() => expect(rule.textContent).toContain("This rule can't work"));
    expect(rule.textContent).toContain("(oops");
    const save = within(editor).getByTestId("dictionary-save") as HTMLButtonElement;
    expect(save.disabled).toBe(true);

    await fireEvent.input(within(rule).getByTestId("dictionary-find"), { target: { value: "colour" } });
    await fireEvent.click(within(rule).getByTestId("dictionary-regex"));
    await fireEvent.input(within(rule).getByTestId("dictionary-replace"), { target: { value: "color" } });
    await waitFor(() => expect(save.disabled).toBe(false));
    await fireEvent.click(save);
    await waitFor(() => expect(count(calls, "set_dictionary")).toBe(1));
    expect(last(calls, "set_dictionary")).toEqual({
      characterId: null,
      rules: [{ find: "colour", replace: "color", regex: false, caseSensitive: false, enabled: true, scope: "both" }],
    });
    expect(store.dictionaries.get("")).toHaveLength(1);
  });
});

describe("the core judges a rule, not JavaScript", () => {
  test("a pattern JavaScript refuses but the core runs can be saved; one the core refuses cannot", async () => {
    const store = new MockWorldBooks([]);
    // What the core answers (crates/core/tests/lore_dictionary_limits.rs checks these readings).
    const calls = installBackend({
      worldBooks: store,
      override: (cmd, a) =>
        cmd === "check_dictionary"
          ? (a["rules"] as DictionaryRule[]).flatMap((r, index) =>
              r.find.includes("(?<=") ? [{ index, message: "look-around, including look-ahead and look-behind, is not supported" }] : [],
            )
          : undefined,
    });
    render(App);
    await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
    await fireEvent.click(screen.getByTestId("nav-settings"));
    const editor = await screen.findByTestId("dictionary-editor");
    await waitFor(() => expect(editor.textContent).toContain("No rules yet."));
    await fireEvent.click(within(editor).getByTestId("dictionary-add"));
    const rule = within(editor).getByTestId("dictionary-rule");
    await fireEvent.click(within(rule).getByTestId("dictionary-regex"));
    const save = within(editor).getByTestId("dictionary-save") as HTMLButtonElement;

    await fireEvent.input(within(rule).getByTestId("dictionary-find"), { target: { value: "(?<=a)b" } });
    await waitFor(() => expect(rule.textContent).toContain("look-around"));
    expect(save.disabled).toBe(true);

    // `(?i)` and `(?P<name>…)` are the regex crate's syntax; JavaScript throws on both.
    expect(() => new RegExp("(?i)cat(?P<tail>s)", "u")).toThrow();
    await fireEvent.input(within(rule).getByTestId("dictionary-find"), { target: { value: "(?i)cat(?P<tail>s)" } });
    await waitFor(() => expect(save.disabled).toBe(false));
    expect(rule.textContent).not.toContain("This rule can't work");
    const asked = calls.filter((c) => c.cmd === "check_dictionary").map((c) => (c.args as { rules: DictionaryRule[] }).rules[0]!.find);
    expect(asked).toContain("(?i)cat(?P<tail>s)");
  });
});
