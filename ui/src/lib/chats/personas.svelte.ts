// Personas: who the user is in a chat. One list shared by the conversation
// header's picker and the personas manager.

import {
  createPersona,
  deletePersona,
  listPersonas,
  setDefaultPersona,
  setPersonaAvatar,
  updatePersona,
  type Persona,
} from "../api";
import type { Confirmer } from "../confirm.svelte";
import { t } from "../i18n/index.svelte";
import type { Reporter } from "../library/library.svelte";

export class Personas {
  all = $state.raw<readonly Persona[]>([]);
  loaded = $state(false);
  busy = $state(false);

  #confirm: Confirmer;
  #report: Reporter;

  constructor(confirm: Confirmer, report: Reporter) {
    this.#confirm = confirm;
    this.#report = report;
  }

  get fallback(): Persona | null {
    return this.all.find((p) => p.isDefault) ?? null;
  }

  find(id: string | null): Persona | null {
    return id === null ? null : (this.all.find((p) => p.id === id) ?? null);
  }

  async load(): Promise<void> {
    const result = await listPersonas();
    if (result.ok) {
      this.all = result.data;
      this.loaded = true;
    } else {
      this.#report(result.error, "error.context.personas");
    }
  }

  #put(persona: Persona): void {
    const others = this.all.filter((p) => p.id !== persona.id);
    const next = persona.isDefault ? others.map((p) => (p.isDefault ? { ...p, isDefault: false } : p)) : others;
    this.all = [...next, persona].sort((a, b) => a.name.localeCompare(b.name));
  }

  async create(name: string, description: string): Promise<Persona | null> {
    this.busy = true;
    const result = await createPersona(name.trim(), description);
    this.busy = false;
    if (!result.ok) {
      this.#report(result.error, "error.context.personas");
      return null;
    }
    this.#put(result.data);
    return result.data;
  }

  async update(id: string, name: string, description: string): Promise<Persona | null> {
    this.busy = true;
    const result = await updatePersona(id, name.trim(), description);
    this.busy = false;
    if (!result.ok) {
      this.#report(result.error, "error.context.personas");
      return null;
    }
    this.#put(result.data);
    return result.data;
  }

  async makeDefault(id: string): Promise<void> {
    const result = await setDefaultPersona(id);
    if (result.ok) this.#put(result.data);
    else this.#report(result.error, "error.context.personas");
  }

  async setAvatar(id: string, file: File): Promise<void> {
    const result = await setPersonaAvatar(id, file);
    if (result.ok) this.#put(result.data);
    else this.#report(result.error, "error.context.personas");
  }

  /** Asks first; true when it was deleted. */
  async delete(persona: Persona): Promise<boolean> {
    const ok = await this.#confirm.ask({
      title: t("persona.delete.title", { name: persona.name }),
      body: t("persona.delete.body"),
      confirmLabel: t("persona.delete.ok"),
      cancelLabel: t("confirm.cancel"),
      danger: true,
    });
    if (!ok) return false;
    const result = await deletePersona(persona.id);
    if (!result.ok) {
      this.#report(result.error, "error.context.personas");
      return false;
    }
    this.all = this.all.filter((p) => p.id !== persona.id);
    return true;
  }
}
