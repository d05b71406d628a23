// World books (their entries, settings, characters and the activation test)
// and chat dictionaries.

import { commands } from "../bindings";
import { call, type ApiResult } from "./call";
import type {
  Activation,
  ActivationReason,
  BookSettings,
  CharacterFilter,
  CharacterRef,
  DictionaryRule,
  DictionaryScope,
  DisplayTexts,
  Dropped,
  DropReason,
  Entry,
  EntryPosition,
  EntryRole,
  ExportedFile,
  KeyError,
  KeyErrorKind,
  MatchedIn,
  MatchSources,
  RuleProblem,
  ScanCharacter,
  ScanMessage,
  ScanReport,
  SelectiveLogic,
  TestActivationRequest,
  Trigger,
  WorldBookDetail,
  WorldBookFormat,
  WorldBookSummary,
} from "../bindings";

export type {
  Activation,
  ActivationReason,
  BookSettings,
  CharacterFilter,
  CharacterRef,
  DictionaryRule,
  DictionaryScope,
  DisplayTexts,
  Dropped,
  DropReason,
  Entry,
  EntryPosition,
  EntryRole,
  KeyError,
  KeyErrorKind,
  MatchedIn,
  MatchSources,
  RuleProblem,
  ScanCharacter,
  ScanMessage,
  ScanReport,
  SelectiveLogic,
  TestActivationRequest,
  Trigger,
  WorldBookDetail,
  WorldBookFormat,
  WorldBookSummary,
};

// ---- World books ----

export function listWorldBooks(): Promise<ApiResult<WorldBookSummary[]>> {
  return call(() => commands.listWorldBooks());
}

/** The whole book: settings, every entry (up to tens of thousands) and its bad keys. */
export function getWorldBook(id: string): Promise<ApiResult<WorldBookDetail>> {
  return call(() => commands.getWorldBook(id));
}

export function createWorldBook(name: string): Promise<ApiResult<WorldBookDetail>> {
  return call(() => commands.createWorldBook(name));
}

export function updateWorldBook(
  id: string,
  name: string,
  description: string,
  settings: BookSettings,
): Promise<ApiResult<WorldBookSummary>> {
  return call(() => commands.updateWorldBook(id, name, description, settings));
}

export function deleteWorldBook(id: string): Promise<ApiResult<null>> {
  return call(() => commands.deleteWorldBook(id));
}

/** Upserts entries by uid; answers with the whole book so key errors refresh. */
export function saveEntries(bookId: string, entries: readonly Entry[]): Promise<ApiResult<WorldBookDetail>> {
  return call(() => commands.saveEntries(bookId, [...entries]));
}

/** A new entry with a fresh uid and SillyTavern's defaults. */
export function addEntry(bookId: string): Promise<ApiResult<Entry>> {
  return call(() => commands.addEntry(bookId));
}

export function deleteEntries(bookId: string, uids: readonly number[]): Promise<ApiResult<WorldBookSummary>> {
  return call(() => commands.deleteEntries(bookId, [...uids]));
}

export function setEntriesEnabled(
  bookId: string,
  uids: readonly number[],
  enabled: boolean,
): Promise<ApiResult<WorldBookSummary>> {
  return call(() => commands.setEntriesEnabled(bookId, [...uids], enabled));
}

export function setWorldBookGlobal(id: string, global: boolean): Promise<ApiResult<WorldBookSummary>> {
  return call(() => commands.setWorldBookGlobal(id, global));
}

export function attachWorldBook(bookId: string, characterId: string): Promise<ApiResult<WorldBookSummary>> {
  return call(() => commands.attachWorldBook(bookId, characterId));
}

export function detachWorldBook(bookId: string, characterId: string): Promise<ApiResult<WorldBookSummary>> {
  return call(() => commands.detachWorldBook(bookId, characterId));
}

export function characterWorldBooks(characterId: string): Promise<ApiResult<WorldBookSummary[]>> {
  return call(() => commands.characterWorldBooks(characterId));
}

/** Writes the book into the Downloads folder; answers with where. */
export function exportWorldBook(id: string, format: WorldBookFormat): Promise<ApiResult<ExportedFile>> {
  return call(() => commands.exportWorldBook(id, format));
}

/** Runs the activation scan over sample messages; every decision is explained. */
export function testActivation(request: TestActivationRequest): Promise<ApiResult<ScanReport>> {
  return call(() => commands.testActivation(request));
}

// ---- Chat dictionaries ----

/** A character's dictionary, or the global one for `null`. */
export function getDictionary(characterId: string | null): Promise<ApiResult<DictionaryRule[]>> {
  return call(() => commands.getDictionary(characterId));
}

export function setDictionary(
  characterId: string | null,
  rules: readonly DictionaryRule[],
): Promise<ApiResult<DictionaryRule[]>> {
  return call(() => commands.setDictionary(characterId, [...rules]));
}

/** What is wrong with dictionary rules being edited, read exactly as the core applies them. */
export function checkDictionary(rules: readonly DictionaryRule[]): Promise<ApiResult<RuleProblem[]>> {
  return call(() => commands.checkDictionary([...rules]));
}

/** `texts` as a chat with the character shows them (Display-scope rules; `null`: unchanged). */
export function displayTexts(characterId: string, texts: readonly string[]): Promise<ApiResult<DisplayTexts>> {
  return call(() => commands.displayTexts(characterId, [...texts]));
}
