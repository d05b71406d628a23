// A connection profile's edit form: the text as typed, its checks, and the
// profile it saves as (only the samplers set are kept; unset ones stay the
// provider's).

import type { ConnectionProfile, GenerationSettings, Sampler } from "../api";
import { instructOf, instructValue } from "./instruct";
import { t } from "../i18n/index.svelte";
import { problemText } from "../providers/draft.svelte";
import { parseNumber, samplerDraftOf, samplerProblems, withSamplers, type SamplerDraft, type SamplerErrorKey } from "../providers/samplers";

export type ProfileDraft = {
  original: ConnectionProfile;
  isNew: boolean;
  name: string;
  providerId: string;
  model: string;
  /** See instructValue. */
  instruct: string;
  /** "" is the provider's choice. */
  contextTemplate: string;
  temperature: string;
  topP: string;
  maxTokens: string;
  samplers: SamplerDraft;
  /** The samplers the provider's kind accepts, once known. */
  supported: Sampler[] | null;
};

export type ProfileErrors = Partial<Record<"name" | "providerId" | "model" | "temperature" | "topP" | "maxTokens" | SamplerErrorKey, string>>;

const text = (value: number | null | undefined): string => (value === null || value === undefined ? "" : String(value));

export function emptyProfile(providerId: string): ConnectionProfile {
  return { id: "", name: "", providerId, model: null, instruct: null, contextTemplate: null, generation: {} };
}

export function profileDraftOf(profile: ConnectionProfile, isNew: boolean): ProfileDraft {
  return {
    original: profile,
    isNew,
    name: profile.name,
    providerId: profile.providerId,
    model: profile.model ?? "",
    instruct: instructValue(profile.instruct),
    contextTemplate: profile.contextTemplate ?? "",
    temperature: text(profile.generation?.temperature),
    topP: text(profile.generation?.topP),
    maxTokens: text(profile.generation?.maxTokens),
    samplers: samplerDraftOf(profile.generation),
    supported: null,
  };
}

export function profileErrors(draft: ProfileDraft): ProfileErrors {
  const errors: ProfileErrors = {};
  if (draft.name.trim() === "") errors.name = t("profile.error.name");
  if (draft.providerId === "") errors.providerId = t("profile.error.provider");
  const temperature = parseNumber(draft.temperature);
  if (temperature === "bad" || (temperature !== null && (temperature < 0 || temperature > 2))) errors.temperature = t("provider.error.range", { min: 0, max: 2 });
  const topP = parseNumber(draft.topP);
  if (topP === "bad" || (topP !== null && (topP < 0 || topP > 1))) errors.topP = t("provider.error.range", { min: 0, max: 1 });
  const maxTokens = parseNumber(draft.maxTokens);
  if (maxTokens === "bad" || (maxTokens !== null && (!Number.isInteger(maxTokens) || maxTokens < 1))) errors.maxTokens = t("provider.error.maxTokens");
  if (draft.supported) {
    for (const [key, problem] of Object.entries(samplerProblems(draft.samplers, draft.supported))) errors[key as SamplerErrorKey] = problemText(problem);
  }
  return errors;
}

/** The profile a draft saves as: only the settings given are kept. */
export function profileOf(draft: ProfileDraft, original: ConnectionProfile): ConnectionProfile {
  const num = (value: string): number | null => {
    const parsed = parseNumber(value);
    return parsed === "bad" ? null : parsed;
  };
  const base: GenerationSettings = { ...(original.generation ?? {}) };
  delete base.temperature;
  delete base.topP;
  delete base.maxTokens;
  for (const [key, value] of [["temperature", num(draft.temperature)], ["topP", num(draft.topP)], ["maxTokens", num(draft.maxTokens)]] as const) {
    if (value !== null) base[key] = value;
  }
  const generation = withSamplers(base, draft.samplers, draft.supported ?? []);
  for (const key of Object.keys(generation) as (keyof GenerationSettings)[]) {
    const value = generation[key];
    if (value === null || value === undefined || (Array.isArray(value) && value.length === 0)) delete generation[key];
  }
  return {
    ...original,
    name: draft.name.trim(),
    providerId: draft.providerId,
    model: draft.model.trim() === "" ? null : draft.model.trim(),
    instruct: instructOf(draft.instruct),
    contextTemplate: draft.contextTemplate === "" ? null : draft.contextTemplate,
    generation,
  };
}
