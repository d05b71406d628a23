// What goes into a prompt: the primary context (with its versions and the
// post-history text), the Author's Note, and the exact prompt a send would make.

import { commands } from "../bindings";
import { call, type ApiResult } from "./call";
import type {
  AssembledPrompt,
  AuthorsNote,
  ChatNotes,
  ContextVersion,
  ExampleDialogue,
  NotePosition,
  PreviewTarget,
  PrimaryContext,
  PromptImage,
  PromptMessage,
  PromptPart,
  PromptPreview,
  PromptSource,
} from "../bindings";

export type {
  AssembledPrompt,
  AuthorsNote,
  ChatNotes,
  ContextVersion,
  ExampleDialogue,
  NotePosition,
  PreviewTarget,
  PrimaryContext,
  PromptImage,
  PromptMessage,
  PromptPart,
  PromptPreview,
  PromptSource,
};

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
 * `withRequestBody`, the JSON body the provider would get too. In a group the
 * prompt is `speakerId`'s (null: the member who would speak next).
 */
export function previewPrompt(
  sessionId: string,
  message: string | null,
  imageIds: readonly string[] = [],
  withRequestBody = false,
  speakerId: string | null = null,
): Promise<ApiResult<PromptPreview>> {
  return call(() => commands.previewPrompt(sessionId, message, [...imageIds], speakerId, withRequestBody));
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
