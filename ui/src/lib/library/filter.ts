// Search and facet filtering on the loaded summaries: instant, no round trip.
// Matches the backend's rule: every word must appear in the name, the creator
// or a tag, ignoring case.

import type { CharacterSummary } from "../api";

export type LocalFilter = { search: string; tag: string | null; collection: string | null };

function fold(text: string): string {
  // Case- and accent-insensitive ("Zoë" matches "zoe").
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLocaleLowerCase();
}

export function searchWords(search: string): string[] {
  return fold(search).split(/\s+/).filter((word) => word !== "");
}

export function matches(summary: CharacterSummary, words: readonly string[]): boolean {
  if (words.length === 0) return true;
  const haystack = [summary.name, summary.creator, ...summary.tags].map(fold);
  return words.every((word) => haystack.some((field) => field.includes(word)));
}

export function filterCharacters(
  all: readonly CharacterSummary[],
  filter: LocalFilter,
): CharacterSummary[] {
  const words = searchWords(filter.search);
  return all.filter(
    (c) =>
      (filter.tag === null || c.tags.includes(filter.tag)) &&
      (filter.collection === null || c.collections.includes(filter.collection)) &&
      matches(c, words),
  );
}
