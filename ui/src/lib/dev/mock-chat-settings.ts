// The mock chat backend's settings around chats: personas, per-character
// preferences, the primary context (with its versions and the post-history
// text), and Author's Notes (a chat's own, a character's default).

import type { ApiError, AuthorsNote, CharacterPreferences, ChatNotes, ContextVersion, Persona, PrimaryContext } from "../api";
import type { MockChats } from "./mock-chats";
import { checkAuthorsNote } from "./mock-notes";
import { DEFAULT_PRIMARY_CONTEXT } from "./mock-prompt";

/** What the settings need of the chat backend beyond its public state. */
export type SettingsHost = {
  /** A fresh id with this prefix. */
  id: (prefix: string) => string;
  /** The backend's clock. */
  now: () => number;
  /** The next number of the backend's id counter (for avatar keys). */
  nextKey: () => number;
};

const OPPOSITES: readonly [string, string][] = [
  ["be_formal", "be_informal"],
  ["be_warm", "be_cold"],
  ["be_funny", "be_serious"],
];

function reject(code: ApiError["code"], message: string): Promise<never> {
  const error: ApiError = { code, message };
  return Promise.reject(error);
}

/** The primary context as get_primary_context answers it. */
export function primaryContextOf(chats: MockChats): PrimaryContext {
  return { current: chats.contextVersions[0] ?? null, defaultText: DEFAULT_PRIMARY_CONTEXT, postHistory: chats.postHistory };
}

/** A chat's own Author's Note and its character's default. */
export function notesOf(chats: MockChats, sessionId: string): ChatNotes {
  const session = chats.sessions.get(sessionId)!;
  return {
    chat: chats.chatNotes.get(sessionId) ?? null,
    characterDefault: chats.defaultNotes.get(session.summary.characterId) ?? null,
  };
}

/** Answers a settings command, or undefined when `cmd` is not one. */
export function handleChatSettings(chats: MockChats, host: SettingsHost, cmd: string, a: Record<string, unknown>, headers: Record<string, string>): unknown {
  switch (cmd) {
    case "list_personas":
      return [...chats.personas.values()].sort((x, y) => x.name.localeCompare(y.name));
    case "create_persona": {
      const name = (a["name"] as string).trim();
      if (!name) return reject("invalid_input", "a persona needs a name");
      const persona: Persona = {
        id: host.id("p"),
        name,
        description: a["description"] as string,
        avatarKey: null,
        isDefault: chats.personas.size === 0,
      };
      chats.personas.set(persona.id, persona);
      return persona;
    }
    case "update_persona": {
      const old = chats.personas.get(a["id"] as string);
      if (!old) return reject("not_found", "persona not found");
      const name = (a["name"] as string).trim();
      if (!name) return reject("invalid_input", "a persona needs a name");
      const next = { ...old, name, description: a["description"] as string };
      chats.personas.set(old.id, next);
      return next;
    }
    case "delete_persona": {
      const id = a["id"] as string;
      if (!chats.personas.delete(id)) return reject("not_found", "persona not found");
      for (const session of chats.sessions.values()) {
        if (session.summary.personaId === id) session.summary = { ...session.summary, personaId: null };
      }
      return null;
    }
    case "set_default_persona": {
      const id = a["id"] as string;
      if (!chats.personas.has(id)) return reject("not_found", "persona not found");
      for (const [key, p] of chats.personas) chats.personas.set(key, { ...p, isDefault: key === id });
      return chats.personas.get(id)!;
    }
    case "set_persona_avatar": {
      const id = headers["x-persona-id"] ?? "";
      const old = chats.personas.get(id);
      if (!old) return reject("not_found", "persona not found");
      const next = { ...old, avatarKey: `a${host.nextKey()}` };
      chats.personas.set(id, next);
      return next;
    }
    case "get_preferences":
      return chats.preferences.get(a["characterId"] as string) ?? null;
    case "set_preferences": {
      const preferences = a["preferences"] as CharacterPreferences;
      const chosen = new Set<string>([...preferences.speech, ...preferences.behaviour]);
      const clash = OPPOSITES.find(([x, y]) => chosen.has(x) && chosen.has(y));
      if (clash) return reject("invalid_input", `${clash[0]} and ${clash[1]} contradict each other`);
      chats.preferences.set(a["characterId"] as string, preferences);
      return preferences;
    }
    case "delete_preferences":
      chats.preferences.delete(a["characterId"] as string);
      return null;
    case "get_primary_context":
      return primaryContextOf(chats);
    case "save_primary_context": {
      const version: ContextVersion = { id: host.id("v"), text: a["text"] as string, createdAt: host.now() };
      chats.contextVersions.unshift(version);
      return version;
    }
    case "list_context_versions":
      return [...chats.contextVersions];
    case "restore_context_version": {
      const old = chats.contextVersions.find((v) => v.id === a["id"]);
      if (!old) return reject("not_found", "version not found");
      const version: ContextVersion = { id: host.id("v"), text: old.text, createdAt: host.now() };
      chats.contextVersions.unshift(version);
      return version;
    }
    case "set_post_history":
      chats.postHistory = a["text"] as string;
      return primaryContextOf(chats);
    case "get_authors_note": {
      const id = a["sessionId"] as string;
      return chats.sessions.has(id) ? notesOf(chats, id) : reject("not_found", "session not found");
    }
    case "set_authors_note": {
      const id = a["sessionId"] as string;
      if (!chats.sessions.has(id)) return reject("not_found", "session not found");
      const note = (a["note"] as AuthorsNote | null) ?? null;
      try {
        if (note) checkAuthorsNote(note);
      } catch (error) {
        return Promise.reject(error);
      }
      if (note) chats.chatNotes.set(id, { ...note });
      else chats.chatNotes.delete(id);
      return notesOf(chats, id);
    }
    case "set_default_authors_note": {
      const characterId = a["characterId"] as string;
      const note = (a["note"] as AuthorsNote | null) ?? null;
      try {
        if (note) checkAuthorsNote(note);
      } catch (error) {
        return Promise.reject(error);
      }
      if (note) chats.defaultNotes.set(characterId, { ...note });
      else chats.defaultNotes.delete(characterId);
      return null;
    }
    default:
      return undefined;
  }
}
