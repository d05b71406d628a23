import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import App from "../src/App.svelte";
import type { DictionaryRule, Entry, ScanReport, TestActivationRequest, WorldBookDetail } from "../src/lib/api";
import type { CloseRequestSource } from "../src/lib/close-guard";
import { translatePlural } from "../src/lib/i18n/translate";
import {
  character,
  chatCharacter,
  installBackend,
  makeBook,
  makeEntry,
  MockChats,
  MockWorldBooks,
  outcome,
  type BackendOptions,
  type Call,
} from "./helpers/backend";

const ANN = character("Ann Archer", { id: "ann", tags: ["Fantasy", "elf"] });

function emberfall(): WorldBookDetail {
  return makeBook(
    "ember",
    "Emberfall",
    [
      makeEntry(0, { comment: "The city", keys: ["Emberfall"], content: "A walled city.", constant: true }),
      makeEntry(1, { comment: "The old wyrm", keys: ["dragon", "wyrm"], content: "Cinderjaw sleeps.", groups: ["creatures"] }),
      makeEntry(2, { comment: "Ash storms", keys: ["storm"], content: "Bells ring.", enabled: false, groups: ["weather"] }),
    ],
    { description: "The volcano city.", characters: [{ id: "ann", name: "Ann Archer" }] },
  );
}

function common(): WorldBookDetail {
  return makeBook("common", "Common knowledge", [makeEntry(0, { keys: ["coin"] })], { global: true });
}

function huge(count: number): WorldBookDetail {
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    entries.push(makeEntry(i, { comment: `Entry ${i}`, keys: [`key${i}`], content: `Lore number ${i}.` }));
  }
  return makeBook("atlas", "Atlas", entries);
}

type Started = { calls: Call[]; store: MockWorldBooks };

async function start(
  books: WorldBookDetail[],
  options: BackendOptions & { hooks?: ConstructorParameters<typeof MockWorldBooks>[1] } = {},
  props: Record<string, unknown> = {},
): Promise<Started> {
  const store = new MockWorldBooks(books, { characterName: (id) => (id === "ann" ? "Ann Archer" : id), ...options.hooks });
  const calls = installBackend({ characters: [ANN], worldBooks: store, ...options });
  render(App, { props });
  await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
  await screen.findByTestId("library-grid");
  await fireEvent.click(screen.getByTestId("nav-worldbooks"));
  if (books.length > 0) await screen.findByTestId("world-book-list");
  else await screen.findByText("No world books yet");
  return { calls, store };
}

async function openBook(id: string): Promise<HTMLElement> {
  await fireEvent.click(document.querySelector<HTMLElement>(`[data-testid="world-book-item"][data-book-id="${id}"]`)!);
  const view = await screen.findByTestId("world-book-view");
  await screen.findByTestId("entry-list");
  return view;
}

function row(uid: number): HTMLElement {
  const found = document.querySelector<HTMLElement>(`[data-testid="entry-row"][data-uid="${uid}"]`);
  if (!found) throw new Error(`no row ${uid}`);
  return found;
}

async function expand(uid: number): Promise<HTMLElement> {
  await fireEvent.click(within(row(uid)).getByTestId("entry-expand"));
  await waitFor(() => expect(within(row(uid)).getByTestId("entry-editor")).toBeTruthy());
  return row(uid);
}

function last(calls: Call[], cmd: string): Record<string, unknown> {
  const found = calls.filter((c) => c.cmd === cmd).pop();
  if (!found) throw new Error(`${cmd} was not called`);
  return found.args as Record<string, unknown>;
}

function count(calls: Call[], cmd: string): number {
  return calls.filter((c) => c.cmd === cmd).length;
}

describe("world book list", () => {
  test("lists books with entry counts, the global badge and attached characters", async () => {
    await start([emberfall(), common()]);
    const items = screen.getAllByTestId("world-book-item");
    expect(items.map((i) => i.getAttribute("data-name"))).toEqual(["Common knowledge", "Emberfall"]);
    const ember = items[1]!;
    expect(ember.getAttribute("data-book-id")).toBe("ember");
    expect(ember.textContent).toContain("3 entries");
    expect(ember.textContent).toContain("2 on");
    expect(ember.textContent).toContain("Ann Archer");
    expect(ember.textContent).toContain("The volcano city.");
    expect(within(items[0]!).getByTestId("world-book-global")).toBeTruthy();
    expect(within(ember).queryByTestId("world-book-global")).toBeNull();
  });

  test("the empty state offers Import and New; importing sends the bytes with the file name", async () => {
    const { calls } = await start([]);
    expect(screen.getByTestId("world-book-new")).toBeTruthy();
    expect(screen.getByTestId("world-book-import")).toBeTruthy();
    const input = screen.getByTestId("world-book-import-input") as HTMLInputElement;
    expect(input.accept).toBe(".json,.lorebook");
    expect(input.className).toContain("visually-hidden");
    const file = new File(['{"entries":{}}'], "Дракон lore.json", { type: "application/json" });
    await fireEvent.change(input, { target: { files: [file] } });
    await waitFor(() => expect(count(calls, "import_world_book")).toBe(1));
    const call = calls.find((c) => c.cmd === "import_world_book")!;
    expect(call.headers?.["x-file-name"]).toBe(encodeURIComponent("Дракон lore.json"));
    expect(call.args).toBeInstanceOf(Uint8Array);
    // One book imported: it opens.
    const view = await screen.findByTestId("world-book-view");
    expect(((await within(view).findByTestId("book-name")) as HTMLInputElement).value).toBe("Дракон lore");
  });

  test("a file that is not a world book is reported, and the list stays", async () => {
    const { calls } = await start([emberfall()]);
    const file = new File(["{}"], "broken.json");
    await fireEvent.change(screen.getByTestId("world-book-import-input"), { target: { files: [file] } });
    const banner = await screen.findByTestId("error-banner");
    expect(banner.textContent).toContain("This world book can't be read");
    expect(banner.textContent).toContain("The world book wasn't imported.");
    expect(count(calls, "import_world_book")).toBe(1);
    expect(screen.getByTestId("world-book-list")).toBeTruthy();
  });

  test("New world book creates and opens it; renaming and settings are saved with Save", async () => {
    const { calls } = await start([]);
    await fireEvent.click(screen.getByTestId("world-book-new"));
    const view = await screen.findByTestId("world-book-view");
    expect(last(calls, "create_world_book")).toEqual({ name: "Untitled world book" });
    const save = within(view).getByTestId("entries-save") as HTMLButtonElement;
    expect(save.disabled).toBe(true);

    await fireEvent.input(within(view).getByTestId("book-name"), { target: { value: "Thornwick" } });
    await fireEvent.input(within(view).getByTestId("book-description"), { target: { value: "A village." } });
    await fireEvent.click(within(view).getByTestId("book-tab-settings"));
    const settings = screen.getByTestId("book-settings");
    await fireEvent.change(within(settings).getByTestId("setting-scanDepth"), { target: { value: "6" } });
    await fireEvent.change(within(settings).getByTestId("setting-budgetPercent"), { target: { value: "40" } });
    await fireEvent.click(within(settings).getByTestId("setting-recursive"));
    await fireEvent.click(within(settings).getByTestId("setting-matchWholeWords"));
    expect(view.getAttribute("data-dirty")).toBe("true");
    expect(save.disabled).toBe(false);

    await fireEvent.click(save);
    await waitFor(() => expect(view.getAttribute("data-dirty")).toBe("false"));
    const args = last(calls, "update_world_book");
    expect(args["name"]).toBe("Thornwick");
    expect(args["description"]).toBe("A village.");
    expect(args["settings"]).toMatchObject({ scanDepth: 6, budgetPercent: 40, recursive: true, matchWholeWords: true, caseSensitive: false });
    // No entry changed: nothing else is sent.
    expect(count(calls, "save_entries")).toBe(0);

    await fireEvent.click(within(view).getByTestId("book-back"));
    const list = await screen.findByTestId("world-book-list");
    expect(within(list).getByTestId("world-book-item").getAttribute("data-name")).toBe("Thornwick");
  });

  test("every scan setting has a labelled control with a hint", async () => {
    await start([emberfall()]);
    await openBook("ember");
    await fireEvent.click(screen.getByTestId("book-tab-settings"));
    for (const field of [
      "scanDepth",
      "budgetPercent",
      "budgetCap",
      "recursive",
      "maxRecursionSteps",
      "minActivations",
      "minActivationsDepthMax",
      "caseSensitive",
      "matchWholeWords",
      "includeNames",
      "useGroupScoring",
    ]) {
      const control = screen.getByTestId(`setting-${field}`);
      expect(control.id).toBe(`setting-${field}`);
      expect(document.querySelector(`label[for="setting-${field}"]`)?.textContent).toBeTruthy();
      expect(document.getElementById(`setting-${field}-hint`)?.textContent).toBeTruthy();
    }
  });

  test("Global applies at once; export says where the file went; delete asks first", async () => {
    const { calls } = await start([emberfall(), common()]);
    const view = await openBook("ember");
    await fireEvent.click(within(view).getByTestId("book-global"));
    await waitFor(() => expect(last(calls, "set_world_book_global")).toEqual({ id: "ember", global: true }));

    await fireEvent.click(within(view).getByTestId("book-export-st"));
    const result = await screen.findByTestId("book-export-result");
    expect(result.textContent).toContain("Saved to");
    expect(result.getAttribute("data-path")).toBe("/home/alex/Downloads/Emberfall.json");
    expect(last(calls, "export_world_book")).toEqual({ id: "ember", format: "sillyTavern" });
    await fireEvent.click(within(view).getByTestId("book-export-cb"));
    await waitFor(() => expect(last(calls, "export_world_book")).toEqual({ id: "ember", format: "characterBook" }));

    await fireEvent.click(within(view).getByTestId("book-delete"));
    const dialog = await screen.findByTestId("confirm-dialog");
    expect(dialog.textContent).toContain("Delete Emberfall?");
    expect(dialog.textContent).toContain("3 entries");
    await fireEvent.click(screen.getByTestId("confirm-cancel"));
    expect(count(calls, "delete_world_book")).toBe(0);
    await fireEvent.click(within(view).getByTestId("book-delete"));
    await fireEvent.click(await screen.findByTestId("confirm-ok"));
    await screen.findByTestId("world-book-list");
    expect(last(calls, "delete_world_book")).toEqual({ id: "ember" });
    expect(screen.getAllByTestId("world-book-item").map((i) => i.getAttribute("data-name"))).toEqual(["Common knowledge"]);
  });
});

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

describe("unsaved world-book edits", () => {
  async function dirtyBook(): Promise<Started> {
    const started = await start([emberfall()]);
    await openBook("ember");
    const editing = await expand(1);
    await fireEvent.input(within(editing).getByTestId("entry-content"), { target: { value: "Changed." } });
    return started;
  }

  test("leaving for another screen asks; Keep editing stays, Discard goes", async () => {
    await dirtyBook();
    await fireEvent.click(screen.getByTestId("nav-library"));
    const dialog = await screen.findByTestId("confirm-dialog");
    expect(dialog.textContent).toContain("Discard unsaved changes?");
    expect(dialog.textContent).toContain("Emberfall");
    await fireEvent.click(screen.getByTestId("confirm-cancel"));
    expect(screen.getByTestId("world-book-view")).toBeTruthy();
    expect((within(row(1)).getByTestId("entry-content") as HTMLTextAreaElement).value).toBe("Changed.");

    await fireEvent.click(screen.getByTestId("nav-library"));
    await fireEvent.click(await screen.findByTestId("confirm-ok"));
    await screen.findByTestId("screen-library");
  });

  test("Back to the list asks too; Revert clears the edits", async () => {
    await dirtyBook();
    await fireEvent.click(screen.getByTestId("book-back"));
    await screen.findByTestId("confirm-dialog");
    await fireEvent.click(screen.getByTestId("confirm-cancel"));
    await fireEvent.click(screen.getByTestId("book-revert"));
    expect(screen.getByTestId("world-book-view").getAttribute("data-dirty")).toBe("false");
    await fireEvent.click(screen.getByTestId("book-back"));
    await screen.findByTestId("world-book-list");
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
  });

  test("closing the window asks about world-book edits", async () => {
    let mayClose: (() => Promise<boolean>) | null = null;
    const closeRequests: CloseRequestSource = (handler) => {
      mayClose = handler;
      return Promise.resolve(() => {});
    };
    const store = new MockWorldBooks([emberfall()]);
    installBackend({ characters: [ANN], worldBooks: store });
    render(App, { props: { closeRequests } });
    await screen.findByTestId("library-grid");
    await fireEvent.click(screen.getByTestId("nav-worldbooks"));
    await screen.findByTestId("world-book-list");
    expect(await mayClose!()).toBe(true);
    await openBook("ember");
    await fireEvent.input(within(await expand(1)).getByTestId("entry-content"), { target: { value: "Changed." } });
    const refused = mayClose!();
    await fireEvent.click(await screen.findByTestId("confirm-cancel"));
    expect(await refused).toBe(false);
    const allowed = mayClose!();
    await fireEvent.click(await screen.findByTestId("confirm-ok"));
    expect(await allowed).toBe(true);
  });
});

describe("test activation", () => {
  const REPORT: ScanReport = {
    activated: [
      { book: "ember", uid: 0, comment: "The city", position: "beforeCharacter", depth: 4, role: "system", order: 100, tokens: 12, reason: { kind: "constant" }, groupWon: null, content: "A walled city." },
      { book: "ember", uid: 1, comment: "The old wyrm", position: "atDepth", depth: 2, role: "system", order: 120, tokens: 30, reason: { kind: "key", key: "dragon", secondary: null, matchedIn: { kind: "message", index: 1 } }, groupWon: "creatures", content: "Cinderjaw sleeps." },
      { book: "ember", uid: 5, comment: "Bells", position: "afterCharacter", depth: 4, role: "system", order: 100, tokens: 9, reason: { kind: "key", key: "bell", secondary: null, matchedIn: { kind: "recursion", level: 1 } }, groupWon: null, content: "" },
      { book: "ember", uid: 6, comment: "Ship", position: "afterCharacter", depth: 4, role: "system", order: 100, tokens: 9, reason: { kind: "sticky", remaining: 2 }, groupWon: null, content: "" },
    ],
    dropped: [
      { book: "ember", uid: 2, comment: "Ash storms", reason: { kind: "probability", probability: 30, roll: 71 } },
      { book: "ember", uid: 3, comment: "Clear skies", reason: { kind: "group", group: "weather", winner: 12 } },
      { book: "ember", uid: 7, comment: "Long", reason: { kind: "budget", budget: 2048 } },
      { book: "ember", uid: 8, comment: "Comet", reason: { kind: "cooldown", remaining: 3 } },
      { book: "ember", uid: 9, comment: "Pair", reason: { kind: "secondaryKeys" } },
      { book: "ember", uid: 10, comment: "Bad", reason: { kind: "invalidKey", key: "/(x/", error: "unclosed group" } },
    ],
    tokensUsed: 60,
    budget: 2048,
    recursionLevels: 1,
    keyErrors: [],
  };

  test("sends the parsed messages, books, context and seed; explains every result", async () => {
    const requests: TestActivationRequest[] = [];
    const { calls } = await start([emberfall(), common()], {
      hooks: {
        testActivation: (request) => {
          requests.push(request);
          return REPORT;
        },
      },
    });
    await openBook("ember");
    await fireEvent.click(screen.getByTestId("book-tab-test"));
    const panel = screen.getByTestId("test-panel");
    await fireEvent.input(within(panel).getByTestId("test-messages"), {
      target: { value: "User: Hello there.\nEmber: Did you hear the dragon?\nIt snores.\nUser: Ring the bell!" },
    });
    const roles = within(panel).getAllByTestId("test-role");
    expect(roles.map((r) => r.textContent?.trim())).toEqual(["User", "Character", "User"]);
    await fireEvent.click(roles[2]!); // the third speaks as the character instead
    await fireEvent.input(within(panel).getByTestId("test-context"), { target: { value: "4096" } });
    await fireEvent.change(within(panel).getByTestId("test-seed"), { target: { value: "42" } });
    await fireEvent.click(within(panel).getByTestId("test-run"));

    await waitFor(() => expect(count(calls, "test_activation")).toBe(1));
    expect(requests[0]).toEqual({
      bookIds: ["ember"],
      messages: [
        { role: "user", name: "User", content: "Hello there." },
        { role: "assistant", name: "Ember", content: "Did you hear the dragon?\nIt snores." },
        { role: "assistant", name: "User", content: "Ring the bell!" },
      ],
      settings: null,
      seed: 42,
      contextTokens: 4096,
      trigger: "normal",
      character: null,
      sessionId: null,
      message: null,
    });

    const activated = await within(panel).findByTestId("test-activated");
    const items = within(activated).getAllByTestId("test-activation");
    expect(items.map((i) => i.getAttribute("data-uid"))).toEqual(["0", "1", "5", "6"]);
    expect(items[0]!.textContent).toContain("constant");
    expect(items[1]!.textContent).toContain('key "dragon" in message 2');
    expect(items[1]!.textContent).toContain('won group "creatures"');
    expect(items[1]!.textContent).toContain("depth 2");
    expect(items[1]!.textContent).toContain("30 tokens");
    expect(items[2]!.textContent).toContain('recursion level 1 via key "bell"');
    expect(items[3]!.textContent).toContain("sticky, 2 messages left");

    const drops = within(within(panel).getByTestId("test-dropped")).getAllByTestId("test-drop");
    expect(drops.map((d) => d.getAttribute("data-reason"))).toEqual(["probability", "group", "budget", "cooldown", "secondaryKeys", "invalidKey"]);
    expect(drops[0]!.textContent).toContain("probability 30%: rolled 71");
    expect(drops[1]!.textContent).toContain('lost group "weather" to #12');
    expect(drops[2]!.textContent).toContain("over the budget of 2048 tokens");
    expect(drops[3]!.textContent).toContain("cooling down, 3 messages left");
    expect(drops[4]!.textContent).toContain("secondary keys not satisfied");
    expect(drops[5]!.textContent).toContain('invalid key "/(x/"');
    expect(within(panel).getByTestId("test-budget").textContent).toContain("60 / 2048 tokens");
  });

  test("other books can be added, a seed is shown by default, and unsaved settings are tried", async () => {
    const requests: TestActivationRequest[] = [];
    await start([emberfall(), common()], {
      hooks: { testActivation: (request) => (requests.push(request), REPORT) },
    });
    await openBook("ember");
    await fireEvent.click(screen.getByTestId("book-tab-settings"));
    await fireEvent.change(screen.getByTestId("setting-scanDepth"), { target: { value: "9" } });
    await fireEvent.click(screen.getByTestId("book-tab-test"));
    const panel = screen.getByTestId("test-panel");
    const seed = within(panel).getByTestId("test-seed") as HTMLInputElement;
    expect(seed.value).toMatch(/^\d+$/);
    await fireEvent.click(within(panel).getByText("Common knowledge"));
    await fireEvent.input(within(panel).getByTestId("test-messages"), { target: { value: "User: coin" } });
    await fireEvent.click(within(panel).getByTestId("test-run"));
    await waitFor(() => expect(requests).toHaveLength(1));
    expect(requests[0]!.bookIds).toEqual(["ember", "common"]);
    expect(requests[0]!.seed).toBe(Number(seed.value));
    expect(requests[0]!.contextTokens).toBe(8192);
    expect(requests[0]!.settings?.scanDepth).toBe(9);
  });
});

describe("test activation for a generation type and a character", () => {
  const FILTERED: ScanReport = {
    activated: [
      { book: "ember", uid: 4, comment: "Red moon", position: "beforeCharacter", depth: 4, role: "system", order: 100, tokens: 6, reason: { kind: "decorator" }, groupWon: null, content: "The moon is red." },
    ],
    dropped: [
      { book: "ember", uid: 2, comment: "Only on continue", reason: { kind: "trigger", trigger: "impersonate", triggers: ["continue", "swipe"] } },
      { book: "ember", uid: 3, comment: "Not for Ann", reason: { kind: "characterFilter", character: "Ann Archer", exclude: true, byTag: false } },
      { book: "ember", uid: 5, comment: "Sci-fi only", reason: { kind: "characterFilter", character: "Ann Archer", exclude: false, byTag: true } },
      { book: "ember", uid: 6, comment: "Hidden", reason: { kind: "dontActivate" } },
    ],
    tokensUsed: 6,
    budget: 2048,
    recursionLevels: 0,
    keyErrors: [{ uid: 7, key: "/(?:a(?=a)|a)*b/", kind: "failed", error: "the search stopped: backtrack limit exceeded" }],
  };

  test("sends the chosen trigger and character; explains filters, triggers and decorators", async () => {
    const requests: TestActivationRequest[] = [];
    const { calls } = await start([emberfall()], {
      hooks: { testActivation: (request) => (requests.push(request), FILTERED) },
    });
    await openBook("ember");
    await fireEvent.click(screen.getByTestId("book-tab-test"));
    const panel = screen.getByTestId("test-panel");
    await waitFor(() => expect(count(calls, "list_characters")).toBeGreaterThan(0));
    const triggers = within(panel).getByTestId("test-trigger") as HTMLSelectElement;
    expect([...triggers.options].map((o) => o.textContent)).toEqual(["Normal", "Continue", "Impersonate", "Swipe", "Regenerate", "Quiet"]);
    await fireEvent.change(triggers, { target: { value: "impersonate" } });
    const who = within(panel).getByTestId("test-character") as HTMLSelectElement;
    await waitFor(() => expect([...who.options].map((o) => o.textContent)).toEqual(["None (filters off)", "Ann Archer"]));
    who.value = "ann";
    await fireEvent.change(who);
    await fireEvent.input(within(panel).getByTestId("test-messages"), { target: { value: "User: the tower" } });
    await fireEvent.click(within(panel).getByTestId("test-run"));
    await waitFor(() => expect(requests).toHaveLength(1));
    expect(requests[0]!.trigger).toBe("impersonate");
    expect(requests[0]!.character).toEqual({ name: "Ann Archer", tags: ["Fantasy", "elf"] });

    const activated = await within(panel).findByTestId("test-activated");
    expect(activated.textContent).toContain("@@activate decorator");
    const drops = within(within(panel).getByTestId("test-dropped")).getAllByTestId("test-drop");
    expect(drops.map((d) => d.getAttribute("data-reason"))).toEqual(["trigger", "characterFilter", "characterFilter", "dontActivate"]);
    expect(drops[0]!.textContent).toContain("only for Continue, Swipe, not Impersonate");
    expect(drops[1]!.textContent).toContain("the entry excludes Ann Archer");
    expect(drops[2]!.textContent).toContain("Ann Archer has none of the entry's tags");
    expect(drops[3]!.textContent).toContain("@@dont_activate decorator");
    const failed = within(panel).getByTestId("test-key-errors");
    expect(failed.textContent).toContain("This regex key stopped at its search limit: /(?:a(?=a)|a)*b/");
    expect(failed.textContent).toContain("backtrack limit exceeded");

    // Back to no character: filters are off again.
    who.value = "";
    await fireEvent.change(who);
    await fireEvent.click(within(panel).getByTestId("test-run"));
    await waitFor(() => expect(requests).toHaveLength(2));
    expect(requests[1]!.character).toBeNull();
  });
});

describe("the Test panel on a real chat", () => {
  test("scans a chat from the library with a message being sent; the chat brings its own character", async () => {
    const requests: TestActivationRequest[] = [];
    const report: ScanReport = { activated: [], dropped: [], tokensUsed: 0, budget: 2048, recursionLevels: 0, keyErrors: [] };
    const chats = new MockChats({ character: (id) => chatCharacter(id === "ann" ? ANN : undefined) });
    const older = chats.addSession("ann", [{ role: "assistant", content: "Welcome to the tower." }], { title: "The tower" });
    const newer = chats.addSession("ann", [{ role: "assistant", content: "The dragon stirs." }], { title: "Dragon watch" });
    const { calls } = await start([emberfall()], {
      chats,
      hooks: { testActivation: (request) => (requests.push(request), report) },
    });
    await openBook("ember");
    await fireEvent.click(screen.getByTestId("book-tab-test"));
    const panel = screen.getByTestId("test-panel");
    await fireEvent.click(within(panel).getByTestId("test-source-chat"));
    await waitFor(() => expect(count(calls, "list_sessions")).toBeGreaterThan(0));
    const picker = (await within(panel).findByTestId("test-session")) as HTMLSelectElement;
    expect([...picker.options].map((o) => o.value).sort()).toEqual([older.id, newer.id].sort());
    picker.value = older.id;
    await fireEvent.change(picker);
    expect((within(panel).getByTestId("test-character") as HTMLSelectElement).disabled).toBe(true);
    await fireEvent.input(within(panel).getByTestId("test-draft"), { target: { value: "  Where is the dragon?  " } });
    await fireEvent.click(within(panel).getByTestId("test-run"));
    await waitFor(() => expect(requests).toHaveLength(1));
    expect(requests[0]).toMatchObject({ sessionId: older.id, message: "Where is the dragon?", messages: [], character: null });

    // Back to typed messages: no chat is sent.
    await fireEvent.click(within(panel).getByTestId("test-source-typed"));
    await fireEvent.input(within(panel).getByTestId("test-messages"), { target: { value: "User: the tower" } });
    await fireEvent.click(within(panel).getByTestId("test-run"));
    await waitFor(() => expect(requests).toHaveLength(2));
    expect(requests[1]).toMatchObject({ sessionId: null, message: null });
    expect(requests[1]!.messages).toHaveLength(1);
  });
});

describe("character page", () => {
  async function openAnn(store: MockWorldBooks): Promise<Call[]> {
    const calls = installBackend({ characters: [ANN], worldBooks: store });
    render(App);
    await screen.findByTestId("library-grid");
    await fireEvent.click(document.querySelector<HTMLElement>('[data-character-id="ann"][data-testid="character-card"]')!);
    await screen.findByTestId("character-detail");
    return calls;
  }

  test("lists attached books, attaches from the picker and detaches; global books get a note", async () => {
    const store = new MockWorldBooks([emberfall(), common(), makeBook("sea", "The Sea", [])], {
      characterName: (id) => (id === "ann" ? "Ann Archer" : id),
    });
    const calls = await openAnn(store);
    const section = await screen.findByTestId("character-world-books");
    await waitFor(() => expect(within(section).getAllByTestId("character-world-book").map((b) => b.getAttribute("data-book-id"))).toEqual(["ember"]));
    expect(within(section).getByTestId("character-global-books").textContent).toContain("Common knowledge is global");

    const picker = within(section).getByTestId("attach-world-book") as HTMLSelectElement;
    expect([...picker.options].map((o) => o.textContent)).toEqual(["Attach world book…", "Common knowledge", "The Sea"]);
    await fireEvent.change(picker, { target: { value: "sea" } });
    await waitFor(() => expect(last(calls, "attach_world_book")).toEqual({ bookId: "sea", characterId: "ann" }));
    await waitFor(() => expect(within(section).getAllByTestId("character-world-book")).toHaveLength(2));
    expect(store.books.get("sea")!.summary.characters).toEqual([{ id: "ann", name: "Ann Archer" }]);

    const ember = within(section).getAllByTestId("character-world-book")[0]!;
    await fireEvent.click(within(ember).getByTestId("detach-world-book"));
    await waitFor(() => expect(last(calls, "detach_world_book")).toEqual({ bookId: "ember", characterId: "ann" }));
    await waitFor(() => expect(within(section).getAllByTestId("character-world-book").map((b) => b.getAttribute("data-book-id"))).toEqual(["sea"]));
  });

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

describe("world books in a general import", () => {
  test("a world-book file in the import summary is marked, and the World books list refreshes", async () => {
    const { calls, store } = await start([emberfall()], {
      importFile: (name) => {
        store.books.set("new", makeBook("new", "Dropped lore", []));
        return outcome(name, "imported", { name: "Dropped lore", worldBookId: "new" });
      },
    });
    const listed = count(calls, "list_world_books");
    const file = new File(["{}"], "lore.json");
    await fireEvent.change(screen.getByTestId("import-input"), { target: { files: [file] } });
    const summary = await screen.findByTestId("import-summary");
    expect(within(summary).getByTestId("import-world-book").textContent).toContain("World book");
    // Still on World books, with the new book listed.
    expect(screen.getByTestId("screen-worldbooks")).toBeTruthy();
    await waitFor(() => expect(count(calls, "list_world_books")).toBeGreaterThan(listed));
    await waitFor(() =>
      expect(screen.getAllByTestId("world-book-item").map((i) => i.getAttribute("data-name"))).toEqual(["Dropped lore", "Emberfall"]),
    );
  });
});

describe("Russian plurals for entries", () => {
  test("1 запись, 3 записи, 12 записей", () => {
    expect(translatePlural("ru", "worldbooks.entries", 1)).toBe("1 запись");
    expect(translatePlural("ru", "worldbooks.entries", 3)).toBe("3 записи");
    expect(translatePlural("ru", "worldbooks.entries", 12)).toBe("12 записей");
    expect(translatePlural("ru", "worldbooks.entries", 21)).toBe("21 запись");
  });
});
