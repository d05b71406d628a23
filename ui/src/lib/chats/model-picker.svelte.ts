// The conversation header's model picker: configured providers and the
// cached model list of the one being browsed (favourites pinned on top),
// with a star to pin or unpin a model. Choosing goes through the
// conversation (set_session_model).

import {
  getModels,
  listProviders,
  refreshModels,
  setFavouriteModel,
  type ModelInfo,
  type ModelList,
  type Provider,
  type SessionModel,
} from "../api";
import type { Reporter } from "../library/library.svelte";

export class ModelPicker {
  providers = $state.raw<readonly Provider[]>([]);
  /** The provider whose models are listed ("" is the default provider). */
  browsing = $state("");
  list = $state.raw<ModelList | null>(null);
  loading = $state(false);
  loadingModels = $state(false);
  refreshing = $state(false);
  filter = $state("");
  #report: Reporter;
  #generation = 0;

  constructor(report: Reporter) {
    this.#report = report;
  }

  get defaultProvider(): Provider | null {
    return this.providers.find((p) => p.isDefault) ?? this.providers[0] ?? null;
  }

  /** The provider being browsed, resolved ("" means the default one). */
  get provider(): Provider | null {
    return this.browsing === "" ? this.defaultProvider : (this.providers.find((p) => p.config.id === this.browsing) ?? null);
  }

  get favourites(): ReadonlySet<string> {
    return new Set(this.list?.favourites ?? []);
  }

  /** The listed models matching the filter: favourites, then the rest. */
  get shown(): { favourites: ModelInfo[]; others: ModelInfo[] } {
    const words = this.filter.trim().toLowerCase();
    const favourites = this.favourites;
    const models = (this.list?.models ?? []).filter(
      (m) => words === "" || m.id.toLowerCase().includes(words) || m.name.toLowerCase().includes(words),
    );
    return { favourites: models.filter((m) => favourites.has(m.id)), others: models.filter((m) => !favourites.has(m.id)) };
  }

  /** Loads the providers and the models of the one the session uses. */
  async load(current: SessionModel | null): Promise<void> {
    this.loading = true;
    const result = await listProviders();
    this.loading = false;
    if (!result.ok) {
      this.#report(result.error, "error.context.loadProviders");
      return;
    }
    this.providers = result.data;
    await this.browse(current?.chosenProviderId ?? "");
  }

  async browse(providerId: string): Promise<void> {
    this.browsing = providerId;
    const provider = this.provider;
    const generation = ++this.#generation;
    if (!provider) {
      this.list = null;
      return;
    }
    this.loadingModels = true;
    const result = await getModels(provider.config.id);
    if (generation !== this.#generation) return;
    this.loadingModels = false;
    if (!result.ok) {
      this.list = null;
      this.#report(result.error, "error.context.loadModels");
      return;
    }
    this.list = result.data;
  }

  async refresh(): Promise<void> {
    const provider = this.provider;
    if (!provider || this.refreshing) return;
    this.refreshing = true;
    const result = await refreshModels(provider.config.id);
    this.refreshing = false;
    if (!result.ok) {
      this.#report(result.error, "error.context.loadModels");
      return;
    }
    if (this.provider?.config.id === provider.config.id) this.list = result.data;
  }

  async toggleFavourite(modelId: string): Promise<void> {
    const provider = this.provider;
    if (!provider) return;
    const result = await setFavouriteModel(provider.config.id, modelId, !this.favourites.has(modelId));
    if (!result.ok) {
      this.#report(result.error, "error.context.favourite");
      return;
    }
    if (this.provider?.config.id === provider.config.id) this.list = result.data;
  }
}

/** A context window as people say it: 8K, 128K, 1M. */
export function contextLabel(tokens: number): string {
  if (tokens >= 1_000_000) return `${Math.round((tokens / 1_000_000) * 10) / 10}M`;
  if (tokens >= 1000) return `${Math.round(tokens / 1024) === tokens / 1024 ? tokens / 1024 : Math.round(tokens / 1000)}K`;
  return String(tokens);
}
