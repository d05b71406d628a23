// A fake Rust side for looking at the UI in a plain browser (screenshots,
// design work). Loaded only when VITE_MOCK_IPC is set at build/dev time.

import { emit } from "@tauri-apps/api/event";
import { mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import type { ApiError, AppInfo, CardData, CharacterQuery, ExportFormat, ImportEvent, ScanReport, SessionModel, Settings } from "../api";
import { MockChats, sampleLine, type ChatCharacter } from "./mock-chats";
import { characterNoteOf } from "./mock-notes";
import { MockLibrary } from "./mock-library";
import { MockProviders, model } from "./mock-providers";
import { liveRendering } from "../chats/live-markdown";
import { MockStreams } from "./mock-streams";
import { MockWorldBooks, sampleBooks, sampleReport } from "./mock-worldbooks";

const SAMPLE_INFO: AppInfo = {
  version: "0.1.0",
  dataDir: "/home/alex/.local/share/app.confab.desktop",
  databasePath: "/home/alex/.local/share/app.confab.desktop/confab.sqlite3",
  schemaVersion: 1,
  counts: { characters: 0, worldBooks: 0, sessions: 0, messages: 0, personas: 0 },
};

/**
 * Scenarios: "1" (empty library), "full" (a dozen characters), "corrupt",
 * "too-new", "error" (app_info fails with a non-fatal error).
 * The page URL may override: ?mock=full&lang=ru&theme=dark
 * `&demo=drag|drop|detail|dirty|delete|export|card-dictionary|provider-insecure|provider-insecure-confirm`
 * plays a scripted interaction
 * (for screenshots; see runDemo below).
 * "bench" (ui/bench/stream-render.mjs): the full library and one chat,
 * "Bench", of `&messages=` (10,000) messages; a reply streams `&tps=` (1,000)
 * words a second in 16 ms deltas, `&words=` (15,000) of Markdown in all,
 * rendered `&render=incremental` (the app) or `full` (every frame whole).
 */
export function installMockIpc(defaultScenario: string): void {
  // Inside the real app the real backend is there; never shadow it.
  if ("__TAURI_INTERNALS__" in window) return;

  const query = new URLSearchParams(window.location.search);
  const scenario = query.get("mock") ?? defaultScenario;
  const lang = query.get("lang");
  const theme = query.get("theme");
  let settings: Settings = {
    language: lang === "en" || lang === "ru" ? lang : null,
    theme: theme === "light" || theme === "dark" ? theme : "system",
    exampleDialogue: "gradual",
  };
  const info: AppInfo =
    scenario === "full"
      ? { ...SAMPLE_INFO, counts: { characters: 12, worldBooks: 3, sessions: 12, messages: 240, personas: 1 } }
      : SAMPLE_INFO;

  const bench = scenario === "bench";
  if (bench) liveRendering.mode = query.get("render") === "full" ? "full" : "incremental";
  const library = new MockLibrary(scenario === "full" || bench);
  const worldBooks: MockWorldBooks = new MockWorldBooks(scenario === "full" ? sampleBooks() : [], {
    testActivation: (request) => delay(250).then(() => sampleReport(request, worldBooks)),
  });
  if (scenario === "full") {
    worldBooks.dictionaries.set("", [
      { find: "Cinderjaw", replace: "Cinderjaw the Old", regex: false, caseSensitive: true, enabled: true, scope: "display" },
      { find: "\\bsmirk(s|ed)?\\b", replace: "smile$1", regex: true, caseSensitive: false, enabled: true, scope: "both" },
    ]);
  }

  const providers = sampleProviders(scenario === "full" || bench, query.get("keyring") !== "off");
  const words = Number(query.get("words") ?? 15_000);
  const chats: MockChats = new MockChats({
    character: (id) => chatCharacterOf(library, id),
    target: (sessionId) => {
      const model = providers.handle("get_session_model", { sessionId }) as SessionModel;
      return model.providerId === null
        ? null
        : { providerId: model.providerId, providerName: model.providerName ?? "", model: model.model, contextLength: model.contextLength };
    },
    worldInfo: (sessionId) => samplePreviewWorldInfo(chats, worldBooks, sessionId),
  });
  if (scenario === "full") sampleChats(chats, library);
  if (bench) benchChat(chats, library, Number(query.get("messages") ?? 10_000));
  const streams = new MockStreams(chats, {
    autoplay: bench
      ? { text: () => benchReply(words), every: 16, firstAfter: 100, wordsPerSecond: Number(query.get("tps") ?? 1000) }
      : { text: sampleReply, reasoning: (kind) => (kind === "send" ? SAMPLE_REASONING : ""), every: 45, firstAfter: 700 },
    onLiveChanged: (sessionIds) => void emit("live-sessions-changed", { sessionIds }),
    model: () => {
      const first = providers.providers.values().next().value;
      return { model: first?.config.defaultModel || "mock-model", provider: first?.config.name ?? "Mock" };
    },
  });

  mockIPC(
    (cmd, args) => {
      const a = (args ?? {}) as Record<string, unknown>;
      switch (cmd) {
        case "list_characters":
          return library.list(a["query"] as CharacterQuery);
        case "library_facets":
          return library.facets();
        case "get_character":
          return attempt(() => library.get(a["id"] as string));
        case "update_character":
          return attempt(() => library.update(a["id"] as string, a["card"] as CardData));
        case "delete_character":
          return attempt(() => library.delete(a["id"] as string));
        case "replace_character":
          return attempt(() => library.replace(a["targetId"] as string, a["sourceId"] as string));
        case "export_character":
          return attempt(() => library.export(a["id"] as string, a["format"] as ExportFormat));
        case "import_paths": {
          const channel = a["onEvent"] as { onmessage: (event: ImportEvent) => void };
          return library.importPaths(a["paths"] as string[], (event) => channel.onmessage(event));
        }
        case "import_file": {
          // Raw-body invoke: the name arrives in a header, not in args.
          return delay(150).then(() => library.importOne(lastFileName ?? "card.png"));
        }
      }
      const answer = worldBooks.handle(cmd, a, cmd === "import_world_book" ? lastFileName ?? undefined : undefined);
      if (answer !== undefined) return answer;
      const chatAnswer = chats.handle(cmd, a, lastHeaders);
      if (chatAnswer !== undefined) return chatAnswer;
      const streamAnswer = streams.handle(cmd, a);
      if (streamAnswer !== undefined) return streamAnswer;
      const providerAnswer = providers.handle(cmd, a);
      if (providerAnswer !== undefined) return cmd === "refresh_models" || cmd === "test_api_key" ? delay(400).then(() => providerAnswer) : providerAnswer;
      return legacy(cmd, args);
    },
    { shouldMockEvents: true },
  );
  // Lets getCurrentWebview() (drag and drop) work; events go through the mock.
  mockWindows("main");
  const internals = (window as unknown as { __TAURI_INTERNALS__: Record<string, unknown> }).__TAURI_INTERNALS__;
  internals["convertFileSrc"] = (path: string, protocol = "asset") =>
    protocol === "avatar"
      ? library.avatarSrc(path)
      : protocol === "attachment"
        ? sampleAttachment(path)
        : `${protocol}://localhost/${encodeURIComponent(path)}`;
  // The file name of a raw-body invoke travels in a header the mock cannot
  // see; remember it from the wrapper instead.
  let lastFileName: string | null = null;
  let lastHeaders: Record<string, string> = {};
  const invoke = internals["invoke"] as (cmd: string, args: unknown, options?: { headers?: Record<string, string> }) => Promise<unknown>;
  internals["invoke"] = (cmd: string, args: unknown, options?: { headers?: Record<string, string> }) => {
    const header = options?.headers?.["x-file-name"];
    if ((cmd === "import_file" || cmd === "import_world_book") && header) lastFileName = decodeURIComponent(header);
    lastHeaders = options?.headers ?? {};
    return invoke(cmd, args, options);
  };

  const demo = query.get("demo");
  if (demo) void runDemo(demo);

  function legacy(cmd: string, args: unknown): unknown {
    switch (cmd) {
      case "get_settings":
        return settings;
      case "set_settings":
        settings = (args as { settings: Settings }).settings;
        chats.exampleDialogue = settings.exampleDialogue ?? "gradual";
        return settings;
      case "app_info": {
        if (scenario === "corrupt" || scenario === "too-new") {
          const error: ApiError = {
            code: scenario === "corrupt" ? "database_corrupt" : "database_too_new",
            message:
              scenario === "corrupt"
                ? "file is not a database"
                : "schema version 7 is newer than the supported version 1",
            path: SAMPLE_INFO.databasePath,
          };
          return Promise.reject(error);
        }
        if (scenario === "error") {
          const error: ApiError = { code: "storage", message: "disk I/O error" };
          return Promise.reject(error);
        }
        return info;
      }
      default:
        return Promise.reject(`command ${cmd} not found`);
    }
  }
}

const SAMPLE_REASONING =
  "The user is asking about the bells. Ember loves this topic; she should answer with enthusiasm, a small history lesson, and a hook for the next scene. ";

/** What the fake model writes, by request kind. */
function sampleReply(kind: string): string {
  if (kind === "impersonate") return "*leans over the book, squinting at the faded map* Where does this road lead, Ember?";
  if (kind === "continue") return " She taps the margin twice. \"And that, my friend, is where the *third* bell was last seen.\"";
  return [
    "*Ember's eyes light up, and her tail sweeps a stack of scrolls off the table.* Oh, you **have** to hear this part!",
    "",
    "The bells of Emberfall were cast during the last Ash Storm. Three of them:",
    "",
    "1. **Aurum**, the gold one, rings at dawn.",
    "2. **Argent**, the silver one, rings for weddings and for funerals, which says a lot about the founders.",
    "3. The third has no name. Nobody has heard it in two hundred years.",
    "",
    "`Cinderjaw` claims he swallowed it. *She lowers her voice.* I don't believe him. Do you?",
  ].join("\n");
}

/** Providers for the dev mock: with `full`, a configured OpenRouter and a local llama.cpp. */
function sampleProviders(full: boolean, keyring: boolean): MockProviders {
  const providers = new MockProviders({
    keyring,
    encrypted: false,
    catalog: (kind) =>
      kind === "openRouter"
        ? [
            model("anthropic/claude-3.5-sonnet", 200_000, [3, 15]),
            model("openai/gpt-4o", 128_000, [2.5, 10]),
            model("openai/gpt-4o-mini", 128_000, [0.15, 0.6]),
            model("meta-llama/llama-3.1-70b-instruct", 131_072, [0.52, 0.75]),
            model("mistralai/mistral-nemo", 128_000, [0.035, 0.08]),
            model("google/gemini-flash-1.5", 1_000_000, [0.075, 0.3]),
          ]
        : [model("llama-3.2-3b-instruct-q4", 8192), model("qwen2.5-7b-instruct", 32_768)],
    localServers: [
      {
        port: 8080,
        kindGuess: "llama.cpp",
        baseUrl: "http://127.0.0.1:8080/v1",
        models: [model("llama-3.2-3b-instruct-q4", 8192)],
      },
      { port: 11434, kindGuess: "ollama", baseUrl: "http://127.0.0.1:11434/v1", models: [model("qwen2.5:7b", 32_768), model("mistral:7b", 32_768)] },
    ],
    usage: (days) => ({
      rows: [
        { day: "2026-11-20", providerName: "OpenRouter", model: "anthropic/claude-3.5-sonnet", requests: 41, promptTokens: 182_340, completionTokens: 12_876, costUsd: 0.7401 },
        { day: "2026-11-20", providerName: "llama.cpp :8080", model: "llama-3.2-3b-instruct-q4", requests: 17, promptTokens: 40_112, completionTokens: 6_920, costUsd: null },
        { day: "2026-11-19", providerName: "OpenRouter", model: "openai/gpt-4o-mini", requests: 63, promptTokens: 251_004, completionTokens: 20_310, costUsd: 0.0498 },
        ...(days > 7
          ? [{ day: "2026-11-02", providerName: "OpenRouter", model: "openai/gpt-4o", requests: 9, promptTokens: 30_500, completionTokens: 2_204, costUsd: 0.0983 }]
          : []),
      ],
      outcomes: [
        { outcome: "cancelled", reason: "user", count: 6 },
        { outcome: "failed", reason: "rate_limited", count: 2 },
        { outcome: "interrupted", reason: "", count: 1 },
      ],
    }),
  });
  if (full) {
    const router = providers.add(
      { name: "OpenRouter", kind: "openRouter", defaultModel: "anthropic/claude-3.5-sonnet" },
      { key: "keyring", favourites: ["anthropic/claude-3.5-sonnet"] },
    );
    providers.handle("refresh_models", { providerId: router.id });
    const local = providers.add({ name: "llama.cpp :8080", kind: "openAiCompatible", baseUrl: "http://127.0.0.1:8080/v1", defaultModel: "llama-3.2-3b-instruct-q4" });
    providers.handle("refresh_models", { providerId: local.id });
  }
  return providers;
}

function chatCharacterOf(library: MockLibrary, id: string): ChatCharacter | null {
  try {
    const detail = library.get(id);
    return {
      id,
      name: detail.card.name,
      avatarKey: detail.summary.avatarKey,
      greeting: detail.card.first_mes,
      alternateGreetings: detail.card.alternate_greetings,
      description: detail.card.description,
      mesExample: detail.card.mes_example,
      characterNote: characterNoteOf(detail.card),
    };
  } catch {
    return null;
  }
}

function sampleAttachment(id: string): string {
  const hue = [...id].reduce((h, c) => h + c.charCodeAt(0) * 13, 0) % 360;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="220" viewBox="0 0 320 220"><defs><linearGradient id="s" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="hsl(${hue} 70% 78%)"/><stop offset="1" stop-color="hsl(${(hue + 40) % 360} 60% 55%)"/></linearGradient></defs><rect width="320" height="220" fill="url(#s)"/><circle cx="240" cy="60" r="26" fill="hsl(45 95% 85%)"/><path d="M0 170 90 90l60 55 50-35 120 80v30H0z" fill="hsl(${(hue + 200) % 360} 30% 30%)"/></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

/** A handful of chats to look at: one of 100,000 messages, swipes, an archived one. */
function sampleChats(chats: MockChats, library: MockLibrary): void {
  const byName = new Map(library.list({ search: "", tag: null, collection: null, sort: "name" }).map((c) => [c.name, c.id]));
  const id = (name: string): string => byName.get(name) ?? name;
  const alex = chats.handle("create_persona", { name: "Alex", description: "A cartographer in their thirties, curious and a little reckless." }) as { id: string };
  chats.handle("create_persona", { name: "Captain Reyes", description: "Retired navy officer. Speaks in short sentences." });
  chats.handle("set_default_persona", { id: alex.id });
  chats.handle("save_primary_context", { text: "You are {{char}}. Write in third person." });
  chats.handle("save_primary_context", {
    text: "You are {{char}} in a never-ending roleplay with {{user}}.\nStay in character, write vividly, and never speak for {{user}}.",
  });
  chats.handle("set_preferences", {
    characterId: id("Ember"),
    preferences: { relationship: "friend", customRelationship: "", speech: ["be_informal"], behaviour: ["be_warm", "be_funny"], summary: "" },
  });
  chats.addSession(id("Felix the Innkeeper"), [
    { role: "assistant", content: "*wipes the counter* Rooms are two silver a night. Stew's free if you tell me a good story." },
    { role: "user", content: "I have a story about a ghost ship." },
  ], { title: "The Crooked Lantern", archived: true });
  chats.addSession(id("Hana Mori"), [
    { role: "assistant", content: "Oh! You found the club room. We're reading *Kokoro* this week." },
    { role: "user", content: "Is there tea?" },
    { role: "assistant", content: "There's always tea. Second shelf, the tin with the crane on it." },
  ]);
  chats.addSyntheticSession(id("Aria Voss"), 100_000, sampleLine, { title: "The long haul" });
  chats.addSession(id("Nova-7"), [
    { role: "assistant", content: "MAINTENANCE LOG 4471: Poem attempt #12.\n\n> The pipes hum in B-flat,\n> the stars do not." },
    { role: "user", content: "That's actually beautiful." },
  ]);
  chats.addSession(id("Ember"), [
    {
      role: "assistant",
      content: "*The young dragon looks up from an enormous book, spectacles sliding down her snout.* Oh! A visitor. Mind the tail.",
      swipes: ["\"Oh. It's you again.\"", "*waves you over without a word*"],
    },
    { role: "user", content: "What are you reading?" },
    {
      role: "assistant",
      content:
        "A history of the **Ash Storms**. Did you know the bells of Emberfall were cast from melted hoards?\n\n1. The *first* bell — gold\n2. The second — silver and *regret*\n3. The third — nobody talks about the third\n\n`Cinderjaw` snores when a storm is coming. <img src=\"https://example.com/track.png\"> [old map](https://example.com)",
    },
    { role: "system", content: "A distant bell rings three times." },
    { role: "user", content: "Is that... the third bell?" },
  ], { title: "Ember's library" });
  const library_ = [...chats.sessions.values()].find((s) => s.summary.title === "Ember's library");
  if (library_) {
    chats.handle("set_authors_note", {
      sessionId: library_.summary.id,
      note: { text: "[Mood: hushed and eerie. The third bell is real, and {{char}} is afraid of it.]", position: "inChat", depth: 3, role: "system", interval: 1 },
    });
  }
  chats.handle("set_default_authors_note", {
    characterId: id("Ember"),
    note: { text: "[Keep {{char}} curious and bookish.]", position: "inChat", depth: 4, role: "system", interval: 2 },
  });
}

/** What Ember's chats fire in the Emberfall book (other chats fire nothing): for the preview. */
function samplePreviewWorldInfo(chats: MockChats, books: MockWorldBooks, sessionId: string): ScanReport {
  const none: ScanReport = { activated: [], dropped: [], tokensUsed: 0, budget: 2048, recursionLevels: 0, keyErrors: [] };
  const book = books.books.get("wb-emberfall");
  if (chats.sessions.get(sessionId)?.summary.characterName !== "Ember" || !book) return none;
  const entry = (uid: number) => book.entries.find((e) => e.uid === uid)!;
  const [city, wyrm, storm, sky, bells] = [entry(0), entry(1), entry(2), entry(3), entry(4)];
  const fired = (e: typeof city, reason: ScanReport["activated"][number]["reason"], tokens: number) => ({
    book: book.summary.id,
    uid: e.uid,
    comment: e.comment,
    position: e.position,
    depth: e.depth,
    role: e.role,
    order: e.insertionOrder,
    tokens,
    reason,
    groupWon: null,
    content: e.content,
  });
  return {
    activated: [
      fired(city, { kind: "constant" }, 27),
      fired(bells, { kind: "key", key: "bell", secondary: null, matchedIn: { kind: "message", index: 0 } }, 24),
      { ...fired(storm, { kind: "key", key: "storm", secondary: null, matchedIn: { kind: "message", index: 2 } }, 25), groupWon: "weather" },
    ],
    dropped: [
      { book: book.summary.id, uid: sky.uid, comment: sky.comment, reason: { kind: "group", group: "weather", winner: storm.uid } },
      { book: book.summary.id, uid: wyrm.uid, comment: wyrm.comment, reason: { kind: "secondaryKeys" } },
      // A reason from a newer core: shown generically, never broken.
      {
        book: book.summary.id,
        uid: 97,
        comment: "Harbour gossip",
        reason: { kind: "moonPhase", phase: "waning", waxing: false } as unknown as ScanReport["dropped"][number]["reason"],
      },
    ],
    tokensUsed: 76,
    budget: 2048,
    recursionLevels: 1, keyErrors: []
  };
}

/** The benchmark's chat: `count` messages, generated as they are read. */
function benchChat(chats: MockChats, library: MockLibrary, count: number): void {
  const aria = library.list({ search: "Aria", tag: null, collection: null, sort: "name" })[0];
  chats.addSyntheticSession(aria?.id ?? "Aria Voss", count, sampleLine, { title: "Bench" });
}

/** A long reply of `words` words with every kind of block a model writes. */
export function benchReply(words: number): string {
  const blocks = [
    "*She turns the page slowly, tracing the faded ink with one claw.* The road north was **never** meant for carts; it was cut for the bell-carriers, who walked it barefoot in the ash season and sang to keep the count.",
    "1. The first bell, cast in gold, rang for the harvest.\n2. The second, silver and *regret*, rang for the dead.\n3. The third rang once, and nobody who heard it will say what for.",
    "```python\ndef ring(bell, times):\n    for _ in range(times):\n        bell.strike()\n\n    return bell.echo()\n```",
    "| Bell | Metal | Rung |\n|------|-------|------|\n| First | gold | at harvest |\n| Second | silver | for the dead |\n| Third | unknown | once |",
    "> The pipes hum in B-flat,\n> the stars do not.\n\n— from the keeper's log, `entry 4471`",
    "- Pack light.\n- Keep the lantern *low*.\n  - Never below the knee.\n- Count the bells, not the steps.",
    "\"You want the truth?\" she says at last. \"The truth is a map with one road on it, and that road goes *down*.\" Her tail curls around the lamp, and the shadows on the shelves lean closer to listen.",
  ];
  const out: string[] = [];
  let count = 0;
  for (let i = 0; count < words; i++) {
    const block = blocks[i % blocks.length]!;
    out.push(block);
    count += block.split(/\s+/).length;
  }
  return out.join("\n\n");
}

function attempt<T>(run: () => T): T | Promise<never> {
  try {
    return run();
  } catch (error) {
    return Promise.reject(error);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function element<T extends HTMLElement>(selector: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const found = document.querySelector<T>(selector);
    if (found) return found;
    await delay(25);
  }
  throw new Error(`demo: ${selector} never appeared`);
}

function type(input: HTMLInputElement | HTMLTextAreaElement, value: string): void {
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

/** book-list | book-entry | book-atlas | book-search | book-settings | book-test | book-character | book-dictionary */
async function runBookDemo(demo: string): Promise<void> {
  if (demo === "book-character" || demo === "book-dictionary") {
    (await element<HTMLElement>('[data-testid="character-card"][data-name="Ember"]')).click();
    const section = await element(demo === "book-character" ? '[data-testid="character-world-books"]' : '[data-testid="dictionary-editor"]');
    await delay(200);
    section.closest("section")?.scrollIntoView({ block: "start" });
    return;
  }
  if (demo === "book-dictionary-global") return;
  (await element('[data-testid="nav-worldbooks"]')).click();
  if (demo === "book-list") return;
  const name = demo === "book-atlas" || demo === "book-search" ? "Atlas of the Ten Thousand Isles" : "Emberfall";
  (await element<HTMLElement>(`[data-testid="world-book-item"][data-name="${name}"]`)).click();
  await element('[data-testid="entry-list"]');
  if (demo === "book-entry") {
    (await element<HTMLElement>('[data-testid="entry-row"][data-uid="1"] [data-testid="entry-expand"]')).click();
    const content = await element<HTMLTextAreaElement>('[data-testid="entry-content"]');
    type(content, `${content.value} He dreams of the sea.`);
    (await element<HTMLInputElement>('[data-testid="entry-row"][data-uid="4"] [data-testid="entry-select"]')).click();
  } else if (demo === "book-search") {
    type(await element<HTMLInputElement>('[data-testid="entry-search"]'), "comet thornwick");
  } else if (demo === "book-settings") {
    (await element('[data-testid="book-tab-settings"]')).click();
  } else if (demo === "book-test") {
    (await element('[data-testid="book-tab-test"]')).click();
    type(
      await element<HTMLTextAreaElement>('[data-testid="test-messages"]'),
      "User: What's that rumbling under the mountain?\nEmber: Cinderjaw, probably. The old dragon snores when an ash storm is coming.\nUser: Should we ring the bell?",
    );
    await delay(50);
    (await element('[data-testid="test-run"]')).click();
  }
}

/** chat | chat-long | chat-prompt[-wi|-body] | chat-note | character-note | settings-examples | chat-prefs | chat-personas | chat-search | chat-edit | chat-stream | chat-models | context | providers | provider-edit | key-fallback | usage */
async function runChatDemo(demo: string): Promise<void> {
  if (demo === "providers" || demo === "provider-edit" || demo === "usage" || demo === "key-fallback") {
    (await element('[data-testid="nav-settings"]')).click();
    const section = await element(demo === "usage" ? '[data-testid="usage"]' : '[data-testid="providers"]');
    await delay(150);
    if (demo === "provider-edit" || demo === "key-fallback") {
      (await element<HTMLElement>('[data-testid="provider-item"] [data-testid="provider-edit"]')).click();
      await element('[data-testid="provider-editor"]');
    }
    if (demo === "key-fallback") {
      // With &keyring=off the keyring refuses and the choice appears.
      type(await element<HTMLInputElement>('[data-testid="api-key-input"]'), "sk-or-v1-demo");
      await delay(50);
      (await element('[data-testid="api-key-set"]')).click();
      (await element('[data-testid="key-fallback"]')).scrollIntoView({ block: "center" });
      return;
    }
    section.closest("section")?.scrollIntoView({ block: "start" });
    return;
  }
  if (demo === "settings-examples") {
    (await element('[data-testid="nav-settings"]')).click();
    const setting = await element('[data-testid="example-dialogue-setting"]');
    await delay(150);
    setting.closest("section")?.scrollIntoView({ block: "start" });
    return;
  }
  if (demo === "character-note") {
    (await element<HTMLElement>('[data-testid="character-card"][data-name="Ember"]')).click();
    const note = await element('[data-testid="character-note"]');
    await delay(200);
    note.closest("section")?.scrollIntoView({ block: "start" });
    return;
  }
  if (demo === "context") {
    (await element('[data-testid="nav-settings"]')).click();
    const editor = await element<HTMLTextAreaElement>('[data-testid="primary-context-editor"]');
    await delay(150);
    editor.closest("section")?.scrollIntoView({ block: "start" });
    type(editor, `${editor.value}\nKeep replies under 200 words.`);
    (await element('[data-testid="context-version-view"]')).click();
    return;
  }
  (await element('[data-testid="nav-chats"]')).click();
  if (demo === "chat-search") {
    type(await element<HTMLInputElement>('[data-testid="message-search"]'), "lighthouse");
    return;
  }
  const title = demo === "chat-long" ? "The long haul" : "Ember's library";
  (await element<HTMLElement>(`[data-testid="session-item"][data-title="${title}"] button`)).click();
  await element('[data-testid="message"]');
  if (demo.startsWith("chat-prompt")) {
    type(await element<HTMLTextAreaElement>('[data-testid="composer-input"]'), "Ring the bell again?");
    (await element('[data-testid="prompt-preview-open"]')).click();
    if (demo === "chat-prompt-wi") (await element('[data-testid="prompt-tab-world-info"]')).click();
    if (demo === "chat-prompt-body") (await element('[data-testid="prompt-tab-request"]')).click();
  } else if (demo === "chat-note") {
    (await element('[data-testid="authors-note-open"]')).click();
  } else if (demo === "chat-prefs") {
    (await element('[data-testid="preferences-open"]')).click();
  } else if (demo === "chat-personas") {
    (await element('[data-testid="persona-manage"]')).click();
  } else if (demo === "chat-stream") {
    type(await element<HTMLTextAreaElement>('[data-testid="composer-input"]'), "Tell me about the bells.");
    (await element('[data-testid="composer-send"]')).click();
  } else if (demo === "chat-models") {
    (await element('[data-testid="model-picker"]')).click();
  } else if (demo === "chat-edit") {
    const messages = document.querySelectorAll<HTMLElement>('[data-testid="message"][data-role="assistant"]');
    messages[messages.length - 1]?.querySelector<HTMLElement>('[data-testid="message-edit"]')?.click();
  }
}

/** Scripted interactions, so headless screenshots can show every state. */
async function runDemo(demo: string): Promise<void> {
  await element('[data-ready="true"]');
  const drag = (type: string, paths: string[] = []): Promise<void> =>
    emit(`tauri://drag-${type}`, { paths, position: { x: 400, y: 300 } });
  if (demo === "drag") {
    await delay(100);
    await drag("enter", ["/home/alex/cards/Aria_Voss.png"]);
    return;
  }
  if (demo === "drop") {
    await delay(100);
    await drag("enter");
    await delay(150);
    await drag("drop", [
      "/home/alex/cards/Wren_the_Cartographer.png",
      "/home/alex/cards/Nova-7.png",
      "/home/alex/cards/dup/Ember.png",
      "/home/alex/cards/holiday_photo.jpg",
      "/home/alex/cards/broken_export.json",
      "/home/alex/cards/notes.txt",
    ]);
    return;
  }
  if (demo.startsWith("book")) {
    await runBookDemo(demo);
    return;
  }
  if (demo === "card-dictionary") {
    // Brother Ignatius's card brought dictionary rules that wait for review.
    (await element<HTMLElement>('[data-testid="character-card"][data-name="Brother Ignatius"]')).click();
    const review = await element('[data-testid="dictionary-review"]');
    await delay(200);
    review.closest("section")?.scrollIntoView({ block: "start" });
    return;
  }
  if (demo === "provider-insecure" || demo === "provider-insecure-confirm") {
    (await element('[data-testid="nav-settings"]')).click();
    await element('[data-testid="providers"]');
    await delay(150);
    (await element<HTMLElement>('[data-testid="provider-item"] [data-testid="provider-edit"]')).click();
    type(await element<HTMLInputElement>('[data-testid="provider-base-url"]'), "http://api.example.com/v1");
    await delay(50);
    if (demo === "provider-insecure-confirm") (await element('[data-testid="provider-save"]')).click();
    return;
  }
  if (demo.startsWith("chat") || demo === "character-note" || demo === "settings-examples" || demo === "context" || demo === "providers" || demo === "provider-edit" || demo === "usage" || demo === "key-fallback") {
    await runChatDemo(demo);
    return;
  }
  const card = await element('[data-testid="character-card"]');
  card.click();
  const name = await element<HTMLInputElement>('[data-testid="field-name"]');
  if (demo === "dirty") {
    name.value = `${name.value} (edited)`;
    name.dispatchEvent(new Event("input", { bubbles: true }));
    await delay(50);
    (await element('[data-testid="nav-chats"]')).click();
  } else if (demo === "delete") {
    (await element('[data-testid="detail-delete"]')).click();
  } else if (demo === "export") {
    (await element('[data-testid="export-png"]')).click();
  }
}
