// The provider edit form: the kinds a provider can be, the draft the form
// edits (text as typed, numbers parsed on save), its checks, and the
// configuration it saves as.

import type { LocalServer, ProviderConfig, ProviderKind, Sampler } from "../api";
import { t } from "../i18n/index.svelte";
import { parseNumber, samplerDraftOf, samplerProblems, withSamplers, type SamplerDraft, type SamplerErrorKey, type SamplerProblem } from "./samplers";
import { instructOf, instructValue } from "../connections/instruct";
import { insecureHost } from "./transport";

/** The kinds a new provider can be, grouped as the picker shows them. */
export const PROVIDER_KIND_GROUPS: readonly { id: "cloud" | "localChat" | "localText"; kinds: readonly ProviderKind[] }[] = [
  { id: "cloud", kinds: ["openRouter", "openAi", "anthropic"] },
  { id: "localChat", kinds: ["openAiCompatible"] },
  { id: "localText", kinds: ["koboldCpp", "llamaCpp", "textCompletions"] },
];

export const PROVIDER_KINDS: readonly ProviderKind[] = PROVIDER_KIND_GROUPS.flatMap((group) => group.kinds);

/** Whether the kind cannot be used without an API key (as the core's `requires_key`). */
export function requiresKey(kind: ProviderKind): boolean {
  return kind === "openRouter" || kind === "openAi" || kind === "anthropic";
}

/** Whether the kind takes one rendered prompt rather than chat messages. */
export function isTextCompletion(kind: ProviderKind): boolean {
  return kind === "koboldCpp" || kind === "llamaCpp" || kind === "textCompletions";
}

export type HeaderRow = { id: number; name: string; value: string };

/** The edit form: text fields as typed (numbers are parsed on save). */
export type ProviderDraft = {
  original: ProviderConfig;
  isNew: boolean;
  name: string;
  baseUrl: string;
  defaultModel: string;
  headers: HeaderRow[];
  temperature: string;
  topP: string;
  maxTokens: string;
  /** One stop string per line. */
  stop: string;
  streaming: boolean;
  /** Whether the prompt's stable prefix is marked for the provider's prompt cache. */
  promptCache: boolean;
  /** The advanced samplers as typed. */
  samplers: SamplerDraft;
  /** The samplers the kind accepts, once the core has said (null until then). */
  supported: Sampler[] | null;
  /** The host the user allowed plain http:// to (the key travels unencrypted), if any. */
  insecureAllowedFor: string | null;
  /** A text-completion kind's instruct template: "auto" or "named:<name>". */
  instruct: string;
  /** Its context template by name ("": the default). */
  contextTemplate: string;
};

export type DraftErrors = Partial<Record<"name" | "baseUrl" | "temperature" | "topP" | "maxTokens" | SamplerErrorKey, string>>;

/** A sampler problem in words. */
export function problemText(problem: SamplerProblem): string {
  const params = { min: problem.min ?? 0, max: problem.max ?? 0 };
  return t(`provider.error.${problem.key}`, params);
}

let nextRow = 1;

/** An empty extra-header row of the form. */
export function headerRow(): HeaderRow {
  return { id: nextRow++, name: "", value: "" };
}

function numberText(value: number | null | undefined): string {
  return value === null || value === undefined ? "" : String(value);
}

export function draftOf(config: ProviderConfig, isNew: boolean): ProviderDraft {
  return {
    original: config,
    isNew,
    name: config.name,
    baseUrl: config.baseUrl,
    defaultModel: config.defaultModel,
    headers: Object.entries(config.extraHeaders ?? {}).map(([name, value]) => ({ id: nextRow++, name, value })),
    temperature: numberText(config.generation?.temperature),
    topP: numberText(config.generation?.topP),
    maxTokens: numberText(config.generation?.maxTokens),
    stop: (config.generation?.stop ?? []).join("\n"),
    streaming: config.streaming ?? true,
    promptCache: config.promptCache ?? true,
    samplers: samplerDraftOf(config.generation),
    supported: null,
    insecureAllowedFor: config.allowInsecureHttp ? insecureHost(config.baseUrl) : null,
    instruct: instructValue(config.instruct ?? { type: "auto" }),
    contextTemplate: config.contextTemplate ?? "",
  };
}

/** Whether the draft's plain-http address to a public host has the user's confirmation. */
export function insecureAllowed(draft: ProviderDraft): boolean {
  const host = insecureHost(draft.baseUrl);
  return host !== null && host === draft.insecureAllowedFor;
}

/** Field problems, in words; empty when the draft can be saved. */
export function draftErrors(draft: ProviderDraft): DraftErrors {
  const errors: DraftErrors = {};
  if (draft.name.trim() === "") errors.name = t("provider.error.name");
  if (!/^https?:\/\/\S+$/i.test(draft.baseUrl.trim())) errors.baseUrl = t("provider.error.baseUrl");
  const temperature = parseNumber(draft.temperature);
  if (temperature === "bad" || (temperature !== null && (temperature < 0 || temperature > 2))) {
    errors.temperature = t("provider.error.range", { min: 0, max: 2 });
  }
  const topP = parseNumber(draft.topP);
  if (topP === "bad" || (topP !== null && (topP < 0 || topP > 1))) errors.topP = t("provider.error.range", { min: 0, max: 1 });
  const maxTokens = parseNumber(draft.maxTokens);
  if (maxTokens === "bad" || (maxTokens !== null && (!Number.isInteger(maxTokens) || maxTokens < 1))) {
    errors.maxTokens = t("provider.error.maxTokens");
  }
  if (draft.supported) {
    for (const [key, problem] of Object.entries(samplerProblems(draft.samplers, draft.supported))) {
      errors[key as SamplerErrorKey] = problemText(problem);
    }
  }
  return errors;
}

/** The config a draft saves as (fields the form does not show are kept). */
export function configOf(draft: ProviderDraft): ProviderConfig {
  const num = (text: string): number | null => {
    const value = parseNumber(text);
    return value === "bad" ? null : value;
  };
  const headers: Record<string, string> = {};
  for (const row of draft.headers) if (row.name.trim() !== "") headers[row.name.trim()] = row.value;
  // A plain copy: the draft is deep reactive state, and IPC wants plain data.
  const original = $state.snapshot(draft.original) as ProviderConfig;
  return {
    ...original,
    name: draft.name.trim(),
    baseUrl: draft.baseUrl.trim(),
    defaultModel: draft.defaultModel.trim(),
    extraHeaders: headers,
    generation: withSamplers(
      {
        ...original.generation,
        temperature: num(draft.temperature),
        topP: num(draft.topP),
        maxTokens: num(draft.maxTokens),
        stop: draft.stop
          .split("\n")
          .map((line) => line.replace(/\r$/, ""))
          .filter((line) => line !== ""),
      },
      draft.samplers,
      // Until the core says which the kind accepts, the samplers are kept as they were.
      draft.supported ?? [],
    ),
    streaming: draft.streaming,
    // Only kinds that take cache marks show the switch; others keep what they had.
    ...(takesCacheMarks(original.kind) ? { promptCache: draft.promptCache } : {}),
    // The templates matter to text-completion kinds only; others keep what they had.
    ...(isTextCompletion(original.kind)
      ? { instruct: instructOf(draft.instruct) ?? { type: "auto" as const }, contextTemplate: draft.contextTemplate === "" ? null : draft.contextTemplate }
      : {}),
    // The confirmation holds for the host it was given for; another address asks again.
    ...(insecureAllowed(draft) || original.allowInsecureHttp !== undefined
      ? { allowInsecureHttp: insecureAllowed(draft) }
      : {}),
  };
}

/** A readable name for what a local server probably is. */
export function localServerName(server: LocalServer): string {
  const names: Record<string, string> = {
    ollama: "Ollama",
    "llama.cpp": "llama.cpp",
    koboldcpp: "KoboldCpp",
    "lm-studio": "LM Studio",
    tabbyapi: "TabbyAPI",
    vllm: "vLLM",
  };
  return `${names[server.kindGuess] ?? t("provider.local.generic")} :${server.port}`;
}

/** Whether a provider kind takes prompt-cache marks (Anthropic; Claude and Gemini through OpenRouter). */
export function takesCacheMarks(kind: ProviderKind): boolean {
  return kind === "anthropic" || kind === "openRouter";
}
