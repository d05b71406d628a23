// The open conversation: the session, the loaded part of its active path
// (newest page first, older pages as the user scrolls up), the composer's
// draft, the reply streaming in (if any), the session's model, and every
// message action. A 100,000-message chat costs one page to open: `messages`
// is a raw array of what has been loaded, oldest first. A streaming reply
// lives in `stream` (a small reactive object of its own): its deltas never
// touch `messages`, so the rest of the list does not re-render. How a reply
// is asked for, followed and settled is in ./replies; what each message
// action does, in ./message-actions.

import {
  addMessage,
  attachImage,
  attachImagePath,
  attachmentUrl,
  continueReply,
  getMessages,
  getSessionModel,
  impersonate,
  regenerateReply,
  sendMessage,
  setSessionModel,
  useProfile,
  setSessionPersona,
  speak,
  type Message,
  type MessageImage,
  type Role,
  type SessionModel,
  type SessionSummary,
} from "../api";
import type { Confirmer } from "../confirm.svelte";
import { t } from "../i18n/index.svelte";
import type { Reporter } from "../library/library.svelte";
import { DisplayRules } from "./display.svelte";
import { GroupCast } from "./group.svelte";
import type { LiveSessions } from "./live.svelte";
import { MessageActions } from "./message-actions";
import { Replies, type ReplyFailure } from "./replies";
import type { Sessions } from "./sessions.svelte";
import type { LiveReply } from "./stream.svelte";

export type { ReplyFailure } from "./replies";

export const PAGE_SIZE = 50;
/** Bigger pages when jumping far back to a search hit. */
const JUMP_PAGE_SIZE = 500;
const HIGHLIGHT_MS = 2200;

export type PendingImage = { image: MessageImage; preview: string | null };

/** A request for the list to bring a message into view (`seq` makes repeats count). */
export type ScrollRequest = { id: string; seq: number };

/** Same content and state: the list keeps the old object, so its row does not re-render. */
export function sameMessage(a: Message, b: Message): boolean {
  return (
    a.id === b.id &&
    a.content === b.content &&
    a.status === b.status &&
    a.role === b.role &&
    a.name === b.name &&
    a.speakerId === b.speakerId &&
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
  /** A message the keyboard asked to edit (Up in the empty composer); its bubble starts editing. */
  editRequest = $state<string | null>(null);

  /** The reply streaming in this session (this window's, or one followed from another). */
  stream = $state.raw<LiveReply | null>(null);
  /** The last request's failure, shown under its reply until the next request. */
  failure = $state.raw<ReplyFailure | null>(null);
  /** The provider and model this session replies with; null until loaded. */
  model = $state.raw<SessionModel | null>(null);
  /** How messages are shown: the chat dictionaries' Display-scope rules. */
  readonly display = new DisplayRules();
  /** The chat's cast: members, presence, turns (a 1:1 chat has its one character). */
  readonly group: GroupCast;

  #sessions: Sessions;
  #report: Reporter;
  #generation = 0;
  #seq = 0;
  #highlightTimer: ReturnType<typeof setTimeout> | undefined;
  #replies: Replies;
  #actions: MessageActions;

  constructor(sessions: Sessions, confirm: Confirmer, report: Reporter, live: LiveSessions | null = null) {
    this.#sessions = sessions;
    this.#report = report;
    this.group = new GroupCast(report, confirm, () => void this.#sessions.load());
    this.#replies = new Replies(this, {
      generation: () => this.#generation,
      scrollTo: (messageId) => (this.scrollRequest = { id: messageId, seq: ++this.#seq }),
      dropPending: () => this.#dropPending(),
      touchList: () => this.#touchList(),
      refreshTail: () => this.#refreshTail(),
      report,
      live,
      memberName: (speakerId) => this.group.member(speakerId)?.name ?? null,
    });
    this.#actions = new MessageActions(this, {
      loadNewest: () => this.#loadNewest(),
      replace: (message) => this.#replace(message),
      touchList: () => this.#touchList(),
      sessions,
      confirm,
      report,
    });
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
    void this.group.open(summary.id);
    void this.display.open(summary.characterId);
    if (await this.#loadNewest()) this.#replies.followLive();
  }

  close(): void {
    this.#reset();
    this.session = null;
    void this.group.open(null);
    void this.display.open(null);
  }

  /** A chat dictionary was saved: the loaded messages are shown anew. */
  reloadDisplay(): Promise<void> {
    return this.display.reload(this.messages.map((m) => m.content));
  }

  #reset(): void {
    this.#generation++;
    this.#replies.reset();
    this.failure = null;
    this.model = null;
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

  #replace(message: Message): void {
    this.messages = this.messages.map((m) => (m.id === message.id ? message : m));
  }

  #touchList(): void {
    // The preview, count and order of the list follow the conversation; the next speaker moves on.
    void this.#sessions.load();
    void this.group.reload();
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
    // In a group, the member picked beside the composer answers (once); null: the turn order.
    const speaker = this.group.isGroup ? this.group.speaker : null;
    this.sending = true;
    const ok = await this.#replies.request(
      "send",
      id,
      (onEvent) => sendMessage(id, text.trim() === "" ? "" : text, images, speaker, onEvent),
      text,
    );
    this.sending = false;
    if (ok && this.group.speaker === speaker) this.group.speaker = null;
    return ok;
  }

  /** A new swipe of the last reply (also Retry after a failure); in a group, as `speakerId` if given. */
  regenerate(speakerId: string | null = null): Promise<boolean> {
    const id = this.id;
    if (!id) return Promise.resolve(false);
    return this.#replies.request("regenerate", id, (onEvent) => regenerateReply(id, onEvent, speakerId));
  }

  /**
   * In a group, a member speaks with no new message from the user: `speakerId`
   * ("speak now"), or null for the turn order's pick ("skip my turn").
   */
  speak(speakerId: string | null = null): Promise<boolean> {
    const id = this.id;
    if (!id) return Promise.resolve(false);
    const speaker = speakerId ?? (this.group.isGroup ? this.group.speaker : null);
    return this.#replies.request("speak", id, (onEvent) => speak(id, speaker, onEvent)).then((ok) => {
      if (ok && speakerId === null && this.group.speaker === speaker) this.group.speaker = null;
      return ok;
    });
  }

  /** Extends the last reply. */
  continueReply(): Promise<boolean> {
    const id = this.id;
    if (!id) return Promise.resolve(false);
    return this.#replies.request("continue", id, (onEvent) => continueReply(id, onEvent));
  }

  /** Streams a draft of the user's next message into the composer. */
  impersonate(): Promise<boolean> {
    const id = this.id;
    if (!id) return Promise.resolve(false);
    return this.#replies.request("impersonate", id, (onEvent) => impersonate(id, onEvent));
  }

  /** Stops the reply streaming in this session (ours or another window's). */
  stop(): Promise<void> {
    return this.#replies.stop();
  }

  /** Whether a reply request can start now. */
  get canReply(): boolean {
    return this.session !== null && this.stream === null && !this.sending;
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

  /** Takes a connection profile for this chat (`null`: lets it go). */
  async chooseProfile(profileId: string | null): Promise<boolean> {
    const id = this.id;
    if (!id) return false;
    const result = await useProfile(id, profileId);
    if (!result.ok) {
      this.#report(result.error, "error.context.useProfile");
      return false;
    }
    if (this.id === id) this.model = result.data;
    return true;
  }

  // ---- Message actions ----

  /** Saves a new text for the message; the old one is kept as a version. */
  edit(messageId: string, content: string): Promise<boolean> {
    return this.#actions.edit(messageId, content);
  }

  /** The message's earlier texts, oldest first (null when they could not be read). */
  versions(messageId: string): Promise<string[] | null> {
    return this.#actions.versions(messageId);
  }

  /** How many messages come after this one on the path. */
  after(messageId: string): number {
    return this.#actions.after(messageId);
  }

  /** Deletes the message and what follows it, once confirmed. */
  delete(messageId: string): Promise<boolean> {
    return this.#actions.delete(messageId);
  }

  /** Shows the previous (-1) or next (1) swipe of the message. */
  swipe(message: Message, step: -1 | 1): Promise<void> {
    return this.#actions.swipe(message, step);
  }

  /** A new chat with the path up to this message, opened. */
  branch(messageId: string): Promise<SessionSummary | null> {
    return this.#actions.branch(messageId);
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
