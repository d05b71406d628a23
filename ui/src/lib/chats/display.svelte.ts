// How an open chat shows its messages: the chat dictionaries' Display-scope
// rules (the character's, then the global ones) change the text on screen,
// never what is stored, edited, copied or exported.
//
// The rules run in the core (the `display_texts` command), not here: the
// core's regexes are the `regex` crate's (linear time, its syntax and Unicode
// classes), and a JavaScript RegExp would both read some patterns
// differently and let a card's pattern backtrack for minutes on the UI
// thread. So shown texts are asked for in batches: a page is asked for
// before it is shown (no flash of the stored text), a streaming reply once
// per published frame with at most one request in flight.

import { displayTexts } from "../api";

/** Bumped whenever a chat dictionary is saved: open chats ask for their rules again. */
export const dictionaryRevision = $state({ value: 0 });

/** Shown texts kept (by stored text), for scrolling back and forth. */
const CACHE_LIMIT = 2000;
/** Texts per request, and bytes (the command's own limits are higher). */
const BATCH_TEXTS = 500;
const BATCH_BYTES = 8 * 1024 * 1024;

export class DisplayRules {
  /** How many Display-scope rules apply to this chat (0: texts show as stored). */
  rules = $state(0);
  /** Bumped when shown texts arrive: what read them renders again. */
  #arrived = $state(0);
  /** The streaming reply's newest shown text, and the text it was made from. */
  #live = $state.raw<{ text: string; shown: string } | null>(null);

  /** The dictionaryRevision these rules were read at. */
  revision = 0;
  #characterId: string | null = null;
  #ready: Promise<void> = Promise.resolve();
  #generation = 0;
  /** Stored text → shown text (`null`: shown as stored). */
  #shown = new Map<string, string | null>();
  #wanted = new Set<string>();
  #flushing = false;
  #liveAsking = false;
  #liveNext: string | null = null;

  /** Starts over for a chat with `characterId` (null: no chat): asks how many rules apply. */
  open(characterId: string | null): Promise<void> {
    const generation = ++this.#generation;
    this.revision = dictionaryRevision.value;
    this.#characterId = characterId;
    this.#shown.clear();
    this.#wanted.clear();
    this.#liveNext = null;
    this.#live = null;
    this.#arrived++;
    if (characterId === null) {
      this.rules = 0;
      this.#ready = Promise.resolve();
      return this.#ready;
    }
    this.#ready = displayTexts(characterId, []).then((result) => {
      if (generation !== this.#generation) return;
      // Without an answer, texts show as stored.
      this.rules = result.ok ? result.data.rules : 0;
    });
    return this.#ready;
  }

  /** The rules may have changed (a dictionary was saved): asks again, then for `texts`. */
  async reload(texts: readonly string[]): Promise<void> {
    await this.open(this.#characterId);
    await this.prepare(texts);
  }

  /** Asks for the shown form of `texts` not known yet; resolves when they are. */
  async prepare(texts: readonly string[]): Promise<void> {
    await this.#ready;
    if (this.rules === 0) return;
    await this.#fetch(texts.filter((text) => !this.#shown.has(text)));
  }

  /** `text` as shown. One not asked for yet shows as stored until its answer arrives. */
  show(text: string): string {
    void this.#arrived;
    if (this.rules === 0) return text;
    const hit = this.#shown.get(text);
    if (hit !== undefined) return hit ?? text;
    this.#want(text);
    return text;
  }

  /**
   * A streaming reply's `text` as shown: the newest answer so far (it may
   * trail the text by one request), or null before the first one.
   */
  live(text: string): string | null {
    if (this.rules === 0) return text;
    const live = this.#live;
    if (live?.text === text) return live.shown;
    this.#askLive(text);
    return live?.shown ?? null;
  }

  /** A new reply starts streaming: forget the last one's shown text. */
  resetLive(): void {
    this.#live = null;
    this.#liveNext = null;
  }

  #want(text: string): void {
    this.#wanted.add(text);
    if (this.#flushing) return;
    this.#flushing = true;
    // After the render that asked: state changes only from the answer.
    queueMicrotask(() => {
      this.#flushing = false;
      const texts = [...this.#wanted];
      this.#wanted.clear();
      void this.#fetch(texts);
    });
  }

  async #fetch(texts: readonly string[]): Promise<void> {
    const characterId = this.#characterId;
    if (characterId === null || texts.length === 0) return;
    const generation = this.#generation;
    const unique = [...new Set(texts)];
    for (let at = 0; at < unique.length; ) {
      const batch: string[] = [];
      let bytes = 0;
      while (at < unique.length && batch.length < BATCH_TEXTS && (batch.length === 0 || bytes + unique[at]!.length * 3 <= BATCH_BYTES)) {
        bytes += unique[at]!.length * 3;
        batch.push(unique[at++]!);
      }
      const result = await displayTexts(characterId, batch);
      if (generation !== this.#generation) return;
      batch.forEach((text, i) => this.#remember(text, result.ok ? (result.data.texts[i] ?? null) : null));
      if (result.ok) this.rules = result.data.rules;
      this.#arrived++;
    }
  }

  #remember(text: string, shown: string | null): void {
    if (this.#shown.size >= CACHE_LIMIT && !this.#shown.has(text)) {
      this.#shown.delete(this.#shown.keys().next().value!);
    }
    this.#shown.set(text, shown);
  }

  #askLive(text: string): void {
    if (this.#liveAsking) {
      this.#liveNext = text;
      return;
    }
    const characterId = this.#characterId;
    if (characterId === null) return;
    this.#liveAsking = true;
    const generation = this.#generation;
    // Deferred: this runs while a bubble renders, where state must not change.
    void Promise.resolve()
      .then(() => displayTexts(characterId, [text]))
      .then((result) => {
        this.#liveAsking = false;
        if (generation !== this.#generation) return;
        const shown = result.ok ? (result.data.texts[0] ?? text) : text;
        this.#live = { text, shown };
        const next = this.#liveNext;
        this.#liveNext = null;
        if (next !== null && next !== text) this.#askLive(next);
      });
  }
}
