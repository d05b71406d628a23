// What the dev mock shows: sample chats (one of 100,000 messages), personas,
// notes and preferences, configured providers with usage, the world info a
// preview of Ember's chat fires, a character as the chat backend sees it,
// attachment images, the fake model's replies, and the benchmark's chat.

import type { ScanReport } from "../api";
import { sampleLine, type ChatCharacter, type MockChats } from "./mock-chats";
import type { MockLibrary } from "./mock-library";
import { characterNoteOf } from "./mock-notes";
import { MockProviders, model } from "./mock-providers";
import type { MockWorldBooks } from "./mock-worldbooks";

export const SAMPLE_REASONING =
  "The user is asking about the bells. Ember loves this topic; she should answer with enthusiasm, a small history lesson, and a hook for the next scene. ";

/** What the fake model writes, by request kind. */
export function sampleReply(kind: string): string {
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
export function sampleProviders(full: boolean, keyring: boolean): MockProviders {
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
        kind: "llamaCpp",
        kindBaseUrl: "http://127.0.0.1:8080",
      },
      {
        port: 5001,
        kindGuess: "koboldcpp",
        baseUrl: "http://127.0.0.1:5001/v1",
        models: [model("koboldcpp/Mistral-Nemo-12B-Q4_K_M", 16_384)],
        kind: "koboldCpp",
        kindBaseUrl: "http://127.0.0.1:5001",
      },
      {
        port: 11434,
        kindGuess: "ollama",
        baseUrl: "http://127.0.0.1:11434/v1",
        models: [model("qwen2.5:7b", 32_768), model("mistral:7b", 32_768)],
        kind: "openAiCompatible",
        kindBaseUrl: "http://127.0.0.1:11434/v1",
      },
    ],
    usage: (days) => ({
      rows: [
        { day: "2026-11-20", providerName: "OpenRouter", model: "anthropic/claude-3.5-sonnet", requests: 41, promptTokens: 182_340, completionTokens: 12_876, costUsd: 0.7401, cacheReadTokens: 150_200, cacheWriteTokens: 14_100, cacheSavedUsd: 0.3527 },
        { day: "2026-11-20", providerName: "llama.cpp :8080", model: "llama-3.2-3b-instruct-q4", requests: 17, promptTokens: 40_112, completionTokens: 6_920, costUsd: null, cacheReadTokens: 0, cacheWriteTokens: 0, cacheSavedUsd: null },
        { day: "2026-11-19", providerName: "OpenRouter", model: "openai/gpt-4o-mini", requests: 63, promptTokens: 251_004, completionTokens: 20_310, costUsd: 0.0498, cacheReadTokens: 0, cacheWriteTokens: 0, cacheSavedUsd: null },
        ...(days > 7
          ? [{ day: "2026-11-02", providerName: "OpenRouter", model: "openai/gpt-4o", requests: 9, promptTokens: 30_500, completionTokens: 2_204, costUsd: 0.0983, cacheReadTokens: 0, cacheWriteTokens: 0, cacheSavedUsd: null }]
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
    const kobold = providers.add({ name: "KoboldCpp :5001", kind: "koboldCpp", baseUrl: "http://127.0.0.1:5001", defaultModel: "koboldcpp/Mistral-Nemo-12B-Q4_K_M" });
    providers.connections.addProfile({ name: "Claude for stories", providerId: router.id, model: "anthropic/claude-3.5-sonnet", generation: { temperature: 1 } });
    providers.connections.addProfile({ name: "Local Llama 3", providerId: local.id, model: "llama-3.2-3b-instruct-q4" });
    providers.connections.addProfile({ name: "Kobold ChatML", providerId: kobold.id, instruct: { type: "named", name: "ChatML" }, generation: { minP: 0.05 } });
    providers.connections.saved.set("instruct:ChatML", JSON.stringify({ name: "ChatML", input_sequence: "<|im_start|>user", output_sequence: "<|im_start|>assistant", wrap: true }, null, 4));
  }
  return providers;
}

export function chatCharacterOf(library: MockLibrary, id: string): ChatCharacter | null {
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

export function sampleAttachment(id: string): string {
  const hue = [...id].reduce((h, c) => h + c.charCodeAt(0) * 13, 0) % 360;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="220" viewBox="0 0 320 220"><defs><linearGradient id="s" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="hsl(${hue} 70% 78%)"/><stop offset="1" stop-color="hsl(${(hue + 40) % 360} 60% 55%)"/></linearGradient></defs><rect width="320" height="220" fill="url(#s)"/><circle cx="240" cy="60" r="26" fill="hsl(45 95% 85%)"/><path d="M0 170 90 90l60 55 50-35 120 80v30H0z" fill="hsl(${(hue + 200) % 360} 30% 30%)"/></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

/** A handful of chats to look at: one of 100,000 messages, swipes, an archived one. */
export function sampleChats(chats: MockChats, library: MockLibrary): void {
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
export function samplePreviewWorldInfo(chats: MockChats, books: MockWorldBooks, sessionId: string): ScanReport {
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
export function benchChat(chats: MockChats, library: MockLibrary, count: number): void {
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
