// The chat list: recent sessions (filtered by the backend), the global
// message search, and what can be done to a session from the list (rename,
// archive, delete, export, import).

import {
  archiveSession,
  openChatWindow,
  deleteSession,
  exportSession,
  importChat,
  listSessions,
  renameSession,
  searchMessages,
  type ChatExportFormat,
  type ChatImportTarget,
  type ExportedFile,
  type SearchHit,
  type SessionSummary,
} from "../api";
import type { Confirmer } from "../confirm.svelte";
import { t } from "../i18n/index.svelte";
import type { Reporter } from "../library/library.svelte";

export class Sessions {
  /** Sessions matching the search, newest first; replaced as a whole. */
  all = $state.raw<readonly SessionSummary[]>([]);
  loaded = $state(false);
  loading = $state(false);
  failed = $state(false);
  /** True when the last unfiltered load found no session at all. */
  none = $state(false);

  search = $state("");
  includeArchived = $state(false);

  messageQuery = $state("");
  hits = $state.raw<readonly SearchHit[]>([]);
  searching = $state(false);
  /** The query `hits` answer (so "no results" is not shown while typing). */
  searchedFor = $state("");

  exported = $state.raw<{ sessionId: string; file: ExportedFile } | null>(null);
  importing = $state(false);

  #report: Reporter;
  #confirm: Confirmer;
  #generation = 0;
  #searchGeneration = 0;

  constructor(confirm: Confirmer, report: Reporter) {
    this.#confirm = confirm;
    this.#report = report;
  }

  get filtered(): boolean {
    return this.search.trim() !== "" || this.includeArchived;
  }

  async load(): Promise<void> {
    const generation = ++this.#generation;
    this.loading = true;
    const query = { search: this.search.trim(), includeArchived: this.includeArchived };
    const result = await listSessions(query);
    if (generation !== this.#generation) return;
    this.loading = false;
    if (result.ok) {
      this.all = result.data;
      this.loaded = true;
      this.failed = false;
      if (query.search === "" && !query.includeArchived) this.none = result.data.length === 0;
      else if (result.data.length > 0) this.none = false;
    } else {
      this.failed = !this.loaded;
      this.#report(result.error, "error.context.loadChats");
    }
  }

  setArchived(include: boolean): void {
    this.includeArchived = include;
    void this.load();
  }

  /** A changed or new session, put where the list's order says. */
  upsert(summary: SessionSummary): void {
    const rest = this.all.filter((s) => s.id !== summary.id);
    const visible = this.includeArchived || !summary.archived;
    this.all = visible ? [summary, ...rest].sort((a, b) => b.updatedAt - a.updatedAt) : rest;
    this.none = false;
  }

  find(id: string): SessionSummary | null {
    return this.all.find((s) => s.id === id) ?? null;
  }

  async rename(id: string, title: string): Promise<SessionSummary | null> {
    const clean = title.trim();
    if (!clean) return null;
    const result = await renameSession(id, clean);
    if (!result.ok) {
      this.#report(result.error, "error.context.renameChat");
      return null;
    }
    this.upsert(result.data);
    return result.data;
  }

  async archive(id: string, archived: boolean): Promise<SessionSummary | null> {
    const result = await archiveSession(id, archived);
    if (!result.ok) {
      this.#report(result.error, "error.context.archiveChat");
      return null;
    }
    this.upsert(result.data);
    return result.data;
  }

  /** Opens a session in a window of its own; both windows follow its replies. */
  async openInWindow(id: string): Promise<boolean> {
    const result = await openChatWindow(id);
    if (!result.ok) {
      this.#report(result.error, "error.context.openChatWindow");
      return false;
    }
    return true;
  }

  /** Asks first; true when it was deleted. */
  async delete(summary: SessionSummary): Promise<boolean> {
    const ok = await this.#confirm.ask({
      title: t("chats.delete.title", { title: summary.title }),
      body: t("chats.delete.body"),
      confirmLabel: t("chats.delete.ok"),
      cancelLabel: t("confirm.cancel"),
      danger: true,
    });
    if (!ok) return false;
    const result = await deleteSession(summary.id);
    if (!result.ok) {
      this.#report(result.error, "error.context.deleteChat");
      return false;
    }
    this.all = this.all.filter((s) => s.id !== summary.id);
    if (this.exported?.sessionId === summary.id) this.exported = null;
    if (!this.filtered && this.all.length === 0) this.none = true;
    return true;
  }

  async export(id: string, format: ChatExportFormat): Promise<void> {
    const result = await exportSession(id, format);
    if (result.ok) this.exported = { sessionId: id, file: result.data };
    else this.#report(result.error, "error.context.exportChat");
  }

  /** Imports a SillyTavern chat for a character or a group; answers with the new session. */
  async import(file: File, target: ChatImportTarget): Promise<SessionSummary | null> {
    this.importing = true;
    const result = await importChat(file, target);
    this.importing = false;
    if (!result.ok) {
      this.#report(result.error, "error.context.importChat");
      return null;
    }
    this.upsert(result.data);
    return result.data;
  }

  /** Full-text search over every chat; a newer query wins over a slower older one. */
  async searchAll(query: string): Promise<void> {
    this.messageQuery = query;
    const generation = ++this.#searchGeneration;
    const clean = query.trim();
    if (clean === "") {
      this.hits = [];
      this.searchedFor = "";
      this.searching = false;
      return;
    }
    this.searching = true;
    const result = await searchMessages(clean, null);
    if (generation !== this.#searchGeneration) return;
    this.searching = false;
    this.searchedFor = clean;
    if (result.ok) this.hits = result.data;
    else {
      this.hits = [];
      this.#report(result.error, "error.context.searchChats");
    }
  }

  clearMessageSearch(): void {
    void this.searchAll("");
  }
}
