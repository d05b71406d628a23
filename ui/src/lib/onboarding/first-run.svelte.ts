// The first-run walk-through: language, where replies come from (a provider
// or a model server on this computer), then characters (import cards or
// start with the demo character). Every step can be skipped; skipping the
// whole or finishing it is recorded in the library (finish_first_run), so it
// shows once, and Settings or the Help menu open it again.

import { finishFirstRun, firstRunStatus, importDemoCharacter, toApiError, type ImportOutcome } from "../api";
import type { Reporter } from "../library/library.svelte";

export const FIRST_RUN_STEPS = ["language", "replies", "characters"] as const;
export type FirstRunStep = (typeof FIRST_RUN_STEPS)[number];

export class FirstRunGuide {
  open = $state(false);
  step = $state<FirstRunStep>("language");
  /** The demo character is being imported. */
  busy = $state(false);

  #report: Reporter;

  constructor(report: Reporter) {
    this.#report = report;
  }

  get index(): number {
    return FIRST_RUN_STEPS.indexOf(this.step);
  }

  get last(): boolean {
    return this.index === FIRST_RUN_STEPS.length - 1;
  }

  /** Opens the walk-through on a library that has not been through it. */
  async load(): Promise<void> {
    const status = await firstRunStatus();
    if (!status.ok) {
      // Not knowing is not a reason to block the window: carry on without it.
      this.#report(status.error, "error.context.firstRun");
      return;
    }
    if (!status.data.done) this.start();
  }

  /** Opens it from the first step (first start, Settings, the Help menu). */
  start(): void {
    this.step = "language";
    this.busy = false;
    this.open = true;
  }

  next(): void {
    const following = FIRST_RUN_STEPS[this.index + 1];
    if (following) this.step = following;
    else void this.finish();
  }

  back(): void {
    const previous = FIRST_RUN_STEPS[this.index - 1];
    if (previous) this.step = previous;
  }

  /** Closes it and records it as done (finished or skipped alike). */
  async finish(): Promise<void> {
    this.open = false;
    const saved = await finishFirstRun();
    if (!saved.ok) this.#report(saved.error, "error.context.firstRun");
  }

  /** Imports the demo character, ends the walk-through, and hands its outcome on. */
  async startDemo(): Promise<ImportOutcome | null> {
    if (this.busy) return null;
    this.busy = true;
    const result = await importDemoCharacter();
    this.busy = false;
    if (!result.ok) {
      this.#report(result.error, "error.context.demo");
      return null;
    }
    const outcome = result.data;
    if (outcome.status === "failed" || outcome.characterId === null) {
      if (outcome.error) this.#report(toApiError(outcome.error), "error.context.demo");
      return null;
    }
    await this.finish();
    return outcome;
  }
}
