// The character open in the detail view: what is stored, the draft being
// edited, and the guard that asks before unsaved edits are thrown away.

import {
  deleteCharacter,
  exportCharacter,
  getCharacter,
  updateCharacter,
  type CardData,
  type CharacterDetail,
  type ExportedFile,
  type ExportFormat,
} from "../api";
import type { Confirmer } from "../confirm.svelte";
import { t } from "../i18n/index.svelte";
import type { Library, Reporter } from "./library.svelte";

function clone(card: CardData): CardData {
  return structuredClone(card);
}

export class CharacterEditor {
  /** The character shown, or null for the grid. */
  openId = $state<string | null>(null);
  detail = $state.raw<CharacterDetail | null>(null);
  /** Deeply reactive: inputs bind straight into it. */
  draft = $state<CardData | null>(null);
  loading = $state(false);
  saving = $state(false);
  deleting = $state(false);
  exporting = $state<ExportFormat | null>(null);
  exported = $state.raw<ExportedFile | null>(null);

  /** The stored card as JSON, to compare the draft against. */
  #storedJson = $derived(this.detail ? JSON.stringify(this.detail.card) : "");
  dirty = $derived(
    this.draft !== null && this.detail !== null && JSON.stringify(this.draft) !== this.#storedJson,
  );

  #library: Library;
  #confirm: Confirmer;
  #report: Reporter;
  #generation = 0;

  constructor(library: Library, confirm: Confirmer, report: Reporter) {
    this.#library = library;
    this.#confirm = confirm;
    this.#report = report;
  }

  /**
   * True when it is fine to leave the current character: nothing unsaved,
   * or the user agreed to discard it.
   */
  async confirmLeave(): Promise<boolean> {
    if (!this.dirty) return true;
    const name = this.detail?.card.name || this.draft?.name || "";
    return this.#confirm.ask({
      title: t("confirm.discard.title"),
      body: t("confirm.discard.body", { name }),
      confirmLabel: t("confirm.discard.ok"),
      cancelLabel: t("confirm.discard.cancel"),
      danger: true,
    });
  }

  /** Opens a character (asking first if edits would be lost). */
  async open(id: string): Promise<void> {
    if (id === this.openId) return;
    if (!(await this.confirmLeave())) return;
    const generation = ++this.#generation;
    this.openId = id;
    this.detail = null;
    this.draft = null;
    this.exported = null;
    this.loading = true;
    const result = await getCharacter(id);
    if (generation !== this.#generation) return;
    this.loading = false;
    if (result.ok) {
      this.#show(result.data);
    } else {
      this.openId = null;
      this.#report(result.error, "error.context.openCharacter");
    }
  }

  /** Back to the grid (asking first if edits would be lost). Answers whether it closed. */
  async close(): Promise<boolean> {
    if (this.openId === null) return true;
    if (!(await this.confirmLeave())) return false;
    this.forceClose();
    return true;
  }

  forceClose(): void {
    this.#generation++;
    this.openId = null;
    this.detail = null;
    this.draft = null;
    this.exported = null;
    this.loading = false;
  }

  revert(): void {
    if (this.detail) this.draft = clone(this.detail.card);
  }

  async save(): Promise<void> {
    const id = this.openId;
    if (!this.draft || id === null || !this.dirty || this.saving) return;
    this.saving = true;
    // (Through unknown: Snapshot<CardData> is too deep for the compiler.)
    const card = $state.snapshot(this.draft as unknown) as CardData;
    const result = await updateCharacter(id, card);
    this.saving = false;
    if (id !== this.openId) return;
    if (result.ok) {
      // Keep typing that happened during the save; only the saved part is "clean".
      const typedMeanwhile = JSON.stringify(this.draft) !== JSON.stringify(card);
      this.detail = result.data;
      if (!typedMeanwhile) this.draft = clone(result.data.card);
      this.#library.patch(result.data.summary);
    } else {
      this.#report(result.error, "error.context.saveCharacter");
    }
  }

  async delete(): Promise<void> {
    const detail = this.detail;
    if (!detail || this.deleting) return;
    const name = detail.card.name;
    const ok = await this.#confirm.ask({
      title: t("confirm.delete.title", { name }),
      body: t("confirm.delete.body", { name }),
      confirmLabel: t("confirm.delete.ok"),
      cancelLabel: t("confirm.cancel"),
      danger: true,
    });
    if (!ok || this.detail !== detail) return;
    this.deleting = true;
    const result = await deleteCharacter(detail.summary.id);
    this.deleting = false;
    if (result.ok) {
      this.#library.remove(detail.summary.id);
      if (this.detail === detail) this.forceClose();
      void this.#library.load(); // facets and counts
    } else {
      this.#report(result.error, "error.context.deleteCharacter");
    }
  }

  async export(format: ExportFormat): Promise<void> {
    const id = this.openId;
    if (id === null || this.exporting) return;
    this.exporting = format;
    this.exported = null;
    const result = await exportCharacter(id, format);
    this.exporting = null;
    if (id !== this.openId) return;
    if (result.ok) this.exported = result.data;
    else this.#report(result.error, "error.context.exportCharacter");
  }

  #show(detail: CharacterDetail): void {
    this.detail = detail;
    this.draft = clone(detail.card);
  }
}
