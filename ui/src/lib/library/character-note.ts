// The card's Character's note (SillyTavern's depth prompt), read from and
// written into `extensions.depth_prompt {prompt, depth, role}` of the card
// being edited. Read leniently as the core reads it; written so that an edit
// undone leaves the card exactly as it was (other keys and their order kept).

import type { CardData, JsonValue, Role } from "../api";

/** SillyTavern's default depth. */
export const DEFAULT_DEPTH = 4;
/** The core reads no deeper. */
export const MAX_DEPTH = 10_000;

export type NoteFields = { text: string; depth: number; role: Role };

type Object_ = { [key: string]: JsonValue };

function depthPrompt(card: CardData): Object_ | null {
  const dp = card.extensions["depth_prompt"];
  return dp !== null && typeof dp === "object" && !Array.isArray(dp) ? (dp as Object_) : null;
}

function whole(value: JsonValue | undefined): number | null {
  const n = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : NaN;
  return Number.isFinite(n) ? Math.min(MAX_DEPTH, Math.max(0, Math.trunc(n))) : null;
}

/** The note as the form shows it (blank text when the card has none). */
export function readNote(card: CardData): NoteFields {
  const dp = depthPrompt(card);
  const role = dp?.["role"];
  return {
    text: typeof dp?.["prompt"] === "string" ? (dp["prompt"] as string) : "",
    depth: whole(dp?.["depth"]) ?? DEFAULT_DEPTH,
    role: role === "user" || role === "assistant" || role === "system" ? role : "system",
  };
}

/**
 * Writes one field of the note into the card. A card that had no note and is
 * left with a blank one gets none again, so clearing what was typed leaves it unchanged.
 */
export function writeNote(card: CardData, stored: CardData, change: Partial<NoteFields>): void {
  const current = readNote(card);
  const next = { ...current, ...change };
  const had = depthPrompt(stored) !== null;
  if (!had && next.text === "" && change.text !== undefined) {
    delete card.extensions["depth_prompt"];
    return;
  }
  const dp: Object_ = { ...(depthPrompt(card) ?? { prompt: "", depth: DEFAULT_DEPTH, role: "system" }) };
  if (change.text !== undefined) dp["prompt"] = next.text;
  if (change.depth !== undefined) dp["depth"] = next.depth;
  if (change.role !== undefined) dp["role"] = next.role;
  card.extensions["depth_prompt"] = dp;
}
