// The one place components import commands and types from. Each area's
// commands are in ./api/ (library, world books, chats, prompts, replies,
// providers) and are re-exported here, so a change in the generated shapes is
// absorbed in those modules. This file keeps settings, the hand-wrapped
// raw-body commands (the body is a file's bytes: not in the generated
// bindings; the command tests read their names here) and the URLs of images
// served by Confab's own schemes.

import { convertFileSrc, invoke } from "@tauri-apps/api/core";
import { commands } from "./bindings";
import type {
  AppInfo,
  CharacterSummary,
  ErrorCode,
  ImportOutcome,
  Language,
  LibraryCounts,
  MessageImage,
  Persona,
  SessionSummary,
  Settings,
  ThemePreference,
  WorldBookSummary,
} from "./bindings";
import { call, type ApiError, type ApiResult } from "./api/call";

export { ERROR_CODES, isErrorCode, toApiError, type ApiError, type ApiResult } from "./api/call";
export * from "./api/library";
export * from "./api/worldbooks";
export * from "./api/chats";
export * from "./api/prompts";
export * from "./api/replies";
export * from "./api/groups";
export * from "./api/providers";
export * from "./api/connections";
export * from "./api/backups";
export * from "./api/memory";
export { untilCleanup } from "./api/listen";
export * from "./api/onboarding";

/** `Settings.language` null means "follow the OS language". */
export type { AppInfo, ErrorCode, Language, LibraryCounts, Settings, ThemePreference };

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

// ---- Raw-body commands (hand-wrapped) ----

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

/** Where an imported chat goes: a character's chats, or a new chat of an open group's members. */
export type ChatImportTarget = { characterId: string } | { groupSessionId: string };

/** Imports a SillyTavern chat (.jsonl) for a character or a group, by its bytes (hand-wrapped). */
export function importChat(file: File, target: ChatImportTarget): Promise<ApiResult<SessionSummary>> {
  const into: Record<string, string> =
    "groupSessionId" in target ? { "x-group-session-id": target.groupSessionId } : { "x-character-id": target.characterId };
  return rawCall<SessionSummary>("import_chat", file, { "x-file-name": encodeURIComponent(file.name), ...into });
}

/** Stores an image for a message about to be sent; pass its id to addMessage. */
export function attachImage(file: File): Promise<ApiResult<MessageImage>> {
  return rawCall<MessageImage>("attach_image", file, { "x-file-name": encodeURIComponent(file.name) });
}

/** Uploads a persona's avatar image (raw bytes, hand-wrapped). */
export function setPersonaAvatar(id: string, file: File): Promise<ApiResult<Persona>> {
  return rawCall<Persona>("set_persona_avatar", file, { "x-persona-id": id });
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
