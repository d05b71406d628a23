// Providers, their keys and models, local model servers, the model a session
// replies with, and usage.

import { commands } from "../bindings";
import { call, type ApiResult } from "./call";
import type {
  GenerationSettings,
  KeyStatus,
  KeyStorage,
  KeyStorageOptions,
  LocalServer,
  ModelInfo,
  ModelList,
  OutcomeRow,
  Provider,
  ProviderConfig,
  ProviderKind,
  Sampler,
  SessionModel,
  UsageReport,
  UsageRow,
} from "../bindings";

export type {
  GenerationSettings,
  KeyStatus,
  KeyStorage,
  KeyStorageOptions,
  LocalServer,
  ModelInfo,
  ModelList,
  OutcomeRow,
  Provider,
  ProviderConfig,
  ProviderKind,
  Sampler,
  SessionModel,
  UsageReport,
  UsageRow,
};

export function listProviders(): Promise<ApiResult<Provider[]>> {
  return call(() => commands.listProviders());
}

/** A new, unsaved provider of `kind` with its defaults (base URL, headers) filled in. */
export function newProvider(kind: ProviderKind, name: string): Promise<ApiResult<ProviderConfig>> {
  return call(async () => ({ status: "ok" as const, data: await commands.newProvider(kind, name) }));
}

/** The sampling settings `kind`'s backend accepts (the editor shows only those). */
export function providerSamplers(kind: ProviderKind): Promise<ApiResult<Sampler[]>> {
  return call(async () => ({ status: "ok" as const, data: await commands.providerSamplers(kind) }));
}

export function saveProvider(config: ProviderConfig): Promise<ApiResult<Provider>> {
  return call(() => commands.saveProvider(config));
}

/** Deletes the provider and its key. */
export function deleteProvider(providerId: string): Promise<ApiResult<null>> {
  return call(() => commands.deleteProvider(providerId));
}

export function setDefaultProvider(providerId: string): Promise<ApiResult<null>> {
  return call(() => commands.setDefaultProvider(providerId));
}

/** Stores the key in `storage`; the answer says only whether and where a key is kept. */
export function setApiKey(providerId: string, key: string, storage: KeyStorage): Promise<ApiResult<KeyStatus>> {
  return call(() => commands.setApiKey(providerId, key, storage));
}

export function deleteApiKey(providerId: string): Promise<ApiResult<KeyStatus>> {
  return call(() => commands.deleteApiKey(providerId));
}

/** Asks the provider whether it accepts the key; answers how many models it offers. */
export function testApiKey(providerId: string): Promise<ApiResult<number>> {
  return call(() => commands.testApiKey(providerId));
}

export function keyStorageOptions(): Promise<ApiResult<KeyStorageOptions>> {
  return call(() => commands.keyStorageOptions());
}

/** The cached model list (favourites first). */
export function getModels(providerId: string): Promise<ApiResult<ModelList>> {
  return call(() => commands.getModels(providerId));
}

/** Fetches the provider's model list again. */
export function refreshModels(providerId: string): Promise<ApiResult<ModelList>> {
  return call(() => commands.refreshModels(providerId));
}

export function setFavouriteModel(providerId: string, modelId: string, favourite: boolean): Promise<ApiResult<ModelList>> {
  return call(() => commands.setFavouriteModel(providerId, modelId, favourite));
}

/** Model servers answering on the usual loopback ports. */
export function findLocalServers(): Promise<ApiResult<LocalServer[]>> {
  return call(async () => ({ status: "ok" as const, data: await commands.findLocalServers() }));
}

/** The provider and model the session replies with (`providerId` null: none is configured). */
export function getSessionModel(sessionId: string): Promise<ApiResult<SessionModel>> {
  return call(() => commands.getSessionModel(sessionId));
}

/** `null`s go back to the defaults (the default provider, the provider's default model). */
export function setSessionModel(sessionId: string, providerId: string | null, model: string | null): Promise<ApiResult<SessionModel>> {
  return call(() => commands.setSessionModel(sessionId, providerId, model));
}

/** Tokens, cost, failures and cancellations over the last `days` days. */
export function getUsage(days: number): Promise<ApiResult<UsageReport>> {
  return call(() => commands.getUsage(days));
}
