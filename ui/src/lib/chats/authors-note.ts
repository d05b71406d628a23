// The Author's Note editor's rules, kept out of the component so they are easy to test.

import type { AuthorsNote, ChatNotes, NotePosition, Role } from "../api";

/** SillyTavern's defaults: in the chat at depth 4, as system, with every user message. */
export const DEFAULT_NOTE: AuthorsNote = { text: "", position: "inChat", depth: 4, role: "system", interval: 1 };

export const NOTE_POSITIONS: readonly NotePosition[] = ["beforeSystem", "afterSystem", "inChat"];
export const NOTE_ROLES: readonly Role[] = ["system", "user", "assistant"];

/** The core refuses more. */
export const MAX_NOTE_DEPTH = 10_000;
export const MAX_NOTE_INTERVAL = 10_000;

/** Whose note a chat uses: its own, its character's default, or none at all. */
export type NoteScope = "chat" | "default" | "none";

export function scopeOf(notes: ChatNotes): NoteScope {
  return notes.chat !== null ? "chat" : notes.characterDefault !== null ? "default" : "none";
}

/** The note in force for the chat (its own, else the default), or SillyTavern's defaults. */
export function noteInForce(notes: ChatNotes): AuthorsNote {
  return { ...(notes.chat ?? notes.characterDefault ?? DEFAULT_NOTE) };
}

/** Whether a note would put anything in the prompt now and then. */
export function noteIsActive(notes: ChatNotes): boolean {
  const note = notes.chat ?? notes.characterDefault;
  return note !== null && note.text.trim() !== "" && note.interval > 0;
}

/** A whole number in [0, max] from what was typed, or null when it is not one. */
export function wholeNumber(value: number, max: number): number | null {
  if (!Number.isFinite(value)) return null;
  return Math.min(max, Math.max(0, Math.trunc(value)));
}

export function sameNote(a: AuthorsNote, b: AuthorsNote): boolean {
  return (
    a.text === b.text && a.position === b.position && a.depth === b.depth && a.role === b.role && a.interval === b.interval
  );
}
