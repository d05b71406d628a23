// Group chats: a chat's cast (members, presence, turn settings, presence
// changes, who speaks next), creating a group, adding and removing members,
// and a member speaking without a new user message.

import { Channel } from "@tauri-apps/api/core";
import { commands } from "../bindings";
import { call, type ApiResult } from "./call";
import { toReplyEvent, type ReplyEvent } from "./replies";
import type {
  CardMode,
  GroupMember,
  GroupSettings,
  GroupState,
  MemberChange,
  MemberEvent,
  Presence,
  SessionSummary,
  StreamEvent,
  StreamStarted,
  TurnOrder,
} from "../bindings";

export type { CardMode, GroupMember, GroupSettings, GroupState, MemberChange, MemberEvent, Presence, TurnOrder };

/** The chat's cast; a 1:1 chat answers `isGroup: false` with its one character. */
export function getGroup(sessionId: string): Promise<ApiResult<GroupState>> {
  return call(() => commands.getGroup(sessionId));
}

/** A new group chat with these characters (two or more); each greets in turn. */
export function createGroupChat(characterIds: readonly string[]): Promise<ApiResult<SessionSummary>> {
  return call(() => commands.createGroupChat([...characterIds]));
}

/** Adds a character (a 1:1 chat becomes a group). */
export function addGroupMember(sessionId: string, characterId: string): Promise<ApiResult<GroupState>> {
  return call(() => commands.addGroupMember(sessionId, characterId));
}

/** Removes a member (its messages stay); with one left the chat is 1:1 again. */
export function removeGroupMember(sessionId: string, characterId: string): Promise<ApiResult<GroupState>> {
  return call(() => commands.removeGroupMember(sessionId, characterId));
}

/** Mutes a member, sends it out of the scene, or brings it back. */
export function setMemberPresence(sessionId: string, characterId: string, presence: Presence): Promise<ApiResult<GroupState>> {
  return call(() => commands.setMemberPresence(sessionId, characterId, presence));
}

/** How the group takes turns. */
export function setGroupSettings(sessionId: string, settings: GroupSettings): Promise<ApiResult<GroupState>> {
  return call(() => commands.setGroupSettings(sessionId, settings));
}

/**
 * A member speaks with no new user message (`speakerId` null: the turn
 * order's pick); with auto turns, the next members' turns follow on the same
 * channel.
 */
export function speak(
  sessionId: string,
  speakerId: string | null,
  onEvent: (event: ReplyEvent) => void,
): Promise<ApiResult<StreamStarted>> {
  return call(() => {
    const channel = new Channel<StreamEvent>();
    channel.onmessage = (raw) => onEvent(toReplyEvent(raw));
    return commands.speak(sessionId, speakerId, channel);
  });
}
