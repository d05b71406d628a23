// One import batch at a time: files picked in the browser (sent one by one
// as bytes) or paths dropped on the window (walked by the backend, progress
// over a Channel). A bad file never stops the batch. Batches that arrive
// while one runs wait their turn.

import {
  importFile,
  importPaths,
  replaceCharacter,
  type ImportEvent,
  type ImportOutcome,
} from "../api";
import type { Reporter } from "./library.svelte";

export type Resolution = "replacing" | "replaced" | "keptBoth";

export type ImportRow = { outcome: ImportOutcome; resolution: Resolution | null };

export type ImportPhase = "idle" | "running" | "done";

export class Importer {
  phase = $state<ImportPhase>("idle");
  /** Files in the batch; null until the backend has counted them. */
  total = $state<number | null>(null);
  done = $state(0);
  rows = $state.raw<readonly ImportRow[]>([]);

  counts = $derived({
    imported: this.rows.filter((r) => r.outcome.status === "imported").length,
    alreadyInLibrary: this.rows.filter((r) => r.outcome.status === "alreadyInLibrary").length,
    failed: this.rows.filter((r) => r.outcome.status === "failed").length,
  });

  #queue: Promise<void> = Promise.resolve();
  #report: Reporter;
  #changed: () => void;

  /** `changed` runs whenever the library may have changed (refresh the grid). */
  constructor(report: Reporter, changed: () => void) {
    this.#report = report;
    this.#changed = changed;
  }

  importFiles(files: readonly File[]): Promise<void> {
    if (files.length === 0) return this.#queue;
    return this.#enqueue(async () => {
      this.total = files.length;
      for (const file of files) {
        const result = await importFile(file);
        this.#add(
          result.ok
            ? result.data
            : {
                file: file.name,
                status: "failed",
                characterId: null,
                name: null,
                worldBookId: null,
                sessionId: null,
                sameNameAs: null,
                pendingDictionaryRules: 0,
                error: result.error,
              },
        );
      }
    });
  }

  importPaths(paths: readonly string[]): Promise<void> {
    if (paths.length === 0) return this.#queue;
    return this.#enqueue(async () => {
      const seen = new Set<string>();
      const onEvent = (event: ImportEvent): void => {
        if (event.kind === "started") {
          this.total = event.total;
        } else if (event.kind === "progress") {
          this.total = event.total;
          seen.add(event.outcome.file);
          this.#add(event.outcome);
          this.done = event.done;
        } else {
          // Anything the progress events missed still gets its row.
          for (const outcome of event.summary.outcomes) {
            if (!seen.has(outcome.file)) this.#add(outcome);
          }
          this.total = event.summary.outcomes.length;
          this.done = this.total;
        }
      };
      const result = await importPaths(paths, onEvent);
      if (result.ok) {
        for (const outcome of result.data.outcomes) {
          if (!seen.has(outcome.file) && !this.rows.some((r) => r.outcome.file === outcome.file)) {
            this.#add(outcome);
          }
        }
      } else {
        this.#report(result.error, "error.context.import");
      }
    });
  }

  /** The new character takes the place of the older one with the same name. */
  async replace(index: number): Promise<void> {
    const row = this.rows[index];
    const { characterId, sameNameAs } = row?.outcome ?? {};
    if (!row || !characterId || !sameNameAs || row.resolution !== null) return;
    this.#resolve(index, "replacing");
    const result = await replaceCharacter(sameNameAs, characterId);
    if (result.ok) {
      this.#resolve(index, "replaced");
      this.#changed();
    } else {
      this.#resolve(index, null);
      this.#report(result.error, "error.context.replace");
    }
  }

  keepBoth(index: number): void {
    if (this.rows[index]?.resolution === null) this.#resolve(index, "keptBoth");
  }

  /** Hides the summary (only once the batch is done). */
  close(): void {
    if (this.phase !== "done") return;
    this.phase = "idle";
    this.rows = [];
    this.total = null;
    this.done = 0;
  }

  #enqueue(run: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue.then(async () => {
      this.phase = "running";
      this.rows = [];
      this.total = null;
      this.done = 0;
      try {
        await run();
      } finally {
        this.phase = "done";
        this.#changed();
      }
    });
    return this.#queue;
  }

  #add(outcome: ImportOutcome): void {
    this.rows = [...this.rows, { outcome, resolution: null }];
    this.done = this.rows.length;
  }

  #resolve(index: number, resolution: Resolution | null): void {
    this.rows = this.rows.map((row, i) => (i === index ? { ...row, resolution } : row));
  }
}
