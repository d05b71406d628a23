// Display helpers for providers and usage.

import { isErrorCode, type OutcomeRow, type UsageRow } from "../api";
import { errorTitleKey } from "../error-text";
import { currentLanguage, t } from "../i18n/index.svelte";

/** US dollars: "$0.0123", "$0.50", "$2.51", "<$0.0001"; "—" when the provider did not say. */
export function formatUsd(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return "—";
  const format = (amount: number, max: number): string =>
    new Intl.NumberFormat(currentLanguage(), {
      style: "currency",
      currency: "USD",
      currencyDisplay: "narrowSymbol",
      minimumFractionDigits: 2,
      maximumFractionDigits: max,
    }).format(amount);
  if (value > 0 && value < 0.0001) return `<${format(0.0001, 4)}`;
  return format(value, Math.abs(value) < 1 ? 4 : 2);
}

/** The sum of the rows: requests and tokens, the cost and the prompt cache's saving when any row knows them. */
export function usageTotals(rows: readonly UsageRow[]): {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number | null;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  cacheSavedUsd: number | null;
} {
  let costUsd: number | null = null;
  let cacheSavedUsd: number | null = null;
  let requests = 0;
  let promptTokens = 0;
  let completionTokens = 0;
  let cacheReadTokens = 0;
  let cacheWriteTokens = 0;
  for (const row of rows) {
    requests += row.requests;
    promptTokens += row.promptTokens;
    completionTokens += row.completionTokens;
    cacheReadTokens += row.cacheReadTokens;
    cacheWriteTokens += row.cacheWriteTokens;
    if (row.costUsd !== null) costUsd = (costUsd ?? 0) + row.costUsd;
    if (row.cacheSavedUsd !== null) cacheSavedUsd = (cacheSavedUsd ?? 0) + row.cacheSavedUsd;
  }
  return { requests, promptTokens, completionTokens, costUsd, cacheReadTokens, cacheWriteTokens, cacheSavedUsd };
}

/** Whether any row used the provider's prompt cache. */
export function usesPromptCache(rows: readonly UsageRow[]): boolean {
  return rows.some((row) => row.cacheReadTokens > 0 || row.cacheWriteTokens > 0);
}

const OUTCOMES = new Set(["failed", "cancelled", "interrupted"]);
const CANCEL_REASONS = new Set(["user", "maxDuration", "shutdown"]);

export function outcomeLabel(row: OutcomeRow): string {
  return OUTCOMES.has(row.outcome) ? t(`usage.outcome.${row.outcome as "failed" | "cancelled" | "interrupted"}`) : row.outcome;
}

/** An error code's title, a cancel reason in words, or the reason as stored. */
export function reasonLabel(row: OutcomeRow): string {
  if (isErrorCode(row.reason)) return t(errorTitleKey(row.reason));
  if (CANCEL_REASONS.has(row.reason)) return t(`usage.reason.${row.reason as "user" | "maxDuration" | "shutdown"}`);
  return row.reason === "" ? "—" : row.reason;
}
