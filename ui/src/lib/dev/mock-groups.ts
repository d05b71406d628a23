// Group chats in the fake backend: each session's cast (members with
// presence, turn settings, presence changes), who speaks next, and the group
// commands. Serves the dev mock and the tests; the turn order is a simple,
// deterministic stand-in for the core's (list order after the last speaker).

import type { ApiError, GroupSettings, GroupState, MemberChange, MemberEvent, Presence, SessionSummary } from "../api";
import type { ChatCharacter } from "./mock-chats";

type Member = { characterId: string; presence: Presence };

export type GroupRecord = {
  members: Member[];
  settings: GroupSettings;
  events: MemberEvent[];
  lastSpeaker: string | null;
};

/** What the groups need of the chats. */
export type GroupHost = {
  character: (id: string) => ChatCharacter;
  /** The session's own character (a 1:1 chat's only member); null when there is no such session. */
  sessionCharacter: (sessionId: string) => string | null;
  /** The last message on the session's active path. */
  lastMessageId: (sessionId: string) => string | null;
  /** A new session that opens with each character's greeting in turn. */
  createGroupSession: (characterIds: readonly string[]) => SessionSummary;
  id: (prefix: string) => string;
  now: () => number;
};

const DEFAULT_SETTINGS: GroupSettings = { turnOrder: "list", autoTurns: 0, cardMode: "join" };

function reject(code: ApiError["code"], message: string): Promise<never> {
  const error: ApiError = { code, message };
  return Promise.reject(error);
}

export class MockGroups {
  groups = new Map<string, GroupRecord>();
  #host: GroupHost;

  constructor(host: GroupHost) {
    this.#host = host;
  }

  /** The session's record, made on first use from its one character. */
  record(sessionId: string): GroupRecord | null {
    const found = this.groups.get(sessionId);
    if (found) return found;
    const characterId = this.#host.sessionCharacter(sessionId);
    if (characterId === null) return null;
    const record: GroupRecord = { members: [{ characterId, presence: "present" }], settings: { ...DEFAULT_SETTINGS }, events: [], lastSpeaker: null };
    this.groups.set(sessionId, record);
    return record;
  }

  isGroup(sessionId: string): boolean {
    return (this.groups.get(sessionId)?.members.length ?? 1) > 1;
  }

  /** Who speaks next without a pick: the present member after the last speaker, in list order. */
  next(record: GroupRecord): string | null {
    const present = record.members.filter((m) => m.presence === "present");
    if (present.length === 0) return null;
    if (record.settings.turnOrder === "manual" && present.some((m) => m.characterId === record.lastSpeaker)) return record.lastSpeaker;
    const at = record.members.findIndex((m) => m.characterId === record.lastSpeaker);
    for (let step = 1; step <= record.members.length; step++) {
      const member = record.members[(at + step) % record.members.length]!;
      if (member.presence === "present") return member.characterId;
    }
    return present[0]!.characterId;
  }

  /** The member a reply of this session is written by (`requested`, or the turn order's); null in a 1:1 chat. */
  speakerFor(sessionId: string, requested: string | null): string | null {
    if (!this.isGroup(sessionId)) return null;
    const record = this.record(sessionId)!;
    return requested ?? this.next(record);
  }

  /** A reply by `speakerId` started: the turn moves on. */
  spoke(sessionId: string, speakerId: string | null): void {
    const record = this.groups.get(sessionId);
    if (record && speakerId !== null) record.lastSpeaker = speakerId;
  }

  /** Auto turns a send or a speak of this session is followed by. */
  autoTurns(sessionId: string): number {
    return this.isGroup(sessionId) ? (this.groups.get(sessionId)?.settings.autoTurns ?? 0) : 0;
  }

  state(sessionId: string): GroupState | null {
    const record = this.record(sessionId);
    if (!record) return null;
    return {
      isGroup: record.members.length > 1,
      members: record.members.map((m) => {
        const character = this.#host.character(m.characterId);
        return { characterId: m.characterId, name: character.name, avatarKey: character.avatarKey, presence: m.presence, talkativeness: 0.5 };
      }),
      settings: { ...record.settings },
      events: record.events.map((e) => ({ ...e })),
      nextSpeaker: this.next(record),
    };
  }

  #event(sessionId: string, record: GroupRecord, characterId: string, change: MemberChange): void {
    record.events.push({
      id: this.#host.id("ev"),
      characterId,
      characterName: this.#host.character(characterId).name,
      change,
      afterMessageId: this.#host.lastMessageId(sessionId),
      createdAt: this.#host.now(),
    });
  }

  /** Answers a group command, or undefined when `cmd` is not one. */
  handle(cmd: string, a: Record<string, unknown>): unknown {
    const sessionId = a["sessionId"] as string;
    const characterId = a["characterId"] as string;
    switch (cmd) {
      case "get_group":
        return this.state(sessionId) ?? reject("not_found", `session ${sessionId} was not found`);
      case "create_group_chat": {
        const ids = a["characterIds"] as string[];
        if (new Set(ids).size < 2) return reject("invalid_input", "a group needs two or more characters");
        const summary = this.#host.createGroupSession(ids);
        const record: GroupRecord = {
          members: ids.map((id) => ({ characterId: id, presence: "present" as const })),
          settings: { ...DEFAULT_SETTINGS },
          events: [],
          lastSpeaker: ids[ids.length - 1] ?? null,
        };
        this.groups.set(summary.id, record);
        return summary;
      }
      case "add_group_member": {
        const record = this.record(sessionId);
        if (!record) return reject("not_found", `session ${sessionId} was not found`);
        if (record.members.some((m) => m.characterId === characterId)) return reject("invalid_input", "already a member");
        record.members.push({ characterId, presence: "present" });
        this.#event(sessionId, record, characterId, "joined");
        return this.state(sessionId);
      }
      case "remove_group_member": {
        const record = this.record(sessionId);
        if (!record) return reject("not_found", `session ${sessionId} was not found`);
        if (!record.members.some((m) => m.characterId === characterId)) return reject("not_found", "not a member");
        if (record.members.length < 2) return reject("invalid_input", "a chat keeps one character");
        record.members = record.members.filter((m) => m.characterId !== characterId);
        this.#event(sessionId, record, characterId, "left");
        return this.state(sessionId);
      }
      case "set_member_presence": {
        const record = this.record(sessionId);
        const member = record?.members.find((m) => m.characterId === characterId);
        if (!record || !member) return reject("not_found", "not a member");
        const presence = a["presence"] as Presence;
        if (member.presence !== presence) {
          member.presence = presence;
          this.#event(sessionId, record, characterId, presence);
        }
        return this.state(sessionId);
      }
      case "set_group_settings": {
        const record = this.record(sessionId);
        if (!record) return reject("not_found", `session ${sessionId} was not found`);
        const settings = a["settings"] as GroupSettings;
        if (settings.autoTurns < 0 || settings.autoTurns > 100) return reject("invalid_input", "auto turns are 0 to 100");
        record.settings = { ...settings };
        return this.state(sessionId);
      }
      default:
        return undefined;
    }
  }
}
