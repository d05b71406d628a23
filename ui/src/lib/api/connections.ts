// Connection profiles (provider, model, templates and samplers under one
// name), what a character is pinned to, and the instruct/context template
// library.

import { commands, events } from "../bindings";
import { call, type ApiResult } from "./call";
import { listenSoftly } from "./listen";
import type {
  CharacterPins,
  ConnectionProfile,
  InstructChoice,
  SessionModel,
  TemplateKind,
  TemplateOrigin,
  TemplateSummary,
  TemplateUsed,
  TextTurn,
} from "../bindings";

export type { CharacterPins, ConnectionProfile, InstructChoice, TemplateKind, TemplateOrigin, TemplateSummary, TemplateUsed, TextTurn };

export function listProfiles(): Promise<ApiResult<ConnectionProfile[]>> {
  return call(() => commands.listProfiles());
}

/** Saves a profile (a new one when its id is empty); answers with it as stored. */
export function saveProfile(profile: ConnectionProfile): Promise<ApiResult<ConnectionProfile>> {
  return call(() => commands.saveProfile(profile));
}

export function deleteProfile(profileId: string): Promise<ApiResult<null>> {
  return call(() => commands.deleteProfile(profileId));
}

/** The chat takes the profile (`null`: lets it go); answers with what it now replies with. */
export function useProfile(sessionId: string, profileId: string | null): Promise<ApiResult<SessionModel>> {
  return call(() => commands.useProfile(sessionId, profileId));
}

export function characterPins(characterId: string): Promise<ApiResult<CharacterPins>> {
  return call(() => commands.characterPins(characterId));
}

/** Pins the character to a profile and/or an instruct template (`null`s unpin). */
export function pinCharacter(characterId: string, pins: CharacterPins): Promise<ApiResult<CharacterPins>> {
  return call(() => commands.pinCharacter(characterId, pins));
}

export function listTemplates(): Promise<ApiResult<TemplateSummary[]>> {
  return call(() => commands.listTemplates());
}

/** Imports a SillyTavern instruct, context or master JSON file; answers with what was saved. */
export function importTemplate(json: string): Promise<ApiResult<TemplateSummary[]>> {
  return call(() => commands.importTemplate(json));
}

/** The template as SillyTavern JSON. */
export function exportTemplate(kind: TemplateKind, name: string): Promise<ApiResult<string>> {
  return call(() => commands.exportTemplate(kind, name));
}

/** Deletes a saved template (a preset of its name is used again). */
export function deleteTemplate(kind: TemplateKind, name: string): Promise<ApiResult<null>> {
  return call(() => commands.deleteTemplate(kind, name));
}

/**
 * Calls `handler` when what chats reply with may have changed, in any window:
 * with the chat's id when one chat chose anew, `null` when any chat may be
 * affected (a provider, profile or pin saved or deleted). Resolves to a
 * function that stops listening; fails soft.
 */
export function onConnectionsChanged(handler: (sessionId: string | null) => void): Promise<() => void> {
  return listenSoftly(() =>
    events.chatConnectionsChanged.listen((event) => {
      const id = event.payload?.sessionId;
      handler(typeof id === "string" ? id : null);
    }),
  );
}
