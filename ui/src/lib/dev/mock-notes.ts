// The dev mock's notes: a card's Character's note as the core reads it, and
// the checks an Author's Note passes before it is saved.

import type { ApiError, AuthorsNote, CardData, CharacterNote } from "../api";
import { MAX_DEPTH, readNote } from "../library/character-note";

const MAX_INTERVAL = 10_000;
const MAX_BYTES = 100_000;

function invalid(message: string): ApiError {
  return { code: "invalid_input", message };
}

/** The card's Character's note; a blank one is none. */
export function characterNoteOf(card: CardData): CharacterNote | null {
  const note = readNote(card);
  return note.text.trim() === "" ? null : note;
}

/** Throws an ApiError when the core would refuse the note. */
export function checkAuthorsNote(note: AuthorsNote): void {
  if (new TextEncoder().encode(note.text).length > MAX_BYTES) throw invalid(`the Author's Note is longer than ${MAX_BYTES} bytes`);
  if (!Number.isInteger(note.depth) || note.depth < 0 || note.depth > MAX_DEPTH) throw invalid(`a depth can be ${MAX_DEPTH} at most`);
  if (!Number.isInteger(note.interval) || note.interval < 0 || note.interval > MAX_INTERVAL) {
    throw invalid(`the Author's Note can be sent every ${MAX_INTERVAL} user messages at most`);
  }
}
