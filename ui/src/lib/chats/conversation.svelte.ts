// The open conversation: the session, the loaded part of its active path
// (newest page first, older pages as the user scrolls up), the composer's
// draft, the reply streaming in (if any), the session's model, and every
// message action. A 100,000-message chat costs one page to open: `messages`
// is a raw array of what has been loaded, oldest first. A streaming reply
// lives in `stream` (a small reactive object of its own): its deltas never
// touch `messages`, so the rest of the list does not re-render.

import {
  addMessage,
  attachImage,
  attachImagePath,
  attachmentUrl,
  attachStream,
  branchSession,
  continueReply,
  deleteMessage,
  editMessage,
  getMessages,
  getSessionModel,
  impersonate,
  messageVersions,
  regenerateReply,
  selectSwipe,
  sendMessage,
  setSessionModel,
  setSessionPersona,
  stopStream,
  type ApiError,
  type ApiResult,
  type Message,
  type MessageImage,
  type ReplyEvent,
  type ReplyKind,
  type Role,
  type SessionModel,
  type SessionSummary,
  type StreamStarted,
} from "../api";
import type { Confirmer } from "../confirm.svelte";
import { t, tn } from "../i18n/index.svelte";
import type { TextKey } from "../i18n/types";
import type { Reporter } from "../library/library.svelte";
import { DisplayRules } from "./display.svelte";
import type { LiveSessions } from "./live.svelte";
import type { Sessions } from "./sessions.svelte";
import { LiveReply } from "./stream.svelte";

export const PAGE_SIZE = 50;
/** Bigger pages when jumping far back to a search hit. */
const JUMP_PAGE_SIZE = 500;
const HIGHLIGHT_MS = 2200;

export type PendingImage = { image: MessageImage; preview: string | null };

/** A request for the list to bring a message into view (`seq` makes repeats count). */
export type ScrollRequest = { id: string; seq: number };

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

/** Same content and state: the list keeps the old object, so its row does not re-render. */
export function sameMessage(a: Message, b: Message): boolean {
  return (
    a.id === b.id &&
    a.content === b.content &&
    a.status === b.status &&
    a.role === b.role &&
    a.name === b.name &&
    a.parentId === b.parentId &&
    a.swipeIndex === b.swipeIndex &&
    a.swipeCount === b.swipeCount &&
    a.editCount === b.editCount &&
    a.createdAt === b.createdAt &&
    a.images.length === b.images.length &&
    a.images.every((image, i) => image.id === b.images[i]?.id) &&
    JSON.stringify(a.meta) === JSON.stringify(b.meta)
  );
}

const REPLY_CONTEXT: Record<ReplyKind, TextKey> = {
  send: "error.context.sendMessage",
  regenerate: "error.context.regenerate",
  continue: "error.context.continue",
  impersonate: "error.context.impersonate",
};

export class Conversation {
  session = $state.raw<SessionSummary | null>(null);
  messages = $state.raw<readonly Message[]>([]);
  olderCursor = $state<string | null>(null);
  total = $state(0);
  loading = $state(false);
  loadingOlder = $state(false);
  /** A message briefly highlighted (a search jump). */
  highlight = $state<string | null>(null);
  scrollRequest = $state.raw<ScrollRequest | null>(null);

  // The composer.
  draft = $state("");
  role = $state<Role>("user");
  pending = $state.raw<readonly PendingImage[]>([]);
  attaching = $state(0);
  sending = $state(false);

  /** The message being edited inline. */
  editingId = $state<string | null>(null);

  /** The reply streaming in this session (this window's, or one followed from another). */
  stream = $state.raw<LiveReply | null>(null);
  /** The last request's failure, shown under its reply until the next request. */
  failure = $state.raw<ReplyFailure | null>(null);
  /** The provider and model this session replies with; null until loaded. */
  model = $state.raw<SessionModel | null>(null);
  /** How messages are shown: the chat dictionaries' Display-scope rules. */
  readonly display = new DisplayRules();
  /** The composer's text before an impersonation replaced it. */
  #draftBefore: string | null = null;

  #sessions: Sessions;
  #confirm: Confirmer;
  #report: Reporter;
  #live: LiveSessions | null;
  #generation = 0;
  #seq = 0;
  #highlightTimer: ReturnType<typeof setTimeout> | undefined;
  #orphanTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(sessions: Sessions, confirm: Confirmer, report: Reporter, live: LiveSessions | null = null) {
    this.#sessions = sessions;
    this.#confirm = confirm;
    this.#report = report;
    this.#live = live;
    live?.onChange((ids) => this.#onLiveChanged(ids));
  }

  get id(): string | null {
    return this.session?.id ?? null;
  }

  /** Index of the first loaded message within the whole path. */
  get offset(): number {
    return this.total - this.messages.length;
  }

  /** Opens a session at its newest page (a no-op when it is already open). */
  async open(summary: SessionSummary): Promise<void> {
    if (summary.id === this.id) {
      this.session = summary;
      return;
    }
    this.#reset();
    this.session = summary;
    void this.loadModel();
    void this.display.open(summary.characterId);
    if (await this.#loadNewest()) this.#followLive();
  }

  close(): void {
    this.#reset();
    this.session = null;
    void this.display.open(null);
  }

  /** A chat dictionary was saved: the loaded messages are shown anew. */
  reloadDisplay(): Promise<void> {
    return this.display.reload(this.messages.map((m) => m.content));
  }

  #reset(): void {
    this.#generation++;
    this.#dropStream();
    this.failure = null;
    this.model = null;
    this.#draftBefore = null;
    this.messages = [];
    this.olderCursor = null;
    this.total = 0;
    this.loadingOlder = false;
    this.highlight = null;
    this.editingId = null;
    this.draft = "";
    this.role = "user";
    this.#dropPending();
  }

  async #loadNewest(): Promise<boolean> {
    const id = this.id;
    if (!id) return false;
    const generation = ++this.#generation;
    this.loading = true;
    const result = await getMessages(id, null, PAGE_SIZE);
    if (generation !== this.#generation) return false;
    if (result.ok) await this.display.prepare(result.data.messages.map((m) => m.content));
    if (generation !== this.#generation) return false;
    this.loading = false;
    if (!result.ok) {
      this.#report(result.error, "error.context.openChat");
      return false;
    }
    this.messages = result.data.messages;
    this.olderCursor = result.data.olderCursor;
    this.total = result.data.total;
    return true;
  }

  /** Loads the page before the oldest loaded message. */
  async loadOlder(limit: number = PAGE_SIZE): Promise<boolean> {
    const id = this.id;
    const cursor = this.olderCursor;
    if (!id || cursor === null || this.loadingOlder) return false;
    const generation = this.#generation;
    this.loadingOlder = true;
    const result = await getMessages(id, cursor, limit);
    if (generation !== this.#generation) return false;
    if (result.ok) await this.display.prepare(result.data.messages.map((m) => m.content));
    if (generation !== this.#generation) return false;
    this.loadingOlder = false;
    if (!result.ok) {
      this.#report(result.error, "error.context.openChat");
      return false;
    }
    const known = new Set(this.messages.map((m) => m.id));
    this.messages = [...result.data.messages.filter((m) => !known.has(m.id)), ...this.messages];
    this.olderCursor = result.data.olderCursor;
    this.total = result.data.total;
    return true;
  }

  /** Loads older pages until `messageId` is present; then scrolls to it and highlights it. */
  async reveal(messageId: string): Promise<boolean> {
    const generation = this.#generation;
    while (!this.messages.some((m) => m.id === messageId)) {
      if (this.olderCursor === null || generation !== this.#generation) return false;
      if (!(await this.loadOlder(JUMP_PAGE_SIZE))) return false;
    }
    this.scrollRequest = { id: messageId, seq: ++this.#seq };
    this.highlight = messageId;
    clearTimeout(this.#highlightTimer);
    this.#highlightTimer = setTimeout(() => {
      if (this.highlight === messageId) this.highlight = null;
    }, HIGHLIGHT_MS);
    return true;
  }

  #replace(message: Message): void {
    this.messages = this.messages.map((m) => (m.id === message.id ? message : m));
  }

  #touchList(): void {
    // The preview, count and order of the list follow the conversation.
    void this.#sessions.load();
  }

  // ---- The composer ----

  get canSend(): boolean {
    return (
      this.session !== null &&
      !this.sending &&
      this.stream === null &&
      this.attaching === 0 &&
      (this.draft.trim() !== "" || this.pending.length > 0)
    );
  }

  /** True when it is known that no provider is configured (messages are only saved). */
  get noProvider(): boolean {
    return this.model !== null && this.model.providerId === null;
  }

  /** A reply streams in another window: the composer waits. */
  get busyElsewhere(): boolean {
    return this.stream !== null && this.stream.origin === "attached";
  }

  /** Sends the draft: a reply streams in, or (narrator notes, no provider) the message is only saved. */
  async send(): Promise<boolean> {
    const id = this.id;
    if (!id || !this.canSend) return false;
    if (this.role === "user" && !this.noProvider) return this.#sendStreaming(id);
    return this.#save(id);
  }

  /** Saves the draft without asking for a reply (narrator notes; no provider configured). */
  async #save(id: string): Promise<boolean> {
    const text = this.draft;
    const images = this.pending;
    const role = this.role;
    this.sending = true;
    const result = await addMessage(id, role, text.trim() === "" ? "" : text, images.map((p) => p.image.id));
    if (result.ok) await this.display.prepare([result.data.content]);
    this.sending = false;
    if (!result.ok) {
      this.#report(result.error, "error.context.sendMessage");
      return false;
    }
    if (this.id !== id) return true;
    this.messages = [...this.messages, result.data];
    this.total += 1;
    // A user message keeps the draft clear; a narrator note switches back to "you".
    if (this.draft === text) this.draft = "";
    this.role = "user";
    this.#dropPending();
    this.scrollRequest = { id: result.data.id, seq: ++this.#seq };
    this.#touchList();
    return true;
  }

  async attach(files: readonly File[]): Promise<void> {
    for (const file of files) {
      if (!file.type.startsWith("image/") && !/\.(png|jpe?g|gif|webp|avif|bmp)$/i.test(file.name)) {
        this.#report({ code: "unsupported_format", message: t("composer.notImage", { name: file.name }) }, "error.context.attachImage");
        continue;
      }
      this.attaching++;
      const result = await attachImage(file);
      this.attaching--;
      if (!result.ok) {
        this.#report(result.error, "error.context.attachImage");
        continue;
      }
      let preview: string | null = null;
      try {
        preview = URL.createObjectURL(file);
      } catch {
        preview = null; // jsdom, or a webview without blob URLs
      }
      this.pending = [...this.pending, { image: result.data, preview }];
    }
  }

  /** Attaches images dropped on the window (paths from the native drop). */
  async attachPaths(paths: readonly string[]): Promise<void> {
    for (const path of paths) {
      this.attaching++;
      const result = await attachImagePath(path);
      this.attaching--;
      if (!result.ok) {
        this.#report(result.error, "error.context.attachImage");
        continue;
      }
      // Served from the database at once: no blob URL to manage.
      this.pending = [...this.pending, { image: result.data, preview: attachmentUrl(result.data.id) }];
    }
  }

  unattach(id: string): void {
    const gone = this.pending.find((p) => p.image.id === id);
    if (gone?.preview) URL.revokeObjectURL(gone.preview);
    this.pending = this.pending.filter((p) => p.image.id !== id);
  }

  #dropPending(): void {
    for (const p of this.pending) if (p.preview) URL.revokeObjectURL(p.preview);
    this.pending = [];
  }

  // ---- Replies ----

  async #sendStreaming(id: string): Promise<boolean> {
    const text = this.draft;
    const images = this.pending.map((p) => p.image.id);
    // Shown at once when the reply starts: ask for its shown form now.
    void this.display.prepare([text]);
    this.sending = true;
    const ok = await this.#request("send", id, (onEvent) => sendMessage(id, text.trim() === "" ? "" : text, images, onEvent), text);
    this.sending = false;
    return ok;
  }

  /** A new swipe of the last reply (also Retry after a failure). */
  regenerate(): Promise<boolean> {
    const id = this.id;
    if (!id) return Promise.resolve(false);
    return this.#request("regenerate", id, (onEvent) => regenerateReply(id, onEvent));
  }

  /** Extends the last reply. */
  continueReply(): Promise<boolean> {
    const id = this.id;
    if (!id) return Promise.resolve(false);
    return this.#request("continue", id, (onEvent) => continueReply(id, onEvent));
  }

  /** Streams a draft of the user's next message into the composer. */
  impersonate(): Promise<boolean> {
    const id = this.id;
    if (!id) return Promise.resolve(false);
    return this.#request("impersonate", id, (onEvent) => impersonate(id, onEvent));
  }

  /** Stops the reply streaming in this session (ours or another window's). */
  async stop(): Promise<void> {
    const reply = this.stream;
    if (!reply || !reply.active) return;
    reply.stopping();
    const result = await stopStream(reply.sessionId);
    if (this.stream !== reply) return;
    if (!result.ok) {
      this.#report(result.error, "error.context.stop");
      return;
    }
    // Nothing was streaming after all (it ended and we missed its last event).
    if (!result.data) await this.#settle(reply);
  }

  /** Whether a reply request can start now. */
  get canReply(): boolean {
    return this.session !== null && this.stream === null && !this.sending;
  }

  async #request(
    kind: ReplyKind,
    id: string,
    start: (onEvent: (event: ReplyEvent) => void) => Promise<ApiResult<StreamStarted>>,
    text?: string,
  ): Promise<boolean> {
    if (this.stream !== null) return false;
    const reply = new LiveReply(id, "own", kind);
    if (kind === "continue") {
      const last = this.messages[this.messages.length - 1];
      reply.setBase(last?.role === "assistant" ? last.content : "", false);
    }
    if (kind === "impersonate") {
      this.#draftBefore = this.draft;
      reply.onPublish = (value) => {
        if (this.stream === reply) this.draft = value;
      };
    }
    this.failure = null;
    this.display.resetLive();
    this.stream = reply;
    const result = await start((event) => this.#onEvent(reply, event, text));
    if (this.stream !== reply) return result.ok;
    if (!result.ok) {
      this.#dropStream();
      if (kind === "impersonate") this.#restoreDraft();
      if (result.error.code === "busy" && this.id === id) {
        // Another window is replying here: follow it instead.
        if (await this.#attach()) return false;
      }
      this.#report(result.error, REPLY_CONTEXT[kind]);
      return false;
    }
    this.#applyStarted(reply, result.data, text);
    return true;
  }

  #onEvent(reply: LiveReply, event: ReplyEvent, text?: string): void {
    if (this.stream !== reply) return;
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

  /** The request started: show the user's message and an empty reply at once. */
  #applyStarted(reply: LiveReply, started: StreamStarted, text?: string): void {
    if (reply.startedSeen || this.id !== started.sessionId) return;
    reply.startedSeen = true;
    reply.kind = started.kind;
    reply.userMessageId = started.userMessageId;
    reply.assistantMessageId = started.assistantMessageId;
    reply.started();
    if (reply.origin === "attached") {
      // Another window started it: what it saved so far comes from the database.
      if (started.kind === "continue") {
        const message = this.messages.find((m) => m.id === started.assistantMessageId);
        reply.setBase(message?.content ?? "", true);
      }
      void this.#refreshTail().then(() => this.#scrollToReply(reply));
      return;
    }
    if (started.kind === "send" && started.userMessageId && started.assistantMessageId) {
      this.#placeSent(started.userMessageId, started.assistantMessageId, text ?? "");
    } else if (started.kind === "regenerate" && started.assistantMessageId) {
      this.#placeSwipe(started.assistantMessageId);
    }
    this.#scrollToReply(reply);
  }

  #scrollToReply(reply: LiveReply): void {
    const target = reply.assistantMessageId ?? this.messages[this.messages.length - 1]?.id;
    if (target && this.stream === reply) this.scrollRequest = { id: target, seq: ++this.#seq };
  }

  #placeSent(userId: string, replyId: string, text: string): void {
    const session = this.session!;
    const last = this.messages[this.messages.length - 1] ?? null;
    const lastUser = [...this.messages].reverse().find((m) => m.role === "user");
    const now = Date.now();
    const user: Message = {
      id: userId,
      parentId: last?.id ?? null,
      role: "user",
      name: lastUser?.name ?? "",
      content: text,
      status: "complete",
      meta: EMPTY_META,
      images: this.pending.map((p) => p.image),
      swipeIndex: 0,
      swipeCount: 1,
      editCount: 0,
      createdAt: now,
    };
    const placeholder = this.#placeholder(replyId, userId, session.characterName, 0, 1);
    const known = new Set(this.messages.map((m) => m.id));
    const added = [user, placeholder].filter((m) => !known.has(m.id));
    this.messages = [...this.messages, ...added];
    this.total += added.length;
    if (this.draft === text) this.draft = "";
    this.#dropPending();
  }

  #placeSwipe(replyId: string): void {
    const session = this.session!;
    const last = this.messages[this.messages.length - 1];
    if (last?.id === replyId) return;
    if (last && last.role === "assistant") {
      const swipe = this.#placeholder(replyId, last.parentId, last.name || session.characterName, last.swipeCount, last.swipeCount + 1);
      this.messages = [...this.messages.slice(0, -1), swipe];
    } else {
      this.messages = [...this.messages, this.#placeholder(replyId, last?.id ?? null, session.characterName, 0, 1)];
      this.total += 1;
    }
  }

  #placeholder(id: string, parentId: string | null, name: string, swipeIndex: number, swipeCount: number): Message {
    return {
      id,
      parentId,
      role: "assistant",
      name,
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
        if (event.type === "done") this.draft = event.text || reply.text;
        else if (reply.text === "") this.#restoreDraft();
        this.#draftBefore = null;
        if (event.type === "failed") this.#report(event.error, "error.context.impersonate");
      }
      this.#dropStream();
      return;
    }

    // The bubble shows the final text while the saved message is read back.
    const id = reply.assistantMessageId;
    if (id !== null && (event.type === "done" || event.partialSaved)) {
      const status = event.type === "done" ? "complete" : event.type;
      this.messages = this.messages.map((m) => (m.id === id ? { ...m, content: reply.display, status } : m));
    }
    await this.#refreshTail();
    if (this.stream !== reply) return;
    if (event.type === "failed") {
      const present = id !== null && event.partialSaved && this.messages.some((m) => m.id === id);
      this.failure = {
        messageId: present ? id : (this.messages[this.messages.length - 1]?.id ?? null),
        error: event.error,
        partialSaved: event.partialSaved,
      };
    }
    this.#dropStream();
    this.#touchList();
  }

  /** A stream we can no longer hear from: read what was saved and let go of it. */
  async #settle(reply: LiveReply): Promise<void> {
    if (this.stream !== reply) return;
    reply.end(reply.phase === "stopping" ? "cancelled" : "done");
    if (reply.kind === "impersonate") {
      this.#draftBefore = null;
      this.#dropStream();
      return;
    }
    await this.#refreshTail();
    if (this.stream === reply) this.#dropStream();
  }

  #dropStream(): void {
    clearTimeout(this.#orphanTimer);
    this.stream?.dispose();
    this.stream = null;
  }

  #restoreDraft(): void {
    if (this.#draftBefore !== null) this.draft = this.#draftBefore;
    this.#draftBefore = null;
  }

  /** Follows the open session's stream when another window (or an earlier visit) started it. */
  #followLive(): void {
    if (this.#live?.has(this.id) && this.stream === null) void this.#attach();
  }

  /** Attaches to the session's live stream; false when nothing streams there. */
  async #attach(): Promise<boolean> {
    const id = this.id;
    if (!id || this.stream !== null) return false;
    const reply = new LiveReply(id, "attached", "send");
    this.display.resetLive();
    this.stream = reply;
    const result = await attachStream(id, (event) => this.#onEvent(reply, event));
    if (this.stream !== reply) return result.ok && result.data;
    if (!result.ok || !result.data) {
      if (reply.phase === "starting") this.#dropStream();
      if (!result.ok) this.#report(result.error, "error.context.openChat");
      return false;
    }
    return true;
  }

  #onLiveChanged(ids: ReadonlySet<string>): void {
    const id = this.id;
    if (!id) return;
    const reply = this.stream;
    if (ids.has(id)) {
      clearTimeout(this.#orphanTimer);
      if (reply === null && !this.loading) void this.#attach();
      return;
    }
    // Its last event normally arrives first; if it never does, settle what was saved.
    if (reply !== null && reply.origin === "attached" && reply.active) {
      clearTimeout(this.#orphanTimer);
      this.#orphanTimer = setTimeout(() => void this.#settle(reply), ORPHAN_MS);
    }
  }

  /**
   * Reads the newest page again and merges it into what is loaded: unchanged
   * messages keep their objects (their rows do not re-render), older pages stay.
   */
  async #refreshTail(): Promise<void> {
    const id = this.id;
    if (!id) return;
    const generation = this.#generation;
    const result = await getMessages(id, null, PAGE_SIZE);
    if (generation !== this.#generation || this.id !== id) return;
    if (result.ok) await this.display.prepare(result.data.messages.map((m) => m.content));
    if (generation !== this.#generation || this.id !== id) return;
    if (!result.ok) {
      this.#report(result.error, "error.context.openChat");
      return;
    }
    const page = result.data;
    const known = new Map(this.messages.map((m) => [m.id, m]));
    const fresh = page.messages.map((m) => {
      const old = known.get(m.id);
      return old && sameMessage(old, m) ? old : m;
    });
    const first = page.messages[0];
    const at = first ? this.messages.findIndex((m) => m.id === first.id) : -1;
    if (at > 0 && page.olderCursor !== null) {
      this.messages = [...this.messages.slice(0, at), ...fresh];
    } else {
      this.messages = fresh;
      this.olderCursor = page.olderCursor;
    }
    this.total = page.total;
  }

  // ---- The session's model ----

  async loadModel(): Promise<void> {
    const id = this.id;
    if (!id) return;
    const result = await getSessionModel(id);
    if (this.id !== id) return;
    // Without an answer the composer asks for a reply and lets the backend say why not.
    if (result.ok) this.model = result.data;
  }

  /** `null`s return to the defaults (the default provider, its default model). */
  async chooseModel(providerId: string | null, model: string | null): Promise<boolean> {
    const id = this.id;
    if (!id) return false;
    const result = await setSessionModel(id, providerId, model);
    if (!result.ok) {
      this.#report(result.error, "error.context.chooseModel");
      return false;
    }
    if (this.id === id) this.model = result.data;
    return true;
  }

  // ---- Message actions ----

  async edit(messageId: string, content: string): Promise<boolean> {
    const result = await editMessage(messageId, content);
    if (!result.ok) {
      this.#report(result.error, "error.context.editMessage");
      return false;
    }
    await this.display.prepare([result.data.content]);
    this.#replace(result.data);
    if (this.editingId === messageId) this.editingId = null;
    this.#touchList();
    return true;
  }

  async versions(messageId: string): Promise<string[] | null> {
    const result = await messageVersions(messageId);
    if (result.ok) return result.data;
    this.#report(result.error, "error.context.editMessage");
    return null;
  }

  /** How many messages come after this one on the path. */
  after(messageId: string): number {
    const index = this.messages.findIndex((m) => m.id === messageId);
    return index === -1 ? 0 : this.total - (this.offset + index) - 1;
  }

  async delete(messageId: string): Promise<boolean> {
    const after = this.after(messageId);
    const ok = await this.#confirm.ask({
      title: t("message.delete.title"),
      body: after > 0 ? tn("message.delete.bodyAfter", after) : t("message.delete.body"),
      confirmLabel: t("message.delete.ok"),
      cancelLabel: t("confirm.cancel"),
      danger: true,
    });
    if (!ok) return false;
    const result = await deleteMessage(messageId);
    if (!result.ok) {
      this.#report(result.error, "error.context.deleteMessage");
      return false;
    }
    // The path below may now follow another branch: read it again.
    await this.#loadNewest();
    this.#touchList();
    return true;
  }

  async swipe(message: Message, step: -1 | 1): Promise<void> {
    const index = message.swipeIndex + step;
    if (index < 0 || index >= message.swipeCount) return;
    const result = await selectSwipe(message.id, index);
    if (!result.ok) {
      this.#report(result.error, "error.context.swipe");
      return;
    }
    await this.display.prepare([result.data.content]);
    const position = this.messages.findIndex((m) => m.id === message.id);
    const isLast = position === this.messages.length - 1;
    if (isLast) {
      // Nothing below it: swap it in place (no reload, no jump).
      this.messages = [...this.messages.slice(0, position), result.data];
    } else {
      // Everything below follows the new sibling's branch.
      if (await this.#loadNewest()) await this.reveal(result.data.id);
    }
    this.#touchList();
  }

  async branch(messageId: string): Promise<SessionSummary | null> {
    const result = await branchSession(messageId);
    if (!result.ok) {
      this.#report(result.error, "error.context.branch");
      return null;
    }
    this.#sessions.upsert(result.data);
    await this.open(result.data);
    return result.data;
  }

  async setPersona(personaId: string | null): Promise<void> {
    const id = this.id;
    if (!id) return;
    const result = await setSessionPersona(id, personaId);
    if (!result.ok) {
      this.#report(result.error, "error.context.persona");
      return;
    }
    if (this.id === id) this.session = result.data;
    this.#sessions.upsert(result.data);
  }

  /** The list renamed or archived the open session: keep the header in step. */
  sync(summary: SessionSummary): void {
    if (summary.id === this.id) this.session = summary;
  }
}
