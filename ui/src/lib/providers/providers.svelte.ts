// Settings → Providers: the configured providers, the one being edited (a
// form draft, ./draft.svelte), its API key (set, replace, delete, test; the key itself is
// never shown again, only where it is kept), its models (refresh,
// favourites), local servers found on this machine, and the usage report.
//
// When the OS keyring is unavailable, setting a key stops and asks where to
// keep it instead ("this run only", or encrypted in the database when
// CONFAB_ENCRYPTION_KEY is set); the key waits in memory, in a private
// field, until the user picks, and is then sent again with that storage.

import {
  deleteApiKey,
  deleteProvider,
  findLocalServers,
  getModels,
  getUsage,
  keyStorageOptions,
  listProviders,
  newProvider,
  providerSamplers,
  refreshModels,
  saveProvider,
  setApiKey,
  setDefaultProvider,
  setFavouriteModel,
  testApiKey,
  type ApiError,
  type KeyStatus,
  type KeyStorage,
  type KeyStorageOptions,
  type LocalServer,
  type ModelList,
  type Provider,
  type ProviderConfig,
  type ProviderKind,
  type Sampler,
  type UsageReport,
} from "../api";
import type { Confirmer } from "../confirm.svelte";
import { TemplateLibrary } from "../connections/templates.svelte";
import { t, tn } from "../i18n/index.svelte";
import type { Reporter } from "../library/library.svelte";
import { configOf, draftErrors, draftOf, headerRow, insecureAllowed, isTextCompletion, localServerName, type DraftErrors, type ProviderDraft } from "./draft.svelte";
import { BASIC_SAMPLERS, samplerOfField, samplerOfMessage } from "./samplers";
import { insecureHost } from "./transport";

const SAMPLERS_OPEN_KEY = "confab.providers.samplersOpen";

function readSamplersOpen(): boolean {
  try {
    return typeof localStorage !== "undefined" && localStorage.getItem(SAMPLERS_OPEN_KEY) === "true";
  } catch {
    return false;
  }
}

/** What the last key action said, shown beside the key field. */
export type KeyNote = { providerId: string; ok: boolean; text: string; error?: ApiError };

export class ProviderSettings {
  list = $state.raw<readonly Provider[]>([]);
  loaded = $state(false);
  loading = $state(false);
  options = $state.raw<KeyStorageOptions | null>(null);

  /** The provider being edited, or null. */
  draft = $state<ProviderDraft | null>(null);
  /** Picking the kind of a new provider. */
  choosingKind = $state(false);
  saving = $state(false);
  saved = $state(false);
  /** The core refused the last save over one field: shown on that field. */
  saveError = $state.raw<{ field: keyof DraftErrors; text: string } | null>(null);
  /** Whether "Advanced samplers" is open (remembered across editors and runs). */
  samplersOpen = $state(readSamplersOpen());
  #samplers = new Map<ProviderKind, Promise<Sampler[] | null>>();

  /** A key action in flight. */
  keyBusy = $state<"set" | "delete" | "test" | null>(null);
  keyNote = $state.raw<KeyNote | null>(null);
  /** The keyring failed: ask where to keep the key (for this provider). */
  fallback = $state.raw<{ providerId: string; error: ApiError } | null>(null);
  #pendingKey: string | null = null;

  models = $state.raw<ModelList | null>(null);
  modelsLoading = $state(false);
  refreshing = $state(false);

  local = $state.raw<readonly LocalServer[] | null>(null);
  searching = $state(false);
  adding = $state<number | null>(null);

  usageDays = $state(7);
  usage = $state.raw<UsageReport | null>(null);
  usageLoading = $state(false);

  /** The instruct and context templates (a text-completion provider names one). */
  readonly templates: TemplateLibrary;

  #confirm: Confirmer;
  #report: Reporter;
  #usageGeneration = 0;

  constructor(confirm: Confirmer, report: Reporter) {
    this.#confirm = confirm;
    this.#report = report;
    this.templates = new TemplateLibrary(confirm, report);
  }

  find(id: string): Provider | null {
    return this.list.find((p) => p.config.id === id) ?? null;
  }

  /** The saved provider the draft edits (none for a new one). */
  get editing(): Provider | null {
    const draft = this.draft;
    return draft && !draft.isNew ? this.find(draft.original.id) : null;
  }

  async load(): Promise<void> {
    this.loading = true;
    const [list, options] = await Promise.all([listProviders(), keyStorageOptions()]);
    this.loading = false;
    if (list.ok) {
      this.list = list.data;
      this.loaded = true;
    } else {
      this.#report(list.error, "error.context.loadProviders");
    }
    if (options.ok) this.options = options.data;
  }

  #put(provider: Provider): void {
    const exists = this.list.some((p) => p.config.id === provider.config.id);
    this.list = exists ? this.list.map((p) => (p.config.id === provider.config.id ? provider : p)) : [...this.list, provider];
  }

  #setKeyStatus(providerId: string, key: KeyStatus): void {
    this.list = this.list.map((p) => (p.config.id === providerId ? { ...p, key } : p));
  }

  // ---- Editing ----

  startAdd(): void {
    this.choosingKind = true;
  }

  async add(kind: ProviderKind): Promise<void> {
    this.choosingKind = false;
    const result = await newProvider(kind, t(`provider.kind.${kind}`));
    if (!result.ok) {
      this.#report(result.error, "error.context.saveProvider");
      return;
    }
    this.#open(draftOf(result.data, true));
  }

  edit(provider: Provider): void {
    this.#open(draftOf(provider.config, false));
    void this.loadModels(provider.config.id);
  }

  #open(draft: ProviderDraft): void {
    this.draft = draft;
    this.saved = false;
    this.saveError = null;
    // The stored draft is a proxy of `draft`: compare and write through it.
    if (this.draft) void this.#fillSamplers(this.draft);
    this.keyNote = null;
    this.fallback = null;
    this.#pendingKey = null;
    this.models = null;
    if (isTextCompletion(draft.original.kind)) void this.templates.ensure();
  }

  /** The samplers `kind` accepts: asked of the core once per kind. */
  samplersOf(kind: ProviderKind): Promise<Sampler[] | null> {
    let found = this.#samplers.get(kind);
    if (!found) {
      found = providerSamplers(kind).then((result) => {
        if (result.ok) return result.data;
        this.#samplers.delete(kind); // asked again next time
        this.#report(result.error, "error.context.loadProviders");
        return null;
      });
      this.#samplers.set(kind, found);
    }
    return found;
  }

  async #fillSamplers(draft: ProviderDraft): Promise<void> {
    const supported = await this.samplersOf(draft.original.kind);
    if (supported && this.draft === draft) draft.supported = supported;
  }

  toggleSamplers(): void {
    this.samplersOpen = !this.samplersOpen;
    try {
      localStorage.setItem(SAMPLERS_OPEN_KEY, String(this.samplersOpen));
    } catch {
      // Storage disabled: remembered for this run only.
    }
  }

  close(): void {
    this.draft = null;
    this.choosingKind = false;
    this.fallback = null;
    this.#pendingKey = null;
    this.keyNote = null;
    this.models = null;
  }

  addHeader(): void {
    this.draft?.headers.push(headerRow());
  }

  removeHeader(id: number): void {
    if (this.draft) this.draft.headers = this.draft.headers.filter((row) => row.id !== id);
  }

  /** Saves the draft; for a new provider, then stores `key` if one was typed. */
  async save(key = ""): Promise<boolean> {
    const draft = this.draft;
    if (!draft || this.saving) return false;
    if (Object.keys(draftErrors(draft)).length > 0) return false;
    const host = insecureHost(draft.baseUrl);
    if (host !== null && !insecureAllowed(draft)) {
      const ok = await this.#confirm.ask({
        title: t("provider.insecure.title"),
        body: t("provider.insecure.body", { host }),
        confirmLabel: t("provider.insecure.ok"),
        cancelLabel: t("confirm.cancel"),
        danger: true,
      });
      if (!ok || this.draft !== draft) return false;
      draft.insecureAllowedFor = host;
    }
    this.saving = true;
    this.saveError = null;
    const config = configOf(draft);
    const result = await saveProvider(config);
    this.saving = false;
    if (!result.ok) {
      // A refusal over a field the form shows goes on that field (opening the samplers if it is one of them).
      const field = result.error.code === "invalid_input" ? samplerOfMessage(result.error.message) : null;
      const sampler = field === null ? null : samplerOfField(field);
      if (field !== null && sampler !== null && this.draft === draft && (draft.supported ?? BASIC_SAMPLERS).includes(sampler)) {
        this.saveError = { field, text: result.error.message };
        if (!BASIC_SAMPLERS.includes(sampler)) this.samplersOpen = true;
      } else {
        this.#report(result.error, "error.context.saveProvider");
      }
      return false;
    }
    this.#put(result.data);
    // The first provider becomes the default on the backend: read the badges again.
    void this.#reloadList();
    if (this.draft === draft) {
      this.draft = { ...draftOf(result.data.config, false), supported: draft.supported ? [...draft.supported] : null };
      this.saved = true;
      if (draft.isNew) void this.loadModels(result.data.config.id);
    }
    if (key.trim() !== "") await this.setKey(result.data.config.id, key);
    return true;
  }

  async #reloadList(): Promise<void> {
    const result = await listProviders();
    if (result.ok) this.list = result.data;
  }

  async remove(provider: Provider): Promise<boolean> {
    const ok = await this.#confirm.ask({
      title: t("provider.delete.title", { name: provider.config.name }),
      body: t("provider.delete.body"),
      confirmLabel: t("provider.delete.ok"),
      cancelLabel: t("confirm.cancel"),
      danger: true,
    });
    if (!ok) return false;
    const result = await deleteProvider(provider.config.id);
    if (!result.ok) {
      this.#report(result.error, "error.context.deleteProvider");
      return false;
    }
    if (this.draft?.original.id === provider.config.id) this.close();
    this.list = this.list.filter((p) => p.config.id !== provider.config.id);
    await this.#reloadList();
    return true;
  }

  async makeDefault(provider: Provider): Promise<void> {
    const result = await setDefaultProvider(provider.config.id);
    if (!result.ok) {
      this.#report(result.error, "error.context.saveProvider");
      return;
    }
    this.list = this.list.map((p) => ({ ...p, isDefault: p.config.id === provider.config.id }));
  }

  // ---- The API key ----

  /** Stores a key in the keyring; when the keyring is unavailable, asks where else. */
  async setKey(providerId: string, key: string, storage: KeyStorage = "keyring"): Promise<boolean> {
    if (key.trim() === "" || this.keyBusy !== null) return false;
    this.keyBusy = "set";
    this.keyNote = null;
    const result = await setApiKey(providerId, key, storage);
    this.keyBusy = null;
    if (result.ok) {
      this.#pendingKey = null;
      this.fallback = null;
      this.#setKeyStatus(providerId, result.data);
      this.keyNote = { providerId, ok: true, text: t(`key.saved.${result.data.storage ?? "keyring"}`) };
      return true;
    }
    if (result.error.code === "keyring_unavailable" && storage === "keyring") {
      this.#pendingKey = key;
      this.fallback = { providerId, error: result.error };
      const options = await keyStorageOptions();
      if (options.ok) this.options = options.data;
      return false;
    }
    this.keyNote = { providerId, ok: false, text: result.error.message, error: result.error };
    return false;
  }

  /** The user's answer to the keyring fallback question. */
  async useFallback(storage: "session" | "encrypted"): Promise<boolean> {
    const fallback = this.fallback;
    const key = this.#pendingKey;
    if (!fallback || key === null) return false;
    if (storage === "encrypted" && this.options?.encrypted === false) return false;
    this.fallback = null;
    const ok = await this.setKey(fallback.providerId, key, storage);
    if (!ok && this.fallback === null && this.#pendingKey === key) this.fallback = fallback;
    return ok;
  }

  cancelFallback(): void {
    this.fallback = null;
    this.#pendingKey = null;
  }

  async deleteKey(providerId: string): Promise<void> {
    if (this.keyBusy !== null) return;
    this.keyBusy = "delete";
    this.keyNote = null;
    const result = await deleteApiKey(providerId);
    this.keyBusy = null;
    if (!result.ok) {
      this.keyNote = { providerId, ok: false, text: result.error.message, error: result.error };
      return;
    }
    this.#setKeyStatus(providerId, result.data);
    this.keyNote = { providerId, ok: true, text: t("key.deleted") };
  }

  async testKey(providerId: string): Promise<void> {
    if (this.keyBusy !== null) return;
    this.keyBusy = "test";
    this.keyNote = null;
    const result = await testApiKey(providerId);
    this.keyBusy = null;
    if (!result.ok) {
      this.keyNote = { providerId, ok: false, text: result.error.message, error: result.error };
      return;
    }
    this.keyNote = { providerId, ok: true, text: tn("key.works", result.data) };
    if (this.draft?.original.id === providerId) void this.loadModels(providerId);
  }

  // ---- Models ----

  async loadModels(providerId: string): Promise<void> {
    this.modelsLoading = true;
    const result = await getModels(providerId);
    this.modelsLoading = false;
    if (this.draft?.original.id !== providerId) return;
    if (result.ok) this.models = result.data;
    else this.#report(result.error, "error.context.loadModels");
  }

  async refreshModels(providerId: string): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    const result = await refreshModels(providerId);
    this.refreshing = false;
    if (!result.ok) {
      this.#report(result.error, "error.context.loadModels");
      return;
    }
    if (this.draft?.original.id === providerId) this.models = result.data;
  }

  async toggleFavourite(providerId: string, modelId: string): Promise<void> {
    const favourite = !(this.models?.favourites ?? []).includes(modelId);
    const result = await setFavouriteModel(providerId, modelId, favourite);
    if (!result.ok) {
      this.#report(result.error, "error.context.favourite");
      return;
    }
    if (this.draft?.original.id === providerId) this.models = result.data;
  }

  // ---- Local servers ----

  async findLocal(): Promise<void> {
    if (this.searching) return;
    this.searching = true;
    const result = await findLocalServers();
    this.searching = false;
    if (!result.ok) {
      this.#report(result.error, "error.context.findLocal");
      return;
    }
    this.local = result.data;
  }

  /** One click: a provider of the kind that speaks the server's own API, at its base URL, with its first model. */
  async addLocal(server: LocalServer): Promise<boolean> {
    if (this.adding !== null) return false;
    this.adding = server.port;
    const fresh = await newProvider(server.kind, localServerName(server));
    if (!fresh.ok) {
      this.adding = null;
      this.#report(fresh.error, "error.context.saveProvider");
      return false;
    }
    const config: ProviderConfig = { ...fresh.data, baseUrl: server.kindBaseUrl, defaultModel: server.models[0]?.id ?? "" };
    const result = await saveProvider(config);
    this.adding = null;
    if (!result.ok) {
      this.#report(result.error, "error.context.saveProvider");
      return false;
    }
    this.#put(result.data);
    await this.#reloadList();
    return true;
  }

  /** Whether a found server is already configured (its base URL, or its kind's). */
  isConfigured(server: LocalServer): boolean {
    const trim = (url: string): string => url.replace(/\/+$/, "");
    const urls = [trim(server.baseUrl), trim(server.kindBaseUrl)];
    return this.list.some((p) => urls.includes(trim(p.config.baseUrl)));
  }

  // ---- Usage ----

  async loadUsage(days: number = this.usageDays): Promise<void> {
    this.usageDays = days;
    const generation = ++this.#usageGeneration;
    this.usageLoading = true;
    const result = await getUsage(days);
    if (generation !== this.#usageGeneration) return;
    this.usageLoading = false;
    if (!result.ok) {
      this.#report(result.error, "error.context.usage");
      return;
    }
    this.usage = result.data;
  }
}
