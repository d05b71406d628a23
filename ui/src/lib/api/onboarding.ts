// The first-run walk-through: whether it is due, finishing it, and the demo
// character that ships inside the app.

import { commands } from "../bindings";
import type { FirstRun, ImportOutcome } from "../bindings";
import { call, type ApiResult } from "./call";

export type { FirstRun };

/** Whether the walk-through is over (finished, skipped, or not needed for this library). */
export function firstRunStatus(): Promise<ApiResult<FirstRun>> {
  return call(() => commands.firstRunStatus());
}

/** Records that the walk-through was finished or skipped, in the library itself. */
export function finishFirstRun(): Promise<ApiResult<FirstRun>> {
  return call(() => commands.finishFirstRun());
}

/** Imports the demo character shipped inside the app (or finds it already there). */
export function importDemoCharacter(): Promise<ApiResult<ImportOutcome>> {
  return call(() => commands.importDemoCharacter());
}
