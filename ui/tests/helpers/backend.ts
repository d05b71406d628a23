// A fake Rust side built on @tauri-apps/api/mocks, recording every call.

import { emit } from "@tauri-apps/api/event";
import { mockConvertFileSrc, mockIPC } from "@tauri-apps/api/mocks";
import type {
  ApiError,
  AppInfo,
  CardData,
  CharacterDetail,
  CharacterQuery,
  CharacterSummary,
  ExportedFile,
  ExportFormat,
  ImportEvent,
  ImportOutcome,
  ImportSummary,
  LibraryFacets,
  Settings,
} from "../../src/lib/api";
import { MockChats, type ChatCharacter } from "../../src/lib/dev/mock-chats";
import { characterNoteOf } from "../../src/lib/dev/mock-notes";
import { MockProviders } from "../../src/lib/dev/mock-providers";
import { MockOnboarding } from "../../src/lib/dev/mock-onboarding";
import { MockStreams } from "../../src/lib/dev/mock-streams";
import { MockWorldBooks } from "../../src/lib/dev/mock-worldbooks";

export { MockChats, MockOnboarding, MockProviders, MockStreams, MockWorldBooks };
export { model } from "../../src/lib/dev/mock-providers";

/** What the backend does when the live sessions change: the `live-sessions-changed` event. */
export function emitLive(sessionIds: string[]): void {
  try {
    // Before installBackend (a stream set up ahead of the app) there is no mock to emit through.
    void emit("live-sessions-changed", { sessionIds }).catch(() => {});
  } catch {
    // Nobody is listening yet.
  }
}
export { makeBook, makeEntry, DEFAULT_BOOK_SETTINGS } from "../../src/lib/dev/mock-worldbooks";

/** `headers` only for raw-body commands (import_file). */
export type Call = { cmd: string; args: unknown; headers?: Record<string, string> };

export const SAMPLE_INFO: AppInfo = {
  version: "0.1.0",
  dataDir: "/home/test/.local/share/app.confab.desktop",
  databasePath: "/home/test/.local/share/app.confab.desktop/confab.sqlite3",
  schemaVersion: 1,
  counts: { characters: 0, worldBooks: 0, sessions: 0, messages: 0, personas: 0 },
};

type Handler<T> = T | (() => T | Promise<T>);

/** What import_paths' handler gets: `send` delivers an event on the Channel. */
export type ImportPathsHandler = (
  paths: string[],
  send: (event: ImportEvent) => void,
) => ImportSummary | Promise<ImportSummary>;

export type BackendOptions = {
  settings?: Handler<Settings>;
  appInfo?: Handler<AppInfo>;
  /** Overrides set_settings; by default it stores and echoes the settings. */
  setSettings?: (settings: Settings) => unknown;
  /** The library's characters (default: none). */
  characters?: CharacterDetail[];
  /** Overrides list_characters; by default the characters, sorted by query.sort. */
  listCharacters?: (query: CharacterQuery) => unknown;
  /** import_file: the file name (from the x-file-name header) and its bytes. */
  importFile?: (fileName: string, bytes: Uint8Array) => unknown;
  importPaths?: ImportPathsHandler;
  updateCharacter?: (id: string, card: CardData) => unknown;
  deleteCharacter?: (id: string) => unknown;
  replaceCharacter?: (targetId: string, sourceId: string) => unknown;
  exportCharacter?: (id: string, format: ExportFormat) => unknown;
  /** The in-memory world books and chat dictionaries (default: an empty store). */
  worldBooks?: MockWorldBooks;
  /** The in-memory chats, personas, preferences and primary context (default: an empty store). */
  chats?: MockChats;
  /** The fake chat engine (default: one over `chats` that announces live sessions). */
  streams?: MockStreams;
  /** Providers, keys, models, usage (default: none configured). */
  providers?: MockProviders;
  /**
   * The first run (default: done, so the walk-through stays closed);
   * `new MockOnboarding(false, ...)` opens it. Without an import function of
   * its own, the demo character joins `characters` as "Mira Vell".
   */
  onboarding?: MockOnboarding | "new";
  /** Overrides any command (checked first); return undefined to fall through. */
  override?: (cmd: string, args: Record<string, unknown>) => unknown;
};

function sortBy(list: CharacterSummary[], sort: CharacterQuery["sort"]): CharacterSummary[] {
  const sorted = [...list];
  if (sort === "name") sorted.sort((a, b) => a.name.localeCompare(b.name));
  else if (sort === "recentlyAdded") sorted.sort((a, b) => b.createdAt - a.createdAt);
  else sorted.sort((a, b) => (b.lastUsedAt ?? 0) - (a.lastUsedAt ?? 0) || b.createdAt - a.createdAt);
  return sorted;
}

function facetsOf(list: readonly CharacterDetail[]): LibraryFacets {
  const count = (pick: (s: CharacterSummary) => string[]): { name: string; count: number }[] => {
    const counts = new Map<string, number>();
    for (const { summary } of list) for (const name of pick(summary)) counts.set(name, (counts.get(name) ?? 0) + 1);
    return [...counts].map(([name, n]) => ({ name, count: n }));
  };
  return { tags: count((s) => s.tags), collections: count((s) => s.collections) };
}

const notFound = (id: string): Promise<never> => Promise.reject({ code: "not_found", message: `character ${id} was not found` });

/** Returns the list that receives each invoke, in order. */
export function installBackend(options: BackendOptions = {}): Call[] {
  const calls: Call[] = [];
  let stored: Settings | null = null;
  const characters = new Map((options.characters ?? []).map((d) => [d.summary.id, structuredClone(d)]));

  const resolve = <T>(handler: Handler<T>): T | Promise<T> =>
    typeof handler === "function" ? (handler as () => T | Promise<T>)() : handler;

  let headers: Record<string, string> | undefined;

  const worldBooks = options.worldBooks ?? new MockWorldBooks();
  const chats = options.chats ?? new MockChats({ character: (id) => chatCharacter(characters.get(id)) });
  const streams = options.streams ?? new MockStreams(chats, { onLiveChanged: emitLive });
  const providers = options.providers ?? new MockProviders();
  providers.sessionCharacter = (sessionId) => chats.sessions.get(sessionId)?.summary.characterId ?? null;
  const importDemo = (): ImportOutcome => {
    const existing = [...characters.values()].find((d) => d.card.name === "Mira Vell");
    if (existing) return outcome("Mira Vell (Confab demo).png", "alreadyInLibrary", { characterId: existing.summary.id, name: "Mira Vell" });
    const demo = character("Mira Vell", { id: "demo-mira", creator: "Confab", tags: ["Confab demo"] }, {
      first_mes: "\"We're closed -- oh.\" I'm Mira. I keep the lanterns here at night.",
      alternate_greetings: ["The Hollow Bell is ringing.", "A day visitor!", "Мы закрыты…"],
      mes_example: "<START>\n{{user}}: Hi\n{{char}}: Tea first.",
    });
    characters.set(demo.summary.id, demo);
    return outcome("Mira Vell (Confab demo).png", "imported", {
      characterId: demo.summary.id,
      name: "Mira Vell",
      worldBookId: "demo-book",
      pendingDictionaryRules: 3,
    });
  };
  const onboarding =
    options.onboarding === "new"
      ? new MockOnboarding(false, importDemo)
      : (options.onboarding ?? new MockOnboarding(true, importDemo));

  mockIPC((cmd, args) => {
    const a = (args ?? {}) as Record<string, unknown>;
    const overridden = options.override?.(cmd, a);
    if (overridden !== undefined) return overridden;
    const name = cmd === "import_world_book" ? decodeURIComponent(headers?.["x-file-name"] ?? "") : undefined;
    const answer = worldBooks.handle(cmd, a, name);
    if (answer !== undefined) return answer;
    const chatAnswer = chats.handle(cmd, a, headers);
    if (chatAnswer !== undefined) return chatAnswer;
    const streamAnswer = streams.handle(cmd, a);
    if (streamAnswer !== undefined) return streamAnswer;
    const providerAnswer = providers.handle(cmd, a);
    if (providerAnswer !== undefined) return providerAnswer;
    const onboardingAnswer = onboarding.handle(cmd);
    if (onboardingAnswer !== undefined) return onboardingAnswer;
    switch (cmd) {
      case "get_settings":
        return stored ?? resolve(options.settings ?? { language: null, theme: "system" });
      case "app_info":
        return resolve(options.appInfo ?? SAMPLE_INFO);
      case "set_settings": {
        const settings = (args as { settings: Settings }).settings;
        if (options.setSettings) return options.setSettings(settings);
        stored = settings;
        chats.exampleDialogue = settings.exampleDialogue ?? "gradual";
        return settings;
      }
      case "list_characters": {
        const query = a["query"] as CharacterQuery;
        if (options.listCharacters) return options.listCharacters(query);
        return sortBy([...characters.values()].map((d) => d.summary), query.sort);
      }
      case "library_facets":
        return facetsOf([...characters.values()]);
      case "get_character": {
        const id = a["id"] as string;
        return characters.get(id) ?? notFound(id);
      }
      case "update_character": {
        const id = a["id"] as string;
        const card = a["card"] as CardData;
        if (options.updateCharacter) return options.updateCharacter(id, card);
        const old = characters.get(id);
        if (!old) return notFound(id);
        const next: CharacterDetail = {
          ...old,
          card,
          summary: { ...old.summary, name: card.name, creator: card.creator, tags: card.tags },
        };
        characters.set(id, next);
        return next;
      }
      case "delete_character": {
        const id = a["id"] as string;
        if (options.deleteCharacter) return options.deleteCharacter(id);
        return characters.delete(id) ? null : notFound(id);
      }
      case "replace_character": {
        const targetId = a["targetId"] as string;
        const sourceId = a["sourceId"] as string;
        if (options.replaceCharacter) return options.replaceCharacter(targetId, sourceId);
        const target = characters.get(targetId);
        const source = characters.get(sourceId);
        if (!target || !source) return notFound(sourceId);
        characters.delete(sourceId);
        const next = { ...target, card: source.card };
        characters.set(targetId, next);
        return next;
      }
      case "export_character": {
        const id = a["id"] as string;
        const format = a["format"] as ExportFormat;
        if (options.exportCharacter) return options.exportCharacter(id, format);
        const detail = characters.get(id);
        if (!detail) return notFound(id);
        const fileName = `${detail.card.name}.${format === "png" ? "png" : format === "charx" ? "charx" : "json"}`;
        const file: ExportedFile = { path: `/home/test/Downloads/${fileName}`, fileName };
        return file;
      }
      case "import_file": {
        const name = decodeURIComponent(headers?.["x-file-name"] ?? "");
        if (!options.importFile) return Promise.reject("unexpected command import_file");
        return options.importFile(name, args as unknown as Uint8Array);
      }
      case "import_paths": {
        if (!options.importPaths) return Promise.reject("unexpected command import_paths");
        // The real Channel object: what Rust's messages end up calling.
        const channel = a["onEvent"] as { onmessage: (event: ImportEvent) => void };
        return options.importPaths(a["paths"] as string[], (event) => channel.onmessage(event));
      }
      default:
        return Promise.reject(`unexpected command ${cmd}`);
    }
  }, { shouldMockEvents: true });

  // mockIPC drops invoke's options; keep the headers (the raw-body commands' arguments).
  const internals = (window as unknown as { __TAURI_INTERNALS__: Record<string, unknown> }).__TAURI_INTERNALS__;
  type Invoke = (cmd: string, args: unknown, options?: { headers?: Record<string, string> }) => Promise<unknown>;
  const mocked = internals["invoke"] as Invoke;
  internals["invoke"] = ((cmd, args, invokeOptions) => {
    headers = invokeOptions?.headers;
    calls.push(headers ? { cmd, args, headers } : { cmd, args });
    return mocked(cmd, args, invokeOptions);
  }) satisfies Invoke;
  mockConvertFileSrc("linux");
  return calls;
}

/** What the chat backend needs of a library character. */
export function chatCharacter(detail: CharacterDetail | undefined): ChatCharacter | null {
  if (!detail) return null;
  return {
    id: detail.summary.id,
    name: detail.card.name,
    avatarKey: detail.summary.avatarKey,
    greeting: detail.card.first_mes,
    alternateGreetings: detail.card.alternate_greetings,
    description: detail.card.description,
    mesExample: detail.card.mes_example,
    characterNote: characterNoteOf(detail.card),
  };
}

/** What a Rust command rejects with: a serialized AppError. */
export function rejectWith(error: ApiError): () => Promise<never> {
  return () => Promise.reject(error);
}

export function withCounts(counts: Partial<AppInfo["counts"]>): AppInfo {
  return { ...SAMPLE_INFO, counts: { ...SAMPLE_INFO.counts, ...counts } };
}

export function blankCard(name: string): CardData {
  return {
    name,
    nickname: null,
    description: "",
    personality: "",
    scenario: "",
    first_mes: "",
    mes_example: "",
    alternate_greetings: [],
    group_only_greetings: [],
    system_prompt: "",
    post_history_instructions: "",
    creator_notes: "",
    creator_notes_multilingual: {},
    tags: [],
    creator: "",
    character_version: "",
    source: [],
    creation_date: null,
    modification_date: null,
    assets: [],
    character_book: null,
    extensions: {},
  };
}

let nextId = 1;

/** A character for the fake library; `summary` fields override the defaults. */
export function character(
  name: string,
  summary: Partial<CharacterSummary> = {},
  card: Partial<CardData> = {},
): CharacterDetail {
  const id = summary.id ?? `id-${nextId++}`;
  const full: CardData = { ...blankCard(name), tags: summary.tags ?? [], creator: summary.creator ?? "", ...card };
  return {
    summary: {
      id,
      name,
      creator: full.creator,
      tags: full.tags,
      collections: [],
      avatarKey: null,
      createdAt: 1_700_000_000_000,
      updatedAt: 1_700_000_000_000,
      lastUsedAt: null,
      ...summary,
    },
    card: full,
    spec: "v3",
    format: "png",
    sourceFile: `${name}.png`,
    assets: [],
    pendingDictionary: [],
  };
}

export function outcome(file: string, status: ImportOutcome["status"], extra: Partial<ImportOutcome> = {}): ImportOutcome {
  return { file, status, characterId: null, name: null, worldBookId: null, sessionId: null, sameNameAs: null, pendingDictionaryRules: 0, error: null, ...extra };
}
