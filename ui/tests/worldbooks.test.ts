// The World books screen: the list, a book's settings, unsaved edits, a
// character's books, world books in a general import, Russian plurals.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import App from "../src/App.svelte";
import type { CloseRequestSource } from "../src/lib/close-guard";
import { translatePlural } from "../src/lib/i18n/translate";
import { installBackend, makeBook, MockWorldBooks, outcome } from "./helpers/backend";
import { ANN, common, count, emberfall, expand, last, openAnn, openBook, row, start, type Started } from "./helpers/worldbooks";

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

describe("character page", () => {
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

describe("a SillyTavern group in a general import", () => {
  test("a group definition file is marked as the group chat it became", async () => {
    await start([emberfall()], {
      importFile: (name) => outcome(name, "imported", { name: "The Three Keys", sessionId: "g1" }),
    });
    const file = new File(["{}"], "The Three Keys.json");
    await fireEvent.change(screen.getByTestId("import-input"), { target: { files: [file] } });
    const summary = await screen.findByTestId("import-summary");
    expect(within(summary).getByTestId("import-group-chat").textContent).toContain("Group chat");
    expect(within(summary).queryByTestId("import-world-book")).toBeNull();
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
