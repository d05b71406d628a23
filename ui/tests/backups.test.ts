// Settings → Backups: the list with date, size and kind; back up now; restore
// after a confirmation (cancel changes nothing); a refused backup's typed
// error; the schedule settings; export and import with the report shown.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, describe, expect, test, vi } from "vitest";
import App from "../src/App.svelte";
import type { BackupInfo, BackupSettings, Conflict, ImportReport } from "../src/lib/api";
import { installBackend, type Call } from "./helpers/backend";


function backup(name: string, kind: BackupInfo["kind"], createdAt: number, size: number): BackupInfo {
  return { name, kind, createdAt, size, schemaVersion: 6 };
}

/** A fake backup side: a list, settings, and what restore and import answer. */
class FakeBackups {
  list: BackupInfo[] = [
    backup("confab-2-scheduled-v6.db", "scheduled", Date.UTC(2026, 11, 3, 9, 30), 2 * 1024 * 1024),
    backup("confab-1-preMigration-v5.db", "preMigration", Date.UTC(2026, 11, 1, 9, 30), 512 * 1024),
  ];
  settings: BackupSettings = { keep: 7, intervalHours: 24, keepBeforeUpgrade: 3 };
  restoreError: { code: string; message: string } | null = null;
  /** What the archive holds that differs from the library. */
  conflicts: Conflict[] = [];
  /** What the native open dialog answers (null: closed without choosing). */
  chosenFile: string | null = null;
  report: ImportReport = {
    added: { characters: 2, worldBooks: 1, personas: 0, providers: 0, sessions: 3, messages: 40, settings: 0 },
    skipped: [{ kind: "session", id: "s1", name: "In the glade", reason: "conflict" }],
    conflicts: [],
    previous: backup("confab-9-preImport-v6.db", "preImport", Date.UTC(2026, 11, 4), 1024),
    upgradedFrom: null,
  };

  handle(cmd: string, a: Record<string, unknown>): unknown {
    switch (cmd) {
      case "list_backups":
        return this.list;
      case "get_backup_settings":
        return this.settings;
      case "set_backup_settings":
        this.settings = a["settings"] as BackupSettings;
        return this.settings;
      case "create_backup": {
        const made = backup(`confab-${this.list.length + 3}-manual-v6.db`, "manual", Date.UTC(2026, 11, 4, 12), 3 * 1024 * 1024);
        this.list = [made, ...this.list];
        return made;
      }
      case "restore_backup": {
        if (this.restoreError) return Promise.reject(this.restoreError);
        const restored = this.list.find((b) => b.name === a["name"])!;
        const previous = backup(`confab-${this.list.length + 3}-preRestore-v6.db`, "preRestore", Date.UTC(2026, 11, 4, 13), 1024);
        this.list = [previous, ...this.list];
        return { restored, previous, upgradedFrom: null };
      }
      case "export_library":
        return { path: "/home/alex/Downloads/confab-library-1.confab", size: 4 * 1024 * 1024, schemaVersion: 6 };
      case "preview_library_import":
        return { ...this.report, conflicts: this.conflicts, upgradedFrom: null };
      case "import_library": {
        const choices = a["choices"] as { default?: string; items?: { kind: string; id: string; choice: string }[] };
        const conflicts = this.conflicts.map((c) => ({
          ...c,
          choice: (choices.items?.find((i) => i.id === c.id)?.choice ?? choices.default ?? "skip") as Conflict["choice"],
        }));
        return { ...this.report, conflicts };
      }
      case "plugin:dialog|open":
        return this.chosenFile;
    }
    return undefined;
  }
}

async function start(fake = new FakeBackups()): Promise<Call[]> {
  const calls = installBackend({ override: (cmd, a) => fake.handle(cmd, a) });
  render(App);
  await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
  await fireEvent.click(screen.getByTestId("nav-settings"));
  await screen.findByTestId("backups");
  return calls;
}

const items = (): HTMLElement[] => screen.queryAllByTestId("backup-item");
const called = (calls: Call[], cmd: string) => calls.filter((c) => c.cmd === cmd);

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the backup list", () => {
  test("shows each backup's date, kind and size, newest first; back up now adds one", async () => {
    const calls = await start();
    await waitFor(() => expect(items()).toHaveLength(2));
    const first = items()[0]!;
    expect(first.textContent).toContain("Scheduled");
    expect(first.textContent).toContain("2 MB");
    expect(first.textContent).toContain(new Date(Date.UTC(2026, 11, 3, 9, 30)).toLocaleString());
    expect(items()[1]!.textContent).toContain("Before an upgrade");

    await fireEvent.click(screen.getByTestId("backup-now"));
    await waitFor(() => expect(items()).toHaveLength(3));
    expect(called(calls, "create_backup")).toHaveLength(1);
    expect(items()[0]!.dataset["kind"]).toBe("manual");
    expect(screen.getByTestId("backup-notice").textContent).toContain("Backed up");
  });
});

describe("restoring", () => {
  test("asks first; cancel restores nothing, confirming restores that backup", async () => {
    const reload = vi.fn();
    vi.spyOn(window, "location", "get").mockReturnValue({ ...window.location, reload });
    const calls = await start();
    await waitFor(() => expect(items()).toHaveLength(2));
    await fireEvent.click(within(items()[1]!).getByTestId("backup-restore"));
    const dialog = await screen.findByTestId("confirm-dialog");
    expect(dialog.textContent).toContain("backed up first");
    await fireEvent.click(screen.getByTestId("confirm-cancel"));
    expect(called(calls, "restore_backup")).toHaveLength(0);

    await fireEvent.click(within(items()[1]!).getByTestId("backup-restore"));
    await fireEvent.click(await screen.findByTestId("confirm-ok"));
    await waitFor(() => expect(called(calls, "restore_backup")).toHaveLength(1));
    expect(called(calls, "restore_backup")[0]!.args).toMatchObject({ name: "confab-1-preMigration-v5.db" });
    await waitFor(() => expect(reload).toHaveBeenCalled());
  });

  test("a backup from a newer Confab is refused with its own message and nothing reloads", async () => {
    const reload = vi.fn();
    vi.spyOn(window, "location", "get").mockReturnValue({ ...window.location, reload });
    const fake = new FakeBackups();
    fake.restoreError = { code: "backup_too_new", message: "schema version 9; nothing was changed" };
    await start(fake);
    await waitFor(() => expect(items()).toHaveLength(2));
    await fireEvent.click(within(items()[0]!).getByTestId("backup-restore"));
    await fireEvent.click(await screen.findByTestId("confirm-ok"));
    const error = await screen.findByTestId("backup-error");
    expect(error.textContent).toContain("made by a newer Confab");
    expect(reload).not.toHaveBeenCalled();
  });
});

describe("the schedule", () => {
  test("interval and how many to keep are saved as chosen", async () => {
    const fake = new FakeBackups();
    const calls = await start(fake);
    const interval = (await screen.findByTestId("backup-interval")) as HTMLSelectElement;
    expect(interval.value).toBe("24");
    await fireEvent.change(interval, { target: { value: "168" } });
    await waitFor(() => expect(fake.settings.intervalHours).toBe(168));
    const keep = screen.getByTestId("backup-keep") as HTMLInputElement;
    await fireEvent.change(keep, { target: { value: "12" } });
    await waitFor(() => expect(fake.settings.keep).toBe(12));
    // Out of range: not sent.
    await fireEvent.change(keep, { target: { value: "0" } });
    expect(called(calls, "set_backup_settings")).toHaveLength(2);
    expect(fake.settings).toEqual({ keep: 12, intervalHours: 168, keepBeforeUpgrade: 3 });
  });
});

describe("moving the library", () => {
  test("export says where it wrote; import shows what was added and skipped", async () => {
    const calls = await start();
    await fireEvent.click(screen.getByTestId("library-export"));
    const exported = await screen.findByTestId("library-exported");
    expect(exported.textContent).toContain("/home/alex/Downloads/confab-library-1.confab");
    expect(exported.textContent).toContain("4 MB");
    const path = screen.getByTestId("library-import-path") as HTMLInputElement;
    expect(path.value).toBe("/home/alex/Downloads/confab-library-1.confab");
    await fireEvent.input(path, { target: { value: "/media/usb/library.confab" } });
    await fireEvent.click(screen.getByTestId("library-import"));
    const report = await screen.findByTestId("library-import-report");
    // Nothing differs: looked at first, then imported without a question.
    expect(called(calls, "preview_library_import")[0]!.args).toMatchObject({ path: "/media/usb/library.confab" });
    expect(called(calls, "import_library")[0]!.args).toMatchObject({
      path: "/media/usb/library.confab",
      choices: { copyLabel: "imported" },
    });
    expect(report.textContent).toContain("Added 2 characters, 1 world books, 3 chats (40 messages)");
    const skipped = screen.getAllByTestId("library-import-skipped");
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.textContent).toContain("In the glade");
    expect(skipped[0]!.dataset["reason"]).toBe("conflict");
  });
});


function conflict(kind: Conflict["kind"], id: string, name: string, currentName: string): Conflict {
  return { kind, id, name, currentName, choice: "skip", copyId: null };
}

describe("importing over a library that has changed", () => {
  test("lists each conflict with a choice per item and for all, and imports with those choices", async () => {
    const fake = new FakeBackups();
    fake.conflicts = [
      conflict("session", "s1", "In the glade", "Renamed here"),
      conflict("persona", "p1", "Traveller", "Traveller"),
    ];
    const calls = await start(fake);
    await fireEvent.input(screen.getByTestId("library-import-path"), { target: { value: "/media/usb/library.confab" } });
    await fireEvent.click(screen.getByTestId("library-import"));
    const list = await screen.findByTestId("library-import-conflicts");
    expect(called(calls, "import_library")).toHaveLength(0);
    expect(list.textContent).toContain("Items that differ from yours: 2");
    const rows = screen.getAllByTestId("library-conflict");
    expect(rows[0]!.textContent).toContain("In the glade");
    expect(rows[0]!.textContent).toContain("yours: «Renamed here»");
    const selects = screen.getAllByTestId("library-conflict-choice") as HTMLSelectElement[];
    expect(selects.map((s) => s.value)).toEqual(["skip", "skip"]);

    // For all, then one item otherwise: "for all" no longer holds.
    const all = screen.getByTestId("library-conflict-all") as HTMLSelectElement;
    await fireEvent.change(all, { target: { value: "keepBoth" } });
    expect(selects.map((s) => s.value)).toEqual(["keepBoth", "keepBoth"]);
    await fireEvent.change(selects[1]!, { target: { value: "overwrite" } });
    expect(all.value).toBe("");

    await fireEvent.click(screen.getByTestId("library-conflicts-import"));
    const report = await screen.findByTestId("library-import-report");
    expect(called(calls, "import_library")[0]!.args).toEqual({
      path: "/media/usb/library.confab",
      choices: {
        default: "skip",
        items: [
          { kind: "session", id: "s1", choice: "keepBoth" },
          { kind: "persona", id: "p1", choice: "overwrite" },
        ],
        copyLabel: "imported",
      },
    });
    expect(screen.queryByTestId("library-import-conflicts")).toBeNull();
    expect(report.textContent).toContain("Replaced 1 of yours with the archive's");
    expect(report.textContent).toContain("Kept both of 1:");
  });

  test("cancel leaves the library alone", async () => {
    const fake = new FakeBackups();
    fake.conflicts = [conflict("worldBook", "b1", "Eldoria", "Eldoria")];
    const calls = await start(fake);
    await fireEvent.input(screen.getByTestId("library-import-path"), { target: { value: "/tmp/a.confab" } });
    await fireEvent.click(screen.getByTestId("library-import"));
    await screen.findByTestId("library-import-conflicts");
    await fireEvent.click(screen.getByTestId("library-conflicts-cancel"));
    expect(screen.queryByTestId("library-import-conflicts")).toBeNull();
    expect(called(calls, "import_library")).toHaveLength(0);
  });

  test("an import refused while a reply streams says so in the user's words", async () => {
    const fake = new FakeBackups();
    fake.handle = ((original) =>
      function (this: FakeBackups, cmd: string, a: Record<string, unknown>) {
        if (cmd === "import_library") {
          return Promise.reject({ code: "reply_streaming", message: "a reply is streaming in 1 chat(s)" });
        }
        return original.call(this, cmd, a);
      })(fake.handle);
    await start(fake);
    await fireEvent.input(screen.getByTestId("library-import-path"), { target: { value: "/tmp/a.confab" } });
    await fireEvent.click(screen.getByTestId("library-import"));
    const error = await screen.findByTestId("library-import-error");
    expect(error.textContent).toContain("A reply is still being written");
    expect(screen.queryByTestId("library-import-report")).toBeNull();
  });
});

describe("choosing the archive", () => {
  // WebDriver cannot click a GTK dialog: this is the button's proof that it
  // asks the dialog plugin for one .confab file and imports what it answers.
  test("the native dialog is asked for one .confab file; its answer is imported", async () => {
    const fake = new FakeBackups();
    fake.chosenFile = "/home/alex/library.confab";
    const calls = await start(fake);
    await fireEvent.click(screen.getByTestId("library-import-choose"));
    await screen.findByTestId("library-import-report");
    const asked = called(calls, "plugin:dialog|open");
    expect(asked).toHaveLength(1);
    expect(asked[0]!.args).toMatchObject({
      options: { multiple: false, directory: false, filters: [{ name: "Confab library", extensions: ["confab"] }] },
    });
    expect(called(calls, "import_library")[0]!.args).toMatchObject({ path: "/home/alex/library.confab" });
    expect((screen.getByTestId("library-import-path") as HTMLInputElement).value).toBe("/home/alex/library.confab");
  });

  test("closing the dialog without a file imports nothing", async () => {
    const calls = await start();
    await fireEvent.click(screen.getByTestId("library-import-choose"));
    await waitFor(() => expect(called(calls, "plugin:dialog|open")).toHaveLength(1));
    expect(called(calls, "preview_library_import")).toHaveLength(0);
    expect(called(calls, "import_library")).toHaveLength(0);
  });
});

describe("restoring while a reply streams", () => {
  test("is refused with its own message and nothing reloads", async () => {
    const reload = vi.fn();
    vi.spyOn(window, "location", "get").mockReturnValue({ ...window.location, reload });
    const fake = new FakeBackups();
    fake.restoreError = { code: "reply_streaming", message: "a reply is streaming in 1 chat(s)" };
    await start(fake);
    await waitFor(() => expect(items()).toHaveLength(2));
    await fireEvent.click(within(items()[0]!).getByTestId("backup-restore"));
    await fireEvent.click(await screen.findByTestId("confirm-ok"));
    const error = await screen.findByTestId("backup-error");
    expect(error.textContent).toContain("A reply is still being written");
    expect(reload).not.toHaveBeenCalled();
  });
});
