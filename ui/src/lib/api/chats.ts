// Chats: sessions and their messages (paging, editing, swipes, branches,
// search, export), personas and per-character preferences.

import { commands } from "../bindings";
import { call, type ApiResult } from "./call";
import type {
  BehaviourModifier,
  CharacterPreferences,
  ChatExportFormat,
  ExportedFile,
  Message,
  MessageImage,
  MessageMeta,
  MessagePage,
  MessageStatus,
  Persona,
  RelationshipMode,
  Role,
  SearchHit,
  SessionMember,
  SessionQuery,
  SessionSummary,
  SpeechModifier,
} from "../bindings";

export type {
  BehaviourModifier,
  CharacterPreferences,
  ChatExportFormat,
  Message,
  MessageImage,
  MessageMeta,
  MessagePage,
  MessageStatus,
  Persona,
  RelationshipMode,
  Role,
  SearchHit,
  SessionMember,
  SessionQuery,
  SessionSummary,
  SpeechModifier,
};

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
