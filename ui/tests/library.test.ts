import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import App from "../src/App.svelte";
import type { CharacterDetail, DictionaryRule, ImportEvent, ImportOutcome } from "../src/lib/api";
import { MockWorldBooks } from "../src/lib/dev/mock-worldbooks";
import type { CloseRequestSource } from "../src/lib/close-guard";
import type { DragDropPayload, DragDropSource } from "../src/lib/drop";
import { character, installBackend, outcome, type BackendOptions, type Call } from "./helpers/backend";

const ANN = character(
  "Ann Archer",
  { id: "ann", creator: "alice", tags: ["fantasy", "archer"], avatarKey: "k1", createdAt: 3, lastUsedAt: 10 },
  {
    description: "A ranger.",
    alternate_greetings: ["Hi there"],
    character_book: { entries: [{ keys: ["a"] }, { keys: ["b"] }] },
    extensions: { talkativeness: "0.5" },
    source: ["https://example.org/ann"],
  },
);
const BOB = character("Bob", { id: "bob", creator: "bobby", tags: ["sci-fi"], createdAt: 1, lastUsedAt: 30 });
const CID = character("Cid", {
  id: "cid",
  creator: "carol",
  tags: ["fantasy"],
  collections: ["Old Kingdoms"],
  avatarKey: "k3",
  createdAt: 2,
});

const LIBRARY = [ANN, BOB, CID];

/** A drag-and-drop source the test drives by hand. */
function fakeDragDrop(): { source: DragDropSource; send: (payload: DragDropPayload) => void } {
  let handler: ((payload: DragDropPayload) => void) | null = null;
  return {
    source: (h) => {
      handler = h;
      return Promise.resolve(() => {
        handler = null;
      });
    },
    send: (payload) => handler?.(payload),
  };
}

async function start(options: BackendOptions = {}, dragDrop?: DragDropSource): Promise<Call[]> {
  const calls = installBackend({ characters: LIBRARY, ...options });
  render(App, dragDrop ? { props: { dragDrop } } : {});
  await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
  if ((options.characters ?? LIBRARY).length > 0) await screen.findByTestId("library-grid");
  return calls;
}

function names(): string[] {
  return screen.queryAllByTestId("character-card").map((card) => card.getAttribute("data-name") ?? "");
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function openCharacter(id: string): Promise<HTMLElement> {
  const card = document.querySelector<HTMLElement>(`[data-character-id="${id}"][data-testid="character-card"]`);
  if (!card) throw new Error(`no card ${id}`);
  await fireEvent.click(card);
  const detail = await screen.findByTestId("character-detail");
  await waitFor(() => expect(screen.getByTestId("field-name")).toBeTruthy());
  return detail;
}

function field(name: string): HTMLInputElement {
  return screen.getByTestId(`field-${name}`) as HTMLInputElement;
}

describe("library grid", () => {
  test("shows every character with avatar URLs, and placeholders where there is no avatar", async () => {
    await start();
    expect(names()).toEqual(["Ann Archer", "Bob", "Cid"]);
    const ann = screen.getAllByTestId("character-card")[0]!;
    expect(ann.getAttribute("data-character-id")).toBe("ann");
    expect(ann.textContent).toContain("alice");
    expect(ann.textContent).toContain("fantasy");
    expect(ann.querySelector("img")?.getAttribute("src")).toBe("avatar://localhost/thumb%2Fann?v=k1");

    const bob = screen.getAllByTestId("character-card")[1]!;
    expect(bob.querySelector("img")).toBeNull();
    expect(within(bob).getByTestId("avatar").getAttribute("data-placeholder")).toBe("true");
    expect(within(bob).getByTestId("avatar").textContent?.trim()).toBe("B");
    expect(screen.getByTestId("library-count").textContent).toBe("3 characters");
  });

  test("shows at most three tags per card", async () => {
    await start({ characters: [character("Dee", { tags: ["a", "b", "c", "d"] })] });
    const card = screen.getByTestId("character-card");
    expect([...card.querySelectorAll(".tag")].map((t) => t.textContent)).toEqual(["a", "b", "c"]);
  });

  test("search filters as you type, by name, creator or tag, ignoring case", async () => {
    const calls = await start();
    const listed = calls.filter((c) => c.cmd === "list_characters").length;
    const search = screen.getByTestId("library-search");
    await fireEvent.input(search, { target: { value: "BO" } });
    expect(names()).toEqual(["Bob"]);
    expect(screen.getByTestId("library-count").textContent).toBe("1 of 3");
    await fireEvent.input(search, { target: { value: "carol" } });
    expect(names()).toEqual(["Cid"]);
    await fireEvent.input(search, { target: { value: "fantasy" } });
    expect(names()).toEqual(["Ann Archer", "Cid"]);
    await fireEvent.input(search, { target: { value: "fantasy arch" } });
    expect(names()).toEqual(["Ann Archer"]);
    await fireEvent.input(search, { target: { value: "nobody" } });
    expect(names()).toEqual([]);
    expect(screen.getByTestId("library-no-match").textContent).toContain("No characters match");
    // Instant: typing never waits on the backend.
    expect(calls.filter((c) => c.cmd === "list_characters").length).toBe(listed);
  });

  test("the sort select asks the backend for the new order", async () => {
    const calls = await start();
    await fireEvent.change(screen.getByTestId("library-sort"), { target: { value: "recentlyAdded" } });
    await waitFor(() => expect(names()).toEqual(["Ann Archer", "Cid", "Bob"]));
    expect(calls).toContainEqual({
      cmd: "list_characters",
      args: { query: { search: "", tag: null, collection: null, sort: "recentlyAdded" } },
    });
    await fireEvent.change(screen.getByTestId("library-sort"), { target: { value: "recentlyUsed" } });
    await waitFor(() => expect(names()).toEqual(["Bob", "Ann Archer", "Cid"]));
  });

  test("tag and collection filters narrow the list; a filter without options is hidden", async () => {
    await start();
    await fireEvent.change(screen.getByTestId("library-tag"), { target: { value: "fantasy" } });
    expect(names()).toEqual(["Ann Archer", "Cid"]);
    expect(screen.getByTestId("library-count").textContent).toBe("2 of 3");
    await fireEvent.change(screen.getByTestId("library-collection"), { target: { value: "Old Kingdoms" } });
    expect(names()).toEqual(["Cid"]);
    await fireEvent.change(screen.getByTestId("library-tag"), { target: { value: "" } });
    await fireEvent.change(screen.getByTestId("library-collection"), { target: { value: "" } });
    expect(names()).toHaveLength(3);
  });

  test("hides the collection filter when no character is in a collection", async () => {
    await start({ characters: [ANN, BOB] });
    expect(screen.getByTestId("library-tag")).toBeTruthy();
    expect(screen.queryByTestId("library-collection")).toBeNull();
  });

  test("arrow keys move between cards", async () => {
    await start();
    const cards = screen.getAllByTestId("character-card");
    expect(cards.map((c) => c.tabIndex)).toEqual([0, -1, -1]);
    cards[0]!.focus();
    await fireEvent.keyDown(cards[0]!, { key: "ArrowRight" });
    await waitFor(() => expect(document.activeElement).toBe(cards[1]));
    await fireEvent.keyDown(cards[1]!, { key: "End" });
    await waitFor(() => expect(document.activeElement).toBe(cards[2]));
  });

  test("counts are Russian plurals in Russian", async () => {
    await start({ settings: { language: "ru", theme: "system" } });
    expect(screen.getByTestId("library-count").textContent).toBe("3 персонажа");
    await fireEvent.input(screen.getByTestId("library-search"), { target: { value: "bob" } });
    expect(screen.getByTestId("library-count").textContent).toBe("1 из 3");
  });
});

describe("import from the file pickers", () => {
  function pick(files: File[], testid = "import-input"): Promise<boolean> {
    return fireEvent.change(screen.getByTestId(testid), { target: { files } });
  }

  test("the inputs stay in the DOM, hidden without display:none", async () => {
    await start();
    const input = screen.getByTestId("import-input") as HTMLInputElement;
    expect(input.type).toBe("file");
    expect(input.multiple).toBe(true);
    expect(input.accept).toBe(".png,.json,.charx,.yaml,.yml,.md,.markdown,.txt,.webp,.jpg,.jpeg");
    expect(input.classList.contains("visually-hidden")).toBe(true);
    expect(screen.getByTestId("import-folder-input").hasAttribute("webkitdirectory")).toBe(true);
  });

  test("imports each file with its name in a header, shows progress, then a row per file", async () => {
    const gates = [deferred<void>(), deferred<void>(), deferred<void>()];
    const answers: Record<string, ImportOutcome | { reject: unknown }> = {
      "Zoë card.png": outcome("Zoë card.png", "imported", { characterId: "zoe", name: "Zoë" }),
      "holiday.jpg": {
        reject: { code: "no_card_data", message: "holiday.jpg has no character card in it" },
      },
      "bob.json": outcome("bob.json", "alreadyInLibrary", { characterId: "bob", name: "Bob" }),
    };
    let index = 0;
    const calls = await start({
      importFile: async (name) => {
        await gates[index++]!.promise;
        const answer = answers[name]!;
        return "reject" in answer ? Promise.reject(answer.reject) : answer;
      },
    });
    const listed = calls.filter((c) => c.cmd === "list_characters").length;
    await pick([
      new File(["png"], "Zoë card.png", { type: "image/png" }),
      new File(["jpg"], "holiday.jpg", { type: "image/jpeg" }),
      new File(["{}"], "bob.json", { type: "application/json" }),
    ]);

    const progress = await screen.findByTestId("import-progress");
    expect(progress.textContent).toContain("0 of 3");
    gates[0]!.resolve();
    await waitFor(() => expect(progress.textContent).toContain("1 of 3"));
    gates[1]!.resolve();
    await waitFor(() => expect(progress.textContent).toContain("2 of 3"));
    gates[2]!.resolve();

    const summary = await screen.findByTestId("import-summary");
    expect(screen.queryByTestId("import-progress")).toBeNull();
    const fileCalls = calls.filter((c) => c.cmd === "import_file");
    expect(fileCalls.map((c) => c.headers)).toEqual([
      { "x-file-name": encodeURIComponent("Zoë card.png") },
      { "x-file-name": "holiday.jpg" },
      { "x-file-name": "bob.json" },
    ]);
    expect(fileCalls[0]!.args).toBeInstanceOf(Uint8Array);
    expect(new TextDecoder().decode(fileCalls[0]!.args as Uint8Array)).toBe("png");

    const rows = within(summary).getAllByTestId("import-row");
    expect(rows.map((r) => [r.getAttribute("data-file"), r.getAttribute("data-status")])).toEqual([
      ["Zoë card.png", "imported"],
      ["holiday.jpg", "failed"],
      ["bob.json", "alreadyInLibrary"],
    ]);
    expect(rows[0]!.textContent).toContain("Imported");
    expect(rows[1]!.textContent).toContain("No character card in this image");
    expect(rows[1]!.textContent).toContain("holiday.jpg has no character card in it");
    expect(rows[2]!.textContent).toContain("Already in library");
    expect(summary.textContent).toContain("1 imported");
    expect(summary.textContent).toContain("1 failed");

    // The grid refreshed; the summary can be dismissed.
    await waitFor(() => expect(calls.filter((c) => c.cmd === "list_characters").length).toBeGreaterThan(listed));
    await fireEvent.click(screen.getByTestId("import-summary-close"));
    expect(screen.queryByTestId("import-summary")).toBeNull();
  });

  test("a picked file switches to the Library from another screen", async () => {
    await start({ importFile: (name) => outcome(name, "imported", { characterId: "x", name: "X" }) });
    await fireEvent.click(screen.getByTestId("nav-settings"));
    await pick([new File(["x"], "x.png")], "import-folder-input");
    await screen.findByTestId("import-summary");
    expect(screen.getByTestId("screen-library")).toBeTruthy();
  });

  test("a same-name import offers to replace the existing character", async () => {
    const calls = await start({
      importFile: (name) => outcome(name, "imported", { characterId: "new-ann", name: "Ann Archer", sameNameAs: "ann" }),
      replaceCharacter: (targetId) => ({ ...ANN, summary: { ...ANN.summary, id: targetId } }),
    });
    await pick([new File(["x"], "ann2.png")]);
    const summary = await screen.findByTestId("import-summary");
    const replace = within(summary).getByTestId("replace-existing");
    expect(replace.textContent).toContain("Replace the existing Ann Archer");
    expect(summary.textContent).toContain("Keep both");
    await fireEvent.click(replace);
    await waitFor(() =>
      expect(calls).toContainEqual({ cmd: "replace_character", args: { targetId: "ann", sourceId: "new-ann" } }),
    );
    await waitFor(() => expect(within(summary).queryByTestId("replace-existing")).toBeNull());
    expect(summary.textContent).toContain("Replaced the existing Ann Archer");
  });

  test("Keep both leaves both and calls nothing", async () => {
    const calls = await start({
      importFile: (name) => outcome(name, "imported", { characterId: "new-ann", name: "Ann Archer", sameNameAs: "ann" }),
    });
    await pick([new File(["x"], "ann2.png")]);
    const summary = await screen.findByTestId("import-summary");
    await fireEvent.click(within(summary).getByTestId("keep-both"));
    expect(summary.textContent).toContain("Kept both");
    expect(calls.some((c) => c.cmd === "replace_character")).toBe(false);
  });
});

describe("drag and drop", () => {
  test("shows the overlay while dragging and imports dropped paths over a Channel", async () => {
    const drag = fakeDragDrop();
    const finished = deferred<void>();
    let send: (event: ImportEvent) => void = () => {};
    const outcomes = [
      outcome("/cards/a.png", "imported", { characterId: "a", name: "A" }),
      outcome("/cards/folder/b.webp", "failed", {
        error: { code: "invalid_card", message: "b.webp is not a readable character card: bad JSON", path: null },
      }),
    ];
    const summary = { imported: 1, alreadyInLibrary: 0, failed: 1, outcomes };
    const calls = await start(
      {
        importPaths: async (_paths, emit) => {
          send = emit;
          await finished.promise;
          return summary;
        },
      },
      drag.source,
    );
    await fireEvent.click(screen.getByTestId("nav-chats"));

    drag.send({ type: "enter", paths: ["/cards/a.png"] });
    expect(await screen.findByTestId("drop-overlay")).toBeTruthy();
    drag.send({ type: "over" });
    expect(screen.getByTestId("drop-overlay")).toBeTruthy();
    drag.send({ type: "leave" });
    await waitFor(() => expect(screen.queryByTestId("drop-overlay")).toBeNull());

    drag.send({ type: "enter" });
    await screen.findByTestId("drop-overlay");
    drag.send({ type: "drop", paths: ["/cards/a.png", "/cards/folder"] });
    await waitFor(() => expect(screen.queryByTestId("drop-overlay")).toBeNull());
    // Dropping switches to the Library.
    await screen.findByTestId("screen-library");

    await waitFor(() => expect(calls.some((c) => c.cmd === "import_paths")).toBe(true));
    const call = calls.find((c) => c.cmd === "import_paths")!;
    expect((call.args as { paths: string[] }).paths).toEqual(["/cards/a.png", "/cards/folder"]);
    expect((call.args as { onEvent: unknown }).onEvent).toBeTruthy();

    send({ kind: "started", total: 2 });
    const progress = await screen.findByTestId("import-progress");
    await waitFor(() => expect(progress.textContent).toContain("0 of 2"));
    send({ kind: "progress", done: 1, total: 2, outcome: outcomes[0]! });
    await waitFor(() => expect(progress.textContent).toContain("1 of 2"));
    send({ kind: "progress", done: 2, total: 2, outcome: outcomes[1]! });
    send({ kind: "finished", summary });
    finished.resolve();

    const dialog = await screen.findByTestId("import-summary");
    const rows = within(dialog).getAllByTestId("import-row");
    expect(rows.map((r) => r.getAttribute("data-status"))).toEqual(["imported", "failed"]);
    expect(rows[1]!.getAttribute("data-file")).toBe("/cards/folder/b.webp");
    expect(rows[1]!.textContent).toContain("b.webp");
    expect(rows[1]!.textContent).toContain("This character card is damaged");
  });

  test("without a webview (a plain browser, tests) the app still starts", async () => {
    const broken: DragDropSource = () => {
      throw new Error("no webview");
    };
    await start({}, broken);
    expect(names()).toHaveLength(3);
  });
});

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

describe("a character that is not there", () => {
  test("opening one that was deleted elsewhere reports it and stays on the grid", async () => {
    const ghost: CharacterDetail = character("Ghost", { id: "ghost" });
    await start({
      characters: [BOB],
      listCharacters: () => [BOB.summary, ghost.summary],
    });
    await fireEvent.click(document.querySelector('[data-character-id="ghost"]')!);
    const banner = await screen.findByTestId("error-banner");
    expect(banner.textContent).toContain("The character couldn't be opened.");
    expect(screen.getByTestId("library-grid")).toBeTruthy();
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
