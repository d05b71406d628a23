// The World books screen's data: every book as the list shows it, plus
// creating and importing. The open book lives in a BookEditor.

import {
  createWorldBook,
  importWorldBook,
  listWorldBooks,
  type WorldBookDetail,
  type WorldBookSummary,
} from "../api";
import type { Reporter } from "../library/library.svelte";

function byName(a: WorldBookSummary, b: WorldBookSummary): number {
  return a.name.localeCompare(b.name, undefined, { sensitivity: "base" });
}

export class WorldBooks {
  /** Every book, by name. */
  all = $state.raw<readonly WorldBookSummary[]>([]);
  loaded = $state(false);
  loading = $state(false);
  failed = $state(false);
  creating = $state(false);
  importing = $state(false);

  #report: Reporter;
  #generation = 0;

  constructor(report: Reporter) {
    this.#report = report;
  }

  async load(): Promise<void> {
    const generation = ++this.#generation;
    this.loading = true;
    const result = await listWorldBooks();
    if (generation !== this.#generation) return;
    this.loading = false;
    if (result.ok) {
      this.all = [...result.data].sort(byName);
      this.loaded = true;
      this.failed = false;
    } else {
      this.failed = true;
      this.#report(result.error, "error.context.loadWorldBooks");
    }
  }

  /** Replaces one book's summary (after a save, a toggle, an attach). */
  patch(summary: WorldBookSummary): void {
    const rest = this.all.filter((b) => b.id !== summary.id);
    this.all = [...rest, summary].sort(byName);
  }

  remove(id: string): void {
    this.all = this.all.filter((b) => b.id !== id);
  }

  /** A new empty book; answers with it (null if that failed, already reported). */
  async create(name: string): Promise<WorldBookDetail | null> {
    if (this.creating) return null;
    this.creating = true;
    const result = await createWorldBook(name);
    this.creating = false;
    if (!result.ok) {
      this.#report(result.error, "error.context.createWorldBook");
      return null;
    }
    this.patch(result.data.summary);
    return result.data;
  }

  /** Imports picked files one by one; a bad file is reported and the rest go on. */
  async importFiles(files: readonly File[]): Promise<WorldBookSummary[]> {
    const imported: WorldBookSummary[] = [];
    if (files.length === 0) return imported;
    this.importing = true;
    for (const file of files) {
      const result = await importWorldBook(file);
      if (result.ok) {
        imported.push(result.data);
        this.patch(result.data);
      } else {
        this.#report(result.error.path ? result.error : { ...result.error, path: file.name }, "error.context.importWorldBook");
      }
    }
    this.importing = false;
    this.loaded = true;
    return imported;
  }
}
