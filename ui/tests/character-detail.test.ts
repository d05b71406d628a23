// A character's page: every field, edits and Save, leaving with unsaved
// edits, Delete, export, a failed save, a card's chat dictionary waiting for
// review, and closing the window with unsaved edits.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import App from "../src/App.svelte";
import type { CharacterDetail, DictionaryRule } from "../src/lib/api";
import { MockWorldBooks } from "../src/lib/dev/mock-worldbooks";
import type { CloseRequestSource } from "../src/lib/close-guard";
import { character, installBackend, outcome } from "./helpers/backend";
import { ANN, BOB, field, LIBRARY, names, openCharacter, start } from "./helpers/library";

describe("character detail", () => {
  test("shows every field; read-only facts are read-only", async () => {
    await start();
    const detail = await openCharacter("ann");
    expect(field("name").value).toBe("Ann Archer");
    expect(field("creator").value).toBe("alice");
    expect((screen.getByTestId("field-description") as HTMLTextAreaElement).value).toBe("A ranger.");
    expect(within(screen.getByTestId("field-alternate_greetings")).getByDisplayValue("Hi there")).toBeTruthy();
    expect(within(screen.getByTestId("field-tags")).getAllByTestId("tag-chip").map((c) => c.textContent?.trim())).toEqual([
      "fantasy",
      "archer",
    ]);
    expect(within(screen.getByTestId("field-source")).getByDisplayValue("https://example.org/ann")).toBeTruthy();
    expect(screen.getByTestId("field-character_book").textContent).toContain("Embedded world book: 2 entries");
    expect(screen.getByTestId("field-extensions").textContent).toContain('"talkativeness": "0.5"');
    expect(screen.getByTestId("field-spec").textContent).toBe("Character Card V3");
    expect(screen.getByTestId("field-source_file").textContent).toBe("Ann Archer.png");
    expect(detail.querySelector("img")?.getAttribute("src")).toBe("avatar://localhost/full%2Fann?v=k1");
    for (const name of ["nickname", "personality", "scenario", "first_mes", "mes_example", "system_prompt", "post_history_instructions", "creator_notes", "character_version", "group_only_greetings", "assets"]) {
      expect(screen.getByTestId(`field-${name}`), name).toBeTruthy();
    }
    expect((screen.getByTestId("detail-save") as HTMLButtonElement).disabled).toBe(true);
  });

  test("edits mark it dirty, and Save sends the whole card", async () => {
    const calls = await start();
    await openCharacter("ann");
    const save = screen.getByTestId("detail-save") as HTMLButtonElement;
    await fireEvent.input(screen.getByTestId("field-description"), { target: { value: "A ranger of the north." } });
    await fireEvent.input(field("nickname"), { target: { value: "Annie" } });
    await fireEvent.click(within(screen.getByTestId("field-alternate_greetings")).getByRole("button", { name: "Add greeting" }));
    const greetings = within(screen.getByTestId("field-alternate_greetings")).getAllByRole("textbox");
    await fireEvent.input(greetings[1]!, { target: { value: "Well met" } });
    const tagInput = screen.getByTestId("field-tags-input");
    await fireEvent.input(tagInput, { target: { value: "north" } });
    await fireEvent.keyDown(tagInput, { key: "Enter" });
    await fireEvent.click(screen.getByRole("button", { name: "Remove tag archer" }));
    expect(screen.getByTestId("character-detail").getAttribute("data-dirty")).toBe("true");
    expect(save.disabled).toBe(false);

    await fireEvent.click(save);
    await waitFor(() => expect(calls.some((c) => c.cmd === "update_character")).toBe(true));
    expect(calls.find((c) => c.cmd === "update_character")!.args).toEqual({
      id: "ann",
      card: {
        ...ANN.card,
        description: "A ranger of the north.",
        nickname: "Annie",
        alternate_greetings: ["Hi there", "Well met"],
        tags: ["fantasy", "north"],
      },
    });
    await waitFor(() => expect(save.disabled).toBe(true));
    expect(screen.getByTestId("character-detail").getAttribute("data-dirty")).toBe("false");
  });

  test("undoing an edit by hand makes it clean again", async () => {
    await start();
    await openCharacter("bob");
    await fireEvent.input(field("name"), { target: { value: "Bobby" } });
    expect((screen.getByTestId("detail-save") as HTMLButtonElement).disabled).toBe(false);
    await fireEvent.input(field("name"), { target: { value: "Bob" } });
    expect((screen.getByTestId("detail-save") as HTMLButtonElement).disabled).toBe(true);
  });

  test("Back without edits returns to the grid at once", async () => {
    await start();
    await openCharacter("bob");
    await fireEvent.click(screen.getByTestId("detail-back"));
    await screen.findByTestId("library-grid");
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
    // Focus goes back to the card that was opened.
    await waitFor(() => expect(document.activeElement?.getAttribute("data-character-id")).toBe("bob"));
  });

  test("unsaved edits: leaving asks first, and stays until confirmed", async () => {
    await start();
    await openCharacter("bob");
    await fireEvent.input(field("name"), { target: { value: "Robert" } });

    // Another screen: asks, Cancel keeps the edits.
    await fireEvent.click(screen.getByTestId("nav-settings"));
    const dialog = await screen.findByTestId("confirm-dialog");
    expect(dialog.textContent).toContain("Discard unsaved changes?");
    expect(screen.queryByTestId("screen-settings")).toBeNull();
    await fireEvent.click(screen.getByTestId("confirm-cancel"));
    await waitFor(() => expect(screen.queryByTestId("confirm-dialog")).toBeNull());
    expect(field("name").value).toBe("Robert");

    // Escape in the editor asks too; Escape in the dialog means no.
    await fireEvent.keyDown(field("name"), { key: "Escape" });
    await screen.findByTestId("confirm-dialog");
    await fireEvent.keyDown(screen.getByTestId("confirm-dialog"), { key: "Escape" });
    await waitFor(() => expect(screen.queryByTestId("confirm-dialog")).toBeNull());
    expect(screen.getByTestId("character-detail")).toBeTruthy();

    // Closing the window: the webview's own prompt as a last resort.
    const unload = new Event("beforeunload", { cancelable: true });
    window.dispatchEvent(unload);
    expect(unload.defaultPrevented).toBe(true);

    // Back, confirmed: edits are gone, the grid is back.
    await fireEvent.click(screen.getByTestId("detail-back"));
    await fireEvent.click(await screen.findByTestId("confirm-ok"));
    await screen.findByTestId("library-grid");
    expect(names()).toContain("Bob");

    const clean = new Event("beforeunload", { cancelable: true });
    window.dispatchEvent(clean);
    expect(clean.defaultPrevented).toBe(false);
  });

  test("the confirm dialog keeps focus inside and starts on Cancel", async () => {
    await start();
    await openCharacter("bob");
    await fireEvent.input(field("name"), { target: { value: "Robert" } });
    await fireEvent.click(screen.getByTestId("nav-chats"));
    const dialog = await screen.findByTestId("confirm-dialog");
    const cancel = screen.getByTestId("confirm-cancel");
    const ok = screen.getByTestId("confirm-ok");
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    expect(document.activeElement).toBe(cancel);
    await fireEvent.keyDown(ok, { key: "Tab" });
    ok.focus();
    await fireEvent.keyDown(ok, { key: "Tab" });
    expect(document.activeElement).toBe(cancel);
    await fireEvent.keyDown(cancel, { key: "Tab", shiftKey: true });
    expect(document.activeElement).toBe(ok);
    await fireEvent.click(ok);
    await screen.findByTestId("screen-chats");
  });

  test("Delete asks, naming the character and its chats, then deletes", async () => {
    const calls = await start();
    await openCharacter("cid");
    await fireEvent.click(screen.getByTestId("detail-delete"));
    const dialog = await screen.findByTestId("confirm-dialog");
    expect(dialog.textContent).toContain("Delete Cid?");
    expect(dialog.textContent).toContain("every chat with this character will be deleted");
    expect(calls.some((c) => c.cmd === "delete_character")).toBe(false);

    await fireEvent.click(screen.getByTestId("confirm-ok"));
    await waitFor(() => expect(calls).toContainEqual({ cmd: "delete_character", args: { id: "cid" } }));
    await screen.findByTestId("library-grid");
    expect(names()).toEqual(["Ann Archer", "Bob"]);
  });

  test("cancelling Delete keeps the character", async () => {
    const calls = await start();
    await openCharacter("cid");
    await fireEvent.click(screen.getByTestId("detail-delete"));
    await fireEvent.click(await screen.findByTestId("confirm-cancel"));
    expect(calls.some((c) => c.cmd === "delete_character")).toBe(false);
    expect(screen.getByTestId("character-detail")).toBeTruthy();
  });

  test("export says where the file went", async () => {
    const calls = await start();
    await openCharacter("ann");
    await fireEvent.click(screen.getByTestId("export-json-v2"));
    const result = await screen.findByTestId("export-result");
    expect(calls).toContainEqual({ cmd: "export_character", args: { id: "ann", format: "jsonV2" } });
    expect(result.getAttribute("data-path")).toBe("/home/test/Downloads/Ann Archer.json");
    expect(result.textContent).toContain("Saved to /home/test/Downloads/Ann Archer.json");
    for (const [testid, format] of [["export-png", "png"], ["export-json", "json"], ["export-charx", "charx"]] as const) {
      await fireEvent.click(screen.getByTestId(testid));
      await waitFor(() => expect(calls).toContainEqual({ cmd: "export_character", args: { id: "ann", format } }));
    }
  });

  test("a failed save keeps the edits and says why", async () => {
    await start({ updateCharacter: () => Promise.reject({ code: "storage", message: "database is locked" }) });
    await openCharacter("bob");
    await fireEvent.input(field("name"), { target: { value: "Robert" } });
    await fireEvent.click(screen.getByTestId("detail-save"));
    const banner = await screen.findByTestId("error-banner");
    expect(banner.textContent).toContain("Your changes weren't saved.");
    expect(field("name").value).toBe("Robert");
    expect((screen.getByTestId("detail-save") as HTMLButtonElement).disabled).toBe(false);
  });
});

describe("a card's chat dictionary", () => {
  const PENDING: DictionaryRule[] = [
    { find: "dragon", replace: "wyrm", regex: false, caseSensitive: false, enabled: true, scope: "prompt" },
    { find: "\\bsmiles\\b", replace: "grins", regex: true, caseSensitive: true, enabled: false, scope: "display" },
  ];
  const KEEPER: CharacterDetail = { ...character("Keeper", { id: "keeper" }), pendingDictionary: PENDING };

  test("waits on the character's page, and applies only once accepted", async () => {
    const worldBooks = new MockWorldBooks();
    worldBooks.dictionaries.set("keeper", [
      { find: "Ser", replace: "Sir", regex: false, caseSensitive: true, enabled: true, scope: "both" },
    ]);
    const calls = await start({ characters: [KEEPER, BOB], worldBooks });
    await openCharacter("keeper");
    const review = await screen.findByTestId("dictionary-review");
    expect(review.textContent).toContain("This card brings 2 chat-dictionary rules");
    expect(review.textContent).toContain("stay off until you accept them");
    const rules = within(review).getAllByTestId("dictionary-review-rule");
    expect(rules.map((r) => r.querySelector(".find")?.textContent)).toEqual(["dragon", "\\bsmiles\\b"]);
    expect(rules[1]!.textContent).toContain("regex");
    expect(rules[1]!.textContent).toContain("off");
    // Nothing is saved, and the editor is not there, until the user decides.
    expect(screen.queryByTestId("dictionary-editor")).toBeNull();
    expect(calls.some((c) => c.cmd === "set_dictionary")).toBe(false);

    await fireEvent.click(within(review).getByTestId("dictionary-review-accept"));
    const editor = await screen.findByTestId("dictionary-editor");
    expect(screen.queryByTestId("dictionary-review")).toBeNull();
    // The character's own rules stay first; the card's are added after them.
    const saved = calls.find((c) => c.cmd === "set_dictionary")?.args as { characterId: string; rules: DictionaryRule[] };
    expect(saved.characterId).toBe("keeper");
    expect(saved.rules.map((r) => r.find)).toEqual(["Ser", "dragon", "\\bsmiles\\b"]);
    expect(saved.rules[2]!.enabled).toBe(false);
    await waitFor(() => expect(within(editor).getAllByTestId("dictionary-rule")).toHaveLength(3));
  });

  test("discarding saves the dictionary as it was", async () => {
    const worldBooks = new MockWorldBooks();
    const calls = await start({ characters: [KEEPER], worldBooks });
    await openCharacter("keeper");
    await fireEvent.click(await screen.findByTestId("dictionary-review-discard"));
    await screen.findByTestId("dictionary-editor");
    const saved = calls.find((c) => c.cmd === "set_dictionary")?.args as { rules: DictionaryRule[] };
    expect(saved.rules).toEqual([]);
    expect(worldBooks.dictionaries.get("keeper")).toEqual([]);
  });

  test("the import summary says the card's rules wait for review, in Russian too", async () => {
    await start({
      importFile: (name) => outcome(name, "imported", { characterId: "keeper", name: "Keeper", pendingDictionaryRules: 2 }),
      settings: { language: "ru", theme: "system" },
    });
    await fireEvent.change(screen.getByTestId("import-input"), { target: { files: [new File(["x"], "keeper.png")] } });
    const summary = await screen.findByTestId("import-summary");
    const note = within(summary).getByTestId("import-dictionary-pending");
    expect(note.textContent).toContain("Карточка содержит 2 правила словаря чата");
  });
});

describe("closing the window", () => {
  /** A close-request source the test triggers by hand; resolves to "may close". */
  function fakeCloseRequests(): { source: CloseRequestSource; request: () => Promise<boolean> } {
    let mayClose: (() => Promise<boolean>) | null = null;
    return {
      source: (handler) => {
        mayClose = handler;
        return Promise.resolve(() => {
          mayClose = null;
        });
      },
      request: () => (mayClose ? mayClose() : Promise.resolve(true)),
    };
  }

  test("with unsaved edits asks first; Cancel keeps the window and the edits", async () => {
    installBackend({ characters: LIBRARY });
    const close = fakeCloseRequests();
    render(App, { props: { closeRequests: close.source } });
    await screen.findByTestId("library-grid");

    // Nothing edited: the window may close at once.
    expect(await close.request()).toBe(true);

    await openCharacter("bob");
    await fireEvent.input(field("name"), { target: { value: "Robert" } });
    const refused = close.request();
    await screen.findByTestId("confirm-dialog");
    await fireEvent.click(screen.getByTestId("confirm-cancel"));
    expect(await refused).toBe(false);
    expect(field("name").value).toBe("Robert");

    const allowed = close.request();
    await fireEvent.click(await screen.findByTestId("confirm-ok"));
    expect(await allowed).toBe(true);
  });
});
