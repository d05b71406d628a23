// The primary context (the app-wide system prompt) and the global
// post-history prompt, edited in Settings. Every save is a new version;
// leaving with unsaved text asks first, like the other editors.

import {
  getPrimaryContext,
  listContextVersions,
  restoreContextVersion,
  savePrimaryContext,
  setPostHistory,
  type ContextVersion,
  type PrimaryContext,
} from "../api";
import type { Confirmer } from "../confirm.svelte";
import { t } from "../i18n/index.svelte";
import type { Reporter } from "../library/library.svelte";

export class PrimaryContextEditor {
  stored = $state.raw<PrimaryContext | null>(null);
  versions = $state.raw<readonly ContextVersion[]>([]);
  draft = $state("");
  postHistory = $state("");
  /** A version opened for reading. */
  viewing = $state.raw<ContextVersion | null>(null);
  loading = $state(false);
  saving = $state(false);

  /** The text that counts as saved: the current version's, else empty (the default applies). */
  savedText = $derived(this.stored?.current?.text ?? "");
  contextDirty = $derived(this.stored !== null && this.draft !== this.savedText);
  postHistoryDirty = $derived(this.stored !== null && this.postHistory !== this.stored.postHistory);
  dirty = $derived(this.contextDirty || this.postHistoryDirty);

  #confirm: Confirmer;
  #report: Reporter;

  constructor(confirm: Confirmer, report: Reporter) {
    this.#confirm = confirm;
    this.#report = report;
  }

  async load(): Promise<void> {
    this.loading = true;
    const [context, versions] = await Promise.all([getPrimaryContext(), listContextVersions()]);
    this.loading = false;
    if (context.ok) {
      // Unsaved edits survive a reload (coming back to the section).
      const keepDraft = this.contextDirty;
      const keepPost = this.postHistoryDirty;
      this.stored = context.data;
      if (!keepDraft) this.draft = context.data.current?.text ?? "";
      if (!keepPost) this.postHistory = context.data.postHistory;
    } else {
      this.#report(context.error, "error.context.primaryContext");
    }
    if (versions.ok) this.versions = versions.data;
  }

  async save(): Promise<void> {
    if (this.saving || !this.stored) return;
    this.saving = true;
    if (this.contextDirty) {
      const result = await savePrimaryContext(this.draft);
      if (result.ok) {
        this.stored = { ...this.stored, current: result.data };
        this.versions = [result.data, ...this.versions];
      } else {
        this.#report(result.error, "error.context.primaryContext");
      }
    }
    if (this.postHistoryDirty) {
      const result = await setPostHistory(this.postHistory);
      if (result.ok) this.stored = { ...result.data, current: this.stored?.current ?? result.data.current };
      else this.#report(result.error, "error.context.primaryContext");
    }
    this.saving = false;
  }

  revert(): void {
    this.draft = this.savedText;
    this.postHistory = this.stored?.postHistory ?? "";
  }

  /** Puts the built-in default into the editor (saved like any edit). */
  useDefault(): void {
    if (this.stored) this.draft = this.stored.defaultText;
  }

  async restore(version: ContextVersion): Promise<void> {
    if (this.contextDirty && !(await this.confirmLeave())) return;
    const result = await restoreContextVersion(version.id);
    if (!result.ok) {
      this.#report(result.error, "error.context.primaryContext");
      return;
    }
    if (this.stored) this.stored = { ...this.stored, current: result.data };
    this.draft = result.data.text;
    this.versions = [result.data, ...this.versions];
    this.viewing = null;
  }

  async confirmLeave(): Promise<boolean> {
    if (!this.dirty) return true;
    const ok = await this.#confirm.ask({
      title: t("confirm.discard.title"),
      body: t("context.discard.body"),
      confirmLabel: t("confirm.discard.ok"),
      cancelLabel: t("confirm.discard.cancel"),
      danger: true,
    });
    if (ok) this.revert();
    return ok;
  }
}
