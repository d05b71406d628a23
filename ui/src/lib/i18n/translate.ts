// Pure translation helpers: no reactive state, so they are easy to test.

import type { Language } from "../api";
import { en } from "./en";
import { ru } from "./ru";
import type { Dictionary, Params, PluralForms, PluralKey, TextKey } from "./types";

export const LANGUAGES: readonly Language[] = ["en", "ru"];

export const DICTIONARIES: Readonly<Record<Language, Dictionary>> = { en, ru };

function isLanguage(value: unknown): value is Language {
  return typeof value === "string" && (LANGUAGES as readonly string[]).includes(value);
}

/**
 * The language to show: the saved choice, else the OS/webview language
 * (Russian for any "ru…" locale), else English.
 */
export function resolveLanguage(preference: Language | null, systemLocale: string | undefined): Language {
  if (isLanguage(preference)) return preference;
  return systemLocale?.toLowerCase().startsWith("ru") ? "ru" : "en";
}

function fill(template: string, params: Params | undefined): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : String(value);
  });
}

export function translate(language: Language, key: TextKey, params?: Params): string {
  return fill(DICTIONARIES[language][key] as string, params);
}

const pluralRules = new Map<Language, Intl.PluralRules>();
const numberFormats = new Map<Language, Intl.NumberFormat>();

function rulesFor(language: Language): Intl.PluralRules {
  let rules = pluralRules.get(language);
  if (!rules) {
    rules = new Intl.PluralRules(language);
    pluralRules.set(language, rules);
  }
  return rules;
}

function formatNumber(language: Language, value: number): string {
  let format = numberFormats.get(language);
  if (!format) {
    format = new Intl.NumberFormat(language);
    numberFormats.set(language, format);
  }
  return format.format(value);
}

/** A counted message, e.g. tn("ru", "library.count", 5) → "5 персонажей в библиотеке". */
export function translatePlural(language: Language, key: PluralKey, count: number, params?: Params): string {
  const forms = DICTIONARIES[language][key] as PluralForms;
  const form = forms[rulesFor(language).select(count)] ?? forms.other;
  return fill(form, { ...params, count: formatNumber(language, count) });
}
