// Replies, streamed over a Channel: send, regenerate, continue, impersonate,
// following a stream another window started, stopping, and which sessions
// are streaming now.

import { Channel } from "@tauri-apps/api/core";
import { getCurrentWindow } from "@tauri-apps/api/window";
import { commands, events } from "../bindings";
import { call, toApiError, type ApiError, type ApiResult, type CommandResult } from "./call";
import { listenSoftly } from "./listen";
import type {
  CancelReason,
  LiveSessions,
  ReplyKind,
  ReplyUsage,
  StreamEvent,
  StreamStarted,
} from "../bindings";

export type {
  CancelReason,
  LiveSessions,
  ReplyKind,
  ReplyUsage,
  StreamStarted,
};

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
        speakerId: raw.speakerId ?? null,
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

/**
 * Saves the user's message and streams the character's reply to `onEvent`;
 * in a group, `speakerId` picks who answers (null: the turn order), and with
 * auto turns the next members' replies follow on the same channel (a new
 * `started` after each terminal event).
 */
export function sendMessage(
  sessionId: string,
  text: string,
  imageIds: readonly string[],
  speakerId: string | null,
  onEvent: (event: ReplyEvent) => void,
): Promise<ApiResult<StreamStarted>> {
  return streamed(onEvent, (channel) => commands.sendMessage(sessionId, text, [...imageIds], speakerId, channel));
}

/** Streams a new swipe of the last reply; in a group, written by `speakerId` (null: the same member). */
export function regenerateReply(
  sessionId: string,
  onEvent: (event: ReplyEvent) => void,
  speakerId: string | null = null,
): Promise<ApiResult<StreamStarted>> {
  return streamed(onEvent, (channel) => commands.regenerateReply(sessionId, speakerId, channel));
}

/** Streams more of the last reply, appended to it. */
export function continueReply(sessionId: string, onEvent: (event: ReplyEvent) => void): Promise<ApiResult<StreamStarted>> {
  return streamed(onEvent, (channel) => commands.continueReply(sessionId, channel));
}

/** Streams a draft of the user's next message; nothing is saved. */
export function impersonate(sessionId: string, onEvent: (event: ReplyEvent) => void): Promise<ApiResult<StreamStarted>> {
  return streamed(onEvent, (channel) => commands.impersonate(sessionId, channel));
}

/**
 * Follows the session's live stream (started, a snapshot, then deltas, and in a
 * group the auto turns after it); false when none runs. Attaching again from this
 * window replaces the earlier channel.
 */
export function attachStream(sessionId: string, onEvent: (event: ReplyEvent) => void): Promise<ApiResult<boolean>> {
  return call(() => {
    const channel = new Channel<StreamEvent>();
    channel.onmessage = (raw) => onEvent(toReplyEvent(raw));
    return commands.attachStream(sessionId, windowLabel(), channel);
  });
}

/** This window's label, which the engine knows a re-attaching window by; null outside the app. */
function windowLabel(): string | null {
  try {
    return getCurrentWindow().label;
  } catch {
    return null;
  }
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
export function onLiveSessionsChanged(handler: (sessionIds: string[]) => void): Promise<() => void> {
  return listenSoftly(() => events.liveSessionsChanged.listen((event) => handler(event.payload?.sessionIds ?? [])));
}
