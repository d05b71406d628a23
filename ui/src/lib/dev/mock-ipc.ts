// A fake Rust side for looking at the UI in a plain browser (screenshots,
// design work). Loaded only when VITE_MOCK_IPC is set at build/dev time.

import { emit } from "@tauri-apps/api/event";
import { mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import type { ApiError, AppInfo, CardData, CharacterQuery, ExportFormat, ImportEvent, SessionModel, Settings } from "../api";
import { MockChats } from "./mock-chats";
import { runDemo } from "./mock-demos";
import { MockLibrary } from "./mock-library";
import { DEMO_FILE_NAME, MockOnboarding } from "./mock-onboarding";
import { liveRendering } from "../chats/live-markdown";
import {
  benchChat,
  benchReply,
  chatCharacterOf,
  SAMPLE_REASONING,
  sampleAttachment,
  sampleChats,
  samplePreviewWorldInfo,
  sampleProviders,
  sampleReply,
} from "./mock-samples";
import { MockStreams } from "./mock-streams";
import { MockWorldBooks, sampleBooks, sampleReport } from "./mock-worldbooks";

export { benchReply } from "./mock-samples";

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
 * (for screenshots; see ./mock-demos).
 * `&firstrun=1` opens the first-run walk-through as on a new library.
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
    textPrompt: (sessionId, messages, names, maxTokens) => providers.textPrompt(sessionId, messages, names, maxTokens),
  });
  providers.sessionCharacter = (sessionId) => chats.sessions.get(sessionId)?.summary.characterId ?? null;
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

  const onboarding = new MockOnboarding(query.get("firstrun") !== "1", () => delay(300).then(() => library.importOne(DEMO_FILE_NAME)));

  mockIPC(
    (cmd, args) => {
      const a = (args ?? {}) as Record<string, unknown>;
      const onboardingAnswer = onboarding.handle(cmd);
      if (onboardingAnswer !== undefined) return onboardingAnswer;
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
