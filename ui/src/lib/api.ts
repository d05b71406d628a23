// The one place that talks to the generated bindings. Components import from
// here, so a change in the generated shapes is absorbed in this file.

import { Channel, convertFileSrc, invoke } from "@tauri-apps/api/core";
import { commands, events } from "./bindings";
import type { DisplayTexts, RuleProblem } from "./bindings";
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
  CharacterFilter,
  KeyErrorKind,
  ScanCharacter,
  Trigger,
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
  PromptPreview,
  PromptImage,
  PreviewTarget,
  AuthorsNote,
  NotePosition,
  ChatNotes,
  ExampleDialogue,
  CancelReason,
  GenerationSettings,
  KeyStatus,
  KeyStorage,
  KeyStorageOptions,
  LiveSessions,
  LocalServer,
  ModelInfo,
  ModelList,
  OutcomeRow,
  Provider,
  ProviderConfig,
  ProviderKind,
  ReplyKind,
  ReplyUsage,
  SessionModel,
  StreamEvent,
  StreamStarted,
  UsageReport,
  UsageRow,
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
  CharacterFilter,
  KeyErrorKind,
  ScanCharacter,
  Trigger,
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

export type { AuthorsNote, ChatNotes, ExampleDialogue, NotePosition, PreviewTarget, PromptImage, PromptPreview };

/** A card's Character's note (SillyTavern's depth prompt, `extensions.depth_prompt`), as the core reads it. */
export type CharacterNote = { text: string; depth: number; role: Role };

export type {
  CancelReason,
  GenerationSettings,
  KeyStatus,
  KeyStorage,
  KeyStorageOptions,
  LiveSessions,
  LocalServer,
  ModelInfo,
  ModelList,
  OutcomeRow,
  Provider,
  ProviderConfig,
  ProviderKind,
  ReplyKind,
  ReplyUsage,
  SessionModel,
  StreamStarted,
  UsageReport,
  UsageRow,
};

/**
 * An error as the UI shows it; `path` only when the backend named a file,
 * `retryAfterSecs` only when a provider said how long to wait.
 */
export type ApiError = { code: ErrorCode; message: string; path?: string; retryAfterSecs?: number };

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

function withPath(code: ErrorCode, message: string, path: unknown, retryAfterSecs?: unknown): ApiError {
  const error: ApiError = typeof path === "string" && path !== "" ? { code, message, path } : { code, message };
  if (typeof retryAfterSecs === "number" && Number.isFinite(retryAfterSecs) && retryAfterSecs >= 0) {
    error.retryAfterSecs = retryAfterSecs;
  }
  return error;
}

/**
 * Turns anything a command can reject with into an ApiError. Besides our own
 * AppError, Tauri itself rejects with plain strings (ACL denials, unknown
 * commands) and the bindings rethrow JS Errors; those become "internal".
 */
export function toApiError(raw: unknown): ApiError {
  if (isRecord(raw) && !(raw instanceof Error)) {
    const message = typeof raw["message"] === "string" ? raw["message"] : describe(raw);
    if (isErrorCode(raw["code"])) return withPath(raw["code"], message, raw["path"], raw["retryAfterSecs"]);
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
  return rawCall<ImportOutcome>("import_file", file, { "x-file-name": encodeURIComponent(file.name) });
}

/**
 * Imports one world-book file (SillyTavern world info JSON, a character
 * book, a .lorebook) by its bytes; like `importFile`, hand-wrapped.
 */
export function importWorldBook(file: File): Promise<ApiResult<WorldBookSummary>> {
  return rawCall<WorldBookSummary>("import_world_book", file, { "x-file-name": encodeURIComponent(file.name) });
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

export type { DisplayTexts, RuleProblem };

/** What is wrong with dictionary rules being edited, read exactly as the core applies them. */
export function checkDictionary(rules: readonly DictionaryRule[]): Promise<ApiResult<RuleProblem[]>> {
  return call(() => commands.checkDictionary([...rules]));
}

/** `texts` as a chat with the character shows them (Display-scope rules; `null`: unchanged). */
export function displayTexts(characterId: string, texts: readonly string[]): Promise<ApiResult<DisplayTexts>> {
  return call(() => commands.displayTexts(characterId, [...texts]));
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

/** Opens the session in a window of its own (or brings its window forward). */
export function openChatWindow(sessionId: string): Promise<ApiResult<null>> {
  return call(() => commands.openChatWindow(sessionId));
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

/**
 * The exact prompt a send would make now (`message`: the draft, if any, with
 * its pending `imageIds`), for the session's provider and model; with
 * `withRequestBody`, the JSON body the provider would get too.
 */
export function previewPrompt(
  sessionId: string,
  message: string | null,
  imageIds: readonly string[] = [],
  withRequestBody = false,
): Promise<ApiResult<PromptPreview>> {
  return call(() => commands.previewPrompt(sessionId, message, [...imageIds], withRequestBody));
}

// ---- The Author's Note ----

/** A chat's own Author's Note (null: it follows its character's default) and that default. */
export function getAuthorsNote(sessionId: string): Promise<ApiResult<ChatNotes>> {
  return call(() => commands.getAuthorsNote(sessionId));
}

/** Gives the chat its own Author's Note; `null` makes it follow the character's default again. */
export function setAuthorsNote(sessionId: string, note: AuthorsNote | null): Promise<ApiResult<ChatNotes>> {
  return call(() => commands.setAuthorsNote(sessionId, note));
}

/** The character's default Author's Note, for its chats without one of their own (`null` removes it). */
export function setDefaultAuthorsNote(characterId: string, note: AuthorsNote | null): Promise<ApiResult<null>> {
  return call(() => commands.setDefaultAuthorsNote(characterId, note));
}

// ---- Replies (streamed) ----

/**
 * One event of a reply stream as the UI sees it: like the backend's
 * StreamEvent, with a failure's error normalised to an ApiError.
 */
export type ReplyEvent =
  | ({ type: "started" } & StreamStarted)
  | { type: "snapshot"; text: string; reasoning: string }
  | { type: "delta"; text: string; reasoning: string }
  | { type: "done"; messageId: string | null; text: string; usage: ReplyUsage; finishReason: string | null }
  | { type: "failed"; error: ApiError; partialSaved: boolean }
  | { type: "cancelled"; reason: CancelReason; partialSaved: boolean };

/** Normalises a raw channel message (missing fields get their empty values). */
export function toReplyEvent(raw: StreamEvent): ReplyEvent {
  switch (raw.type) {
    case "started":
      return {
        type: "started",
        sessionId: raw.sessionId,
        kind: raw.kind,
        userMessageId: raw.userMessageId ?? null,
        assistantMessageId: raw.assistantMessageId ?? null,
      };
    case "snapshot":
    case "delta":
      return { type: raw.type, text: raw.text ?? "", reasoning: raw.reasoning ?? "" };
    case "done":
      return {
        type: "done",
        messageId: raw.messageId ?? null,
        text: raw.text ?? "",
        usage: raw.usage ?? { promptTokens: null, completionTokens: null, costUsd: null },
        finishReason: raw.finishReason ?? null,
      };
    case "failed":
      return { type: "failed", error: toApiError(raw.error), partialSaved: raw.partialSaved === true };
    case "cancelled":
      return { type: "cancelled", reason: raw.reason, partialSaved: raw.partialSaved === true };
  }
}

function streamed(
  onEvent: (event: ReplyEvent) => void,
  run: (channel: Channel<StreamEvent>) => Promise<CommandResult<StreamStarted>>,
): Promise<ApiResult<StreamStarted>> {
  return call(() => {
    const channel = new Channel<StreamEvent>();
    channel.onmessage = (raw) => onEvent(toReplyEvent(raw));
    return run(channel);
  });
}

/** Saves the user's message and streams the character's reply to `onEvent`. */
export function sendMessage(
  sessionId: string,
  text: string,
  imageIds: readonly string[],
  onEvent: (event: ReplyEvent) => void,
): Promise<ApiResult<StreamStarted>> {
  return streamed(onEvent, (channel) => commands.sendMessage(sessionId, text, [...imageIds], channel));
}

/** Streams a new swipe of the last reply. */
export function regenerateReply(sessionId: string, onEvent: (event: ReplyEvent) => void): Promise<ApiResult<StreamStarted>> {
  return streamed(onEvent, (channel) => commands.regenerateReply(sessionId, channel));
}

/** Streams more of the last reply, appended to it. */
export function continueReply(sessionId: string, onEvent: (event: ReplyEvent) => void): Promise<ApiResult<StreamStarted>> {
  return streamed(onEvent, (channel) => commands.continueReply(sessionId, channel));
}

/** Streams a draft of the user's next message; nothing is saved. */
export function impersonate(sessionId: string, onEvent: (event: ReplyEvent) => void): Promise<ApiResult<StreamStarted>> {
  return streamed(onEvent, (channel) => commands.impersonate(sessionId, channel));
}

/** Follows the session's live stream (started, a snapshot, then deltas); false when none runs. */
export function attachStream(sessionId: string, onEvent: (event: ReplyEvent) => void): Promise<ApiResult<boolean>> {
  return call(() => {
    const channel = new Channel<StreamEvent>();
    channel.onmessage = (raw) => onEvent(toReplyEvent(raw));
    return commands.attachStream(sessionId, channel);
  });
}

/** Stops the session's stream; what arrived is kept as a cancelled reply. */
export function stopStream(sessionId: string): Promise<ApiResult<boolean>> {
  return call(() => commands.stopStream(sessionId));
}

export function liveSessions(): Promise<ApiResult<LiveSessions>> {
  return call(() => commands.liveSessions());
}

/**
 * Calls `handler` with the streaming sessions whenever they change (in any
 * window). Resolves to a function that stops listening; fails soft.
 */
export async function onLiveSessionsChanged(handler: (sessionIds: string[]) => void): Promise<() => void> {
  try {
    const unlisten = await events.liveSessionsChanged.listen((event) => handler(event.payload?.sessionIds ?? []));
    return () => {
      try {
        void Promise.resolve(unlisten()).catch(() => {});
      } catch {
        // The window is going away anyway.
      }
    };
  } catch {
    return () => {};
  }
}

// ---- Providers, keys and models ----

export function listProviders(): Promise<ApiResult<Provider[]>> {
  return call(() => commands.listProviders());
}

/** A new, unsaved provider of `kind` with its defaults (base URL, headers) filled in. */
export function newProvider(kind: ProviderKind, name: string): Promise<ApiResult<ProviderConfig>> {
  return call(async () => ({ status: "ok" as const, data: await commands.newProvider(kind, name) }));
}

export function saveProvider(config: ProviderConfig): Promise<ApiResult<Provider>> {
  return call(() => commands.saveProvider(config));
}

/** Deletes the provider and its key. */
export function deleteProvider(providerId: string): Promise<ApiResult<null>> {
  return call(() => commands.deleteProvider(providerId));
}

export function setDefaultProvider(providerId: string): Promise<ApiResult<null>> {
  return call(() => commands.setDefaultProvider(providerId));
}

/** Stores the key in `storage`; the answer says only whether and where a key is kept. */
export function setApiKey(providerId: string, key: string, storage: KeyStorage): Promise<ApiResult<KeyStatus>> {
  return call(() => commands.setApiKey(providerId, key, storage));
}

export function deleteApiKey(providerId: string): Promise<ApiResult<KeyStatus>> {
  return call(() => commands.deleteApiKey(providerId));
}

/** Asks the provider whether it accepts the key; answers how many models it offers. */
export function testApiKey(providerId: string): Promise<ApiResult<number>> {
  return call(() => commands.testApiKey(providerId));
}

export function keyStorageOptions(): Promise<ApiResult<KeyStorageOptions>> {
  return call(() => commands.keyStorageOptions());
}

/** The cached model list (favourites first). */
export function getModels(providerId: string): Promise<ApiResult<ModelList>> {
  return call(() => commands.getModels(providerId));
}

/** Fetches the provider's model list again. */
export function refreshModels(providerId: string): Promise<ApiResult<ModelList>> {
  return call(() => commands.refreshModels(providerId));
}

export function setFavouriteModel(providerId: string, modelId: string, favourite: boolean): Promise<ApiResult<ModelList>> {
  return call(() => commands.setFavouriteModel(providerId, modelId, favourite));
}

/** Model servers answering on the usual loopback ports. */
export function findLocalServers(): Promise<ApiResult<LocalServer[]>> {
  return call(async () => ({ status: "ok" as const, data: await commands.findLocalServers() }));
}

/** The provider and model the session replies with (`providerId` null: none is configured). */
export function getSessionModel(sessionId: string): Promise<ApiResult<SessionModel>> {
  return call(() => commands.getSessionModel(sessionId));
}

/** `null`s go back to the defaults (the default provider, the provider's default model). */
export function setSessionModel(sessionId: string, providerId: string | null, model: string | null): Promise<ApiResult<SessionModel>> {
  return call(() => commands.setSessionModel(sessionId, providerId, model));
}

/** Tokens, cost, failures and cancellations over the last `days` days. */
export function getUsage(days: number): Promise<ApiResult<UsageReport>> {
  return call(() => commands.getUsage(days));
}

const MB = 1024 * 1024;

/**
 * The largest file each raw-body command takes, as the core enforces it
 * (card::Limits::max_file_bytes and lore::formats::MAX_BOOK_FILE_BYTES,
 * session::transcript::MAX_FILE_BYTES, session::service::MAX_IMAGE_BYTES).
 * Checked against `file.size` before a byte is read, so picking a huge file
 * never loads it into the webview's memory.
 */
export const MAX_UPLOAD_BYTES = {
  import_file: 50 * MB,
  import_world_book: 50 * MB,
  import_chat: 100 * MB,
  attach_image: 20 * MB,
  set_persona_avatar: 20 * MB,
} as const;

export type RawCommand = keyof typeof MAX_UPLOAD_BYTES;

/** A raw-body command: the file's bytes are the body, everything else in headers. */
function rawCall<T>(command: RawCommand, file: File, headers: Record<string, string>): Promise<ApiResult<T>> {
  const limit = MAX_UPLOAD_BYTES[command];
  if (file.size > limit) {
    const error: ApiError = { code: "too_large", message: `${file.name} is too large (the limit is ${limit / MB} MB)` };
    return Promise.resolve({ ok: false, error });
  }
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
