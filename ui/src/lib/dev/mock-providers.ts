// A fake provider backend for the dev mock and the tests: configured
// providers, where their keys are kept (never the keys themselves in any
// answer), cached model lists with favourites, each session's model choice,
// local servers and the usage report.

import type {
  ApiError,
  GenerationSettings,
  JsonValue,
  KeyStatus,
  KeyStorage,
  LocalServer,
  ModelInfo,
  ModelList,
  PromptMessage,
  Provider,
  ProviderConfig,
  ProviderKind,
  Sampler,
  SessionModel,
  TextTurn,
  UsageReport,
} from "../api";
import { insecureHost } from "../providers/transport";
import { MockConnections } from "./mock-connections";

export type ProviderSetup = {
  /** Where the OS keyring answers (false: set_api_key with "keyring" fails with keyring_unavailable). */
  keyring?: boolean;
  /** Whether CONFAB_ENCRYPTION_KEY is set. */
  encrypted?: boolean;
  /** Models each new provider's refresh finds, by kind. */
  catalog?: (kind: ProviderKind) => ModelInfo[];
  localServers?: LocalServer[];
  usage?: (days: number) => UsageReport;
};

type Stored = {
  config: ProviderConfig;
  key: KeyStatus;
  models: ModelInfo[];
  favourites: Set<string>;
  fetchedAt: number | null;
};

const BASE_URLS: Record<ProviderKind, string> = {
  openRouter: "https://openrouter.ai/api/v1",
  openAi: "https://api.openai.com/v1",
  anthropic: "https://api.anthropic.com/v1",
  openAiCompatible: "http://127.0.0.1:8080/v1",
  koboldCpp: "http://127.0.0.1:5001",
  llamaCpp: "http://127.0.0.1:8080",
  textCompletions: "http://127.0.0.1:5000/v1",
};

const BASIC: Sampler[] = ["temperature", "topP", "maxTokens", "stop"];
const OPENAI: Sampler[] = [...BASIC, "presencePenalty", "frequencyPenalty", "seed"];

/** The samplers each kind accepts: the same lists as the core's `supported_samplers` (llm/samplers.rs). */
export const SUPPORTED_SAMPLERS: Record<ProviderKind, readonly Sampler[]> = {
  openAi: OPENAI,
  openAiCompatible: OPENAI,
  openRouter: [...BASIC, "topK", "minP", "repetitionPenalty", "presencePenalty", "frequencyPenalty", "seed"],
  anthropic: [...BASIC, "topK"],
  koboldCpp: [
    ...BASIC,
    ...(["topK", "minP", "typicalP", "repetitionPenalty", "repetitionPenaltyRange", "repetitionPenaltySlope", "presencePenalty"] as const),
    ...(["dry", "xtc", "mirostat", "seed", "grammar"] as const),
  ],
  llamaCpp: [
    ...BASIC,
    ...(["topK", "minP", "typicalP", "repetitionPenalty", "repetitionPenaltyRange", "presencePenalty", "frequencyPenalty"] as const),
    ...(["dry", "xtc", "mirostat", "seed", "grammar", "jsonSchema"] as const),
  ],
  textCompletions: [
    ...BASIC,
    ...(["topK", "minP", "typicalP", "repetitionPenalty", "presencePenalty", "frequencyPenalty", "dry", "xtc", "mirostat", "seed"] as const),
  ],
};

/** The kinds usable without a key (the core's `requires_key` is false). */
const KEYLESS: readonly ProviderKind[] = ["openAiCompatible", "koboldCpp", "llamaCpp", "textCompletions"];

/** A few of the core's range checks (providers/validate.rs), in its words. */
function samplerProblem(g: GenerationSettings): string | null {
  const outside = (value: number | null | undefined, lo: number, hi: number): boolean => value !== null && value !== undefined && (value < lo || value > hi);
  if (outside(g.minP, 0, 1)) return "min-p must be between 0 and 1";
  if (outside(g.typicalP, 0, 1)) return "typical-p must be between 0 and 1";
  if (outside(g.repetitionPenalty, 0, 10)) return "the repetition penalty must be between 0 and 10";
  if (outside(g.dry?.multiplier, 0, 100)) return "the DRY multiplier must be between 0 and 100";
  if (outside(g.xtc?.threshold, 0, 1)) return "the XTC threshold must be between 0 and 1";
  return null;
}

function reject(code: ApiError["code"], message: string): Promise<never> {
  const error: ApiError = { code, message };
  return Promise.reject(error);
}

export function model(id: string, contextLength: number | null = 8192, prices: [number, number] | null = null): ModelInfo {
  return {
    id,
    name: id.split("/").pop() ?? id,
    contextLength,
    promptPricePerMillion: prices?.[0] ?? null,
    completionPricePerMillion: prices?.[1] ?? null,
  };
}

export class MockProviders {
  providers = new Map<string, Stored>();
  /** Keys as set, so tests can check one arrived (never returned by any command). */
  keys = new Map<string, string>();
  defaultId: string | null = null;
  sessionChoices = new Map<string, { providerId: string | null; model: string | null }>();
  keyring: boolean;
  encrypted: boolean;
  localServers: LocalServer[];
  /** Profiles, pins, the chats' profiles and the template library. */
  connections = new MockConnections();
  /** The character of a chat (its pins apply); set by whoever owns the chats. */
  sessionCharacter: (sessionId: string) => string | null = () => null;
  #catalog: (kind: ProviderKind) => ModelInfo[];
  #usage: (days: number) => UsageReport;
  #next = 1;

  constructor(setup: ProviderSetup = {}) {
    this.keyring = setup.keyring ?? true;
    this.encrypted = setup.encrypted ?? false;
    this.localServers = setup.localServers ?? [];
    this.#catalog = setup.catalog ?? (() => [model("mock-small", 8192), model("mock-large", 131072)]);
    this.#usage = setup.usage ?? (() => ({ rows: [], outcomes: [] }));
  }

  /** A saved provider (tests and the dev mock); the first becomes the default. */
  add(
    fields: Partial<ProviderConfig> & { name: string; kind: ProviderKind },
    extra: { key?: KeyStorage | null; models?: ModelInfo[]; favourites?: string[] } = {},
  ): ProviderConfig {
    const config: ProviderConfig = { ...this.#fresh(fields.kind, fields.name), ...fields };
    this.providers.set(config.id, {
      config,
      key: extra.key ? { set: true, storage: extra.key } : { set: false, storage: null },
      models: extra.models ?? [],
      favourites: new Set(extra.favourites ?? []),
      fetchedAt: extra.models ? Date.UTC(2026, 0, 1) : null,
    });
    this.defaultId ??= config.id;
    return config;
  }

  #fresh(kind: ProviderKind, name: string): ProviderConfig {
    return {
      id: `prov-${this.#next++}`,
      name,
      kind,
      baseUrl: BASE_URLS[kind],
      defaultModel: "",
      extraHeaders: kind === "openRouter" ? { "HTTP-Referer": "https://github.com/confab-app/confab", "X-Title": "Confab" } : {},
      generation: { temperature: null, topP: null, maxTokens: null, stop: [] },
      streaming: true,
    };
  }

  #provider(stored: Stored): Provider {
    return { config: structuredClone(stored.config), key: { ...stored.key }, isDefault: stored.config.id === this.defaultId };
  }

  #list(stored: Stored): ModelList {
    const favourites = [...stored.favourites];
    const sorted = [...stored.models].sort((a, b) => {
      const fa = stored.favourites.has(a.id) ? 0 : 1;
      const fb = stored.favourites.has(b.id) ? 0 : 1;
      return fa - fb || a.name.localeCompare(b.name);
    });
    return { providerId: stored.config.id, models: sorted, favourites, fetchedAt: stored.fetchedAt };
  }

  /** The profile in force and who chose it: the chat's own; none when the chat chose a provider or model; else its character's pin. */
  #profileInForce(sessionId: string): { id: string; source: "chat" | "character" } | null {
    const own = this.connections.sessionProfiles.get(sessionId);
    if (own !== undefined && this.connections.profiles.has(own)) return { id: own, source: "chat" };
    const choice = this.sessionChoices.get(sessionId);
    if (choice && (choice.providerId !== null || choice.model !== null)) return null;
    const pinned = this.connections.pinsOf(this.sessionCharacter(sessionId)).profileId;
    return pinned !== null && this.connections.profiles.has(pinned) ? { id: pinned, source: "character" } : null;
  }

  #sessionModel(sessionId: string): SessionModel {
    const inForce = this.#profileInForce(sessionId);
    const profile = inForce ? this.connections.profiles.get(inForce.id)! : null;
    const choice = profile ? { providerId: null, model: null } : (this.sessionChoices.get(sessionId) ?? { providerId: null, model: null });
    const chosen = profile ? this.providers.get(profile.providerId) : choice.providerId ? this.providers.get(choice.providerId) : undefined;
    const stored = chosen ?? (this.defaultId ? this.providers.get(this.defaultId) : undefined);
    const name = stored ? (profile?.model ?? choice.model ?? stored.config.defaultModel) : "";
    // As the core: KoboldCpp and llama.cpp reply with the model they loaded when none is named.
    const serverModel = name === "" && stored !== undefined && ["koboldCpp", "llamaCpp"].includes(stored.config.kind);
    const listed = stored?.models ?? [];
    return {
      chosenProviderId: choice.providerId,
      chosenModel: choice.model,
      providerId: stored?.config.id ?? null,
      providerName: stored?.config.name ?? null,
      model: name,
      contextLength: serverModel ? null : (listed.find((m) => m.id === name)?.contextLength ?? null),
      serverModel,
      loadedModel: serverModel && listed.length === 1 ? (listed[0]?.id ?? null) : null,
      profileId: profile?.id ?? null,
      profileName: profile?.name ?? null,
      profileSource: inForce?.source ?? null,
    };
  }

  /**
   * For a session replying through a text-completion provider: the text
   * prompt of `messages` and the body the backend would get; null otherwise.
   */
  textPrompt(sessionId: string, messages: readonly PromptMessage[], names: { user: string; character: string }, maxTokens: number): { turn: TextTurn; body: JsonValue } | null {
    const current = this.#sessionModel(sessionId);
    const stored = current.providerId ? this.providers.get(current.providerId) : undefined;
    if (!stored || !["koboldCpp", "llamaCpp", "textCompletions"].includes(stored.config.kind)) return null;
    const profile = current.profileId ? (this.connections.profiles.get(current.profileId) ?? null) : null;
    const turn = this.connections.textTurn(stored.config, current.model, profile, this.sessionCharacter(sessionId), messages, names);
    return { turn, body: MockConnections.textBody(stored.config, current.model, turn, maxTokens) };
  }

  /** Answers a provider command, or undefined when `cmd` is not one. */
  handle(cmd: string, a: Record<string, unknown>): unknown {
    const get = (): Stored | undefined => this.providers.get(a["providerId"] as string);
    const connection = this.connections.handle(cmd, a, (id) => this.providers.has(id));
    if (connection !== undefined) return connection;
    switch (cmd) {
      case "list_providers":
        return [...this.providers.values()].map((p) => this.#provider(p));
      case "provider_samplers":
        return [...SUPPORTED_SAMPLERS[a["kind"] as ProviderKind]];
      case "new_provider":
        return this.#fresh(a["kind"] as ProviderKind, a["name"] as string);
      case "save_provider": {
        const config = structuredClone(a["config"] as ProviderConfig);
        if (config.name.trim() === "") return reject("invalid_input", "a provider needs a name");
        if (!/^https?:\/\//.test(config.baseUrl)) return reject("invalid_input", `the base URL ${config.baseUrl} is not an http(s) URL`);
        const problem = samplerProblem(config.generation ?? {});
        if (problem !== null) return reject("invalid_input", problem);
        const host = insecureHost(config.baseUrl);
        if (host !== null && !config.allowInsecureHttp) {
          return reject("invalid_input", `the address of ${config.name} is plain http:// to ${host}, so the API key would travel unencrypted`);
        }
        const old = this.providers.get(config.id);
        const stored: Stored = old
          ? { ...old, config }
          : { config, key: { set: false, storage: null }, models: [], favourites: new Set(), fetchedAt: null };
        this.providers.set(config.id, stored);
        this.defaultId ??= config.id;
        return this.#provider(stored);
      }
      case "delete_provider": {
        const id = a["providerId"] as string;
        if (!this.providers.delete(id)) return reject("not_found", "provider not found");
        this.keys.delete(id);
        for (const profile of [...this.connections.profiles.values()]) if (profile.providerId === id) this.connections.handle("delete_profile", { profileId: profile.id }, () => true);
        if (this.defaultId === id) this.defaultId = this.providers.keys().next().value ?? null;
        return null;
      }
      case "set_default_provider": {
        const stored = get();
        if (!stored) return reject("not_found", "provider not found");
        this.defaultId = stored.config.id;
        return null;
      }
      case "set_api_key": {
        const stored = get();
        if (!stored) return reject("not_found", "provider not found");
        const storage = a["storage"] as KeyStorage;
        const key = a["key"] as string;
        if (key.trim() === "") return reject("invalid_input", "the key is empty");
        if (storage === "keyring" && !this.keyring) {
          return reject("keyring_unavailable", "no Secret Service provider answered on the session bus");
        }
        if (storage === "encrypted" && !this.encrypted) {
          return reject("invalid_input", "CONFAB_ENCRYPTION_KEY is not set");
        }
        this.keys.set(stored.config.id, key);
        stored.key = { set: true, storage };
        return { ...stored.key };
      }
      case "delete_api_key": {
        const stored = get();
        if (!stored) return reject("not_found", "provider not found");
        this.keys.delete(stored.config.id);
        stored.key = { set: false, storage: null };
        return { ...stored.key };
      }
      case "test_api_key": {
        const stored = get();
        if (!stored) return reject("not_found", "provider not found");
        if (!stored.key.set && !KEYLESS.includes(stored.config.kind)) return reject("unauthorized", "no API key is set");
        if (stored.models.length === 0) stored.models = this.#catalog(stored.config.kind);
        stored.fetchedAt = Date.now();
        return stored.models.length;
      }
      case "key_storage_options":
        return { keyring: this.keyring, encrypted: this.encrypted };
      case "get_models": {
        const stored = get();
        return stored ? this.#list(stored) : reject("not_found", "provider not found");
      }
      case "refresh_models": {
        const stored = get();
        if (!stored) return reject("not_found", "provider not found");
        stored.models = this.#catalog(stored.config.kind);
        stored.fetchedAt = Date.now();
        return this.#list(stored);
      }
      case "set_favourite_model": {
        const stored = get();
        if (!stored) return reject("not_found", "provider not found");
        const id = a["modelId"] as string;
        if (a["favourite"] === true) stored.favourites.add(id);
        else stored.favourites.delete(id);
        return this.#list(stored);
      }
      case "find_local_servers":
        return structuredClone(this.localServers);
      case "get_session_model":
        return this.#sessionModel(a["sessionId"] as string);
      case "set_session_model": {
        const providerId = (a["providerId"] as string | null) ?? null;
        if (providerId !== null && !this.providers.has(providerId)) return reject("not_found", "provider not found");
        this.sessionChoices.set(a["sessionId"] as string, { providerId, model: (a["model"] as string | null) ?? null });
        // A chat's own choice of model lets its profile go.
        this.connections.sessionProfiles.delete(a["sessionId"] as string);
        return this.#sessionModel(a["sessionId"] as string);
      }
      case "use_profile": {
        const sessionId = a["sessionId"] as string;
        const profileId = (a["profileId"] as string | null) ?? null;
        if (profileId === null) {
          this.connections.sessionProfiles.delete(sessionId);
        } else {
          if (!this.connections.profiles.has(profileId)) return reject("not_found", "profile not found");
          this.connections.sessionProfiles.set(sessionId, profileId);
        }
        return this.#sessionModel(sessionId);
      }
      case "get_usage":
        return this.#usage(a["days"] as number);
      default:
        return undefined;
    }
  }
}
