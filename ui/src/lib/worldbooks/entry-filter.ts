// Finding entries fast in books of tens of thousands: a lower-cased search
// text per entry, built once per load, and a filter over it.

import type { Entry } from "../api";

export type EntryFilter = "all" | "enabled" | "disabled" | "constant";

export function searchText(entry: Entry): string {
  return `${entry.comment}\n${entry.keys.join("\n")}\n${entry.secondaryKeys.join("\n")}\n${entry.content}`.toLowerCase();
}

/** The words of a query; every one must appear (in comment, keys or content). */
export function queryWords(query: string): string[] {
  return query.toLowerCase().split(/\s+/).filter((w) => w !== "");
}

export function matchesFilter(entry: Entry, filter: EntryFilter, group: string): boolean {
  if (filter === "enabled" && !entry.enabled) return false;
  if (filter === "disabled" && entry.enabled) return false;
  if (filter === "constant" && !entry.constant) return false;
  if (group !== "" && !entry.groups.includes(group)) return false;
  return true;
}

export function matchesWords(text: string, words: readonly string[]): boolean {
  for (const word of words) if (!text.includes(word)) return false;
  return true;
}

/** Keys typed as "a, b, c" (commas inside a /regex/ are kept). */
export function splitKeys(text: string): string[] {
  const keys: string[] = [];
  let current = "";
  let inRegex = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "/" && current.trim() === "" && !inRegex) inRegex = true;
    else if (ch === "/" && inRegex && text[i - 1] !== "\\") inRegex = false;
    if (ch === "," && !inRegex) {
      if (current.trim() !== "") keys.push(current.trim());
      current = "";
    } else {
      current += ch;
    }
  }
  if (current.trim() !== "") keys.push(current.trim());
  return keys;
}
