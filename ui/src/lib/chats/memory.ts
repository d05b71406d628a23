// The Memory panel's rules, kept out of its components so they are easy to
// test: what a summary covers and which badges it wears, the settings form's
// draft (who summarises, which model embeds, the numbers' ranges), and how
// scores read.

import type { MemorySettings, MemorySummary, ModelChoice, Provider, ProviderKind } from "../api";

/**
 * The core's `DEFAULT_SUMMARY_PROMPT` (crates/core/src/memory/settings.rs),
 * shown in the prompt field when the chat names none; a test keeps the two equal.
 */
export const DEFAULT_SUMMARY_PROMPT =
  "You keep the memory of a long role-play chat. " +
  "Write a concise summary of the messages below, in the past tense and the third person: the events in the order they happened, " +
  "what each character learned, decided, promised or felt, and every name, place, object and fact that may matter later. " +
  "Leave out greetings and small talk. Write only the summary, without a title or comments.";

/**
 * Memory settings with every field present: the generated type has them all
 * optional (the core fills what a stored row lacks with its defaults).
 */
export type MemoryForm = {
  summaries: boolean;
  summarizer: ModelChoice | null;
  summaryPrompt: string | null;
  retrieval: boolean;
  embeddings: ModelChoice | null;
  retrievalDepth: number;
  retrievalCount: number;
  retrievalMinScore: number;
};

/** The core's `MemorySettings::default()`. */
export const DEFAULT_MEMORY: MemoryForm = {
  summaries: true,
  summarizer: null,
  summaryPrompt: null,
  retrieval: false,
  embeddings: null,
  retrievalDepth: 2,
  retrievalCount: 3,
  retrievalMinScore: 0.3,
};

/** Settings as the core sent them, with its defaults for what is absent. */
export function complete(settings: MemorySettings): MemoryForm {
  return {
    summaries: settings.summaries ?? DEFAULT_MEMORY.summaries,
    summarizer: settings.summarizer ?? null,
    summaryPrompt: settings.summaryPrompt ?? null,
    retrieval: settings.retrieval ?? DEFAULT_MEMORY.retrieval,
    embeddings: settings.embeddings ?? null,
    retrievalDepth: settings.retrievalDepth ?? DEFAULT_MEMORY.retrievalDepth,
    retrievalCount: settings.retrievalCount ?? DEFAULT_MEMORY.retrievalCount,
    retrievalMinScore: settings.retrievalMinScore ?? DEFAULT_MEMORY.retrievalMinScore,
  };
}

/** The core refuses more (`MAX_RETRIEVAL_COUNT`, `MAX_RETRIEVAL_DEPTH`, `MAX_SUMMARY_PROMPT_BYTES`). */
export const MAX_RETRIEVAL_COUNT = 20;
export const MAX_RETRIEVAL_DEPTH = 1000;
export const MAX_SUMMARY_PROMPT_BYTES = 16 * 1024;

/** How many hits a search in the panel asks for. */
export const SEARCH_LIMIT = 8;

/**
 * Providers that can embed: the core calls an OpenAI-style `/v1/embeddings`,
 * which local servers (llama.cpp, KoboldCpp, Ollama, LM Studio) serve beside
 * their own APIs. Anthropic has no embeddings API.
 */
const EMBEDDING_KINDS: ReadonlySet<ProviderKind> = new Set<ProviderKind>([
  "openAi",
  "openAiCompatible",
  "openRouter",
  "koboldCpp",
  "llamaCpp",
  "textCompletions",
]);

export function canEmbed(kind: ProviderKind): boolean {
  return EMBEDDING_KINDS.has(kind);
}

/** The providers offered for embeddings. */
export function embeddingProviders(providers: readonly Provider[]): Provider[] {
  return providers.filter((p) => canEmbed(p.config.kind));
}

/** Whether some provider was left out of the embeddings choice for being Anthropic (the panel says why). */
export function anthropicLeftOut(providers: readonly Provider[]): boolean {
  return providers.some((p) => p.config.kind === "anthropic");
}

export type Badge = "pinned" | "edited" | "stale";

/** The badges a summary wears, most important first. */
export function badges(summary: Pick<MemorySummary, "pinned" | "edited" | "stale">): Badge[] {
  const out: Badge[] = [];
  if (summary.stale) out.push("stale");
  if (summary.pinned) out.push("pinned");
  if (summary.edited) out.push("edited");
  return out;
}

/** The summaries oldest first (the core sends them so; a reorder elsewhere must not shuffle the panel). */
export function inPathOrder(summaries: readonly MemorySummary[]): MemorySummary[] {
  return [...summaries].sort((a, b) => a.firstPosition - b.firstPosition || a.lastPosition - b.lastPosition);
}

/** A choice of provider and model as one form value: "" is "the chat's own connection". */
export function choiceValue(choice: ModelChoice | null | undefined): string {
  return choice ? choice.providerId : "";
}

/** The choice a provider pick and a typed model make; no provider is no choice. */
export function choiceOf(providerId: string, model: string): ModelChoice | null {
  const id = providerId.trim();
  if (id === "") return null;
  const name = model.trim();
  return { providerId: id, model: name === "" ? null : name };
}

/** A cosine similarity as the panel shows it: two decimals. */
export function scoreLabel(score: number | null): string {
  return score !== null && Number.isFinite(score) ? score.toFixed(2) : "—";
}

/** A whole number in [min, max] from what was typed, or null when it is not one. */
export function wholeIn(value: number, min: number, max: number): number | null {
  if (!Number.isFinite(value)) return null;
  return Math.min(max, Math.max(min, Math.trunc(value)));
}

/** A lowest score from what was typed: a similarity in [-1, 1], or null. */
export function minScoreOf(value: number): number | null {
  if (!Number.isFinite(value)) return null;
  return Math.min(1, Math.max(-1, Math.round(value * 100) / 100));
}

/** The prompt to store: null when it is empty or the default (so a later default applies). */
export function storedPrompt(text: string): string | null {
  const trimmed = text.trim();
  return trimmed === "" || trimmed === DEFAULT_SUMMARY_PROMPT ? null : text;
}

/** The prompt's length in UTF-8 bytes (what the core limits). */
export function promptBytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** The settings a draft saves as: the prompt stored only when it is the chat's own. */
export function normalized(settings: MemorySettings): MemoryForm {
  const form = complete(settings);
  return { ...form, summaryPrompt: storedPrompt(form.summaryPrompt ?? "") };
}

function sameChoice(a: ModelChoice | null | undefined, b: ModelChoice | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a.providerId === b.providerId && (a.model ?? null) === (b.model ?? null);
}

export function sameSettings(a: MemorySettings, b: MemorySettings): boolean {
  const x = normalized(a);
  const y = normalized(b);
  return (
    x.summaries === y.summaries &&
    sameChoice(x.summarizer, y.summarizer) &&
    x.summaryPrompt === y.summaryPrompt &&
    x.retrieval === y.retrieval &&
    sameChoice(x.embeddings, y.embeddings) &&
    x.retrievalDepth === y.retrievalDepth &&
    x.retrievalCount === y.retrievalCount &&
    Math.abs(x.retrievalMinScore - y.retrievalMinScore) < 1e-6
  );
}

/** Why the settings cannot be saved as they are (a message key), or null. */
export function settingsProblem(settings: MemoryForm): "memory.settings.needsModel" | "memory.settings.promptTooLong" | null {
  if (promptBytes(settings.summaryPrompt ?? "") > MAX_SUMMARY_PROMPT_BYTES) return "memory.settings.promptTooLong";
  if (settings.retrieval && !settings.embeddings) return "memory.settings.needsModel";
  return null;
}
