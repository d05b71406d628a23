// Settings → Connections: the connection profiles (list, add, edit, delete)
// and the one being edited. The providers and the samplers each kind accepts
// come from the provider settings; template names from its library.

import { deleteProfile, listProfiles, saveProfile, type ApiError, type ConnectionProfile, type ProviderKind } from "../api";
import type { Confirmer } from "../confirm.svelte";
import { t } from "../i18n/index.svelte";
import type { Reporter } from "../library/library.svelte";
import type { ProviderSettings } from "../providers/providers.svelte";
import { BASIC_SAMPLERS, samplerOfField, samplerOfMessage } from "../providers/samplers";
import { emptyProfile, profileDraftOf, profileErrors, profileOf, type ProfileDraft, type ProfileErrors } from "./profile-draft";

export class ProfileSettings {
  list = $state.raw<readonly ConnectionProfile[]>([]);
  loaded = $state(false);
  loading = $state(false);
  draft = $state<ProfileDraft | null>(null);
  saving = $state(false);
  saved = $state(false);
  /** The core refused the last save: on a field when it names one, else for the form. */
  saveError = $state.raw<{ field: keyof ProfileErrors | null; error: ApiError } | null>(null);
  samplersOpen = $state(false);
  readonly providers: ProviderSettings;
  #confirm: Confirmer;
  #report: Reporter;

  constructor(providers: ProviderSettings, confirm: Confirmer, report: Reporter) {
    this.providers = providers;
    this.#confirm = confirm;
    this.#report = report;
  }

  async load(): Promise<void> {
    this.loading = true;
    const result = await listProfiles();
    this.loading = false;
    if (!result.ok) {
      this.#report(result.error, "error.context.loadProfiles");
      return;
    }
    this.list = result.data;
    this.loaded = true;
  }

  /** The kind of the provider a draft names, if it is known. */
  kindOf(providerId: string): ProviderKind | null {
    return this.providers.find(providerId)?.config.kind ?? null;
  }

  /** Field problems of the draft, the core's refusal included. */
  get errors(): ProfileErrors {
    const draft = this.draft;
    if (!draft) return {};
    const own = profileErrors(draft);
    const refused = this.saveError?.field;
    return refused ? { [refused]: this.saveError!.error.message, ...own } : own;
  }

  startAdd(): void {
    const first = this.providers.list.find((p) => p.isDefault) ?? this.providers.list[0];
    this.#open(profileDraftOf(emptyProfile(first?.config.id ?? ""), true));
  }

  edit(profile: ConnectionProfile): void {
    this.#open(profileDraftOf(profile, false));
  }

  #open(draft: ProfileDraft): void {
    this.draft = draft;
    this.saved = false;
    this.saveError = null;
    void this.providers.templates.ensure();
    if (this.draft) void this.fillSamplers(this.draft);
  }

  /** Asks which samplers the draft's provider's kind accepts (again after the provider changes). */
  async fillSamplers(draft: ProfileDraft): Promise<void> {
    const kind = this.kindOf(draft.providerId);
    draft.supported = null;
    if (kind === null) return;
    const supported = await this.providers.samplersOf(kind);
    if (supported && this.draft === draft && this.kindOf(draft.providerId) === kind) draft.supported = supported;
  }

  close(): void {
    this.draft = null;
    this.saveError = null;
  }

  async save(): Promise<boolean> {
    const draft = this.draft;
    if (!draft || this.saving) return false;
    if (Object.keys(profileErrors(draft)).length > 0) return false;
    this.saving = true;
    this.saveError = null;
    const profile = profileOf(draft, $state.snapshot(draft.original) as ConnectionProfile);
    const result = await saveProfile(profile);
    this.saving = false;
    if (!result.ok) {
      const field = result.error.code === "invalid_input" ? fieldOfMessage(result.error.message) : null;
      if (field !== null && field !== "name" && field !== "providerId" && field !== "model" && !BASIC_SAMPLERS.includes(samplerOfField(field))) this.samplersOpen = true;
      if (this.draft === draft) this.saveError = { field, error: result.error };
      return false;
    }
    const exists = this.list.some((p) => p.id === result.data.id);
    this.list = exists ? this.list.map((p) => (p.id === result.data.id ? result.data : p)) : [...this.list, result.data];
    if (this.draft === draft) {
      this.draft = { ...profileDraftOf(result.data, false), supported: draft.supported ? [...draft.supported] : null };
      this.saved = true;
    }
    return true;
  }

  async remove(profile: ConnectionProfile): Promise<boolean> {
    const ok = await this.#confirm.ask({
      title: t("profiles.delete.title", { name: profile.name }),
      body: t("profiles.delete.body"),
      confirmLabel: t("profiles.delete.ok"),
      cancelLabel: t("confirm.cancel"),
      danger: true,
    });
    if (!ok) return false;
    const result = await deleteProfile(profile.id);
    if (!result.ok) {
      this.#report(result.error, "error.context.deleteProfile");
      return false;
    }
    if (this.draft?.original.id === profile.id) this.close();
    this.list = this.list.filter((p) => p.id !== profile.id);
    return true;
  }
}

/** The field a refusal of the core is about (its words), if any. */
function fieldOfMessage(message: string): keyof ProfileErrors | null {
  const m = message.toLowerCase();
  if (m.includes("profile's name") || m.includes("a profile named")) return "name";
  if (m.includes("profile's model")) return "model";
  if (m.includes("provider")) return "providerId";
  return samplerOfMessage(message);
}
