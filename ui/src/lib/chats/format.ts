// Small display helpers for the chats screen.

import type { MessageMeta } from "../api";
import { currentLanguage, t, tn } from "../i18n/index.svelte";

/** "3 min ago", "yesterday", or a date for anything older than a week. */
export function relativeTime(millis: number, now: number = Date.now()): string {
  const language = currentLanguage();
  const diff = millis - now;
  const abs = Math.abs(diff);
  const rtf = new Intl.RelativeTimeFormat(language, { numeric: "auto", style: "short" });
  if (abs < 60_000) return rtf.format(0, "second");
  if (abs < 3_600_000) return rtf.format(Math.round(diff / 60_000), "minute");
  if (abs < 86_400_000) return rtf.format(Math.round(diff / 3_600_000), "hour");
  if (abs < 7 * 86_400_000) return rtf.format(Math.round(diff / 86_400_000), "day");
  const sameYear = new Date(millis).getFullYear() === new Date(now).getFullYear();
  return new Intl.DateTimeFormat(language, sameYear ? { day: "numeric", month: "short" } : { dateStyle: "medium" }).format(
    new Date(millis),
  );
}

/** Date and time, for tooltips and version lists. */
export function dateTime(millis: number): string {
  return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(millis));
}

export type SnippetPart = { text: string; match: boolean };

/**
 * A search snippet split at its match markers (U+0002 opens, U+0003 closes),
 * to render matches as <mark> with plain text nodes — never as HTML.
 */
export function splitSnippet(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let match = false;
  let text = "";
  for (const char of snippet) {
    if (char === "\u0002" || char === "\u0003") {
      if (text) parts.push({ text, match });
      text = "";
      match = char === "\u0002";
    } else {
      text += char;
    }
  }
  if (text) parts.push({ text, match });
  // Markdown emphasis marks are noise in a one-line preview.
  return parts.map((part) => ({ ...part, text: part.text.replace(/\*{1,3}|_{2,}|`/g, "") })).filter((part) => part.text !== "");
}

/** The first non-empty line, for version lists. */
export function firstLine(text: string): string {
  return text.split("\n").find((line) => line.trim() !== "")?.trim() ?? "";
}

function seconds(millis: number): string {
  const value = millis / 1000;
  return t("reply.meta.seconds", {
    n: new Intl.NumberFormat(currentLanguage(), { maximumFractionDigits: value < 10 ? 1 : 0 }).format(value),
  });
}

/** A reply's meta in one discreet line: "gpt-4o · 812 tokens · 2.4 s"; empty when nothing is known. */
export function replyMetaLine(meta: MessageMeta): string {
  const parts: string[] = [];
  if (meta.model) parts.push(meta.model);
  const tokens = (meta.promptTokens ?? 0) + (meta.completionTokens ?? 0);
  if (meta.completionTokens !== null && meta.completionTokens !== undefined) parts.push(tn("reply.meta.tokens", meta.completionTokens));
  else if (tokens > 0) parts.push(tn("reply.meta.tokens", tokens));
  if (meta.durationMs !== null && meta.durationMs !== undefined) parts.push(seconds(meta.durationMs));
  return parts.join(" · ");
}

/** Everything the meta says, for the line's tooltip. */
export function replyMetaTitle(meta: MessageMeta): string {
  const lines: string[] = [];
  const number = (value: number): string => new Intl.NumberFormat(currentLanguage()).format(value);
  if (meta.provider) lines.push(`${t("reply.meta.provider")}: ${meta.provider}`);
  if (meta.model) lines.push(`${t("reply.meta.model")}: ${meta.model}`);
  if (meta.promptTokens !== null && meta.promptTokens !== undefined) lines.push(`${t("reply.meta.prompt")}: ${number(meta.promptTokens)}`);
  if (meta.completionTokens !== null && meta.completionTokens !== undefined) {
    lines.push(`${t("reply.meta.completion")}: ${number(meta.completionTokens)}`);
  }
  if (meta.timeToFirstTokenMs !== null && meta.timeToFirstTokenMs !== undefined) {
    lines.push(`${t("reply.meta.firstToken")}: ${seconds(meta.timeToFirstTokenMs)}`);
  }
  if (meta.durationMs !== null && meta.durationMs !== undefined) lines.push(`${t("reply.meta.duration")}: ${seconds(meta.durationMs)}`);
  if (meta.finishReason) lines.push(`${t("reply.meta.finish")}: ${meta.finishReason}`);
  return lines.join("\n");
}
