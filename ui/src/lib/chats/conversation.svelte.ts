// The open conversation: the session, the loaded part of its active path
// (newest page first, older pages as the user scrolls up), the composer's
// draft, and every message action. A 100,000-message chat costs one page to
// open: `messages` is a raw array of what has been loaded, oldest first.

import {
  addMessage,
  attachImage,
  attachImagePath,
  attachmentUrl,
  branchSession,
  deleteMessage,
  editMessage,
  getMessages,
  messageVersions,
  selectSwipe,
  setSessionPersona,
  type Message,
  type MessageImage,
  type Role,
  type SessionSummary,
} from "../api";
import type { Confirmer } from "../confirm.svelte";
import { t, tn } from "../i18n/index.svelte";
import type { Reporter } from "../library/library.svelte";
import type { Sessions } from "./sessions.svelte";

export const PAGE_SIZE = 50;
/** Bigger pages when jumping far back to a search hit. */
const JUMP_PAGE_SIZE = 500;
const HIGHLIGHT_MS = 2200;

export type PendingImage = { image: MessageImage; preview: string | null };

/** A request for the list to bring a message into view (`seq` makes repeats count). */
export type ScrollRequest = { id: string; seq: number };

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

  #sessions: Sessions;
  #confirm: Confirmer;
  #report: Reporter;
  #generation = 0;
  #seq = 0;
  #highlightTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(sessions: Sessions, confirm: Confirmer, report: Reporter) {
    this.#sessions = sessions;
    this.#confirm = confirm;
    this.#report = report;
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
    await this.#loadNewest();
  }

  close(): void {
    this.#reset();
    this.session = null;
  }

  #reset(): void {
    this.#generation++;
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
    return this.session !== null && !this.sending && this.attaching === 0 && (this.draft.trim() !== "" || this.pending.length > 0);
  }

  async send(): Promise<boolean> {
    const id = this.id;
    if (!id || !this.canSend) return false;
    const text = this.draft;
    const images = this.pending;
    const role = this.role;
    this.sending = true;
    const result = await addMessage(id, role, text.trim() === "" ? "" : text, images.map((p) => p.image.id));
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

  // ---- Message actions ----

  async edit(messageId: string, content: string): Promise<boolean> {
    const result = await editMessage(messageId, content);
    if (!result.ok) {
      this.#report(result.error, "error.context.editMessage");
      return false;
    }
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
