// A chat dictionary being edited: find-and-replace rules for one character
// (or the global one, characterId null), saved as a whole.

import { checkDictionary, getDictionary, setDictionary, type DictionaryRule } from "../api";
import { dictionaryRevision } from "../chats/display.svelte";
import type { Reporter } from "../library/library.svelte";

export function blankRule(): DictionaryRule {
  return { find: "", replace: "", regex: false, caseSensitive: false, enabled: true, scope: "both" };
}

/** How long the editor waits after typing before asking the core what is wrong. */
const CHECK_DELAY_MS = 250;

export class DictionaryDraft {
  rules = $state<DictionaryRule[]>([]);
  stored = $state.raw<readonly DictionaryRule[]>([]);
  loaded = $state(false);
  saving = $state(false);

  dirty = $derived(this.loaded && JSON.stringify(this.rules) !== JSON.stringify(this.stored));
  /**
   * Why rules cannot work, by index, as the core reads them (the regex
   * crate's syntax, not JavaScript's): asked a moment after each change.
   */
  problems = $state.raw<ReadonlyMap<number, string>>(new Map());
  /** Index of the first rule with a problem, or -1. */
  invalid = $derived(this.problems.size === 0 ? -1 : Math.min(...this.problems.keys()));
  #checked = "";
  #timer: ReturnType<typeof setTimeout> | undefined;

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

  /** Asks the core about the rules as they are now (after a short pause while typing). */
  check(): void {
    const rules = $state.snapshot(this.rules);
    const key = JSON.stringify(rules);
    if (key === this.#checked) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(async () => {
      const result = await checkDictionary(rules);
      if (JSON.stringify($state.snapshot(this.rules)) !== key) return;
      this.#checked = key;
      // Without an answer the save itself says what is wrong.
      this.problems = new Map(result.ok ? result.data.map((p) => [p.index, p.message] as const) : []);
    }, CHECK_DELAY_MS);
  }

  /** Stops a pending check (the editor closed). */
  dispose(): void {
    clearTimeout(this.#timer);
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
