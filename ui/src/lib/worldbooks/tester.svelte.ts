// The activation test of the book view: sample messages typed as
// "Name: text" lines, the books to scan, context size and seed, the kind of
// generation and the character (for entries' triggers and character filters);
// Run asks the backend's real scanner and keeps its report.

import { SvelteMap } from "svelte/reactivity";
import {
  listCharacters,
  listSessions,
  testActivation,
  type BookSettings,
  type CharacterSummary,
  type ScanCharacter,
  type ScanMessage,
  type ScanReport,
  type SessionSummary,
  type Trigger,
} from "../api";
import type { Reporter } from "../library/library.svelte";

export type TestRole = "user" | "assistant";
export type ParsedMessage = { name: string; content: string; role: TestRole };

const USER_NAMES = new Set(["user", "you", "me", "{{user}}", "я", "пользователь"]);
/** "Name: text": a short name without another colon, then the text. */
const SPEAKER = /^([^:\n]{1,40}):\s?(.*)$/;

/**
 * Each line that starts with "Name:" begins a message; other lines continue
 * the one before. "User"/"You" speak as the user, anyone else as the character.
 */
export function parseMessages(text: string): ParsedMessage[] {
  const messages: ParsedMessage[] = [];
  for (const line of text.split(/\r?\n/)) {
    const match = SPEAKER.exec(line);
    if (match && !/^https?$/i.test(match[1]!.trim())) {
      const name = match[1]!.trim();
      messages.push({
        name,
        content: match[2]!,
        role: USER_NAMES.has(name.toLowerCase()) ? "user" : "assistant",
      });
    } else if (messages.length > 0) {
      const last = messages[messages.length - 1]!;
      last.content = last.content === "" ? line : `${last.content}\n${line}`;
    } else if (line.trim() !== "") {
      messages.push({ name: "", content: line, role: "user" });
    }
  }
  return messages
    .map((m) => ({ ...m, content: m.content.trim() }))
    .filter((m) => m.content !== "");
}

export function randomSeed(): number {
  return Math.floor(Math.random() * 1_000_000);
}

export const DEFAULT_CONTEXT = 8192;

/** What a test scans: messages typed here, or a real chat from the library. */
export type TestSource = "typed" | "chat";

export class ActivationTester {
  /** Typed messages, or a real chat scanned as its next turn would be. */
  source = $state<TestSource>("typed");
  /** The chat to scan when the source is a chat. */
  sessionId = $state<string | null>(null);
  /** A message as if the user were sending it, scanned after the chat. */
  draft = $state("");
  /** The library's chats to choose from, newest first. */
  sessions = $state.raw<readonly SessionSummary[]>([]);
  text = $state("");
  /** Roles the user flipped, by message index. */
  roles = new SvelteMap<number, TestRole>();
  bookIds = $state<string[]>([]);
  contextTokens = $state(DEFAULT_CONTEXT);
  /** Shown so a run can be repeated exactly; null lets the backend pick. */
  seed = $state<number | null>(randomSeed());
  /** The kind of generation tested (entries with triggers fire only for theirs). */
  trigger = $state<Trigger>("normal");
  /** The character tested for; null leaves character filters unapplied. */
  characterId = $state<string | null>(null);
  /** The library's characters to choose from, by name. */
  characters = $state.raw<readonly CharacterSummary[]>([]);
  running = $state(false);
  report = $state.raw<ScanReport | null>(null);
  /** The messages the last report was made from (its indexes point here). */
  ranWith = $state.raw<readonly ScanMessage[]>([]);

  parsed = $derived(parseMessages(this.text));
  messages = $derived<ScanMessage[]>(
    this.parsed.map((m, i) => ({ role: this.roles.get(i) ?? m.role, name: m.name, content: m.content })),
  );

  #report: Reporter;
  #bookId: string | null = null;

  constructor(report: Reporter) {
    this.#report = report;
  }

  /** Starts over for another book (its own id checked by default). */
  reset(bookId: string): void {
    if (this.#bookId === bookId) return;
    this.#bookId = bookId;
    this.text = "";
    this.roles.clear();
    this.bookIds = [bookId];
    this.contextTokens = DEFAULT_CONTEXT;
    this.seed = randomSeed();
    this.trigger = "normal";
    this.characterId = null;
    this.source = "typed";
    this.sessionId = null;
    this.draft = "";
    this.report = null;
    this.ranWith = [];
  }

  /** Loads the characters a test may be run for. */
  async loadCharacters(): Promise<void> {
    const result = await listCharacters({ sort: "name" });
    if (result.ok) this.characters = result.data;
  }

  /** Loads the chats a test may scan (the newest first; the first is picked if none is). */
  async loadSessions(): Promise<void> {
    const result = await listSessions({ search: "", includeArchived: false });
    if (!result.ok) return;
    this.sessions = result.data;
    if (this.sessionId === null || !result.data.some((s) => s.id === this.sessionId)) {
      this.sessionId = result.data[0]?.id ?? null;
    }
  }

  /** Whether Run has what it needs. */
  get ready(): boolean {
    return this.bookIds.length > 0 && (this.source === "typed" || this.sessionId !== null);
  }

  /** The chosen character as the scanner sees it: its name and tag names. */
  get character(): ScanCharacter | null {
    const chosen = this.characters.find((c) => c.id === this.characterId);
    return chosen ? { name: chosen.name, tags: [...chosen.tags] } : null;
  }

  toggleRole(index: number): void {
    const role = this.messages[index]?.role;
    if (role) this.roles.set(index, role === "user" ? "assistant" : "user");
  }

  toggleBook(id: string): void {
    this.bookIds = this.bookIds.includes(id) ? this.bookIds.filter((b) => b !== id) : [...this.bookIds, id];
  }

  reroll(): void {
    this.seed = randomSeed();
  }

  /** `settings` overrides the books' own (the open book's unsaved settings). */
  async run(settings: BookSettings | null): Promise<void> {
    if (this.running || !this.ready) return;
    this.running = true;
    const chat = this.source === "chat";
    const messages = chat ? [] : this.messages;
    const draft = this.draft.trim();
    const result = await testActivation({
      bookIds: [...this.bookIds],
      messages,
      settings,
      seed: this.seed,
      contextTokens: Math.max(1, Math.round(this.contextTokens) || DEFAULT_CONTEXT),
      trigger: this.trigger,
      // A chat brings its own character (and its persona and card texts as match sources).
      character: chat ? null : this.character,
      sessionId: chat ? this.sessionId : null,
      message: chat && draft !== "" ? draft : null,
    });
    this.running = false;
    if (result.ok) {
      this.report = result.data;
      this.ranWith = messages;
    } else {
      this.#report(result.error, "error.context.testActivation");
    }
  }
}
