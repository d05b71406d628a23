// The world book open in the book view: what is stored, the drafts being
// edited (the book's name, description and settings, and any entries the
// user touched), selection and filters, and the guard that asks before
// unsaved edits are thrown away.
//
// Built for books of 10,000+ entries: stored entries are a raw (not deeply
// reactive) array; only entries actually being edited get a deep $state
// draft, and "dirty" compares just those.

import { SvelteMap, SvelteSet } from "svelte/reactivity";
import {
  addEntry,
  deleteEntries,
  deleteWorldBook,
  exportWorldBook,
  getWorldBook,
  saveEntries,
  setEntriesEnabled,
  setWorldBookGlobal,
  updateWorldBook,
  type BookSettings,
  type Entry,
  type ExportedFile,
  type KeyError,
  type WorldBookDetail,
  type WorldBookFormat,
  type WorldBookSummary,
} from "../api";
import type { Confirmer } from "../confirm.svelte";
import { t, tn } from "../i18n/index.svelte";
import type { Reporter } from "../library/library.svelte";
import type { WorldBooks } from "./books.svelte";
import { matchesFilter, matchesWords, queryWords, searchText, type EntryFilter } from "./entry-filter";

export type BookTab = "entries" | "settings" | "test";

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class BookEditor {
  openId = $state<string | null>(null);
  /** The stored summary, settings and key errors (entries live in `entries`). */
  detail = $state.raw<WorldBookDetail | null>(null);
  /** Stored entries in display order; replaced as a whole, never mutated. */
  entries = $state.raw<readonly Entry[]>([]);

  // Drafts of the book itself.
  name = $state("");
  description = $state("");
  settings = $state<BookSettings | null>(null);

  /** Entries being edited, by uid: deep $state proxies, created on demand. */
  drafts = new SvelteMap<number, Entry>();
  selected = new SvelteSet<number>();
  expanded = $state<number | null>(null);

  search = $state("");
  filter = $state<EntryFilter>("all");
  group = $state("");
  tab = $state<BookTab>("entries");

  loading = $state(false);
  saving = $state(false);
  busy = $state(false);
  deleting = $state(false);
  exporting = $state<WorldBookFormat | null>(null);
  exported = $state.raw<ExportedFile | null>(null);

  #byUid = $derived(new Map(this.entries.map((e) => [e.uid, e])));
  /** Lower-cased search text of each stored entry, aligned with `entries`. */
  #index = $derived(this.entries.map(searchText));

  keyErrors = $derived.by(() => {
    const map = new Map<number, KeyError[]>();
    for (const error of this.detail?.keyErrors ?? []) {
      const list = map.get(error.uid);
      if (list) list.push(error);
      else map.set(error.uid, [error]);
    }
    return map;
  });

  /** Every inclusion group used in the book, for the filter. */
  groups = $derived.by(() => {
    const names = new Set<string>();
    for (const entry of this.entries) for (const g of entry.groups) names.add(g);
    return [...names].sort((a, b) => a.localeCompare(b));
  });

  /** The entries the list shows (drafts in place of stored ones). */
  visible = $derived.by(() => {
    const words = queryWords(this.search);
    const { filter, group } = this;
    const all = filter === "all" && group === "" && words.length === 0;
    const out: Entry[] = [];
    for (let i = 0; i < this.entries.length; i++) {
      const stored = this.entries[i]!;
      const entry = this.drafts.get(stored.uid) ?? stored;
      if (all) {
        out.push(entry);
        continue;
      }
      if (!matchesFilter(entry, filter, group)) continue;
      if (words.length > 0) {
        const text = entry === stored ? this.#index[i]! : searchText(entry);
        if (!matchesWords(text, words)) continue;
      }
      out.push(entry);
    }
    return out;
  });

  /** Uids whose draft differs from what is stored. */
  dirtyUids = $derived.by(() => {
    const uids: number[] = [];
    for (const [uid, draft] of this.drafts) {
      const stored = this.#byUid.get(uid);
      if (!stored || !same(draft, stored)) uids.push(uid);
    }
    return uids;
  });

  metaDirty = $derived(
    this.detail !== null &&
      this.settings !== null &&
      (this.name !== this.detail.summary.name ||
        this.description !== this.detail.summary.description ||
        !same(this.settings, this.detail.settings)),
  );

  dirty = $derived(this.metaDirty || this.dirtyUids.length > 0);

  #books: WorldBooks;
  #confirm: Confirmer;
  #report: Reporter;
  #generation = 0;

  constructor(books: WorldBooks, confirm: Confirmer, report: Reporter) {
    this.#books = books;
    this.#confirm = confirm;
    this.#report = report;
  }

  /** The entry as shown: its draft if it has one. */
  current(uid: number): Entry | undefined {
    return this.drafts.get(uid) ?? this.#byUid.get(uid);
  }

  /** The draft of an entry, made on first use; inputs bind into it. */
  draft(uid: number): Entry | null {
    const existing = this.drafts.get(uid);
    if (existing) return existing;
    const stored = this.#byUid.get(uid);
    if (!stored) return null;
    const draft = $state(structuredClone(stored));
    this.drafts.set(uid, draft);
    return draft;
  }

  isDirty(uid: number): boolean {
    return this.dirtyUids.includes(uid);
  }

  /** True when it is fine to leave: nothing unsaved, or the user agreed to discard. */
  async confirmLeave(): Promise<boolean> {
    if (!this.dirty) return true;
    const name = this.detail?.summary.name || this.name;
    return this.#confirm.ask({
      title: t("confirm.discard.title"),
      body: t("confirm.discard.body", { name }),
      confirmLabel: t("confirm.discard.ok"),
      cancelLabel: t("confirm.discard.cancel"),
      danger: true,
    });
  }

  async open(id: string): Promise<void> {
    if (id === this.openId) return;
    if (!(await this.confirmLeave())) return;
    const generation = ++this.#generation;
    this.#reset();
    this.openId = id;
    this.loading = true;
    const result = await getWorldBook(id);
    if (generation !== this.#generation) return;
    this.loading = false;
    if (result.ok) {
      this.show(result.data);
    } else {
      this.openId = null;
      this.#report(result.error, "error.context.openWorldBook");
    }
  }

  /** Shows a book already fetched (a newly created one). */
  show(detail: WorldBookDetail): void {
    if (this.openId !== detail.summary.id) {
      this.#generation++;
      this.#reset();
      this.openId = detail.summary.id;
    }
    this.loading = false;
    this.detail = detail;
    this.entries = detail.entries;
    this.name = detail.summary.name;
    this.description = detail.summary.description;
    this.settings = structuredClone(detail.settings);
  }

  /** Back to the list (asking first if edits would be lost). Answers whether it closed. */
  async close(): Promise<boolean> {
    if (this.openId === null) return true;
    if (!(await this.confirmLeave())) return false;
    this.forceClose();
    return true;
  }

  forceClose(): void {
    this.#generation++;
    this.#reset();
  }

  /** Throws away every unsaved edit of this book. */
  revert(): void {
    if (!this.detail) return;
    this.drafts.clear();
    this.name = this.detail.summary.name;
    this.description = this.detail.summary.description;
    this.settings = structuredClone(this.detail.settings);
  }

  /** Throws away one entry's unsaved edits. */
  revertEntry(uid: number): void {
    const stored = this.#byUid.get(uid);
    if (!stored) return;
    if (this.expanded === uid) {
      const fresh = $state(structuredClone(stored));
      this.drafts.set(uid, fresh);
    } else {
      this.drafts.delete(uid);
    }
  }

  /** Collapses the expanded entry (dropping its draft if nothing changed), or expands another. */
  toggleExpanded(uid: number): void {
    const previous = this.expanded;
    this.expanded = previous === uid ? null : uid;
    if (previous !== null) this.#dropCleanDraft(previous);
    if (this.expanded !== null) this.draft(this.expanded);
  }

  /** One Save for everything: the book's header and settings, then every dirty entry. */
  async save(): Promise<void> {
    const id = this.openId;
    if (id === null || !this.detail || !this.settings || !this.dirty || this.saving) return;
    this.saving = true;
    try {
      if (this.metaDirty) {
        const name = this.name.trim() || this.detail.summary.name;
        const description = this.description;
        const settings = $state.snapshot(this.settings);
        const result = await updateWorldBook(id, name, description, settings);
        if (id !== this.openId) return;
        if (!result.ok) {
          this.#report(result.error, "error.context.saveWorldBook");
          return;
        }
        this.detail = { ...this.detail, summary: result.data, settings };
        if (this.name.trim() === "") this.name = result.data.name;
        this.#books.patch(result.data);
      }
      const uids = this.dirtyUids;
      if (uids.length > 0) {
        const sent = uids.flatMap((uid) => {
          const draft = this.drafts.get(uid);
          return draft ? [$state.snapshot(draft as unknown) as Entry] : [];
        });
        const result = await saveEntries(id, sent);
        if (id !== this.openId) return;
        if (!result.ok) {
          this.#report(result.error, "error.context.saveEntries");
          return;
        }
        this.detail = result.data;
        this.entries = result.data.entries;
        this.#books.patch(result.data.summary);
        // Keep typing that happened during the save; only the saved part is clean.
        for (const sentEntry of sent) {
          const draft = this.drafts.get(sentEntry.uid);
          if (draft && same(draft, sentEntry) && sentEntry.uid !== this.expanded) this.drafts.delete(sentEntry.uid);
        }
        this.#refreshDrafts();
      }
    } finally {
      this.saving = false;
    }
  }

  /** The row's on/off switch: applies at once. */
  async setEnabled(uids: readonly number[], enabled: boolean): Promise<void> {
    const id = this.openId;
    if (id === null || uids.length === 0 || this.busy) return;
    this.busy = true;
    const result = await setEntriesEnabled(id, uids, enabled);
    this.busy = false;
    if (id !== this.openId) return;
    if (!result.ok) {
      this.#report(result.error, "error.context.saveEntries");
      return;
    }
    const set = new Set(uids);
    this.entries = this.entries.map((e) => (set.has(e.uid) && e.enabled !== enabled ? { ...e, enabled } : e));
    for (const uid of uids) {
      const draft = this.drafts.get(uid);
      if (draft) draft.enabled = enabled;
    }
    this.#patchSummary(result.data);
  }

  /** The row's "always on" switch: saves that one field at once (other unsaved edits stay drafts). */
  async setConstant(uid: number, constant: boolean): Promise<void> {
    const id = this.openId;
    const stored = this.#byUid.get(uid);
    if (id === null || !stored || this.busy) return;
    this.busy = true;
    const result = await saveEntries(id, [{ ...stored, constant }]);
    this.busy = false;
    if (id !== this.openId) return;
    if (!result.ok) {
      this.#report(result.error, "error.context.saveEntries");
      return;
    }
    this.detail = result.data;
    this.entries = result.data.entries;
    const draft = this.drafts.get(uid);
    if (draft) draft.constant = constant;
    this.#books.patch(result.data.summary);
    this.#refreshDrafts();
  }

  async add(): Promise<number | null> {
    const id = this.openId;
    if (id === null || this.busy) return null;
    this.busy = true;
    const result = await addEntry(id);
    this.busy = false;
    if (id !== this.openId) return null;
    if (!result.ok) {
      this.#report(result.error, "error.context.addEntry");
      return null;
    }
    this.entries = [...this.entries, result.data];
    // A new entry must be visible, whatever the filters said.
    this.search = "";
    this.filter = "all";
    this.group = "";
    if (this.detail) {
      const summary = this.detail.summary;
      this.#patchSummary({
        ...summary,
        entryCount: summary.entryCount + 1,
        enabledCount: summary.enabledCount + (result.data.enabled ? 1 : 0),
      });
    }
    this.toggleExpanded(result.data.uid);
    return result.data.uid;
  }

  toggleSelected(uid: number): void {
    if (this.selected.has(uid)) this.selected.delete(uid);
    else this.selected.add(uid);
  }

  /** Selects every visible entry, or clears the selection when all are selected. */
  toggleSelectAll(): void {
    const visible = this.visible;
    if (visible.length > 0 && visible.every((e) => this.selected.has(e.uid))) this.selected.clear();
    else for (const e of visible) this.selected.add(e.uid);
  }

  async bulkEnable(enabled: boolean): Promise<void> {
    await this.setEnabled([...this.selected], enabled);
  }

  async bulkDelete(): Promise<void> {
    const id = this.openId;
    const uids = [...this.selected];
    if (id === null || uids.length === 0 || this.busy) return;
    const ok = await this.#confirm.ask({
      title: tn("confirm.deleteEntries.title", uids.length),
      body: t("confirm.deleteEntries.body"),
      confirmLabel: t("confirm.delete.ok"),
      cancelLabel: t("confirm.cancel"),
      danger: true,
    });
    if (!ok || id !== this.openId) return;
    this.busy = true;
    const result = await deleteEntries(id, uids);
    this.busy = false;
    if (id !== this.openId) return;
    if (!result.ok) {
      this.#report(result.error, "error.context.deleteEntries");
      return;
    }
    const gone = new Set(uids);
    this.entries = this.entries.filter((e) => !gone.has(e.uid));
    for (const uid of uids) this.drafts.delete(uid);
    if (this.expanded !== null && gone.has(this.expanded)) this.expanded = null;
    this.selected.clear();
    if (this.detail) {
      this.detail = { ...this.detail, keyErrors: this.detail.keyErrors.filter((k) => !gone.has(k.uid)) };
    }
    this.#patchSummary(result.data);
  }

  async setGlobal(global: boolean): Promise<void> {
    const id = this.openId;
    if (id === null) return;
    const result = await setWorldBookGlobal(id, global);
    if (id !== this.openId) return;
    if (result.ok) this.#patchSummary(result.data);
    else this.#report(result.error, "error.context.saveWorldBook");
  }

  async export(format: WorldBookFormat): Promise<void> {
    const id = this.openId;
    if (id === null || this.exporting) return;
    this.exporting = format;
    this.exported = null;
    const result = await exportWorldBook(id, format);
    this.exporting = null;
    if (id !== this.openId) return;
    if (result.ok) this.exported = result.data;
    else this.#report(result.error, "error.context.exportWorldBook");
  }

  async delete(): Promise<void> {
    const detail = this.detail;
    if (!detail || this.deleting) return;
    const name = detail.summary.name;
    const ok = await this.#confirm.ask({
      title: t("confirm.deleteBook.title", { name }),
      body: tn("confirm.deleteBook.body", detail.summary.entryCount, { name }),
      confirmLabel: t("confirm.delete.ok"),
      cancelLabel: t("confirm.cancel"),
      danger: true,
    });
    if (!ok || this.detail !== detail) return;
    this.deleting = true;
    const result = await deleteWorldBook(detail.summary.id);
    this.deleting = false;
    if (result.ok) {
      this.#books.remove(detail.summary.id);
      if (this.detail === detail) this.forceClose();
    } else {
      this.#report(result.error, "error.context.deleteWorldBook");
    }
  }

  #patchSummary(summary: WorldBookSummary): void {
    if (this.detail) this.detail = { ...this.detail, summary };
    this.#books.patch(summary);
  }

  /** After a reload from the backend, forget drafts that now match what is stored. */
  #refreshDrafts(): void {
    for (const [uid, draft] of [...this.drafts]) {
      const stored = this.#byUid.get(uid);
      if (!stored) this.drafts.delete(uid);
      else if (uid !== this.expanded && same(draft, stored)) this.drafts.delete(uid);
    }
  }

  #dropCleanDraft(uid: number): void {
    const draft = this.drafts.get(uid);
    const stored = this.#byUid.get(uid);
    if (draft && stored && same(draft, stored)) this.drafts.delete(uid);
  }

  #reset(): void {
    this.openId = null;
    this.detail = null;
    this.entries = [];
    this.name = "";
    this.description = "";
    this.settings = null;
    this.drafts.clear();
    this.selected.clear();
    this.expanded = null;
    this.search = "";
    this.filter = "all";
    this.group = "";
    this.tab = "entries";
    this.loading = false;
    this.exported = null;
  }
}
