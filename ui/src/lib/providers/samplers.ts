// The provider editor's "Advanced samplers": the settings beyond temperature,
// top-p, max tokens and stop strings. Which ones a kind's backend accepts
// comes from the core (provider_samplers); the form keeps text as typed and is
// checked against the core's ranges (crates/core/src/providers/validate.rs);
// an empty field is not sent.

import type { GenerationSettings, Sampler } from "../api";

export type NumberSpec = { readonly min: number; readonly max: number; readonly step: number; readonly integer: boolean };

const real = (min: number, max: number, step: number): NumberSpec => ({ min, max, step, integer: false });
const whole = (min: number, max: number): NumberSpec => ({ min, max, step: 1, integer: true });

/** The samplers that are one number, in the order shown, with the core's ranges. */
export const NUMBER_SAMPLERS = {
  topK: whole(0, 100_000),
  minP: real(0, 1, 0.01),
  typicalP: real(0, 1, 0.01),
  repetitionPenalty: real(0, 10, 0.01),
  repetitionPenaltyRange: whole(0, 1_048_576),
  repetitionPenaltySlope: real(0, 10, 0.1),
  presencePenalty: real(-2, 2, 0.05),
  frequencyPenalty: real(-2, 2, 0.05),
  seed: whole(0, 4_294_967_295),
} as const satisfies Partial<Record<Sampler, NumberSpec>>;

export type NumberSampler = keyof typeof NUMBER_SAMPLERS;
export const NUMBER_SAMPLER_NAMES = Object.keys(NUMBER_SAMPLERS) as NumberSampler[];

export const DRY_FIELDS = { multiplier: real(0, 100, 0.05), base: real(1, 100, 0.05), allowedLength: whole(0, 1000) } as const;
export const XTC_FIELDS = { threshold: real(0, 1, 0.01), probability: real(0, 1, 0.01) } as const;
export const MIROSTAT_FIELDS = { tau: real(0, 100, 0.1), eta: real(0, 10, 0.01) } as const;

/** The settings each kind sends whatever it is, shown with the basic fields. */
export const BASIC_SAMPLERS: readonly Sampler[] = ["temperature", "topP", "maxTokens", "stop"];

/** The most DRY sequence breakers, and the longest one (as in the core). */
export const MAX_SEQUENCE_BREAKERS = 64;
const MAX_BREAKER_CHARS = 200;
/** The longest grammar or JSON schema, in bytes. */
const MAX_GRAMMAR_BYTES = 64 * 1024;

export type BreakerRow = { id: number; text: string };

/** The form: numbers as typed, groups with their own on/off. */
export type SamplerDraft = {
  numbers: Record<NumberSampler, string>;
  dry: { on: boolean; multiplier: string; base: string; allowedLength: string; breakers: BreakerRow[] };
  xtc: { on: boolean; threshold: string; probability: string };
  mirostat: { on: boolean; mode: 1 | 2; tau: string; eta: string };
  grammar: string;
  jsonSchema: string;
  /** Number fields whose text the browser could not read as a number (the field keeps its last good value). */
  bad: Partial<Record<SamplerErrorKey, true>>;
};

export type SamplerErrorKey =
  | NumberSampler
  | "dry.multiplier"
  | "dry.base"
  | "dry.allowedLength"
  | "dry.breakers"
  | "xtc.threshold"
  | "xtc.probability"
  | "mirostat.tau"
  | "mirostat.eta"
  | "grammar"
  | "jsonSchema";

/** A problem, as a message key with its parameters (translated by the caller). */
export type SamplerProblem = { key: "range" | "whole" | "required" | "breakers" | "tooLong" | "json"; min?: number; max?: number };

// The defaults the core, KoboldCpp, llama.cpp and SillyTavern share; XTC's are
// SillyTavern's suggestion (the core's struct default, 0, would do nothing).
const DRY_DEFAULTS = { multiplier: 0.8, base: 1.75, allowedLength: 2, sequenceBreakers: ["\n", ":", '"', "*"] };
const XTC_DEFAULTS = { threshold: 0.1, probability: 0.5 };
const MIROSTAT_DEFAULTS = { mode: 2 as const, tau: 5, eta: 0.1 };

let nextBreaker = 1;

const text = (value: number | null | undefined): string => (value === null || value === undefined ? "" : String(value));

/** A breaker as one line: a line break shows as \n, a tab as \t, a backslash as \\. */
export function escapeBreaker(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\t/g, "\\t").replace(/\r/g, "\\r");
}

export function unescapeBreaker(value: string): string {
  return value.replace(/\\([\\ntr])/g, (_, c: string) => ({ n: "\n", t: "\t", r: "\r", "\\": "\\" })[c] ?? c);
}

export function breakerRow(value = ""): BreakerRow {
  return { id: nextBreaker++, text: escapeBreaker(value) };
}

export function samplerDraftOf(g: GenerationSettings | undefined): SamplerDraft {
  const numbers = Object.fromEntries(NUMBER_SAMPLER_NAMES.map((name) => [name, text(g?.[name])])) as Record<NumberSampler, string>;
  const dry = g?.dry ?? null;
  const xtc = g?.xtc ?? null;
  const mirostat = g?.mirostat ?? null;
  const mirostatOn = mirostat !== null && (mirostat.mode ?? MIROSTAT_DEFAULTS.mode) !== 0;
  return {
    numbers,
    dry: {
      on: dry !== null,
      multiplier: text(dry?.multiplier ?? DRY_DEFAULTS.multiplier),
      base: text(dry?.base ?? DRY_DEFAULTS.base),
      allowedLength: text(dry?.allowedLength ?? DRY_DEFAULTS.allowedLength),
      breakers: (dry?.sequenceBreakers ?? DRY_DEFAULTS.sequenceBreakers).map((b) => breakerRow(b)),
    },
    xtc: { on: xtc !== null, threshold: text(xtc?.threshold ?? XTC_DEFAULTS.threshold), probability: text(xtc?.probability ?? XTC_DEFAULTS.probability) },
    mirostat: {
      on: mirostatOn,
      mode: mirostatOn && mirostat?.mode === 1 ? 1 : 2,
      tau: text(mirostat?.tau ?? MIROSTAT_DEFAULTS.tau),
      eta: text(mirostat?.eta ?? MIROSTAT_DEFAULTS.eta),
    },
    grammar: g?.grammar ?? "",
    jsonSchema: g?.jsonSchema ?? "",
    bad: {},
  };
}

/** The range of a number field. */
export function specOf(key: SamplerErrorKey): NumberSpec | null {
  const [group, name] = key.split(".") as [string, string | undefined];
  if (name === undefined) return key in NUMBER_SAMPLERS ? NUMBER_SAMPLERS[key as NumberSampler] : null;
  const fields: Record<string, Record<string, NumberSpec>> = { dry: DRY_FIELDS, xtc: XTC_FIELDS, mirostat: MIROSTAT_FIELDS };
  return fields[group]?.[name] ?? null;
}

/** The sampler a field belongs to ("dry.base" → "dry"). */
export function samplerOfField(key: SamplerErrorKey | "temperature" | "topP" | "maxTokens"): Sampler {
  return key.split(".")[0] as Sampler;
}

/** The typed number: null when empty, "bad" when not a number. */
export function parseNumber(value: string): number | null | "bad" {
  const trimmed = value.trim().replace(",", ".");
  if (trimmed === "") return null;
  const parsed = Number(trimmed);
  return Number.isFinite(parsed) ? parsed : "bad";
}

function checkNumber(value: string, spec: NumberSpec, required: boolean): SamplerProblem | null {
  const parsed = parseNumber(value);
  if (parsed === null) return required ? { key: "required" } : null;
  if (parsed === "bad" || parsed < spec.min || parsed > spec.max) return { key: "range", min: spec.min, max: spec.max };
  if (spec.integer && !Number.isInteger(parsed)) return { key: "whole", min: spec.min, max: spec.max };
  return null;
}

const bytes = (value: string): number => new TextEncoder().encode(value).length;

/** What is wrong with the fields of the samplers `supported` (others are hidden and left alone). */
export function samplerProblems(draft: SamplerDraft, supported: readonly Sampler[]): Partial<Record<SamplerErrorKey, SamplerProblem>> {
  const problems: Partial<Record<SamplerErrorKey, SamplerProblem>> = {};
  const put = (key: SamplerErrorKey, problem: SamplerProblem | null): void => {
    if (problem) problems[key] = problem;
  };
  for (const name of NUMBER_SAMPLER_NAMES) {
    if (supported.includes(name)) put(name, checkNumber(draft.numbers[name], NUMBER_SAMPLERS[name], false));
  }
  const groupOn = { dry: draft.dry.on, xtc: draft.xtc.on, mirostat: draft.mirostat.on } as Record<string, boolean>;
  if (supported.includes("dry") && draft.dry.on) {
    put("dry.multiplier", checkNumber(draft.dry.multiplier, DRY_FIELDS.multiplier, true));
    put("dry.base", checkNumber(draft.dry.base, DRY_FIELDS.base, true));
    put("dry.allowedLength", checkNumber(draft.dry.allowedLength, DRY_FIELDS.allowedLength, true));
    const breakers = draft.dry.breakers.map((row) => unescapeBreaker(row.text)).filter((b) => b !== "");
    if (breakers.length > MAX_SEQUENCE_BREAKERS || breakers.some((b) => [...b].length > MAX_BREAKER_CHARS)) {
      put("dry.breakers", { key: "breakers", max: MAX_SEQUENCE_BREAKERS });
    }
  }
  if (supported.includes("xtc") && draft.xtc.on) {
    put("xtc.threshold", checkNumber(draft.xtc.threshold, XTC_FIELDS.threshold, true));
    put("xtc.probability", checkNumber(draft.xtc.probability, XTC_FIELDS.probability, true));
  }
  if (supported.includes("mirostat") && draft.mirostat.on) {
    put("mirostat.tau", checkNumber(draft.mirostat.tau, MIROSTAT_FIELDS.tau, true));
    put("mirostat.eta", checkNumber(draft.mirostat.eta, MIROSTAT_FIELDS.eta, true));
  }
  for (const name of ["grammar", "jsonSchema"] as const) {
    if (supported.includes(name) && bytes(draft[name]) > MAX_GRAMMAR_BYTES) put(name, { key: "tooLong", max: MAX_GRAMMAR_BYTES / 1024 });
  }
  for (const key of Object.keys(draft.bad) as SamplerErrorKey[]) {
    const spec = specOf(key);
    const sampler = samplerOfField(key);
    if (spec && supported.includes(sampler) && groupOn[sampler] !== false) problems[key] = { key: "range", min: spec.min, max: spec.max };
  }
  if (supported.includes("jsonSchema") && draft.jsonSchema.trim() !== "" && !problems.jsonSchema) {
    try {
      const schema: unknown = JSON.parse(draft.jsonSchema);
      if (typeof schema !== "object" || schema === null || Array.isArray(schema)) put("jsonSchema", { key: "json" });
    } catch {
      put("jsonSchema", { key: "json" });
    }
  }
  return problems;
}

/**
 * `generation` with the supported samplers as the form has them: an empty
 * field or a group turned off is removed, so it is not sent. Samplers the kind
 * does not accept keep what they had.
 */
export function withSamplers(generation: GenerationSettings, draft: SamplerDraft, supported: readonly Sampler[]): GenerationSettings {
  const out: GenerationSettings = { ...generation };
  const num = (value: string): number | null => {
    const parsed = parseNumber(value);
    return parsed === "bad" ? null : parsed;
  };
  for (const name of NUMBER_SAMPLER_NAMES) {
    if (!supported.includes(name)) continue;
    delete out[name];
    const value = num(draft.numbers[name]);
    if (value !== null) out[name] = value;
  }
  if (supported.includes("dry")) {
    delete out.dry;
    if (draft.dry.on) {
      out.dry = {
        multiplier: num(draft.dry.multiplier) ?? DRY_DEFAULTS.multiplier,
        base: num(draft.dry.base) ?? DRY_DEFAULTS.base,
        allowedLength: num(draft.dry.allowedLength) ?? DRY_DEFAULTS.allowedLength,
        sequenceBreakers: draft.dry.breakers.map((row) => unescapeBreaker(row.text)).filter((b) => b !== ""),
      };
    }
  }
  if (supported.includes("xtc")) {
    delete out.xtc;
    if (draft.xtc.on) out.xtc = { threshold: num(draft.xtc.threshold) ?? XTC_DEFAULTS.threshold, probability: num(draft.xtc.probability) ?? XTC_DEFAULTS.probability };
  }
  if (supported.includes("mirostat")) {
    delete out.mirostat;
    if (draft.mirostat.on) {
      out.mirostat = { mode: draft.mirostat.mode, tau: num(draft.mirostat.tau) ?? MIROSTAT_DEFAULTS.tau, eta: num(draft.mirostat.eta) ?? MIROSTAT_DEFAULTS.eta };
    }
  }
  for (const name of ["grammar", "jsonSchema"] as const) {
    if (!supported.includes(name)) continue;
    delete out[name];
    if (draft[name].trim() !== "") out[name] = draft[name];
  }
  return out;
}

/**
 * The field a message of the core's validation (providers/validate.rs) is
 * about, so it shows there; null when it names none of the samplers.
 */
export function samplerOfMessage(message: string): SamplerErrorKey | "temperature" | "topP" | "maxTokens" | null {
  const m = message.toLowerCase();
  const table: [string, SamplerErrorKey | "temperature" | "topP" | "maxTokens"][] = [
    ["the temperature", "temperature"],
    ["top-p", "topP"],
    ["reply token limit", "maxTokens"],
    ["top-k", "topK"],
    ["min-p", "minP"],
    ["typical-p", "typicalP"],
    ["repetition penalty range", "repetitionPenaltyRange"],
    ["repetition penalty slope", "repetitionPenaltySlope"],
    ["repetition penalty", "repetitionPenalty"],
    ["presence penalty", "presencePenalty"],
    ["frequency penalty", "frequencyPenalty"],
    ["dry multiplier", "dry.multiplier"],
    ["dry base", "dry.base"],
    ["dry allowed length", "dry.allowedLength"],
    ["dry sequence breakers", "dry.breakers"],
    ["xtc threshold", "xtc.threshold"],
    ["xtc probability", "xtc.probability"],
    ["mirostat tau", "mirostat.tau"],
    ["mirostat eta", "mirostat.eta"],
    ["the grammar", "grammar"],
    ["json schema", "jsonSchema"],
  ];
  return table.find(([phrase]) => m.includes(phrase))?.[1] ?? null;
}
