// Character preferences: the modifier lists, which ones contradict each
// other, and the blank starting point.

import type { BehaviourModifier, CharacterPreferences, RelationshipMode, SpeechModifier } from "../api";

export const RELATIONSHIPS: readonly RelationshipMode[] = ["stranger", "friend", "sibling", "parent", "child", "partner", "custom"];
export const SPEECH: readonly SpeechModifier[] = ["talk_less", "no_analogies", "use_simple_words", "be_formal", "be_informal"];
export const BEHAVIOUR: readonly BehaviourModifier[] = ["be_funny", "be_serious", "be_flirty", "be_protective", "be_warm", "be_cold"];

export type Modifier = SpeechModifier | BehaviourModifier;

const PAIRS: readonly [Modifier, Modifier][] = [
  ["be_formal", "be_informal"],
  ["be_warm", "be_cold"],
  ["be_funny", "be_serious"],
];

/** The modifier that contradicts this one, if any. */
export function opposite(modifier: Modifier): Modifier | null {
  for (const [a, b] of PAIRS) {
    if (a === modifier) return b;
    if (b === modifier) return a;
  }
  return null;
}

export function blankPreferences(): CharacterPreferences {
  return { relationship: "stranger", customRelationship: "", speech: [], behaviour: [], summary: "" };
}

/** Turns a modifier on (dropping its opposite) or off. */
export function toggle<M extends Modifier>(list: readonly M[], modifier: M, on: boolean): M[] {
  const other = opposite(modifier);
  const rest = list.filter((m) => m !== modifier && m !== other);
  return on ? [...rest, modifier] : rest;
}
