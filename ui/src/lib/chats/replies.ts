// A reply while it is asked for and streams in: send, regenerate, continue
// and impersonate share one path (`request`); a reply another window started
// is followed (`attach`). `started` places the user's message and an empty
// reply at once, `done` reads the newest page back and merges it in place
// (unchanged messages keep their objects, so their rows do not re-render),
// `failed` keeps the error under the partial reply, `cancelled` leaves it
// marked stopped. The conversation owns the state (its `stream`, `failure`,
// messages and draft); this is how a reply moves it along.

import {
  attachStream,
  stopStream,
  type ApiError,
  type ApiResult,
  type Message,
  type ReplyEvent,
  type ReplyKind,
  type StreamStarted,
} from "../api";
import type { TextKey } from "../i18n/types";
import type { Reporter } from "../library/library.svelte";
import type { Conversation } from "./conversation.svelte";
import type { LiveSessions } from "./live.svelte";
import { LiveReply } from "./stream.svelte";

/** A reply that failed, shown in place under `messageId` until the next request. */
export type ReplyFailure = { messageId: string | null; error: ApiError; partialSaved: boolean };

/** How long an attached stream may outlive its session's "live" mark before it is settled. */
const ORPHAN_MS = 1500;

const EMPTY_META: Message["meta"] = {
  model: null,
  provider: null,
  promptTokens: null,
  completionTokens: null,
  finishReason: null,
  timeToFirstTokenMs: null,
  durationMs: null,
};

const REPLY_CONTEXT: Record<ReplyKind, TextKey> = {
  send: "error.context.sendMessage",
  regenerate: "error.context.regenerate",
  continue: "error.context.continue",
  impersonate: "error.context.impersonate",
  speak: "error.context.speak",
};

/** What replies need of their conversation beyond its public state. */
export type ReplyHost = {
  /** Bumped when the conversation is reset or reloaded: older answers are stale. */
  generation: () => number;
  /** Asks the list to bring a message into view. */
  scrollTo: (messageId: string) => void;
  /** Lets go of the composer's pending images (they went with a sent message). */
  dropPending: () => void;
  /** The session list follows the conversation (preview, count, order). */
  touchList: () => void;
  /** Reads the newest page again and merges it into what is loaded. */
  refreshTail: () => Promise<void>;
  report: Reporter;
  live: LiveSessions | null;
  /** A group member's name (null: not a member, or a 1:1 chat). */
  memberName: (speakerId: string | null) => string | null;
};

/**
 * The reply a channel's events go to. With auto turns a channel carries
 * several replies, one after another: a `started` after a terminal event
 * begins the next one.
 */
type Chain = { reply: LiveReply };

/** The replies of one conversation: requests, streams followed from other windows, and how they end. */
export class Replies {
  #conversation: Conversation;
  #host: ReplyHost;
  /** The composer's text before an impersonation replaced it. */
  #draftBefore: string | null = null;
  #orphanTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(conversation: Conversation, host: ReplyHost) {
    this.#conversation = conversation;
    this.#host = host;
    host.live?.onChange((ids) => this.#onLiveChanged(ids));
  }

  /** The conversation was reset: no reply and no saved draft are kept. */
  reset(): void {
    this.#dropStream();
    this.#draftBefore = null;
  }

  /** Stops the reply streaming in this session (ours or another window's). */
  async stop(): Promise<void> {
    const reply = this.#conversation.stream;
    if (!reply || !reply.active) return;
    reply.stopping();
    const result = await stopStream(reply.sessionId);
    if (this.#conversation.stream !== reply) return;
    if (!result.ok) {
      this.#host.report(result.error, "error.context.stop");
      return;
    }
    // Nothing was streaming after all (it ended and we missed its last event).
    if (!result.data) await this.#settle(reply);
  }

  /**
   * Asks for a reply (send, regenerate, continue, impersonate: one path) and
   * follows its stream; false when it could not start.
   */
  async request(
    kind: ReplyKind,
    id: string,
    start: (onEvent: (event: ReplyEvent) => void) => Promise<ApiResult<StreamStarted>>,
    text?: string,
  ): Promise<boolean> {
    if (this.#conversation.stream !== null) return false;
    const reply = new LiveReply(id, "own", kind);
    if (kind === "continue") {
      const last = this.#conversation.messages[this.#conversation.messages.length - 1];
      reply.setBase(last?.role === "assistant" ? last.content : "", false);
    }
    if (kind === "impersonate") {
      this.#draftBefore = this.#conversation.draft;
      reply.onPublish = (value) => {
        if (this.#conversation.stream === reply) this.#conversation.draft = value;
      };
    }
    this.#conversation.failure = null;
    this.#conversation.display.resetLive();
    this.#conversation.stream = reply;
    const chain: Chain = { reply };
    const result = await start((event) => this.#onEvent(chain, event, text));
    if (this.#conversation.stream !== reply) return result.ok;
    if (!result.ok) {
      this.#dropStream();
      if (kind === "impersonate") this.#restoreDraft();
      if (result.error.code === "busy" && this.#conversation.id === id) {
        // Another window is replying here: follow it instead.
        if (await this.#attach()) return false;
      }
      this.#host.report(result.error, REPLY_CONTEXT[kind]);
      return false;
    }
    this.#applyStarted(reply, result.data, text);
    return true;
  }

  #onEvent(chain: Chain, event: ReplyEvent, text?: string): void {
    if (event.type === "started" && this.#isNextTurn(chain, event)) {
      // An auto turn: the next member's reply on the same channel.
      const next = new LiveReply(chain.reply.sessionId, chain.reply.origin, event.kind);
      chain.reply.dispose();
      chain.reply = next;
      clearTimeout(this.#orphanTimer);
      this.#conversation.failure = null;
      this.#conversation.stream = next;
      this.#applyStarted(next, event);
      return;
    }
    const reply = chain.reply;
    if (this.#conversation.stream !== reply) return;
    switch (event.type) {
      case "started":
        this.#applyStarted(reply, event, text);
        return;
      case "snapshot":
        reply.snapshot(event.text, event.reasoning);
        return;
      case "delta":
        reply.push(event.text, event.reasoning);
        return;
      default:
        void this.#finish(reply, event);
    }
  }

  /** A `started` for another reply than the chain's, after the chain's reply ended (or while it ends). */
  #isNextTurn(chain: Chain, started: StreamStarted): boolean {
    const reply = chain.reply;
    if (!reply.startedSeen || started.assistantMessageId === null) return false;
    if (started.assistantMessageId === reply.assistantMessageId) return false;
    if (this.#conversation.id !== started.sessionId) return false;
    // Ours, or nothing: a reply of another request is not this channel's to replace.
    return this.#conversation.stream === reply || this.#conversation.stream === null;
  }

  /** The request started: show the user's message and an empty reply at once. */
  #applyStarted(reply: LiveReply, started: StreamStarted, text?: string): void {
    if (reply.startedSeen || this.#conversation.id !== started.sessionId) return;
    reply.startedSeen = true;
    reply.kind = started.kind;
    reply.userMessageId = started.userMessageId;
    reply.assistantMessageId = started.assistantMessageId;
    reply.speakerId = started.speakerId;
    reply.started();
    if (reply.origin === "attached") {
      // Another window started it: what it saved so far comes from the database.
      if (started.kind === "continue") {
        const message = this.#conversation.messages.find((m) => m.id === started.assistantMessageId);
        reply.setBase(message?.content ?? "", true);
      }
      void this.#host.refreshTail().then(() => this.#scrollToReply(reply));
      return;
    }
    if (started.kind === "send" && started.userMessageId && started.assistantMessageId) {
      this.#placeSent(started.userMessageId, started.assistantMessageId, text ?? "", started.speakerId);
    } else if (started.kind === "regenerate" && started.assistantMessageId) {
      this.#placeSwipe(started.assistantMessageId, started.speakerId);
    } else if (started.kind === "speak" && started.assistantMessageId) {
      this.#placeSpoken(started.assistantMessageId, started.speakerId);
    }
    this.#scrollToReply(reply);
  }

  #scrollToReply(reply: LiveReply): void {
    const target = reply.assistantMessageId ?? this.#conversation.messages[this.#conversation.messages.length - 1]?.id;
    if (target && this.#conversation.stream === reply) this.#host.scrollTo(target);
  }

  /** The name a reply by `speakerId` is shown under (the chat's character in a 1:1 chat). */
  #speakerName(speakerId: string | null, fallback?: string): string {
    return this.#host.memberName(speakerId) ?? fallback ?? this.#conversation.session?.characterName ?? "";
  }

  #placeSent(userId: string, replyId: string, text: string, speakerId: string | null): void {
    const session = this.#conversation.session!;
    const last = this.#conversation.messages[this.#conversation.messages.length - 1] ?? null;
    const lastUser = [...this.#conversation.messages].reverse().find((m) => m.role === "user");
    const now = Date.now();
    const user: Message = {
      id: userId,
      parentId: last?.id ?? null,
      role: "user",
      name: lastUser?.name ?? "",
      content: text,
      status: "complete",
      meta: EMPTY_META,
      images: this.#conversation.pending.map((p) => p.image),
      speakerId: null,
      swipeIndex: 0,
      swipeCount: 1,
      editCount: 0,
      createdAt: now,
    };
    const placeholder = this.#placeholder(replyId, userId, this.#speakerName(speakerId, session.characterName), 0, 1, speakerId);
    const known = new Set(this.#conversation.messages.map((m) => m.id));
    const added = [user, placeholder].filter((m) => !known.has(m.id));
    this.#conversation.messages = [...this.#conversation.messages, ...added];
    this.#conversation.total += added.length;
    if (this.#conversation.draft === text) this.#conversation.draft = "";
    this.#host.dropPending();
  }

  #placeSwipe(replyId: string, speakerId: string | null): void {
    const session = this.#conversation.session!;
    const last = this.#conversation.messages[this.#conversation.messages.length - 1];
    if (last?.id === replyId) return;
    if (last && last.role === "assistant") {
      const name = speakerId !== null && speakerId !== last.speakerId ? this.#speakerName(speakerId, last.name) : last.name || session.characterName;
      const swipe = this.#placeholder(replyId, last.parentId, name, last.swipeCount, last.swipeCount + 1, speakerId ?? last.speakerId);
      this.#conversation.messages = [...this.#conversation.messages.slice(0, -1), swipe];
    } else {
      this.#conversation.messages = [
        ...this.#conversation.messages,
        this.#placeholder(replyId, last?.id ?? null, this.#speakerName(speakerId, session.characterName), 0, 1, speakerId),
      ];
      this.#conversation.total += 1;
    }
  }

  /** A member speaks without a user message: its reply follows the last message. */
  #placeSpoken(replyId: string, speakerId: string | null): void {
    if (this.#conversation.messages.some((m) => m.id === replyId)) return;
    const last = this.#conversation.messages[this.#conversation.messages.length - 1];
    this.#conversation.messages = [...this.#conversation.messages, this.#placeholder(replyId, last?.id ?? null, this.#speakerName(speakerId), 0, 1, speakerId)];
    this.#conversation.total += 1;
  }

  #placeholder(id: string, parentId: string | null, name: string, swipeIndex: number, swipeCount: number, speakerId: string | null): Message {
    return {
      id,
      parentId,
      role: "assistant",
      name,
      speakerId,
      content: "",
      status: "partial",
      meta: EMPTY_META,
      images: [],
      swipeIndex,
      swipeCount,
      editCount: 0,
      createdAt: Date.now(),
    };
  }

  /** The stream ended: settle the reply, then read what was saved. */
  async #finish(reply: LiveReply, event: Extract<ReplyEvent, { type: "done" | "failed" | "cancelled" }>): Promise<void> {
    if (!reply.active) return;
    if (event.type === "done") reply.end("done", event.text);
    else if (event.type === "failed") reply.end("failed", undefined, event.error);
    else reply.end("cancelled");

    if (reply.kind === "impersonate") {
      // Another window's draft is not ours to put in this composer.
      if (reply.origin === "own") {
        if (event.type === "done") this.#conversation.draft = event.text || reply.text;
        else if (reply.text === "") this.#restoreDraft();
        this.#draftBefore = null;
        if (event.type === "failed") this.#host.report(event.error, "error.context.impersonate");
      }
      this.#dropStream();
      return;
    }

    // The bubble shows the final text while the saved message is read back.
    const id = reply.assistantMessageId;
    if (id !== null && (event.type === "done" || event.partialSaved)) {
      const status = event.type === "done" ? "complete" : event.type;
      this.#conversation.messages = this.#conversation.messages.map((m) => (m.id === id ? { ...m, content: reply.display, status } : m));
    }
    await this.#host.refreshTail();
    if (this.#conversation.stream !== reply) {
      // The next auto turn began meanwhile: the page read may predate its reply.
      const next = this.#conversation.stream;
      if (next !== null && next.kind === "speak" && next.assistantMessageId !== null && next.origin === "own") {
        this.#placeSpoken(next.assistantMessageId, next.speakerId);
      }
      return;
    }
    if (event.type === "failed") {
      const present = id !== null && event.partialSaved && this.#conversation.messages.some((m) => m.id === id);
      this.#conversation.failure = {
        messageId: present ? id : (this.#conversation.messages[this.#conversation.messages.length - 1]?.id ?? null),
        error: event.error,
        partialSaved: event.partialSaved,
      };
    }
    this.#dropStream();
    this.#host.touchList();
  }

  /** A stream we can no longer hear from: read what was saved and let go of it. */
  async #settle(reply: LiveReply): Promise<void> {
    if (this.#conversation.stream !== reply) return;
    reply.end(reply.phase === "stopping" ? "cancelled" : "done");
    if (reply.kind === "impersonate") {
      this.#draftBefore = null;
      this.#dropStream();
      return;
    }
    await this.#host.refreshTail();
    if (this.#conversation.stream === reply) this.#dropStream();
  }

  #dropStream(): void {
    clearTimeout(this.#orphanTimer);
    this.#conversation.stream?.dispose();
    this.#conversation.stream = null;
  }

  #restoreDraft(): void {
    if (this.#draftBefore !== null) this.#conversation.draft = this.#draftBefore;
    this.#draftBefore = null;
  }

  /** Follows the open session's stream when another window (or an earlier visit) started it. */
  followLive(): void {
    if (this.#host.live?.has(this.#conversation.id) && this.#conversation.stream === null) void this.#attach();
  }

  /** Attaches to the session's live stream; false when nothing streams there. */
  async #attach(): Promise<boolean> {
    const id = this.#conversation.id;
    if (!id || this.#conversation.stream !== null) return false;
    const reply = new LiveReply(id, "attached", "send");
    this.#conversation.display.resetLive();
    this.#conversation.stream = reply;
    const chain: Chain = { reply };
    const result = await attachStream(id, (event) => this.#onEvent(chain, event));
    if (this.#conversation.stream !== reply) return result.ok && result.data;
    if (!result.ok || !result.data) {
      if (reply.phase === "starting") this.#dropStream();
      if (!result.ok) this.#host.report(result.error, "error.context.openChat");
      return false;
    }
    return true;
  }

  #onLiveChanged(ids: ReadonlySet<string>): void {
    const id = this.#conversation.id;
    if (!id) return;
    const reply = this.#conversation.stream;
    if (ids.has(id)) {
      clearTimeout(this.#orphanTimer);
      if (reply === null && !this.#conversation.loading) void this.#attach();
      return;
    }
    // Its last event normally arrives first; if it never does, settle what was saved.
    if (reply !== null && reply.origin === "attached" && reply.active) {
      clearTimeout(this.#orphanTimer);
      this.#orphanTimer = setTimeout(() => void this.#settle(reply), ORPHAN_MS);
    }
  }
}
