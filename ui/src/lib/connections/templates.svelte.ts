// The instruct and context template library: presets and saved templates,
// importing SillyTavern files, exporting one as JSON (a download), deleting a
// saved one. Its names feed the template choices of providers and profiles.

import {
  deleteTemplate,
  exportTemplate,
  importTemplate,
  listTemplates,
  type ApiError,
  type TemplateKind,
  type TemplateSummary,
} from "../api";
import type { Confirmer } from "../confirm.svelte";
import { t } from "../i18n/index.svelte";
import type { Reporter } from "../library/library.svelte";

/** What the last import said: the templates saved, or the file's problem. */
export type ImportNote = { ok: true; imported: TemplateSummary[] } | { ok: false; file: string; error: ApiError };

/** A file's text (File.text is missing from older WebKitGTK and from jsdom). */
export function readText(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result ?? ""));
    reader.onerror = () => reject(reader.error ?? new Error("the file could not be read"));
    reader.readAsText(file);
  });
}

/** A file name for an exported template. */
export function exportFileName(kind: TemplateKind, name: string): string {
  const safe = name.replace(/[\\/:*?"<>|]+/g, "_").trim() || "template";
  return `${safe} (${kind}).json`;
}

/** Hands `text` to the browser as a download. */
export function download(fileName: string, text: string, mime = "application/json"): void {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  link.rel = "noopener";
  link.style.display = "none";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A template open in the editor: its SillyTavern JSON as the user edits it. */
export type TemplateEdit = { kind: TemplateKind; name: string; json: string; error: ApiError | null; saving: boolean };

export class TemplateLibrary {
  all = $state.raw<readonly TemplateSummary[]>([]);
  /** The template being edited, if any. */
  editing = $state<TemplateEdit | null>(null);
  loaded = $state(false);
  importing = $state(false);
  note = $state.raw<ImportNote | null>(null);
  #confirm: Confirmer;
  #report: Reporter;
  #loading: Promise<void> | null = null;

  constructor(confirm: Confirmer, report: Reporter) {
    this.#confirm = confirm;
    this.#report = report;
  }

  names(kind: TemplateKind): string[] {
    return this.all.filter((tpl) => tpl.kind === kind).map((tpl) => tpl.name);
  }

  /** Loads the list (once at a time). */
  load(): Promise<void> {
    this.#loading ??= (async () => {
      const result = await listTemplates();
      this.#loading = null;
      if (!result.ok) {
        this.#report(result.error, "error.context.loadTemplates");
        return;
      }
      this.all = result.data;
      this.loaded = true;
    })();
    return this.#loading;
  }

  /** Loads the list unless it is already there. */
  ensure(): Promise<void> {
    return this.loaded ? Promise.resolve() : this.load();
  }

  async importFile(file: File): Promise<boolean> {
    if (this.importing) return false;
    this.importing = true;
    this.note = null;
    let text: string;
    try {
      text = await readText(file);
    } catch (error) {
      this.importing = false;
      this.note = { ok: false, file: file.name, error: { code: "io", message: error instanceof Error ? error.message : String(error) } };
      return false;
    }
    const result = await importTemplate(text);
    this.importing = false;
    if (!result.ok) {
      this.note = { ok: false, file: file.name, error: result.error };
      return false;
    }
    this.note = { ok: true, imported: result.data };
    await this.load();
    return true;
  }

  async export(template: TemplateSummary): Promise<boolean> {
    const result = await exportTemplate(template.kind, template.name);
    if (!result.ok) {
      this.#report(result.error, "error.context.exportTemplate");
      return false;
    }
    download(exportFileName(template.kind, template.name), result.data);
    return true;
  }

  /** Opens a template's JSON in the editor (a preset's too: saving it makes an edited preset). */
  async edit(template: TemplateSummary): Promise<boolean> {
    const result = await exportTemplate(template.kind, template.name);
    if (!result.ok) {
      this.#report(result.error, "error.context.exportTemplate");
      return false;
    }
    this.editing = { kind: template.kind, name: template.name, json: result.data, error: null, saving: false };
    return true;
  }

  /** Saves the edited JSON under the name it holds (another name: a copy). */
  async saveEdit(): Promise<boolean> {
    const editing = this.editing;
    if (editing === null || editing.saving) return false;
    editing.saving = true;
    editing.error = null;
    const result = await importTemplate(editing.json);
    editing.saving = false;
    if (!result.ok) {
      editing.error = result.error;
      return false;
    }
    this.editing = null;
    this.note = { ok: true, imported: result.data };
    await this.load();
    return true;
  }

  cancelEdit(): void {
    this.editing = null;
  }

  async remove(template: TemplateSummary): Promise<boolean> {
    if (!template.saved) return false;
    const ok = await this.#confirm.ask({
      title: t("templates.delete.title", { name: template.name }),
      body: t("templates.delete.body"),
      confirmLabel: t("templates.delete.ok"),
      cancelLabel: t("confirm.cancel"),
      danger: true,
    });
    if (!ok) return false;
    const result = await deleteTemplate(template.kind, template.name);
    if (!result.ok) {
      this.#report(result.error, "error.context.deleteTemplate");
      return false;
    }
    await this.load();
    return true;
  }
}
