// Importing characters: the file pickers (progress, summary, replacing a
// same-name character) and drag and drop.

import { fireEvent, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import type { ImportEvent, ImportOutcome } from "../src/lib/api";
import type { DragDropSource } from "../src/lib/drop";
import { outcome } from "./helpers/backend";
import { ANN, deferred, fakeDragDrop, names, start } from "./helpers/library";

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
