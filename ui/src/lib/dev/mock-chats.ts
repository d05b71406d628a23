// A fake chat backend kept in memory: sessions with a message tree (swipes
// are siblings, the active path follows the chosen child), personas,
// character preferences, the primary context and prompt assembly. Serves the
// dev mock (screenshots) and the tests. A session can be "synthetic": its
// first N messages are generated on demand, so a 100,000-message chat costs
// nothing until a page of it is read. The tree is read in
// ./mock-message-tree, the prompt preview built in ./mock-prompt, and
// personas, preferences, the primary context and Author's Notes answered in
// ./mock-chat-settings.

import type {
  ApiError,
  AuthorsNote,
  CharacterNote,
  CharacterPreferences,
  ChatExportFormat,
  ContextVersion,
  ExampleDialogue,
  ExportedFile,
  Message,
  MessageImage,
  MessagePage,
  MessageStatus,
  Persona,
  PreviewTarget,
  ReplyKind,
  Role,
  ScanReport,
  SessionQuery,
  SessionSummary,
  StreamStarted,
} from "../api";
import { readSillyTavernChat } from "./mock-chat-import";
import { MockGroups } from "./mock-groups";
import { handleChatSettings, notesOf, type SettingsHost } from "./mock-chat-settings";
import { MessageTree, type Node, type ReplyMeta, type Session, type Synthetic } from "./mock-message-tree";
import { buildPreview, type PreviewSource, type TextPromptHook } from "./mock-prompt";

export type { ReplyMeta } from "./mock-message-tree";
export { DEFAULT_PRIMARY_CONTEXT, exampleBlocks, tokensOf } from "./mock-prompt";

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
  /** For a text-completion provider: the text prompt of the messages and the backend's body (default: none). */
  textPrompt?: TextPromptHook;
  /** The current time (tests pin it). */
  now?: () => number;
};

function reject(code: ApiError["code"], message: string): Promise<never> {
  const error: ApiError = { code, message };
  return Promise.reject(error);
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
  #tree: MessageTree;
  #settingsHost: SettingsHost;
  /** Group chats: casts, turns, presence changes. */
  readonly groups: MockGroups;

  constructor(hooks: ChatHooks = {}) {
    this.#hooks = hooks;
    this.#clock = hooks.now?.() ?? Date.UTC(2026, 10, 20, 18, 0, 0);
    this.#tree = new MessageTree((id) => this.#character(id));
    this.#settingsHost = { id: (prefix) => this.#id(prefix), now: () => this.#now(), nextKey: () => this.#next++ };
    this.groups = new MockGroups({
      character: (id) => this.#character(id),
      sessionCharacter: (id) => this.sessions.get(id)?.summary.characterId ?? null,
      lastMessageId: (id) => {
        const session = this.sessions.get(id);
        const length = session ? this.#tree.length(session) : 0;
        return session && length > 0 ? (this.#tree.nodeAt(session, length - 1)?.id ?? null) : null;
      },
      createGroupSession: (ids) => this.addGroupSession(ids),
      id: (prefix) => this.#id(prefix),
      now: () => this.#now(),
    });
  }

  /** A group chat that opens with each character's greeting in turn (alternate greetings as swipes). */
  addGroupSession(characterIds: readonly string[], fields: Partial<SessionSummary> = {}): SessionSummary {
    const cast = characterIds.map((id) => this.#character(id));
    const greetings = cast
      .filter((c) => c.greeting.trim() !== "")
      .map((c) => ({ role: "assistant" as const, content: c.greeting, name: c.name, swipes: c.alternateGreetings, speakerId: c.id }));
    return this.addSession(characterIds[0]!, greetings, { title: cast.map((c) => c.name).join(", "), ...fields });
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
    messages: readonly {
      role: Role;
      content: string;
      name?: string;
      swipes?: string[];
      status?: MessageStatus;
      meta?: ReplyMeta;
      speakerId?: string;
    }[],
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
        previewName: "",
        messageCount: 0,
        members: [],
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
        if (message.speakerId) node.speakerId = message.speakerId;
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
  beginReply(
    sessionId: string,
    kind: ReplyKind,
    text = "",
    imageIds: readonly string[] = [],
    requestedSpeaker: string | null = null,
  ): StreamStarted | ApiError {
    const session = this.#session(sessionId);
    if (!session) return { code: "not_found", message: `session ${sessionId} was not found` };
    const started: StreamStarted = { sessionId, kind, userMessageId: null, assistantMessageId: null, speakerId: null };
    if (kind === "impersonate") return started;
    const length = this.#tree.length(session);
    const last = length > 0 ? this.#tree.nodeAt(session, length - 1) : null;
    const speakerId =
      kind === "regenerate" || kind === "continue"
        ? (requestedSpeaker ?? (last?.role === "assistant" ? (last.speakerId ?? null) : null) ?? this.groups.speakerFor(sessionId, null))
        : this.groups.speakerFor(sessionId, requestedSpeaker);
    const speaker = speakerId !== null ? this.#character(speakerId) : null;
    const writtenBy = (node: Node): Node => {
      if (speaker) {
        node.speakerId = speaker.id;
        node.name = speaker.name;
      }
      return node;
    };
    this.groups.spoke(sessionId, speakerId);
    if (kind === "speak") {
      if (speakerId === null) return { code: "invalid_input", message: "no member can speak" };
      const reply = writtenBy(this.#append(session, last?.id ?? null, "assistant", ""));
      reply.status = "partial";
      session.active.set(last?.id ?? "", reply.id);
      this.#refresh(session, true);
      return { ...started, assistantMessageId: reply.id, speakerId };
    }
    if (kind === "send") {
      if (text.trim() === "" && imageIds.length === 0) return { code: "invalid_input", message: "the message is empty" };
      const images = imageIds.map((id) => this.images.get(id) ?? { id, mime: "image/png", name: id });
      const user = this.#append(session, last?.id ?? null, "user", text, undefined, images);
      session.active.set(last?.id ?? "", user.id);
      const reply = writtenBy(this.#append(session, user.id, "assistant", ""));
      reply.status = "partial";
      session.active.set(user.id, reply.id);
      this.#refresh(session, true);
      return { ...started, userMessageId: user.id, assistantMessageId: reply.id, speakerId };
    }
    if (kind === "continue") {
      if (!last || last.role !== "assistant") return { code: "invalid_input", message: "there is no reply to continue" };
      last.status = "partial";
      return { ...started, assistantMessageId: last.id, speakerId };
    }
    // Regenerate: a new sibling of the last reply, or a first reply to a user message.
    const parent = last?.role === "assistant" ? last.parentId : (last?.id ?? null);
    const reply = writtenBy(this.#append(session, parent, "assistant", ""));
    reply.status = "partial";
    session.active.set(parent ?? "", reply.id);
    this.#refresh(session, true);
    return { ...started, assistantMessageId: reply.id, speakerId };
  }

  /** The engine's checkpoint: a reply's text, status and meta as saved so far. */
  writeReply(messageId: string, content: string, status: MessageStatus, meta?: ReplyMeta): void {
    const found = this.#tree.find(this.sessions, messageId);
    if (!found) return;
    found.node.content = content;
    found.node.status = status;
    if (meta) found.node.meta = meta;
    this.#refresh(found.session, true);
  }

  /** Drops a reply that never got any text (a failed or stopped request that saved nothing). */
  discardReply(messageId: string): void {
    const found = this.#tree.find(this.sessions, messageId);
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
    const found = this.#tree.find(this.sessions, messageId);
    return found ? this.#tree.message(found.session, found.node) : null;
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

  #refresh(session: Session, touch = false): void {
    const count = this.#tree.length(session);
    const last = count > 0 ? this.#tree.nodeAt(session, count - 1) : null;
    session.summary = {
      ...session.summary,
      messageCount: count,
      // The start only: a streaming reply saves here on every delta.
      preview: last ? last.content.slice(0, 600).replace(/\s+/g, " ").slice(0, 140) : "",
      previewName: last?.name ?? "",
      updatedAt: touch ? this.#now() : session.summary.updatedAt,
    };
  }

  /** A summary as the chat list gets it: a group's members (as they are now) included. */
  #listed(summary: SessionSummary): SessionSummary {
    const state = this.groups.state(summary.id);
    const members = state?.isGroup ? state.members.map(({ characterId, name, avatarKey, presence }) => ({ characterId, name, avatarKey, presence })) : [];
    return { ...summary, members };
  }

  #session(id: string): Session | null {
    return this.sessions.get(id) ?? null;
  }

  #previewSource(): PreviewSource {
    return {
      sessions: this.sessions,
      tree: this.#tree,
      hooks: this.#hooks,
      character: (id) => this.#character(id),
      personaOf: (session) => this.#personaOf(session),
      notes: (sessionId) => notesOf(this, sessionId),
      preferences: this.preferences,
      contextVersions: this.contextVersions,
      postHistory: this.postHistory,
      exampleDialogue: this.exampleDialogue,
      images: this.images,
    };
  }

  /** The active path's messages [from, to). */
  page(sessionId: string, cursor: string | null, limit: number): MessagePage {
    const session = this.sessions.get(sessionId)!;
    const total = this.#tree.length(session);
    const end = cursor === null ? total : Math.min(total, Math.max(0, Number(cursor)));
    const start = Math.max(0, end - limit);
    const messages: Message[] = [];
    for (let i = start; i < end; i++) messages.push(this.#tree.message(session, this.#tree.nodeAt(session, i)));
    return { messages, olderCursor: start > 0 ? String(start) : null, total };
  }

  #create(characterId: string): SessionSummary {
    const character = this.#character(characterId);
    const greetings = [character.greeting, ...character.alternateGreetings].filter((g) => g.trim() !== "");
    const [first, ...rest] = greetings;
    return this.addSession(characterId, first === undefined ? [] : [{ role: "assistant", content: first, swipes: rest }]);
  }

  #importChat(characterId: string, fileName: string, bytes: Uint8Array): SessionSummary | Promise<never> {
    const messages = readSillyTavernChat(fileName, bytes);
    if (messages instanceof Promise) return messages;
    return this.addSession(characterId, messages, { title: fileName.replace(/\.jsonl$/i, "") });
  }

  /** Answers a chat command, or undefined when `cmd` is not one. */
  handle(cmd: string, a: Record<string, unknown>, headers: Record<string, string> = {}): unknown {
    const group = this.groups.handle(cmd, a);
    if (group !== undefined) return group;
    switch (cmd) {
      case "list_sessions": {
        const query = a["query"] as SessionQuery;
        const words = query.search.trim().toLowerCase();
        return [...this.sessions.values()]
          .map((s) => this.#listed(s.summary))
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
        const length = this.#tree.length(session);
        const parent = length > 0 ? this.#tree.nodeAt(session, length - 1).id : null;
        const images = ids.map((id) => this.images.get(id) ?? { id, mime: "image/png", name: id });
        const node = this.#append(session, parent, a["role"] as Role, content, undefined, images);
        session.active.set(parent ?? "", node.id);
        this.#refresh(session, true);
        return this.#tree.message(session, node);
      }
      case "edit_message": {
        const found = this.#tree.find(this.sessions, a["messageId"] as string);
        if (!found) return reject("not_found", "message not found");
        found.node.versions.push(found.node.content);
        found.node.content = a["content"] as string;
        this.#refresh(found.session, true);
        return this.#tree.message(found.session, found.node);
      }
      case "message_versions": {
        const found = this.#tree.find(this.sessions, a["messageId"] as string);
        return found ? [...found.node.versions] : reject("not_found", "message not found");
      }
      case "delete_message": {
        const found = this.#tree.find(this.sessions, a["messageId"] as string);
        if (!found) return reject("not_found", "message not found");
        const { session, node } = found;
        const synthetic = this.#tree.syntheticIndex(session, node.id);
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
        const found = this.#tree.find(this.sessions, a["messageId"] as string);
        if (!found) return reject("not_found", "message not found");
        const key = found.node.parentId ?? "";
        const siblings = found.session.children.get(key) ?? [found.node.id];
        const target = siblings[a["index"] as number];
        if (target === undefined) return reject("invalid_input", "no such swipe");
        found.session.active.set(key, target);
        this.#refresh(found.session);
        return this.#tree.message(found.session, found.session.nodes.get(target)!);
      }
      case "branch_session": {
        const found = this.#tree.find(this.sessions, a["messageId"] as string);
        if (!found) return reject("not_found", "message not found");
        const { session } = found;
        const index = this.#tree.pathIndex(session, found.node.id);
        const title = `${session.summary.title} (branch)`;
        const base = { title, personaId: session.summary.personaId };
        const synthetic = session.synthetic;
        if (synthetic && index < synthetic.count) {
          return this.addSyntheticSession(session.summary.characterId, index + 1, synthetic.make, base);
        }
        const path: { role: Role; content: string; name: string }[] = [];
        for (let i = 0; i <= index; i++) {
          const node = this.#tree.nodeAt(session, i);
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
        return this.#tree.search(this.sessions, a["query"] as string, (a["sessionId"] as string | null) ?? null);
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
        // Into a group: the mock keeps it simple and gives it the group's first character.
        const group = headers["x-group-session-id"];
        const characterId = headers["x-character-id"] ?? (group ? this.sessions.get(group)?.summary.characterId : undefined) ?? "";
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
      case "preview_prompt": {
        const id = a["sessionId"] as string;
        if (!this.sessions.has(id)) return reject("not_found", "session not found");
        const preview = buildPreview(this.#previewSource(), id, (a["message"] as string | null) ?? null, (a["imageIds"] as string[] | undefined) ?? [], a["withRequestBody"] === true);
        return { ...preview, speakerId: this.groups.speakerFor(id, (a["speakerId"] as string | null | undefined) ?? null) };
      }
      default:
        return handleChatSettings(this, this.#settingsHost, cmd, a, headers);
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
