// Settings live in the database (the source of truth). A copy is mirrored in
// localStorage only so the very first paint, before IPC answers, already has
// the right language and theme.

import type { ExampleDialogue, Language, Settings, ThemePreference } from "./api";

export const SETTINGS_STORAGE_KEY = "confab.settings";

export const DEFAULT_SETTINGS: Settings = { language: null, theme: "system" };

const LANGUAGES: readonly (Language | null)[] = [null, "en", "ru"];
const THEMES: readonly ThemePreference[] = ["system", "light", "dark"];
const EXAMPLE_DIALOGUE: readonly ExampleDialogue[] = ["keep", "gradual", "never"];

/** Accepts only a well-formed Settings object; anything else is null. */
export function parseSettings(value: unknown): Settings | null {
  if (typeof value !== "object" || value === null) return null;
  const record = value as Record<string, unknown>;
  const language = record["language"] ?? null;
  const theme = record["theme"];
  const knownLanguage = LANGUAGES.find((l) => l === language);
  const knownTheme = THEMES.find((th) => th === theme);
  if (knownLanguage === undefined || knownTheme === undefined) return null;
  // Kept when valid, so a save made before the backend answers does not reset it.
  const exampleDialogue = EXAMPLE_DIALOGUE.find((e) => e === record["exampleDialogue"]);
  const moved = record["keywordWorldInfoAtDepth"];
  return {
    language: knownLanguage,
    theme: knownTheme,
    ...(exampleDialogue ? { exampleDialogue } : {}),
    ...(typeof moved === "boolean" ? { keywordWorldInfoAtDepth: moved } : {}),
  };
}

function storage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    // Access can throw when storage is disabled.
    return null;
  }
}

export function readCachedSettings(): Settings | null {
  const raw = storage()?.getItem(SETTINGS_STORAGE_KEY);
  if (!raw) return null;
  try {
    return parseSettings(JSON.parse(raw));
  } catch {
    return null;
  }
}

export function writeCachedSettings(settings: Settings): void {
  try {
    storage()?.setItem(SETTINGS_STORAGE_KEY, JSON.stringify(settings));
  } catch {
    // Full or disabled storage only costs us the fast first paint.
  }
}
