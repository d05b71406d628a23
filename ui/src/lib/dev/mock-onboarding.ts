// The first-run commands, faked: whether the walk-through is done, finishing
// it, and importing the demo character (through whatever the library mock does).

import type { FirstRun, ImportOutcome } from "../api";

export const DEMO_FILE_NAME = "Mira Vell (Confab demo).png";

export class MockOnboarding {
  done: boolean;
  doneAt: number | null = null;
  /** How many times finish_first_run was called. */
  finished = 0;
  #importDemo: () => ImportOutcome | Promise<ImportOutcome>;

  constructor(done: boolean, importDemo: () => ImportOutcome | Promise<ImportOutcome>) {
    this.done = done;
    this.#importDemo = importDemo;
  }

  /** Answers the onboarding commands; undefined for any other. */
  handle(cmd: string): unknown {
    switch (cmd) {
      case "first_run_status":
        return this.#status();
      case "finish_first_run":
        this.finished += 1;
        this.done = true;
        this.doneAt ??= Date.now();
        return this.#status();
      case "import_demo_character":
        return this.#importDemo();
      default:
        return undefined;
    }
  }

  #status(): FirstRun {
    return { done: this.done, doneAt: this.doneAt };
  }
}
