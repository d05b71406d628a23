// A world book's entries: the windowed list, filters, switches, bulk actions,
// the entry editor, and who and when an entry is for.

import { fireEvent, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import type { Entry } from "../src/lib/api";
import { makeBook, makeEntry } from "./helpers/backend";
import { count, emberfall, expand, huge, last, openBook, row, start } from "./helpers/worldbooks";

describe("entry editor", () => {
  test("10,000 entries: only a window of rows is in the DOM, and search narrows it", async () => {
    await start([huge(10_000)]);
    await openBook("atlas");
    const list = screen.getByTestId("entry-list");
    expect(list.getAttribute("data-count")).toBe("10000");
    const rows = screen.getAllByTestId("entry-row");
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(100);
    expect(rows[0]!.getAttribute("data-uid")).toBe("0");
    expect(screen.getByTestId("entry-count").textContent).toBe("10,000 entries");

    await fireEvent.input(screen.getByTestId("entry-search"), { target: { value: "key9999" } });
    expect(list.getAttribute("data-count")).toBe("1");
    expect(screen.getAllByTestId("entry-row").map((r) => r.getAttribute("data-uid"))).toEqual(["9999"]);
    expect(screen.getByTestId("entry-count").textContent).toBe("1 of 10,000");

    // Content and comments are searched too.
    await fireEvent.input(screen.getByTestId("entry-search"), { target: { value: "lore number 4242" } });
    expect(screen.getAllByTestId("entry-row").map((r) => r.getAttribute("data-uid"))).toEqual(["4242"]);
    await fireEvent.input(screen.getByTestId("entry-search"), { target: { value: "Entry 123" } });
    // Every word must appear somewhere: 123, 1123…9123 and 1230–1239.
    expect(Number(list.getAttribute("data-count"))).toBe(20);
  });

  test("scrolling shows later rows and drops earlier ones", async () => {
    await start([huge(10_000)]);
    await openBook("atlas");
    const list = screen.getByTestId("entry-list");
    list.scrollTop = 57 * 5000;
    await fireEvent.scroll(list);
    const uids = screen.getAllByTestId("entry-row").map((r) => Number(r.getAttribute("data-uid")));
    expect(uids).toContain(5000);
    expect(uids).not.toContain(0);
    expect(uids.length).toBeLessThan(100);
  });

  test("filters: enabled, disabled, always on, and inclusion group", async () => {
    await start([emberfall()]);
    await openBook("ember");
    const uids = (): string[] => screen.queryAllByTestId("entry-row").map((r) => r.getAttribute("data-uid") ?? "");
    const filter = screen.getByTestId("entry-filter");
    expect(uids()).toEqual(["0", "1", "2"]);
    await fireEvent.click(within(filter).getByText("Off"));
    expect(uids()).toEqual(["2"]);
    await fireEvent.click(within(filter).getByText("On"));
    expect(uids()).toEqual(["0", "1"]);
    await fireEvent.click(within(filter).getByText("Always on"));
    expect(uids()).toEqual(["0"]);
    await fireEvent.click(within(filter).getByText("All"));
    await fireEvent.change(screen.getByTestId("entry-group"), { target: { value: "weather" } });
    expect(uids()).toEqual(["2"]);
  });

  test("the row's switches apply at once: enabled via setEntriesEnabled, always-on via saveEntries", async () => {
    const { calls } = await start([emberfall()]);
    await openBook("ember");
    const enabled = within(row(1)).getByTestId("entry-enabled") as HTMLInputElement;
    expect(enabled.checked).toBe(true);
    await fireEvent.click(enabled);
    await waitFor(() => expect(last(calls, "set_entries_enabled")).toEqual({ bookId: "ember", uids: [1], enabled: false }));
    await waitFor(() => expect((within(row(1)).getByTestId("entry-enabled") as HTMLInputElement).checked).toBe(false));

    const constant = within(row(1)).getByTestId("entry-constant");
    expect(constant.getAttribute("aria-pressed")).toBe("false");
    await fireEvent.click(constant);
    await waitFor(() => expect(count(calls, "save_entries")).toBe(1));
    const sent = last(calls, "save_entries")["entries"] as Entry[];
    expect(sent.map((e) => [e.uid, e.constant, e.enabled])).toEqual([[1, true, false]]);
    await waitFor(() => expect(within(row(1)).getByTestId("entry-constant").getAttribute("aria-pressed")).toBe("true"));
    // Nothing is left unsaved by the switches.
    expect(screen.getByTestId("world-book-view").getAttribute("data-dirty")).toBe("false");
  });

  test("bulk enable, disable and delete act on the selection; delete confirms with the count", async () => {
    const { calls } = await start([emberfall()]);
    await openBook("ember");
    expect(screen.queryByTestId("bulk-enable")).toBeNull();
    await fireEvent.click(within(row(0)).getByTestId("entry-select"));
    await fireEvent.click(within(row(2)).getByTestId("entry-select"));
    expect(screen.getByTestId("bulk-bar").textContent).toContain("2 selected");

    await fireEvent.click(screen.getByTestId("bulk-enable"));
    await waitFor(() => expect(last(calls, "set_entries_enabled")).toEqual({ bookId: "ember", uids: [0, 2], enabled: true }));
    await waitFor(() => expect((within(row(2)).getByTestId("entry-enabled") as HTMLInputElement).checked).toBe(true));
    await fireEvent.click(screen.getByTestId("bulk-disable"));
    await waitFor(() => expect(last(calls, "set_entries_enabled")).toEqual({ bookId: "ember", uids: [0, 2], enabled: false }));

    await fireEvent.click(screen.getByTestId("bulk-delete"));
    const dialog = await screen.findByTestId("confirm-dialog");
    expect(dialog.textContent).toContain("Delete 2 entries?");
    await fireEvent.click(screen.getByTestId("confirm-cancel"));
    expect(count(calls, "delete_entries")).toBe(0);
    expect(screen.getAllByTestId("entry-row")).toHaveLength(3);

    await fireEvent.click(screen.getByTestId("bulk-delete"));
    await fireEvent.click(await screen.findByTestId("confirm-ok"));
    await waitFor(() => expect(last(calls, "delete_entries")).toEqual({ bookId: "ember", uids: [0, 2] }));
    await waitFor(() => expect(screen.getAllByTestId("entry-row").map((r) => r.getAttribute("data-uid"))).toEqual(["1"]));
    expect(screen.queryByTestId("bulk-bar")).toBeNull();
  });

  test("select all picks every shown entry", async () => {
    await start([emberfall()]);
    await openBook("ember");
    await fireEvent.input(screen.getByTestId("entry-search"), { target: { value: "wyrm" } });
    await fireEvent.click(screen.getByTestId("entry-select-all"));
    expect(screen.getByTestId("bulk-bar").textContent).toContain("1 selected");
  });

  test("edits are drafts until Save, which sends only the changed entries", async () => {
    const { calls } = await start([emberfall()]);
    const view = await openBook("ember");
    const editing = await expand(1);
    // Opening an entry changes nothing.
    expect(view.getAttribute("data-dirty")).toBe("false");

    await fireEvent.input(within(editing).getByTestId("entry-content"), { target: { value: "Cinderjaw snores." } });
    const keys = within(editing).getByTestId("entry-keys-input");
    await fireEvent.input(keys, { target: { value: "Cinderjaw, old one" } });
    await fireEvent.keyDown(keys, { key: "Enter" });
    await fireEvent.change(within(editing).getByTestId("entry-position"), { target: { value: "atDepth" } });
    await fireEvent.change(within(editing).getByTestId("entry-depth"), { target: { value: "3" } });
    await fireEvent.change(within(editing).getByTestId("entry-role"), { target: { value: "assistant" } });
    await fireEvent.click(within(within(editing).getByTestId("entry-caseSensitive")).getByText("On"));
    await fireEvent.change(within(editing).getByTestId("entry-sticky"), { target: { value: "2" } });
    await fireEvent.click(within(editing).getByTestId("entry-source-scenario"));

    expect(row(1).getAttribute("data-dirty")).toBe("true");
    expect(row(0).getAttribute("data-dirty")).toBe("false");
    expect(view.getAttribute("data-dirty")).toBe("true");
    expect(screen.getByTestId("book-dirty").textContent).toContain("1 unsaved entry");
    // Drafts only: nothing was sent yet.
    expect(count(calls, "save_entries")).toBe(0);
    // The row already shows the draft.
    expect(row(1).textContent).toContain("Cinderjaw");

    await fireEvent.click(screen.getByTestId("entries-save"));
    await waitFor(() => expect(count(calls, "save_entries")).toBe(1));
    const args = last(calls, "save_entries");
    expect(args["bookId"]).toBe("ember");
    const sent = args["entries"] as Entry[];
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      uid: 1,
      content: "Cinderjaw snores.",
      keys: ["dragon", "wyrm", "Cinderjaw", "old one"],
      position: "atDepth",
      depth: 3,
      role: "assistant",
      caseSensitive: true,
      sticky: 2,
    });
    expect(sent[0]!.matchSources.scenario).toBe(true);
    expect(count(calls, "update_world_book")).toBe(0);
    await waitFor(() => expect(view.getAttribute("data-dirty")).toBe("false"));
  });

  test("depth and role show only for 'at depth'; the outlet name only for 'outlet'", async () => {
    await start([emberfall()]);
    await openBook("ember");
    const editing = await expand(1);
    expect(within(editing).queryByTestId("entry-depth")).toBeNull();
    expect(within(editing).queryByTestId("entry-outletName")).toBeNull();
    await fireEvent.change(within(editing).getByTestId("entry-position"), { target: { value: "outlet" } });
    expect(within(editing).getByTestId("entry-outletName")).toBeTruthy();
    expect(within(editing).queryByTestId("entry-role")).toBeNull();
  });

  test("Add entry creates one, opens it, and its edits save", async () => {
    const { calls } = await start([emberfall()]);
    await openBook("ember");
    await fireEvent.click(screen.getByTestId("entry-add"));
    await waitFor(() => expect(count(calls, "add_entry")).toBe(1));
    const added = await waitFor(() => row(3));
    expect(added.getAttribute("data-expanded")).toBe("true");
    await fireEvent.input(within(added).getByTestId("entry-content"), { target: { value: "New lore." } });
    await fireEvent.click(screen.getByTestId("entries-save"));
    await waitFor(() => expect((last(calls, "save_entries")["entries"] as Entry[]).map((e) => e.uid)).toEqual([3]));
  });

  test("keys that are not valid regexes are flagged on the row and explained in the editor", async () => {
    const book = makeBook("bad", "Bad keys", [makeEntry(0, { comment: "Broken", keys: ["ok", "/(unclosed/"] }), makeEntry(1, { keys: ["fine"] })]);
    expect(book.keyErrors).toHaveLength(1);
    await start([book]);
    await openBook("bad");
    expect(within(row(0)).getByTestId("entry-key-warning")).toBeTruthy();
    expect(within(row(1)).queryByTestId("entry-key-warning")).toBeNull();
    const editing = await expand(0);
    const errors = within(editing).getByTestId("entry-key-errors");
    expect(errors.textContent).toContain("This key is not a valid regex: /(unclosed/");
  });

  test("saving refreshes key errors from the backend", async () => {
    const { calls } = await start([emberfall()]);
    await openBook("ember");
    const editing = await expand(1);
    const keys = within(editing).getByTestId("entry-keys-input");
    await fireEvent.input(keys, { target: { value: "/[a-/" } });
    await fireEvent.keyDown(keys, { key: "Enter" });
    await fireEvent.click(screen.getByTestId("entries-save"));
    await waitFor(() => expect(count(calls, "save_entries")).toBe(1));
    await waitFor(() => expect(within(row(1)).getByTestId("entry-key-errors").textContent).toContain("/[a-/"));
  });
});

describe("who and when an entry is for", () => {
  test("the character filter: only or all except, names and tags; Everyone clears it", async () => {
    const { calls } = await start([emberfall()]);
    await openBook("ember");
    const editing = await expand(1);
    const audience = within(editing).getByTestId("entry-audience");
    // No filter: no name or tag fields.
    expect(within(audience).queryByTestId("entry-filter-names")).toBeNull();
    await fireEvent.click(within(within(audience).getByTestId("entry-characterFilter")).getByText("Only"));
    const names = within(audience).getByTestId("entry-filter-names-input");
    await fireEvent.input(names, { target: { value: "Seraphina.png, Ann Archer" } });
    await fireEvent.keyDown(names, { key: "Enter" });
    const tags = within(audience).getByTestId("entry-filter-tags-input");
    await fireEvent.input(tags, { target: { value: "fantasy" } });
    await fireEvent.keyDown(tags, { key: "Enter" });
    await fireEvent.click(within(audience).getByTestId("entry-trigger-continue"));
    await fireEvent.click(within(audience).getByTestId("entry-trigger-swipe"));
    await fireEvent.click(screen.getByTestId("entries-save"));
    await waitFor(() => expect(count(calls, "save_entries")).toBe(1));
    const sent = (last(calls, "save_entries")["entries"] as Entry[])[0]!;
    expect(sent.characterFilter).toEqual({ exclude: false, names: ["Seraphina.png", "Ann Archer"], tags: ["fantasy"] });
    expect(sent.triggers).toEqual(["continue", "swipe"]);

    // All except keeps the lists; Everyone removes the filter; unchecking a type removes it.
    await fireEvent.click(within(within(audience).getByTestId("entry-characterFilter")).getByText("All except"));
    await fireEvent.click(within(audience).getByTestId("entry-trigger-continue"));
    await fireEvent.click(screen.getByTestId("entries-save"));
    await waitFor(() => expect(count(calls, "save_entries")).toBe(2));
    const again = (last(calls, "save_entries")["entries"] as Entry[])[0]!;
    expect(again.characterFilter).toEqual({ exclude: true, names: ["Seraphina.png", "Ann Archer"], tags: ["fantasy"] });
    expect(again.triggers).toEqual(["swipe"]);
    await fireEvent.click(within(within(audience).getByTestId("entry-characterFilter")).getByText("Everyone"));
    await fireEvent.click(screen.getByTestId("entries-save"));
    await waitFor(() => expect(count(calls, "save_entries")).toBe(3));
    expect((last(calls, "save_entries")["entries"] as Entry[])[0]!.characterFilter).toBeNull();
  });

  test("an imported filter and unknown trigger names are shown and kept", async () => {
    const book = makeBook("st", "From SillyTavern", [
      makeEntry(0, {
        keys: ["tower"],
        characterFilter: { exclude: true, names: ["Seraphina"], tags: [] },
        triggers: ["normal", "someday"],
      }),
    ]);
    const { calls } = await start([book]);
    await openBook("st");
    const editing = await expand(0);
    const audience = within(editing).getByTestId("entry-audience");
    const seg = within(audience).getByTestId("entry-characterFilter");
    expect(within(seg).getByText("All except").getAttribute("aria-checked")).toBe("true");
    expect(within(audience).getByTestId("entry-filter-names").textContent).toContain("Seraphina");
    expect((within(audience).getByTestId("entry-trigger-normal") as HTMLInputElement).checked).toBe(true);
    await fireEvent.click(within(audience).getByTestId("entry-trigger-quiet"));
    await fireEvent.click(screen.getByTestId("entries-save"));
    await waitFor(() => expect(count(calls, "save_entries")).toBe(1));
    expect((last(calls, "save_entries")["entries"] as Entry[])[0]!.triggers).toEqual(["normal", "someday", "quiet"]);
  });

  test("a regex key too large for the engine is flagged with its own words", async () => {
    const book = makeBook("big", "Big keys", [makeEntry(0, { comment: "Huge", keys: ["wyrm", "/\\w{100}/"] }), makeEntry(1, { keys: ["x"] })]);
    book.keyErrors = [
      { uid: 0, key: "/\\w{100}/", kind: "tooLarge", error: "it compiles to more than 1 MiB (a key may use 1 MiB)" },
    ];
    await start([book]);
    await openBook("big");
    expect(within(row(0)).getByTestId("entry-key-warning").getAttribute("title")).toContain("This regex key is too large: /\\w{100}/");
    const editing = await expand(0);
    const errors = within(editing).getByTestId("entry-key-errors");
    expect(errors.textContent).toContain("This regex key is too large: /\\w{100}/");
    expect(errors.textContent).toContain("more than 1 MiB");
  });
});
