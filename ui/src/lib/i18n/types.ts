import type { en } from "./en";

/** Plural forms as named by Intl.PluralRules; `other` is always required. */
export type PluralForms = {
  readonly zero?: string;
  readonly one?: string;
  readonly two?: string;
  readonly few?: string;
  readonly many?: string;
  readonly other: string;
};

/** Russian needs all three integer forms plus `other` (used for fractions). */
export type RussianPlural = {
  readonly one: string;
  readonly few: string;
  readonly many: string;
  readonly other: string;
};

type English = typeof en;
export type MessageKey = keyof English;
/** Keys whose value is a plain string: use t(). */
export type TextKey = { [K in MessageKey]: English[K] extends string ? K : never }[MessageKey];
/** Keys whose value has plural forms: use tn(). */
export type PluralKey = Exclude<MessageKey, TextKey>;

/**
 * A translation of one area (one file of ./en/): exactly the keys of the
 * English area `A`, with each value of the same kind.
 */
export type AreaDictionary<A, P extends PluralForms = PluralForms> = {
  readonly [K in keyof A]: A[K] extends string ? string : P;
};

/**
 * A full translation: exactly the English keys, with each value of the same
 * kind. A missing, extra or wrongly-kinded key is a compile error.
 */
export type Dictionary<P extends PluralForms = PluralForms> = AreaDictionary<English, P>;

export type Params = Readonly<Record<string, string | number>>;
