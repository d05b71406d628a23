// A fake chat backend kept in memory: sessions with a message tree (swipes
// are siblings, the active path follows the chosen child), personas,
// character preferences, the primary context and prompt assembly. Serves the
// dev mock (screenshots) and the tests. A session can be "synthetic": its
// first N messages are generated on demand, so a 100,000-message chat costs
// nothing until a page of it is read.

import { checkAuthorsNote } from "./mock-notes";
import type {
  ApiError,
  AssembledPrompt,
  AuthorsNote,
  CharacterNote,
  CharacterPreferences,
  ChatNotes,
  ExampleDialogue,
  JsonValue,
  PreviewTarget,
  PromptImage,
  ScanReport,
  ChatExportFormat,
  ContextVersion,
  ExportedFile,
  Message,
  MessageImage,
  MessageMeta,
  MessagePage,
  MessageStatus,
  Persona,
  PrimaryContext,
  PromptMessage,
  PromptPart,
  PromptPreview,
  ReplyKind,
  Role,
  SearchHit,
  SessionQuery,
  SessionSummary,
  StreamStarted,
} from "../api";

/** What the chat backend needs to know about a character. */
export type ChatCharacter = {
  id: string;
  name: string;
  avatarKey: string | null;
  greeting: string;
  alternateGreetings: string[];
  description: string;
  /** The card's example dialogue (`mes_example`). */
  mesExample?: string;
  /** The card's Character's note. */
  characterNote?: CharacterNote | null;
};

export type ChatHooks = {
  character?: (id: string) => ChatCharacter | null;
  /** The world info a preview of this session reports (default: none fired). */
  worldInfo?: (sessionId: string) => ScanReport;
  /** Where a send would go, and the model's window when known (default: no provider). */
  target?: (sessionId: string) => (PreviewTarget & { contextLength: number | null }) | null;
  /** The current time (tests pin it). */
  now?: () => number;
};

type Node = {
  id: string;
  parentId: string | null;
  role: Role;
  name: string;
  content: string;
  versions: string[];
  images: MessageImage[];
  createdAt: number;
  status?: MessageStatus;
  meta?: ReplyMeta;
};

/** A reply's meta; the backend may add the model's reasoning to it. */
export type ReplyMeta = MessageMeta & { reasoning?: string | null };

/** Messages 0..count-1 of the active path, generated on demand. */
type Synthetic = { count: number; make: (index: number) => { role: Role; content: string } };

type Session = {
  summary: SessionSummary;
  synthetic: Synthetic | null;
  nodes: Map<string, Node>;
  /** Children by parent id ("" for the root). */
  children: Map<string, string[]>;
  /** The active child by parent id. */
  active: Map<string, string>;
};

export const DEFAULT_PRIMARY_CONTEXT =
  "You are {{char}} in a never-ending roleplay with {{user}}. Stay in character, write vividly, and never speak for {{user}}.";

const OPPOSITES: readonly [string, string][] = [
  ["be_formal", "be_informal"],
  ["be_warm", "be_cold"],
  ["be_funny", "be_serious"],
];

function reject(code: ApiError["code"], message: string): Promise<never> {
  const error: ApiError = { code, message };
  return Promise.reject(error);
}

const NO_META: Message["meta"] = {
  model: null,
  provider: null,
  promptTokens: null,
  completionTokens: null,
  finishReason: null,
  timeToFirstTokenMs: null,
  durationMs: null,
};

export function tokensOf(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4));
}

export class MockChats {
  sessions = new Map<string, Session>();
  personas = new Map<string, Persona>();
  preferences = new Map<string, CharacterPreferences>();
  contextVersions: ContextVersion[] = [];
  postHistory = "";
  /** Chats' own Author's Notes, by session id. */
  chatNotes = new Map<string, AuthorsNote>();
  /** Characters' default Author's Notes, by character id. */
  defaultNotes = new Map<string, AuthorsNote>();
  /** The example-dialogue setting the preview follows. */
  exampleDialogue: ExampleDialogue = "gradual";
  #hooks: ChatHooks;
  #next = 1;
  #clock: number;

  constructor(hooks: ChatHooks = {}) {
    this.#hooks = hooks;
    this.#clock = hooks.now?.() ?? Date.UTC(2026, 10, 20, 18, 0, 0);
  }

  #id(prefix: string): string {
    return `${prefix}-${this.#next++}`;
  }

  #now(): number {
    if (this.#hooks.now) return this.#hooks.now();
    this.#clock += 1000;
    return this.#clock;
  }

  #character(id: string): ChatCharacter {
    return (
      this.#hooks.character?.(id) ?? {
        id,
        name: id,
        avatarKey: null,
        greeting: "",
        alternateGreetings: [],
        description: "",
      }
    );
  }

  // ---- Building sessions (also used by tests and the dev mock directly) ----

  /** A session with a linear path of `messages`; the first may carry greeting swipes. */
  addSession(
    characterId: string,
    messages: readonly { role: Role; content: string; name?: string; swipes?: string[]; status?: MessageStatus; meta?: ReplyMeta }[],
    fields: Partial<SessionSummary> = {},
  ): SessionSummary {
    const character = this.#character(characterId);
    const id = fields.id ?? this.#id("s");
    const now = this.#now();
    const session: Session = {
      summary: {
        id,
        title: character.name,
        characterId,
        characterName: character.name,
        characterAvatarKey: character.avatarKey,
        collections: [],
        personaId: null,
        archived: false,
        preview: "",
        messageCount: 0,
        createdAt: now,
        updatedAt: now,
        ...fields,
      },
      synthetic: null,
      nodes: new Map(),
      children: new Map(),
      active: new Map(),
    };
    this.sessions.set(id, session);
    let parent: string | null = null;
    for (const message of messages) {
      const texts = [message.content, ...(message.swipes ?? [])];
      let first: string | null = null;
      for (const text of texts) {
        const node = this.#append(session, parent, message.role, text, message.name);
        if (first === null) {
          if (message.status) node.status = message.status;
          if (message.meta) node.meta = message.meta;
        }
        first ??= node.id;
      }
      if (first) session.active.set(parent ?? "", first);
      parent = first;
    }
    this.#refresh(session);
    return session.summary;
  }

  /**
   * What the chat engine saves when a reply request starts: the user message
   * and an empty partial reply (send), a new empty swipe (regenerate), the
   * reply being extended (continue), or nothing (impersonate).
   */
  beginReply(sessionId: string, kind: ReplyKind, text = "", imageIds: readonly string[] = []): StreamStarted | ApiError {
    const session = this.#session(sessionId);
    if (!session) return { code: "not_found", message: `session ${sessionId} was not found` };
    const started: StreamStarted = { sessionId, kind, userMessageId: null, assistantMessageId: null };
    if (kind === "impersonate") return started;
    const length = this.#length(session);
    const last = length > 0 ? this.#nodeAt(session, length - 1) : null;
    if (kind === "send") {
      if (text.trim() === "" && imageIds.length === 0) return { code: "invalid_input", message: "the message is empty" };
      const images = imageIds.map((id) => this.images.get(id) ?? { id, mime: "image/png", name: id });
      const user = this.#append(session, last?.id ?? null, "user", text, undefined, images);
      session.active.set(last?.id ?? "", user.id);
      const reply = this.#append(session, user.id, "assistant", "");
      reply.status = "partial";
      session.active.set(user.id, reply.id);
      this.#refresh(session, true);
      return { ...started, userMessageId: user.id, assistantMessageId: reply.id };
    }
    if (kind === "continue") {
      if (!last || last.role !== "assistant") return { code: "invalid_input", message: "there is no reply to continue" };
      last.status = "partial";
      return { ...started, assistantMessageId: last.id };
    }
    // Regenerate: a new sibling of the last reply, or a first reply to a user message.
    const parent = last?.role === "assistant" ? last.parentId : (last?.id ?? null);
    const reply = this.#append(session, parent, "assistant", "");
    reply.status = "partial";
    session.active.set(parent ?? "", reply.id);
    this.#refresh(session, true);
    return { ...started, assistantMessageId: reply.id };
  }

  /** The engine's checkpoint: a reply's text, status and meta as saved so far. */
  writeReply(messageId: string, content: string, status: MessageStatus, meta?: ReplyMeta): void {
    const found = this.#find(messageId);
    if (!found) return;
    found.node.content = content;
    found.node.status = status;
    if (meta) found.node.meta = meta;
    this.#refresh(found.session, true);
  }

  /** Drops a reply that never got any text (a failed or stopped request that saved nothing). */
  discardReply(messageId: string): void {
    const found = this.#find(messageId);
    if (!found) return;
    const { session, node } = found;
    session.nodes.delete(node.id);
    const key = node.parentId ?? "";
    const siblings = (session.children.get(key) ?? []).filter((id) => id !== node.id);
    session.children.set(key, siblings);
    if (siblings.length > 0) session.active.set(key, siblings[siblings.length - 1]!);
    else session.active.delete(key);
    this.#refresh(session, true);
  }

  /** A message on the active path, as get_messages would return it. */
  messageById(messageId: string): Message | null {
    const found = this.#find(messageId);
    return found ? this.#message(found.session, found.node) : null;
  }

  /** A session whose first `count` messages are generated on demand. */
  addSyntheticSession(
    characterId: string,
    count: number,
    make: Synthetic["make"],
    fields: Partial<SessionSummary> = {},
  ): SessionSummary {
    const summary = this.addSession(characterId, [], fields);
    const session = this.sessions.get(summary.id)!;
    session.synthetic = { count, make };
    this.#refresh(session);
    return session.summary;
  }

  #append(session: Session, parentId: string | null, role: Role, content: string, name?: string, images: MessageImage[] = []): Node {
    const character = this.#character(session.summary.characterId);
    const persona = this.#personaOf(session);
    const node: Node = {
      id: this.#id("m"),
      parentId,
      role,
      name: name ?? (role === "assistant" ? character.name : role === "user" ? (persona?.name ?? "You") : ""),
      content,
      versions: [],
      images,
      createdAt: this.#now(),
    };
    session.nodes.set(node.id, node);
    const key = parentId ?? "";
    session.children.set(key, [...(session.children.get(key) ?? []), node.id]);
    return node;
  }

  #personaOf(session: Session): Persona | null {
    const id = session.summary.personaId;
    if (id) return this.personas.get(id) ?? null;
    return [...this.personas.values()].find((p) => p.isDefault) ?? null;
  }

  #syntheticId(session: Session, index: number): string {
    return `${session.summary.id}~${index}`;
  }

  /** The synthetic index of an id, or -1. */
  #syntheticIndex(session: Session, id: string): number {
    if (!session.synthetic) return -1;
    const prefix = `${session.summary.id}~`;
    if (!id.startsWith(prefix)) return -1;
    const index = Number(id.slice(prefix.length));
    return Number.isInteger(index) && index >= 0 && index < session.synthetic.count ? index : -1;
  }

  /** A synthetic message becomes a real node the first time it is changed. */
  #materialise(session: Session, index: number): Node {
    const id = this.#syntheticId(session, index);
    const existing = session.nodes.get(id);
    if (existing) return existing;
    const made = session.synthetic!.make(index);
    const character = this.#character(session.summary.characterId);
    const node: Node = {
      id,
      parentId: index === 0 ? null : this.#syntheticId(session, index - 1),
      role: made.role,
      name: made.role === "assistant" ? character.name : made.role === "user" ? "You" : "",
      content: made.content,
      versions: [],
      images: [],
      createdAt: session.summary.createdAt + index * 60_000,
    };
    session.nodes.set(id, node);
    return node;
  }

  #nodeAt(session: Session, index: number): Node {
    const synthetic = session.synthetic;
    if (synthetic && index < synthetic.count) return this.#materialise(session, index);
    return session.nodes.get(this.#tail(session)[index - (synthetic?.count ?? 0)]!)!;
  }

  /** Ids of the tree part of the active path (after the synthetic part). */
  #tail(session: Session): string[] {
    const ids: string[] = [];
    let key = session.synthetic && session.synthetic.count > 0 ? this.#syntheticId(session, session.synthetic.count - 1) : "";
    for (;;) {
      const next = session.active.get(key) ?? session.children.get(key)?.slice(-1)[0];
      if (!next || !session.nodes.has(next)) return ids;
      ids.push(next);
      key = next;
    }
  }

  #length(session: Session): number {
    return (session.synthetic?.count ?? 0) + this.#tail(session).length;
  }

  #message(session: Session, node: Node): Message {
    const siblings = session.children.get(node.parentId ?? "") ?? [node.id];
    const index = Math.max(0, siblings.indexOf(node.id));
    return {
      id: node.id,
      parentId: node.parentId,
      role: node.role,
      name: node.name,
      content: node.content,
      status: node.status ?? "complete",
      meta: node.meta ?? NO_META,
      images: node.images,
      swipeIndex: index,
      swipeCount: Math.max(1, siblings.length),
      editCount: node.versions.length,
      createdAt: node.createdAt,
    };
  }

  #refresh(session: Session, touch = false): void {
    const count = this.#length(session);
    const last = count > 0 ? this.#nodeAt(session, count - 1) : null;
    session.summary = {
      ...session.summary,
      messageCount: count,
      // The start only: a streaming reply saves here on every delta.
      preview: last ? last.content.slice(0, 600).replace(/\s+/g, " ").slice(0, 140) : "",
      updatedAt: touch ? this.#now() : session.summary.updatedAt,
    };
  }

  #find(messageId: string): { session: Session; node: Node } | null {
    for (const session of this.sessions.values()) {
      const node = session.nodes.get(messageId);
      if (node) return { session, node };
      const index = this.#syntheticIndex(session, messageId);
      if (index !== -1) return { session, node: this.#materialise(session, index) };
    }
    return null;
  }

  #session(id: string): Session | null {
    return this.sessions.get(id) ?? null;
  }

  /** The active path's messages [from, to). */
  page(sessionId: string, cursor: string | null, limit: number): MessagePage {
    const session = this.sessions.get(sessionId)!;
    const total = this.#length(session);
    const end = cursor === null ? total : Math.min(total, Math.max(0, Number(cursor)));
    const start = Math.max(0, end - limit);
    const messages: Message[] = [];
    for (let i = start; i < end; i++) messages.push(this.#message(session, this.#nodeAt(session, i)));
    return { messages, olderCursor: start > 0 ? String(start) : null, total };
  }

  #pathIndex(session: Session, id: string): number {
    const synthetic = this.#syntheticIndex(session, id);
    if (synthetic !== -1) return synthetic;
    const at = this.#tail(session).indexOf(id);
    return at === -1 ? -1 : at + (session.synthetic?.count ?? 0);
  }

  #create(characterId: string): SessionSummary {
    const character = this.#character(characterId);
    const greetings = [character.greeting, ...character.alternateGreetings].filter((g) => g.trim() !== "");
    const [first, ...rest] = greetings;
    return this.addSession(characterId, first === undefined ? [] : [{ role: "assistant", content: first, swipes: rest }]);
  }

  #search(query: string, sessionId: string | null): SearchHit[] {
    const needle = query.trim().toLowerCase();
    if (!needle) return [];
    const hits: SearchHit[] = [];
    for (const session of this.sessions.values()) {
      if (sessionId !== null && session.summary.id !== sessionId) continue;
      const total = this.#length(session);
      for (let i = total - 1; i >= 0 && hits.length < 200; i--) {
        // Generated text is only materialised when it matches.
        const synthetic = session.synthetic && i < session.synthetic.count && !session.nodes.has(this.#syntheticId(session, i));
        const content = synthetic ? session.synthetic!.make(i).content : this.#nodeAt(session, i).content;
        const at = content.toLowerCase().indexOf(needle);
        if (at === -1) continue;
        const node = this.#nodeAt(session, i);
        const from = Math.max(0, at - 40);
        const to = Math.min(content.length, at + needle.length + 60);
        const snippet =
          (from > 0 ? "…" : "") +
          content.slice(from, at) +
          "\u0002" +
          content.slice(at, at + needle.length) +
          "\u0003" +
          content.slice(at + needle.length, to) +
          (to < content.length ? "…" : "");
        hits.push({
          sessionId: session.summary.id,
          messageId: node.id,
          sessionTitle: session.summary.title,
          characterName: session.summary.characterName,
          snippet,
          createdAt: node.createdAt,
        });
      }
    }
    return hits;
  }

  #primaryContext(): PrimaryContext {
    return { current: this.contextVersions[0] ?? null, defaultText: DEFAULT_PRIMARY_CONTEXT, postHistory: this.postHistory };
  }

  #notes(sessionId: string): ChatNotes {
    const session = this.sessions.get(sessionId)!;
    return {
      chat: this.chatNotes.get(sessionId) ?? null,
      characterDefault: this.defaultNotes.get(session.summary.characterId) ?? null,
    };
  }

  /**
   * A preview shaped like the core's: the system prompt (with world info
   * around the character), the example chats, the history with the notes at
   * their depths, the post-history prompt and the new message.
   */
  #preview(sessionId: string, draft: string | null, imageIds: readonly string[], withBody: boolean): PromptPreview {
    const session = this.sessions.get(sessionId)!;
    const character = this.#character(session.summary.characterId);
    const persona = this.#personaOf(session);
    const preferences = this.preferences.get(character.id);
    const userName = persona?.name ?? "You";
    const macros = (text: string): string => text.replace(/\{\{user\}\}/gi, userName).replace(/\{\{char\}\}/gi, character.name);
    const worldInfo = this.#hooks.worldInfo?.(sessionId) ?? { activated: [], dropped: [], tokensUsed: 0, budget: 0, recursionLevels: 0, keyErrors: [] };
    const entries = (position: string): Piece[] =>
      worldInfo.activated
        .filter((a) => a.position === position)
        .map((a) => ({
          source: "worldInfo",
          label: `world info #${a.uid}${a.comment ? ` ${a.comment}` : ""} (${position === "atDepth" ? `at depth ${a.depth}, ${a.role}` : (PLACE[position] ?? position)})`,
          text: a.content,
        }));
    const parts: PromptPart[] = [];
    const messages: PromptMessage[] = [];
    const push = (role: Role, pieces: readonly Piece[]): number => {
      const used = pieces.filter((p) => p.text.trim() !== "");
      if (used.length === 0) return -1;
      const index = messages.length;
      messages.push({ role, content: used.map((p) => p.text).join("\n\n") });
      for (const p of used) parts.push({ ...p, messageIndex: index, tokens: tokensOf(p.text) });
      return index;
    };

    const notes = this.#notes(sessionId);
    const note = notes.chat ?? notes.characterDefault;
    const total = this.#length(session);
    const keep = Math.min(total, 20);
    const history: Node[] = [];
    for (let i = total - keep; i < total; i++) history.push(this.#nodeAt(session, i));
    const newMessage = draft !== null && draft.trim() !== "" ? draft : null;
    const userTurns = history.filter((n) => n.role === "user").length + (newMessage !== null || imageIds.length > 0 ? 1 : 0);
    const noteSent = note !== null && note.text.trim() !== "" && note.interval > 0 && userTurns % note.interval === 0;
    const notePiece = (where: string): Piece => ({ source: "authorsNote", label: `Author's Note (${where})`, text: macros(note!.text) });

    if (noteSent && note.position === "beforeSystem") push("system", [notePiece("before the system prompt")]);
    push("system", [
      { source: "primaryContext", label: "primary context", text: macros(this.contextVersions[0]?.text ?? DEFAULT_PRIMARY_CONTEXT) },
      ...entries("beforeCharacter"),
      { source: "characterDescription", label: "character description", text: macros(character.description) },
      ...entries("afterCharacter"),
      { source: "personaDescription", label: "persona", text: persona?.description ?? "" },
      {
        source: "preferences",
        label: "preferences",
        text: preferences ? (preferences.summary.trim() || `Relationship: ${preferences.relationship}. ${[...preferences.speech, ...preferences.behaviour].join(", ")}`) : "",
      },
    ]);
    if (noteSent && note.position === "afterSystem") push("system", [notePiece("after the system prompt")]);

    if (this.exampleDialogue !== "never") {
      const blocks = exampleBlocks(macros(character.mesExample ?? ""), userName, character.name);
      blocks.forEach((turns, i) => {
        push("system", [{ source: "exampleDialogue", label: `example chat ${i + 1}`, text: "[Example Chat]" }]);
        for (const turn of turns) {
          const who = turn.role === "user" ? "user" : turn.role === "assistant" ? "character" : "narration";
          push(turn.role, [{ source: "exampleDialogue", label: `example chat ${i + 1}, ${who}`, text: turn.text }]);
        }
      });
      if (blocks.length > 0) push("system", [{ source: "chatStart", label: "start of the chat", text: "[Start a new Chat]" }]);
    }

    // The chat, new message included, with the notes and @depth entries at their depths.
    type Row = { role: Role; pieces: Piece[]; isNew?: boolean };
    const rows: Row[] = history.map((node, i) => ({
      role: node.role,
      pieces: [{ source: "history", label: `message ${total - keep + i + 1}`, text: node.content }],
    }));
    if (newMessage !== null || imageIds.length > 0) rows.push({ role: "user", pieces: [{ source: "newMessage", label: "new message", text: newMessage ?? "" }], isNew: true });
    const insertAt = (depth: number, row: Row): void => {
      rows.splice(Math.max(0, rows.length - depth), 0, row);
    };
    for (const a of worldInfo.activated.filter((x) => x.position === "atDepth")) {
      insertAt(a.depth, { role: a.role, pieces: entries("atDepth").filter((p) => p.text === a.content) });
    }
    const charNote = character.characterNote ?? null;
    if (charNote && charNote.text.trim() !== "") {
      insertAt(charNote.depth, {
        role: charNote.role,
        pieces: [{ source: "characterNote", label: `Character's note (at depth ${charNote.depth}, ${charNote.role})`, text: macros(charNote.text) }],
      });
    }
    if (noteSent && note.position === "inChat") insertAt(note.depth, { role: note.role, pieces: [notePiece(`at depth ${note.depth}, ${note.role}`)] });

    let newIndex = -1;
    let postDone = false;
    const post = (): void => {
      postDone = true;
      push("system", [{ source: "globalPostHistory", label: "global post-history", text: this.postHistory }]);
    };
    for (const row of rows) {
      if (row.isNew) {
        post();
        newIndex = messages.length;
        messages.push({ role: "user", content: row.pieces[0]!.text });
        parts.push({ ...row.pieces[0]!, messageIndex: newIndex, tokens: tokensOf(row.pieces[0]!.text) });
      } else {
        push(row.role, row.pieces);
      }
    }
    if (!postDone) post();

    const images: PromptImage[] =
      newIndex === -1 ? [] : imageIds.map((id) => ({ messageIndex: newIndex, id, mime: this.images.get(id)?.mime ?? "image/png" }));
    const target = this.#hooks.target?.(sessionId) ?? null;
    const replyReserve = 512;
    const prompt: AssembledPrompt = {
      messages,
      parts,
      totalTokens: parts.reduce((sum, p) => sum + p.tokens, 0),
      droppedHistory: total - keep,
      droppedExamples: 0,
    };
    return {
      prompt,
      images,
      worldInfo,
      target: target ? { providerId: target.providerId, providerName: target.providerName, model: target.model } : null,
      contextWindow: target?.contextLength ?? 8192,
      contextWindowKnown: target?.contextLength != null,
      replyReserve,
      requestBody: withBody && target ? requestBody(target.model, replyReserve, messages, images) : null,
    };
  }

  #importChat(characterId: string, fileName: string, bytes: Uint8Array): SessionSummary | Promise<never> {
    let text = "";
    try {
      text = new TextDecoder().decode(bytes);
    } catch {
      // Bytes that are not text import as nothing.
    }
    const lines = text.split("\n").filter((l) => l.trim() !== "");
    const messages: { role: Role; content: string; name?: string }[] = [];
    for (const line of lines) {
      try {
        const row = JSON.parse(line) as { mes?: unknown; is_user?: unknown; is_system?: unknown; name?: unknown };
        if (typeof row.mes !== "string") continue;
        const role: Role = row.is_system === true ? "system" : row.is_user === true ? "user" : "assistant";
        messages.push(typeof row.name === "string" ? { role, content: row.mes, name: row.name } : { role, content: row.mes });
      } catch {
        return reject("invalid_input", `${fileName} is not a SillyTavern chat: line ${lines.indexOf(line) + 1} is not JSON`);
      }
    }
    if (messages.length === 0 && lines.length > 0 && !/\.jsonl$/i.test(fileName)) {
      return reject("unsupported_format", `${fileName} is not a SillyTavern chat (.jsonl)`);
    }
    return this.addSession(characterId, messages, { title: fileName.replace(/\.jsonl$/i, "") });
  }

  /** Answers a chat command, or undefined when `cmd` is not one. */
  handle(cmd: string, a: Record<string, unknown>, headers: Record<string, string> = {}): unknown {
    switch (cmd) {
      case "list_sessions": {
        const query = a["query"] as SessionQuery;
        const words = query.search.trim().toLowerCase();
        return [...this.sessions.values()]
          .map((s) => s.summary)
          .filter((s) => query.includeArchived || !s.archived)
          .filter((s) => !words || s.title.toLowerCase().includes(words) || s.characterName.toLowerCase().includes(words))
          .sort((x, y) => y.updatedAt - x.updatedAt);
      }
      case "open_or_create_session": {
        const characterId = a["characterId"] as string;
        const recent = [...this.sessions.values()]
          .map((s) => s.summary)
          .filter((s) => s.characterId === characterId)
          .sort((x, y) => y.updatedAt - x.updatedAt)[0];
        return recent ?? this.#create(characterId);
      }
      case "create_session":
        return this.#create(a["characterId"] as string);
      case "get_messages": {
        const id = a["sessionId"] as string;
        if (!this.sessions.has(id)) return reject("not_found", `session ${id} was not found`);
        return this.page(id, (a["cursor"] as string | null) ?? null, a["limit"] as number);
      }
      case "add_message": {
        const session = this.#session(a["sessionId"] as string);
        if (!session) return reject("not_found", "session not found");
        const content = a["content"] as string;
        const ids = (a["imageIds"] as string[]) ?? [];
        if (content.trim() === "" && ids.length === 0) return reject("invalid_input", "the message is empty");
        const length = this.#length(session);
        const parent = length > 0 ? this.#nodeAt(session, length - 1).id : null;
        const images = ids.map((id) => this.images.get(id) ?? { id, mime: "image/png", name: id });
        const node = this.#append(session, parent, a["role"] as Role, content, undefined, images);
        session.active.set(parent ?? "", node.id);
        this.#refresh(session, true);
        return this.#message(session, node);
      }
      case "edit_message": {
        const found = this.#find(a["messageId"] as string);
        if (!found) return reject("not_found", "message not found");
        found.node.versions.push(found.node.content);
        found.node.content = a["content"] as string;
        this.#refresh(found.session, true);
        return this.#message(found.session, found.node);
      }
      case "message_versions": {
        const found = this.#find(a["messageId"] as string);
        return found ? [...found.node.versions] : reject("not_found", "message not found");
      }
      case "delete_message": {
        const found = this.#find(a["messageId"] as string);
        if (!found) return reject("not_found", "message not found");
        const { session, node } = found;
        const synthetic = this.#syntheticIndex(session, node.id);
        if (synthetic !== -1) {
          session.synthetic!.count = synthetic;
          session.children.delete(node.id);
        }
        const drop = (id: string): void => {
          for (const child of session.children.get(id) ?? []) drop(child);
          session.children.delete(id);
          session.nodes.delete(id);
        };
        drop(node.id);
        const key = node.parentId ?? "";
        const siblings = (session.children.get(key) ?? []).filter((id) => id !== node.id);
        session.children.set(key, siblings);
        if (siblings.length > 0) session.active.set(key, siblings[siblings.length - 1]!);
        else session.active.delete(key);
        this.#refresh(session, true);
        return null;
      }
      case "select_swipe": {
        const found = this.#find(a["messageId"] as string);
        if (!found) return reject("not_found", "message not found");
        const key = found.node.parentId ?? "";
        const siblings = found.session.children.get(key) ?? [found.node.id];
        const target = siblings[a["index"] as number];
        if (target === undefined) return reject("invalid_input", "no such swipe");
        found.session.active.set(key, target);
        this.#refresh(found.session);
        return this.#message(found.session, found.session.nodes.get(target)!);
      }
      case "branch_session": {
        const found = this.#find(a["messageId"] as string);
        if (!found) return reject("not_found", "message not found");
        const { session } = found;
        const index = this.#pathIndex(session, found.node.id);
        const title = `${session.summary.title} (branch)`;
        const base = { title, personaId: session.summary.personaId };
        const synthetic = session.synthetic;
        if (synthetic && index < synthetic.count) {
          return this.addSyntheticSession(session.summary.characterId, index + 1, synthetic.make, base);
        }
        const path: { role: Role; content: string; name: string }[] = [];
        for (let i = 0; i <= index; i++) {
          const node = this.#nodeAt(session, i);
          path.push({ role: node.role, content: node.content, name: node.name });
        }
        return this.addSession(session.summary.characterId, path, base);
      }
      case "rename_session":
      case "archive_session":
      case "set_session_persona": {
        const session = this.#session(a["sessionId"] as string);
        if (!session) return reject("not_found", "session not found");
        if (cmd === "rename_session") {
          const title = (a["title"] as string).trim();
          if (!title) return reject("invalid_input", "a chat needs a title");
          session.summary = { ...session.summary, title };
        } else if (cmd === "archive_session") {
          session.summary = { ...session.summary, archived: a["archived"] as boolean };
        } else {
          session.summary = { ...session.summary, personaId: (a["personaId"] as string | null) ?? null };
        }
        return session.summary;
      }
      case "open_chat_window":
        return this.#session(a["sessionId"] as string) ? null : reject("not_found", "session not found");
      case "delete_session":
        return this.sessions.delete(a["sessionId"] as string) ? null : reject("not_found", "session not found");
      case "search_messages":
        return this.#search(a["query"] as string, (a["sessionId"] as string | null) ?? null);
      case "export_session": {
        const session = this.#session(a["sessionId"] as string);
        if (!session) return reject("not_found", "session not found");
        const format = a["format"] as ChatExportFormat;
        const ext = format === "sillyTavern" ? "jsonl" : format === "markdown" ? "md" : "json";
        const fileName = `${session.summary.title}.${ext}`;
        const file: ExportedFile = { path: `/home/alex/Downloads/${fileName}`, fileName };
        return file;
      }
      case "import_chat": {
        const characterId = headers["x-character-id"] ?? "";
        const name = decodeURIComponent(headers["x-file-name"] ?? "chat.jsonl");
        return this.#importChat(characterId, name, a as unknown as Uint8Array);
      }
      case "attach_image": {
        const name = decodeURIComponent(headers["x-file-name"] ?? "image.png");
        const ext = name.split(".").pop()?.toLowerCase() ?? "png";
        const image: MessageImage = { id: this.#id("img"), mime: `image/${ext === "jpg" ? "jpeg" : ext}`, name };
        this.images.set(image.id, image);
        return image;
      }
      case "attach_image_path": {
        const name = (a["path"] as string).split(/[\\/]/).pop() ?? "image.png";
        const ext = name.split(".").pop()?.toLowerCase() ?? "png";
        const image: MessageImage = { id: this.#id("img"), mime: `image/${ext === "jpg" ? "jpeg" : ext}`, name };
        this.images.set(image.id, image);
        return image;
      }
      case "list_personas":
        return [...this.personas.values()].sort((x, y) => x.name.localeCompare(y.name));
      case "create_persona": {
        const name = (a["name"] as string).trim();
        if (!name) return reject("invalid_input", "a persona needs a name");
        const persona: Persona = {
          id: this.#id("p"),
          name,
          description: a["description"] as string,
          avatarKey: null,
          isDefault: this.personas.size === 0,
        };
        this.personas.set(persona.id, persona);
        return persona;
      }
      case "update_persona": {
        const old = this.personas.get(a["id"] as string);
        if (!old) return reject("not_found", "persona not found");
        const name = (a["name"] as string).trim();
        if (!name) return reject("invalid_input", "a persona needs a name");
        const next = { ...old, name, description: a["description"] as string };
        this.personas.set(old.id, next);
        return next;
      }
      case "delete_persona": {
        const id = a["id"] as string;
        if (!this.personas.delete(id)) return reject("not_found", "persona not found");
        for (const session of this.sessions.values()) {
          if (session.summary.personaId === id) session.summary = { ...session.summary, personaId: null };
        }
        return null;
      }
      case "set_default_persona": {
        const id = a["id"] as string;
        if (!this.personas.has(id)) return reject("not_found", "persona not found");
        for (const [key, p] of this.personas) this.personas.set(key, { ...p, isDefault: key === id });
        return this.personas.get(id)!;
      }
      case "set_persona_avatar": {
        const id = headers["x-persona-id"] ?? "";
        const old = this.personas.get(id);
        if (!old) return reject("not_found", "persona not found");
        const next = { ...old, avatarKey: `a${this.#next++}` };
        this.personas.set(id, next);
        return next;
      }
      case "get_preferences":
        return this.preferences.get(a["characterId"] as string) ?? null;
      case "set_preferences": {
        const preferences = a["preferences"] as CharacterPreferences;
        const chosen = new Set<string>([...preferences.speech, ...preferences.behaviour]);
        const clash = OPPOSITES.find(([x, y]) => chosen.has(x) && chosen.has(y));
        if (clash) return reject("invalid_input", `${clash[0]} and ${clash[1]} contradict each other`);
        this.preferences.set(a["characterId"] as string, preferences);
        return preferences;
      }
      case "delete_preferences":
        this.preferences.delete(a["characterId"] as string);
        return null;
      case "get_primary_context":
        return this.#primaryContext();
      case "save_primary_context": {
        const version: ContextVersion = { id: this.#id("v"), text: a["text"] as string, createdAt: this.#now() };
        this.contextVersions.unshift(version);
        return version;
      }
      case "list_context_versions":
        return [...this.contextVersions];
      case "restore_context_version": {
        const old = this.contextVersions.find((v) => v.id === a["id"]);
        if (!old) return reject("not_found", "version not found");
        const version: ContextVersion = { id: this.#id("v"), text: old.text, createdAt: this.#now() };
        this.contextVersions.unshift(version);
        return version;
      }
      case "set_post_history":
        this.postHistory = a["text"] as string;
        return this.#primaryContext();
      case "preview_prompt": {
        const id = a["sessionId"] as string;
        if (!this.sessions.has(id)) return reject("not_found", "session not found");
        return this.#preview(id, (a["message"] as string | null) ?? null, (a["imageIds"] as string[] | undefined) ?? [], a["withRequestBody"] === true);
      }
      case "get_authors_note": {
        const id = a["sessionId"] as string;
        return this.sessions.has(id) ? this.#notes(id) : reject("not_found", "session not found");
      }
      case "set_authors_note": {
        const id = a["sessionId"] as string;
        if (!this.sessions.has(id)) return reject("not_found", "session not found");
        const note = (a["note"] as AuthorsNote | null) ?? null;
        try {
          if (note) checkAuthorsNote(note);
        } catch (error) {
          return Promise.reject(error);
        }
        if (note) this.chatNotes.set(id, { ...note });
        else this.chatNotes.delete(id);
        return this.#notes(id);
      }
      case "set_default_authors_note": {
        const characterId = a["characterId"] as string;
        const note = (a["note"] as AuthorsNote | null) ?? null;
        try {
          if (note) checkAuthorsNote(note);
        } catch (error) {
          return Promise.reject(error);
        }
        if (note) this.defaultNotes.set(characterId, { ...note });
        else this.defaultNotes.delete(characterId);
        return null;
      }
      default:
        return undefined;
    }
  }

  images = new Map<string, MessageImage>();
}

/** A long sample conversation's message `index`, for the synthetic sessions. */
export function sampleLine(index: number): { role: Role; content: string } {
  const user = index % 2 === 1;
  const lines = user
    ? [
        "What happened after the storm?",
        "Tell me about the **lighthouse** keeper.",
        "*leans closer* Go on.",
        "Do you think we'll make it before dark?",
      ]
    : [
        "*The wind rattles the shutters.* The storm passed, but the harbour was never the same.",
        "She kept the lamp burning for forty years. Nobody knows who she was waiting for.",
        "There's an old map in my bag. *unfolds it carefully*\n\n- the north road\n- the ferry\n- the lighthouse",
        "If we hurry. The ferry leaves at *seven*, and the captain waits for no one.",
      ];
  return { role: user ? "user" : "assistant", content: `${lines[Math.floor(index / 2) % lines.length]} (#${index + 1})` };
}

type Piece = Omit<PromptPart, "messageIndex" | "tokens">;

const PLACE: Readonly<Record<string, string>> = {
  beforeCharacter: "before character",
  afterCharacter: "after character",
  exampleMessagesTop: "before the example dialogue",
  exampleMessagesBottom: "after the example dialogue",
  authorsNoteTop: "top of the Author's Note",
  authorsNoteBottom: "bottom of the Author's Note",
};

/** `mes_example` split at `<START>` into turns by `Name:` prefixes, as SillyTavern reads it. */
export function exampleBlocks(text: string, user: string, character: string): { role: Role; text: string }[][] {
  const blocks: { role: Role; text: string }[][] = [];
  for (const block of text.split(/<START>/i)) {
    const turns: { role: Role; text: string }[] = [];
    for (const line of block.split("\n")) {
      const speaker = line.startsWith(`${user}:`) ? "user" : line.startsWith(`${character}:`) ? "assistant" : null;
      if (speaker) turns.push({ role: speaker, text: line.slice((speaker === "user" ? user : character).length + 1).trim() });
      else if (turns.length > 0) turns[turns.length - 1]!.text += `\n${line}`;
      else if (line.trim() !== "") turns.push({ role: "system", text: line });
    }
    const kept = turns.map((turn) => ({ ...turn, text: turn.text.trim() })).filter((turn) => turn.text !== "");
    if (kept.length > 0) blocks.push(kept);
  }
  return blocks;
}

/** An OpenAI-style body, images as data URLs (a made-up payload of a realistic size). */
function requestBody(model: string, maxTokens: number, messages: readonly PromptMessage[], images: readonly PromptImage[]): JsonValue {
  const payload = "iVBORw0KGgoAAAANSUhEUgAAAUAAAADcCAYAAAAbWs+B".repeat(400);
  return {
    model,
    stream: true,
    max_tokens: maxTokens,
    messages: messages.map((message, index) => {
      const attached = images.filter((image) => image.messageIndex === index);
      if (attached.length === 0) return { role: message.role, content: message.content };
      return {
        role: message.role,
        content: [
          { type: "text", text: message.content },
          ...attached.map((image) => ({ type: "image_url", image_url: { url: `data:${image.mime};base64,${payload}` } })),
        ],
      };
    }),
  };
}
