// A fake world-book backend kept in memory: every world-book and chat
// dictionary command, for the dev mock (screenshots) and the tests. Also
// makes sample books, one of 10,000 entries to feel the editor's speed.

import type {
  ApiError,
  BookSettings,
  CharacterRef,
  DictionaryRule,
  Entry,
  ExportedFile,
  KeyError,
  ScanReport,
  TestActivationRequest,
  WorldBookDetail,
  WorldBookFormat,
  WorldBookSummary,
} from "../api";

export const DEFAULT_BOOK_SETTINGS: BookSettings = {
  scanDepth: 2,
  budgetPercent: 25,
  budgetCap: 0,
  recursive: false,
  maxRecursionSteps: 0,
  minActivations: 0,
  minActivationsDepthMax: 0,
  caseSensitive: false,
  matchWholeWords: false,
  includeNames: true,
  useGroupScoring: false,
};

/** An entry with SillyTavern's defaults; `fields` override them. */
export function makeEntry(uid: number, fields: Partial<Entry> = {}): Entry {
  return {
    uid,
    keys: [],
    secondaryKeys: [],
    selective: false,
    selectiveLogic: "andAny",
    comment: "",
    content: "",
    enabled: true,
    constant: false,
    insertionOrder: 100,
    position: "afterCharacter",
    depth: 4,
    role: "system",
    outletName: "",
    caseSensitive: null,
    matchWholeWords: null,
    scanDepth: null,
    useGroupScoring: null,
    probability: 100,
    useProbability: true,
    groups: [],
    groupPrioritize: false,
    groupWeight: 100,
    excludeRecursion: false,
    preventRecursion: false,
    delayUntilRecursion: 0,
    sticky: 0,
    cooldown: 0,
    delay: 0,
    ignoreBudget: false,
    matchSources: {
      personaDescription: false,
      characterDescription: false,
      characterPersonality: false,
      characterDepthPrompt: false,
      scenario: false,
      creatorNotes: false,
    },
    vectorized: false,
    automationId: "",
    triggers: [],
    characterFilter: null,
    displayIndex: null,
    extensions: {},
    ...fields,
  };
}

/** A book for the fake store; `summary` fields override the computed ones. */
export function makeBook(
  id: string,
  name: string,
  entries: Entry[] = [],
  summary: Partial<WorldBookSummary> = {},
  settings: Partial<BookSettings> = {},
): WorldBookDetail {
  return {
    summary: {
      id,
      name,
      description: "",
      entryCount: entries.length,
      enabledCount: entries.filter((e) => e.enabled).length,
      global: false,
      characters: [],
      updatedAt: 1_700_000_000_000,
      ...summary,
    },
    settings: { ...DEFAULT_BOOK_SETTINGS, ...settings },
    entries,
    keyErrors: keyErrorsOf(entries),
  };
}

/** Keys written as /regex/flags that JavaScript cannot compile. */
export function keyErrorsOf(entries: readonly Entry[]): KeyError[] {
  const errors: KeyError[] = [];
  for (const entry of entries) {
    for (const key of [...entry.keys, ...entry.secondaryKeys]) {
      const match = /^\/(.*)\/([a-z]*)$/s.exec(key);
      if (!match) continue;
      try {
        new RegExp(match[1]!, match[2]!.replace(/[^gimsuy]/g, ""));
      } catch (error) {
        errors.push({ uid: entry.uid, key, kind: "invalid", error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
  return errors;
}

function reject(code: ApiError["code"], message: string): Promise<never> {
  const error: ApiError = { code, message };
  return Promise.reject(error);
}

export type WorldBookHooks = {
  /** test_activation; by default an empty report. */
  testActivation?: (request: TestActivationRequest) => ScanReport | Promise<ScanReport>;
  /** import_world_book: the file name and its bytes; by default a new empty book named after the file. */
  importWorldBook?: (fileName: string, bytes: Uint8Array) => unknown;
  /** Names of characters, for attach (CharacterRef.name). */
  characterName?: (id: string) => string;
};

export class MockWorldBooks {
  books = new Map<string, WorldBookDetail>();
  /** Chat dictionaries by character id; "" is the global one. */
  dictionaries = new Map<string, DictionaryRule[]>();
  #next = 1;
  #hooks: WorldBookHooks;

  constructor(books: readonly WorldBookDetail[] = [], hooks: WorldBookHooks = {}) {
    for (const book of books) this.books.set(book.summary.id, structuredClone(book));
    this.#hooks = hooks;
  }

  /** Answers a world-book or dictionary command; `undefined` for any other command. */
  handle(cmd: string, a: Record<string, unknown>, fileName?: string): unknown {
    switch (cmd) {
      case "list_world_books":
        return [...this.books.values()].map((b) => b.summary).sort((x, y) => x.name.localeCompare(y.name));
      case "get_world_book":
        return this.#with(a["id"] as string, (b) => b);
      case "create_world_book":
        return this.#create(a["name"] as string, []);
      case "update_world_book":
        return this.#with(a["id"] as string, (b) => {
          b.summary = { ...b.summary, name: a["name"] as string, description: a["description"] as string, updatedAt: Date.now() };
          b.settings = a["settings"] as BookSettings;
          return b.summary;
        });
      case "delete_world_book":
        return this.books.delete(a["id"] as string) ? null : reject("not_found", "world book not found");
      case "save_entries":
        return this.#with(a["bookId"] as string, (b) => {
          const byUid = new Map(b.entries.map((e, i) => [e.uid, i]));
          for (const entry of a["entries"] as Entry[]) {
            const index = byUid.get(entry.uid);
            if (index === undefined) b.entries.push(entry);
            else b.entries[index] = entry;
          }
          this.#recount(b);
          return b;
        });
      case "add_entry":
        return this.#with(a["bookId"] as string, (b) => {
          const uid = b.entries.reduce((max, e) => Math.max(max, e.uid), -1) + 1;
          const entry = makeEntry(uid);
          b.entries.push(entry);
          this.#recount(b);
          return entry;
        });
      case "delete_entries":
        return this.#with(a["bookId"] as string, (b) => {
          const gone = new Set(a["uids"] as number[]);
          b.entries = b.entries.filter((e) => !gone.has(e.uid));
          this.#recount(b);
          return b.summary;
        });
      case "set_entries_enabled":
        return this.#with(a["bookId"] as string, (b) => {
          const uids = new Set(a["uids"] as number[]);
          b.entries = b.entries.map((e) => (uids.has(e.uid) ? { ...e, enabled: a["enabled"] as boolean } : e));
          this.#recount(b);
          return b.summary;
        });
      case "set_world_book_global":
        return this.#with(a["id"] as string, (b) => {
          b.summary = { ...b.summary, global: a["global"] as boolean };
          return b.summary;
        });
      case "attach_world_book":
        return this.#with(a["bookId"] as string, (b) => {
          const id = a["characterId"] as string;
          if (!b.summary.characters.some((c) => c.id === id)) {
            const ref: CharacterRef = { id, name: this.#hooks.characterName?.(id) ?? id };
            b.summary = { ...b.summary, characters: [...b.summary.characters, ref] };
          }
          return b.summary;
        });
      case "detach_world_book":
        return this.#with(a["bookId"] as string, (b) => {
          b.summary = { ...b.summary, characters: b.summary.characters.filter((c) => c.id !== a["characterId"]) };
          return b.summary;
        });
      case "character_world_books": {
        const id = a["characterId"] as string;
        return [...this.books.values()].filter((b) => b.summary.characters.some((c) => c.id === id)).map((b) => b.summary);
      }
      case "export_world_book":
        return this.#with(a["id"] as string, (b) => {
          const format = a["format"] as WorldBookFormat;
          const fileName = `${b.summary.name}${format === "characterBook" ? ".character-book" : ""}.json`;
          const file: ExportedFile = { path: `/home/alex/Downloads/${fileName}`, fileName };
          return file;
        });
      case "test_activation": {
        const request = a["request"] as TestActivationRequest;
        if (this.#hooks.testActivation) return this.#hooks.testActivation(request);
        const empty: ScanReport = { activated: [], dropped: [], tokensUsed: 0, budget: 2048, recursionLevels: 0, keyErrors: [] };
        return empty;
      }
      case "get_dictionary":
        return structuredClone(this.dictionaries.get((a["characterId"] as string | null) ?? "") ?? []);
      case "set_dictionary": {
        const rules = a["rules"] as DictionaryRule[];
        const bad = rules.findIndex((r) => r.regex && !compiles(r.find));
        if (bad !== -1) return reject("invalid_input", `rule ${bad + 1}: the regex /${rules[bad]!.find}/ does not compile`);
        this.dictionaries.set((a["characterId"] as string | null) ?? "", structuredClone(rules));
        return rules;
      }
      case "check_dictionary": {
        // The core reads regexes with the `regex` crate; the mock asks JavaScript.
        const rules = a["rules"] as DictionaryRule[];
        return rules.flatMap((r, index) =>
          r.regex && r.find !== "" && !compiles(r.find) ? [{ index, message: `the pattern \`${r.find}\` is not a valid regular expression` }] : [],
        );
      }
      case "display_texts": {
        // The core runs these rules with the `regex` crate; the mock uses
        // JavaScript's RegExp, which agrees on everything the mock shows.
        const own = this.dictionaries.get(a["characterId"] as string) ?? [];
        const rules = [...own, ...(this.dictionaries.get("") ?? [])].filter((r) => r.enabled && r.find !== "" && r.scope !== "prompt");
        const texts = (a["texts"] as string[]).map((text) => {
          const shown = rules.reduce((current, rule) => applyRule(rule, current), text);
          return shown === text ? null : shown;
        });
        return { rules: rules.length, texts };
      }
      case "import_world_book": {
        const name = fileName ?? "World book.json";
        if (this.#hooks.importWorldBook) return this.#hooks.importWorldBook(name, a as unknown as Uint8Array);
        if (/broken|corrupt/i.test(name)) return reject("invalid_world_book", `${name} is not a world book: entries is missing`);
        return this.#create(name.replace(/\.(json|lorebook)$/i, "").replace(/[_-]+/g, " "), [makeEntry(0, { keys: ["example"], comment: "Imported entry", content: "…" })]).summary;
      }
      default:
        return undefined;
    }
  }

  #create(name: string, entries: Entry[]): WorldBookDetail {
    const id = `wb-${this.#next++}-${Date.now().toString(36)}`;
    const book = makeBook(id, name, entries, { updatedAt: Date.now() });
    this.books.set(id, book);
    return structuredClone(book);
  }

  #recount(book: WorldBookDetail): void {
    book.summary = {
      ...book.summary,
      entryCount: book.entries.length,
      enabledCount: book.entries.filter((e) => e.enabled).length,
      updatedAt: Date.now(),
    };
    book.keyErrors = keyErrorsOf(book.entries);
  }

  #with<T>(id: string, run: (book: WorldBookDetail) => T): T | Promise<never> {
    const book = this.books.get(id);
    if (!book) return reject("not_found", `world book ${id} was not found`);
    // A copy, as if it had crossed the IPC boundary.
    return structuredClone(run(book));
  }
}

/** One dictionary rule applied, within the core's growth limit (4×, or +64 KB). */
function applyRule(rule: DictionaryRule, text: string): string {
  let shown: string;
  if (!rule.regex && rule.caseSensitive) shown = text.split(rule.find).join(rule.replace);
  else {
    const source = rule.regex ? rule.find : rule.find.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    let pattern: RegExp;
    try {
      pattern = new RegExp(source, rule.caseSensitive ? "gu" : "giu");
    } catch {
      return text;
    }
    shown = rule.regex ? text.replace(pattern, rule.replace) : text.replace(pattern, () => rule.replace);
  }
  return shown.length > Math.max(text.length * 4, text.length + 65536) ? text : shown;
}

function compiles(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

// ---- Sample data for the dev mock ----

const PLACES = ["Emberfall", "the Saltmarsh", "Vel Harran", "the Glass Road", "Thornwick", "the Hollow Court", "Skyreach", "the Drowned Library"];
const THINGS = ["dragon", "lighthouse", "guild", "comet", "oath", "bell", "orchard", "archive", "mask", "storm"];
const FACTIONS = ["weather", "politics", "creatures", "magic", ""];

function generated(count: number): Entry[] {
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const place = PLACES[i % PLACES.length]!;
    const thing = THINGS[(i * 7) % THINGS.length]!;
    const group = FACTIONS[i % FACTIONS.length]!;
    entries.push(
      makeEntry(i, {
        comment: `${thing[0]!.toUpperCase()}${thing.slice(1)} of ${place} #${i}`,
        keys: [thing, `${thing} ${i}`, place.replace(/^the /, "")],
        content: `Entry ${i}: the ${thing} of ${place} is remembered in songs. Travellers say it appears when the tide turns, and the elders of ${place} keep its secret.`,
        enabled: i % 17 !== 0,
        constant: i % 250 === 0,
        insertionOrder: 100 + (i % 50),
        position: i % 9 === 0 ? "atDepth" : i % 5 === 0 ? "beforeCharacter" : "afterCharacter",
        depth: 2 + (i % 4),
        groups: group ? [group] : [],
      }),
    );
  }
  return entries;
}

export function sampleBooks(): WorldBookDetail[] {
  const emberfall = [
    makeEntry(0, { comment: "Emberfall — the city", keys: ["Emberfall", "the city"], content: "Emberfall is a walled city built into the slope of a dormant volcano. Its streets are warm underfoot all year.", constant: true, position: "beforeCharacter", insertionOrder: 10 }),
    makeEntry(1, { comment: "The old wyrm", keys: ["dragon", "wyrm", "Cinderjaw"], secondaryKeys: ["mountain"], selective: true, content: "Cinderjaw, the old wyrm, sleeps beneath the mountain. Waking him is a crime punishable by exile.", insertionOrder: 120, groups: ["creatures"] }),
    makeEntry(2, { comment: "Weather: ash storms", keys: ["storm", "ash"], content: "Ash storms roll down from the caldera in late autumn; the bells ring three times before one arrives.", groups: ["weather"], probability: 30, position: "atDepth", depth: 2, role: "system" }),
    makeEntry(3, { comment: "Weather: clear skies", keys: ["sky", "sun"], content: "On clear days the harbour can be seen from the upper terraces.", groups: ["weather"] }),
    makeEntry(4, { comment: "The Bellringers' Guild", keys: ["bell", "guild", "/bell(ringer)?s?/i"], content: "The Bellringers keep time and warn of storms. Their guildhall is the tallest tower in Emberfall.", sticky: 2, cooldown: 3 }),
    makeEntry(5, { comment: "Broken pattern", keys: ["/(unclosed/"], content: "A key with a regex that does not compile, to show the warning.", enabled: false }),
    makeEntry(6, { comment: "Aria's ship", keys: ["Perihelion", "ship"], content: "Aria flies the Perihelion, a courier held together by tape and spite.", excludeRecursion: true }),
    makeEntry(7, { comment: "Ember's secret", keys: ["secret"], content: "Ember was born in the caldera.", characterFilter: { exclude: false, names: ["Ember.png"], tags: ["fantasy"] }, triggers: ["normal", "continue"] }),
    makeEntry(8, { comment: "Red moon", content: "@@activate\nThe moon is red tonight." }),
  ];
  return [
    makeBook("wb-emberfall", "Emberfall", emberfall, {
      description: "The volcano city, its guilds and its weather.",
      characters: [{ id: "00000000-0000-4000-8000-000000000005", name: "Ember" }],
    }, { recursive: true, maxRecursionSteps: 3 }),
    makeBook("wb-atlas", "Atlas of the Ten Thousand Isles", generated(10_000), {
      description: "Generated: ten thousand entries, to feel the speed.",
    }, { scanDepth: 4 }),
    makeBook("wb-common", "Common knowledge", [
      makeEntry(0, { comment: "Calendar", keys: ["month", "calendar"], content: "The year has thirteen months of 28 days." }),
      makeEntry(1, { comment: "Currency", keys: ["coin", "crown", "penny"], content: "Crowns (gold), shields (silver) and pennies (copper)." }),
    ], { global: true, description: "Facts every character knows." }),
  ];
}

/** A plausible report, so the test panel shows every kind of reason. */
export function sampleReport(request: TestActivationRequest, books: MockWorldBooks): ScanReport {
  const bookId = request.bookIds[0] ?? "";
  const entries = books.books.get(bookId)?.entries ?? [];
  const pick = (i: number): Entry => entries[i % Math.max(entries.length, 1)] ?? makeEntry(i);
  const budget = Math.round((request.contextTokens * (request.settings?.budgetPercent ?? 25)) / 100);
  const e = [pick(0), pick(1), pick(2), pick(3), pick(4), pick(5), pick(6), pick(8)];
  return {
    activated: [
      { book: bookId, uid: e[0]!.uid, comment: e[0]!.comment, position: e[0]!.position, depth: e[0]!.depth, role: e[0]!.role, order: e[0]!.insertionOrder, tokens: 38, reason: { kind: "constant" }, groupWon: null, content: e[0]!.content },
      { book: bookId, uid: e[1]!.uid, comment: e[1]!.comment, position: e[1]!.position, depth: e[1]!.depth, role: e[1]!.role, order: e[1]!.insertionOrder, tokens: 46, reason: { kind: "key", key: e[1]!.keys[0] ?? "dragon", secondary: e[1]!.secondaryKeys[0] ?? null, matchedIn: { kind: "message", index: 0 } }, groupWon: "creatures", content: e[1]!.content },
      { book: bookId, uid: e[4]!.uid, comment: e[4]!.comment, position: e[4]!.position, depth: e[4]!.depth, role: e[4]!.role, order: e[4]!.insertionOrder, tokens: 41, reason: { kind: "key", key: e[4]!.keys[0] ?? "bell", secondary: null, matchedIn: { kind: "recursion", level: 1 } }, groupWon: null, content: e[4]!.content },
      { book: bookId, uid: e[6]!.uid, comment: e[6]!.comment, position: e[6]!.position, depth: e[6]!.depth, role: e[6]!.role, order: e[6]!.insertionOrder, tokens: 29, reason: { kind: "sticky", remaining: 2 }, groupWon: null, content: e[6]!.content },
      { book: bookId, uid: e[7]!.uid, comment: e[7]!.comment, position: e[7]!.position, depth: e[7]!.depth, role: e[7]!.role, order: e[7]!.insertionOrder, tokens: 8, reason: { kind: "decorator" }, groupWon: null, content: e[7]!.content },
    ],
    dropped: [
      { book: bookId, uid: e[2]!.uid, comment: e[2]!.comment, reason: { kind: "probability", probability: 30, roll: 71 } },
      { book: bookId, uid: e[3]!.uid, comment: e[3]!.comment, reason: { kind: "group", group: "weather", winner: e[2]!.uid } },
      { book: bookId, uid: e[5]!.uid, comment: e[5]!.comment, reason: { kind: "invalidKey", key: "/(unclosed/", error: "unclosed group" } },
      { book: bookId, uid: 99, comment: "Long history of the Bellringers", reason: { kind: "budget", budget } },
      { book: bookId, uid: 98, comment: "The comet", reason: { kind: "cooldown", remaining: 3 } },
      { book: bookId, uid: 97, comment: "Only when continuing", reason: { kind: "trigger", trigger: request.trigger ?? "normal", triggers: ["continue"] } },
      { book: bookId, uid: 96, comment: "Ember's secret", reason: { kind: "characterFilter", character: request.character?.name ?? "Aria", exclude: false, byTag: false } },
      { book: bookId, uid: 95, comment: "Hidden note", reason: { kind: "dontActivate" } },
    ],
    tokensUsed: 154,
    budget,
    recursionLevels: 1,
    keyErrors: [],
  };
}
