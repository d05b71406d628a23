// Small display helpers for the detail view.

import type { CardFormat, CardSpec, JsonValue } from "../api";
import { currentLanguage, t } from "../i18n/index.svelte";

export function specLabel(spec: CardSpec): string {
  return `Character Card ${spec.toUpperCase()}`;
}

export function formatLabel(format: CardFormat): string {
  return format === "text" ? t("detail.format.text") : format.toUpperCase();
}

export function bytesLabel(size: number): string {
  const number = (value: number, digits: number): string =>
    new Intl.NumberFormat(currentLanguage(), { maximumFractionDigits: digits }).format(value);
  if (size < 1024) return t("size.bytes", { n: number(size, 0) });
  if (size < 1024 * 1024) return t("size.kb", { n: number(size / 1024, size < 10 * 1024 ? 1 : 0) });
  return t("size.mb", { n: number(size / (1024 * 1024), 1) });
}

/** Card dates are Unix seconds; some tools write milliseconds. */
export function dateLabel(value: number | null): string | null {
  if (value === null || !Number.isFinite(value) || value <= 0) return null;
  const millis = value < 1e11 ? value * 1000 : value;
  return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: "medium", timeStyle: "short" }).format(
    new Date(millis),
  );
}

/** Entries in an embedded character book (an array, or SillyTavern's keyed object). */
export function bookEntryCount(book: JsonValue | null): number | null {
  if (book === null || typeof book !== "object" || Array.isArray(book)) return null;
  const entries = book["entries"];
  if (Array.isArray(entries)) return entries.length;
  if (entries !== null && typeof entries === "object") return Object.keys(entries).length;
  return 0;
}

/** A count with the language's digit grouping: 10,000 / 10 000. */
export function numberLabel(value: number): string {
  return new Intl.NumberFormat(currentLanguage()).format(value);
}
