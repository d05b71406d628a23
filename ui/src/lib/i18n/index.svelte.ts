// The reactive side of i18n: one current language for the whole window.
// t()/tn() read it, so any template calling them re-renders on a switch.

import type { Language } from "../api";
import { translate, translatePlural } from "./translate";
import type { Params, PluralKey, TextKey } from "./types";

export { resolveLanguage, LANGUAGES } from "./translate";
export type { TextKey, PluralKey, Params } from "./types";

let current = $state<Language>("en");

export function currentLanguage(): Language {
  return current;
}

/** Switches every visible string and `<html lang>` (for hyphenation, screen readers). */
export function setLanguage(language: Language): void {
  current = language;
  if (typeof document !== "undefined") document.documentElement.lang = language;
}

export function t(key: TextKey, params?: Params): string {
  return translate(current, key, params);
}

export function tn(key: PluralKey, count: number, params?: Params): string {
  return translatePlural(current, key, count, params);
}
