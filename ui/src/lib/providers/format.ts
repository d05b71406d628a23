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

/** The sum of the rows: requests and tokens, and the cost when any row knows it. */
export function usageTotals(rows: readonly UsageRow[]): {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number | null;
} {
  let costUsd: number | null = null;
  let requests = 0;
  let promptTokens = 0;
  let completionTokens = 0;
  for (const row of rows) {
    requests += row.requests;
    promptTokens += row.promptTokens;
    completionTokens += row.completionTokens;
    if (row.costUsd !== null) costUsd = (costUsd ?? 0) + row.costUsd;
  }
  return { requests, promptTokens, completionTokens, costUsd };
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
