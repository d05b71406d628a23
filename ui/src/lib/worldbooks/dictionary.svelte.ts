// A chat dictionary being edited: find-and-replace rules for one character
// (or the global one, characterId null), saved as a whole.

import { getDictionary, setDictionary, type DictionaryRule } from "../api";
import { dictionaryRevision } from "../chats/display.svelte";
import type { Reporter } from "../library/library.svelte";

export function blankRule(): DictionaryRule {
  return { find: "", replace: "", regex: false, caseSensitive: false, enabled: true, scope: "both" };
}

/** Why a rule's regex would not compile (JavaScript's reading of it), or null. */
export function regexError(rule: DictionaryRule): string | null {
  if (!rule.regex || rule.find === "") return null;
  try {
    new RegExp(rule.find, rule.caseSensitive ? "u" : "iu");
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export class DictionaryDraft {
  rules = $state<DictionaryRule[]>([]);
  stored = $state.raw<readonly DictionaryRule[]>([]);
  loaded = $state(false);
  saving = $state(false);

  dirty = $derived(this.loaded && JSON.stringify(this.rules) !== JSON.stringify(this.stored));
  /** Index of the first rule whose regex does not compile. */
  invalid = $derived(this.rules.findIndex((r) => regexError(r) !== null));

  readonly characterId: string | null;
  #report: Reporter;

  constructor(characterId: string | null, report: Reporter) {
    this.characterId = characterId;
    this.#report = report;
  }

  async load(): Promise<void> {
    const result = await getDictionary(this.characterId);
    if (result.ok) this.#show(result.data);
    else this.#report(result.error, "error.context.loadDictionary");
  }

  add(): void {
    this.rules.push(blankRule());
  }

  remove(index: number): void {
    this.rules.splice(index, 1);
  }

  revert(): void {
    this.rules = structuredClone([...this.stored]);
  }

  async save(): Promise<void> {
    if (!this.dirty || this.saving) return;
    this.saving = true;
    // Rules without anything to find do nothing; do not store them.
    const rules = $state.snapshot(this.rules).filter((r) => r.find !== "");
    const result = await setDictionary(this.characterId, rules);
    this.saving = false;
    if (result.ok) {
      this.#show(result.data);
      // Open chats show their messages through the new rules.
      dictionaryRevision.value++;
    } else this.#report(result.error, "error.context.saveDictionary");
  }

  #show(rules: DictionaryRule[]): void {
    this.stored = rules;
    this.rules = structuredClone(rules);
    this.loaded = true;
  }
}
