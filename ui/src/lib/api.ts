// The one place that talks to the generated bindings. Components import from
// here, so a change in the generated shapes is absorbed in this file.

import { Channel, convertFileSrc, invoke } from "@tauri-apps/api/core";
import { commands } from "./bindings";
import type {
  Activation,
  ActivationReason,
  AppInfo,
  AssetRef,
  BookSettings,
  CharacterRef,
  DictionaryRule,
  DictionaryScope,
  DropReason,
  Dropped,
  Entry,
  EntryPosition,
  EntryRole,
  KeyError,
  MatchedIn,
  MatchSources,
  ScanMessage,
  ScanReport,
  SelectiveLogic,
  TestActivationRequest,
  WorldBookDetail,
  WorldBookFormat,
  WorldBookSummary,
  CardData,
  CardFormat,
  CardSpec,
  CharacterDetail,
  CharacterQuery,
  CharacterSort,
  CharacterSummary,
  ErrorCode,
  ExportedFile,
  ExportFormat,
  Facet,
  ImportEvent,
  ImportOutcome,
  ImportStatus,
  ImportSummary,
  JsonValue,
  Language,
  LibraryCounts,
  LibraryFacets,
  Settings,
  StoredAsset,
  ThemePreference,
  AssembledPrompt,
  BehaviourModifier,
  CharacterPreferences,
  ChatExportFormat,
  ContextVersion,
  Message,
  MessageImage,
  MessageMeta,
  MessagePage,
  MessageStatus,
  Persona,
  PrimaryContext,
  PromptMessage,
  PromptPart,
  PromptSource,
  RelationshipMode,
  Role,
  SearchHit,
  SessionQuery,
  SessionSummary,
  SpeechModifier,
} from "./bindings";

/** `Settings.language` null means "follow the OS language". */
export type { AppInfo, ErrorCode, Language, LibraryCounts, Settings, ThemePreference };
export type {
  AssetRef,
  CardData,
  CardFormat,
  CardSpec,
  CharacterDetail,
  CharacterQuery,
  CharacterSort,
  CharacterSummary,
  ExportedFile,
  ExportFormat,
  Facet,
  ImportEvent,
  ImportOutcome,
  ImportStatus,
  ImportSummary,
  JsonValue,
  LibraryFacets,
  StoredAsset,
};
export type {
  Activation,
  ActivationReason,
  BookSettings,
  CharacterRef,
  DictionaryRule,
  DictionaryScope,
  DropReason,
  Dropped,
  Entry,
  EntryPosition,
  EntryRole,
  KeyError,
  MatchedIn,
  MatchSources,
  ScanMessage,
  ScanReport,
  SelectiveLogic,
  TestActivationRequest,
  WorldBookDetail,
  WorldBookFormat,
  WorldBookSummary,
};

export type {
  AssembledPrompt,
  BehaviourModifier,
  CharacterPreferences,
  ChatExportFormat,
  ContextVersion,
  Message,
  MessageImage,
  MessageMeta,
  MessagePage,
  MessageStatus,
  Persona,
  PrimaryContext,
  PromptMessage,
  PromptPart,
  PromptSource,
  RelationshipMode,
  Role,
  SearchHit,
  SessionQuery,
  SessionSummary,
  SpeechModifier,
};

/** An error as the UI shows it; `path` only when the backend named a file. */
export type ApiError = { code: ErrorCode; message: string; path?: string };

export type ApiResult<T> = { ok: true; data: T } | { ok: false; error: ApiError };

// `satisfies` makes a new backend ErrorCode a compile error here until it is listed.
const KNOWN_CODES = {
  not_found: true,
  invalid_input: true,
  busy: true,
  unauthorized: true,
  rate_limited: true,
  upstream: true,
  network: true,
  timeout: true,
  storage: true,
  disk_full: true,
  keyring_unavailable: true,
  database_corrupt: true,
  database_too_new: true,
  io: true,
  internal: true,
  no_card_data: true,
  invalid_card: true,
  too_large: true,
  unsupported_format: true,
  invalid_world_book: true,
  overloaded: true,
  context_too_long: true,
  bad_request: true,
  truncated: true,
  protocol: true,
} as const satisfies Record<ErrorCode, true>;

export const ERROR_CODES = Object.keys(KNOWN_CODES) as readonly ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(KNOWN_CODES, value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function describe(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined || value === null) return "";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function withPath(code: ErrorCode, message: string, path: unknown): ApiError {
  return typeof path === "string" && path !== "" ? { code, message, path } : { code, message };
}

/**
 * Turns anything a command can reject with into an ApiError. Besides our own
 * AppError, Tauri itself rejects with plain strings (ACL denials, unknown
 * commands) and the bindings rethrow JS Errors; those become "internal".
 */
export function toApiError(raw: unknown): ApiError {
  if (isRecord(raw) && !(raw instanceof Error)) {
    const message = typeof raw["message"] === "string" ? raw["message"] : describe(raw);
    if (isErrorCode(raw["code"])) return withPath(raw["code"], message, raw["path"]);
    // An AppError from a newer backend with a code we do not know yet.
    const code = typeof raw["code"] === "string" ? `${raw["code"]}: ` : "";
    return withPath("internal", `${code}${message}`, raw["path"]);
  }
  if (raw instanceof Error) return { code: "internal", message: raw.message || raw.name };
  return { code: "internal", message: describe(raw) };
}

type CommandResult<T> = { status: "ok"; data: T } | { status: "error"; error: unknown };

async function call<T>(run: () => Promise<CommandResult<T>>): Promise<ApiResult<T>> {
  try {
    const result = await run();
    return result.status === "ok"
      ? { ok: true, data: result.data }
      : { ok: false, error: toApiError(result.error) };
  } catch (thrown) {
    return { ok: false, error: toApiError(thrown) };
  }
}

/** Version, data locations and library counts. */
export function loadAppInfo(): Promise<ApiResult<AppInfo>> {
  return call(() => commands.appInfo());
}

/** Settings as stored in the database (the source of truth). */
export function loadSettings(): Promise<ApiResult<Settings>> {
  return call(() => commands.getSettings());
}

/** Persists settings; answers with what was actually stored. */
export function saveSettings(settings: Settings): Promise<ApiResult<Settings>> {
  return call(() => commands.setSettings(settings));
}

// ---- Character library ----

export function listCharacters(query: CharacterQuery): Promise<ApiResult<CharacterSummary[]>> {
  return call(() => commands.listCharacters(query));
}

export function libraryFacets(): Promise<ApiResult<LibraryFacets>> {
  return call(() => commands.libraryFacets());
}

export function getCharacter(id: string): Promise<ApiResult<CharacterDetail>> {
  return call(() => commands.getCharacter(id));
}

/** Saves every field of `card`; answers with what is stored. */
export function updateCharacter(id: string, card: CardData): Promise<ApiResult<CharacterDetail>> {
  return call(() => commands.updateCharacter(id, card));
}

/** Deletes the character and its chats. */
export function deleteCharacter(id: string): Promise<ApiResult<null>> {
  return call(() => commands.deleteCharacter(id));
}

/** The just-imported `sourceId` takes the place of `targetId` (which keeps its id and chats). */
export function replaceCharacter(targetId: string, sourceId: string): Promise<ApiResult<CharacterDetail>> {
  return call(() => commands.replaceCharacter(targetId, sourceId));
}

/** Writes the character into the Downloads folder; answers with where. */
export function exportCharacter(id: string, format: ExportFormat): Promise<ApiResult<ExportedFile>> {
  return call(() => commands.exportCharacter(id, format));
}

/**
 * Imports files and folders from disk (drag and drop). `onEvent` receives
 * started, one progress per file, then finished, in that order.
 */
export function importPaths(
  paths: readonly string[],
  onEvent: (event: ImportEvent) => void,
): Promise<ApiResult<ImportSummary>> {
  return call(() => {
    const channel = new Channel<ImportEvent>();
    channel.onmessage = onEvent;
    return commands.importPaths([...paths], channel);
  });
}

/**
 * Imports one file picked in the browser by its bytes (not in the generated
 * bindings: the body is raw, the name travels in a header).
 */
export function importFile(file: File): Promise<ApiResult<ImportOutcome>> {
  return call(async () => {
    try {
      const bytes = new Uint8Array(await readBytes(file));
      const outcome = await invoke<ImportOutcome>("import_file", bytes, {
        headers: { "x-file-name": encodeURIComponent(file.name) },
      });
      return { status: "ok" as const, data: outcome };
    } catch (error) {
      if (error instanceof Error) throw error;
      return { status: "error" as const, error };
    }
  });
}

/**
 * Imports one world-book file (SillyTavern world info JSON, a character
 * book, a .lorebook) by its bytes; like `importFile`, hand-wrapped.
 */
export function importWorldBook(file: File): Promise<ApiResult<WorldBookSummary>> {
  return call(async () => {
    try {
      const bytes = new Uint8Array(await readBytes(file));
      const summary = await invoke<WorldBookSummary>("import_world_book", bytes, {
        headers: { "x-file-name": encodeURIComponent(file.name) },
      });
      return { status: "ok" as const, data: summary };
    } catch (error) {
      if (error instanceof Error) throw error;
      return { status: "error" as const, error };
    }
  });
}

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

// ---- Chats ----

export function listSessions(query: SessionQuery): Promise<ApiResult<SessionSummary[]>> {
  return call(() => commands.listSessions(query));
}

/** The character's most recent session, or a new one that opens with its greetings. */
export function openOrCreateSession(characterId: string): Promise<ApiResult<SessionSummary>> {
  return call(() => commands.openOrCreateSession(characterId));
}

export function createSession(characterId: string): Promise<ApiResult<SessionSummary>> {
  return call(() => commands.createSession(characterId));
}

/** A page of the active path, oldest first; `cursor` null is the newest page. */
export function getMessages(sessionId: string, cursor: string | null, limit: number): Promise<ApiResult<MessagePage>> {
  return call(() => commands.getMessages(sessionId, cursor, limit));
}

/** Appends to the active path; nothing answers yet (replies come with model support). */
export function addMessage(
  sessionId: string,
  role: Role,
  content: string,
  imageIds: readonly string[],
): Promise<ApiResult<Message>> {
  return call(() => commands.addMessage(sessionId, role, content, [...imageIds]));
}

/** The old text is kept (see messageVersions); editCount grows. */
export function editMessage(messageId: string, content: string): Promise<ApiResult<Message>> {
  return call(() => commands.editMessage(messageId, content));
}

/** Earlier texts, oldest first; restoring one is an edit with that text. */
export function messageVersions(messageId: string): Promise<ApiResult<string[]>> {
  return call(() => commands.messageVersions(messageId));
}

/** Removes the message and everything after it on the active path. */
export function deleteMessage(messageId: string): Promise<ApiResult<null>> {
  return call(() => commands.deleteMessage(messageId));
}

/** Makes sibling `index` active; the path below follows that sibling's latest branch. */
export function selectSwipe(messageId: string, index: number): Promise<ApiResult<Message>> {
  return call(() => commands.selectSwipe(messageId, index));
}

/** A new session with the path up to (and including) this message. */
export function branchSession(messageId: string): Promise<ApiResult<SessionSummary>> {
  return call(() => commands.branchSession(messageId));
}

export function renameSession(sessionId: string, title: string): Promise<ApiResult<SessionSummary>> {
  return call(() => commands.renameSession(sessionId, title));
}

export function archiveSession(sessionId: string, archived: boolean): Promise<ApiResult<SessionSummary>> {
  return call(() => commands.archiveSession(sessionId, archived));
}

export function deleteSession(sessionId: string): Promise<ApiResult<null>> {
  return call(() => commands.deleteSession(sessionId));
}

/** Full-text search over every session (`sessionId` null) or one. */
export function searchMessages(query: string, sessionId: string | null): Promise<ApiResult<SearchHit[]>> {
  return call(() => commands.searchMessages(query, sessionId));
}

/** Writes the chat into the Downloads folder; answers with where. */
export function exportSession(sessionId: string, format: ChatExportFormat): Promise<ApiResult<ExportedFile>> {
  return call(() => commands.exportSession(sessionId, format));
}

/** Imports a SillyTavern chat (.jsonl) for a character, by its bytes (hand-wrapped). */
export function importChat(file: File, characterId: string): Promise<ApiResult<SessionSummary>> {
  return rawCall<SessionSummary>("import_chat", file, {
    "x-file-name": encodeURIComponent(file.name),
    "x-character-id": characterId,
  });
}

/** Stores an image for a message about to be sent; pass its id to addMessage. */
export function attachImage(file: File): Promise<ApiResult<MessageImage>> {
  return rawCall<MessageImage>("attach_image", file, { "x-file-name": encodeURIComponent(file.name) });
}

/** Stores an image dropped on the chat, by its path on disk. */
export function attachImagePath(path: string): Promise<ApiResult<MessageImage>> {
  return call(() => commands.attachImagePath(path));
}

/** True for paths that look like images a chat message can carry. */
export function isImagePath(path: string): boolean {
  return /\.(png|jpe?g|gif|webp)$/i.test(path);
}

// ---- Personas ----

export function listPersonas(): Promise<ApiResult<Persona[]>> {
  return call(() => commands.listPersonas());
}

export function createPersona(name: string, description: string): Promise<ApiResult<Persona>> {
  return call(() => commands.createPersona(name, description));
}

export function updatePersona(id: string, name: string, description: string): Promise<ApiResult<Persona>> {
  return call(() => commands.updatePersona(id, name, description));
}

export function deletePersona(id: string): Promise<ApiResult<null>> {
  return call(() => commands.deletePersona(id));
}

export function setDefaultPersona(id: string): Promise<ApiResult<Persona>> {
  return call(() => commands.setDefaultPersona(id));
}

/** `personaId` null: the session follows the default persona. */
export function setSessionPersona(sessionId: string, personaId: string | null): Promise<ApiResult<SessionSummary>> {
  return call(() => commands.setSessionPersona(sessionId, personaId));
}

/** Uploads a persona's avatar image (raw bytes, hand-wrapped). */
export function setPersonaAvatar(id: string, file: File): Promise<ApiResult<Persona>> {
  return rawCall<Persona>("set_persona_avatar", file, { "x-persona-id": id });
}

// ---- Character preferences ----

export function getPreferences(characterId: string): Promise<ApiResult<CharacterPreferences | null>> {
  return call(() => commands.getPreferences(characterId));
}

/** Rejects contradictory modifiers (formal + informal, warm + cold, funny + serious). */
export function setPreferences(
  characterId: string,
  preferences: CharacterPreferences,
): Promise<ApiResult<CharacterPreferences>> {
  return call(() => commands.setPreferences(characterId, preferences));
}

export function deletePreferences(characterId: string): Promise<ApiResult<null>> {
  return call(() => commands.deletePreferences(characterId));
}

// ---- Primary context and the prompt ----

export function getPrimaryContext(): Promise<ApiResult<PrimaryContext>> {
  return call(() => commands.getPrimaryContext());
}

/** Every save is a new version. */
export function savePrimaryContext(text: string): Promise<ApiResult<ContextVersion>> {
  return call(() => commands.savePrimaryContext(text));
}

/** Newest first. */
export function listContextVersions(): Promise<ApiResult<ContextVersion[]>> {
  return call(() => commands.listContextVersions());
}

/** Saves that version's text as a new version. */
export function restoreContextVersion(id: string): Promise<ApiResult<ContextVersion>> {
  return call(() => commands.restoreContextVersion(id));
}

export function setPostHistory(text: string): Promise<ApiResult<PrimaryContext>> {
  return call(() => commands.setPostHistory(text));
}

/** The exact prompt the next request would send (`message`: the draft, if any). */
export function previewPrompt(sessionId: string, message: string | null): Promise<ApiResult<AssembledPrompt>> {
  return call(() => commands.previewPrompt(sessionId, message));
}

/** A raw-body command: the file's bytes are the body, everything else in headers. */
function rawCall<T>(command: string, file: File, headers: Record<string, string>): Promise<ApiResult<T>> {
  return call(async () => {
    try {
      const bytes = new Uint8Array(await readBytes(file));
      const data = await invoke<T>(command, bytes, { headers });
      return { status: "ok" as const, data };
    } catch (error) {
      if (error instanceof Error) throw error;
      return { status: "error" as const, error };
    }
  });
}

function readBytes(file: File): Promise<ArrayBuffer> {
  // Blob.arrayBuffer is missing from older WebKitGTK and from jsdom.
  if (typeof file.arrayBuffer === "function") return file.arrayBuffer();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as ArrayBuffer);
    reader.onerror = () => reject(reader.error ?? new Error(`could not read ${file.name}`));
    reader.readAsArrayBuffer(file);
  });
}

export type AvatarSize = "thumb" | "full";

/**
 * The avatar image, served by Confab's `avatar:` URI scheme; `?v=` changes
 * with the image so the webview never shows a stale cached one.
 * Null when the character has no avatar (draw a placeholder instead).
 */
export function avatarUrl(summary: Pick<CharacterSummary, "id" | "avatarKey">, size: AvatarSize): string | null {
  if (summary.avatarKey === null) return null;
  try {
    return `${convertFileSrc(`${size}/${summary.id}`, "avatar")}?v=${encodeURIComponent(summary.avatarKey)}`;
  } catch {
    return null; // no Tauri at all (a plain browser without the dev mock)
  }
}

/** A message's attached image, served by the `attachment:` URI scheme. */
export function attachmentUrl(id: string): string | null {
  try {
    return convertFileSrc(id, "attachment");
  } catch {
    return null;
  }
}

/** A persona's avatar, or null when it has none. */
export function personaAvatarUrl(persona: Pick<Persona, "id" | "avatarKey">): string | null {
  if (persona.avatarKey === null) return null;
  try {
    return `${convertFileSrc(`persona/${persona.id}`, "avatar")}?v=${encodeURIComponent(persona.avatarKey)}`;
  } catch {
    return null;
  }
}
