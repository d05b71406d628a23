// The mock's prompt preview, shaped like the core's: the system prompt (with
// world info around the character), the example chats, the history with the
// notes at their depths, the post-history prompt and the new message; and
// the request body a provider would get.

import type {
  AssembledPrompt,
  CharacterPreferences,
  ChatNotes,
  ContextVersion,
  ExampleDialogue,
  JsonValue,
  MessageImage,
  Persona,
  PromptImage,
  PromptMessage,
  PromptPart,
  PromptPreview,
  Role,
  TextTurn,
} from "../api";
import type { ChatHooks, ChatCharacter } from "./mock-chats";
import type { MessageTree, Node, Session } from "./mock-message-tree";

export const DEFAULT_PRIMARY_CONTEXT =
  "You are {{char}} in a never-ending roleplay with {{user}}. Stay in character, write vividly, and never speak for {{user}}.";

export function tokensOf(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4));
}

/** For a text-completion provider: the text prompt of the messages and the backend's body (null: a chat API). */
export type TextPromptHook = (
  sessionId: string,
  messages: readonly PromptMessage[],
  names: { user: string; character: string },
  maxTokens: number,
) => { turn: TextTurn; body: JsonValue } | null;

/** What the preview reads from the chat backend. */
export type PreviewSource = {
  sessions: ReadonlyMap<string, Session>;
  tree: MessageTree;
  hooks: ChatHooks;
  character: (id: string) => ChatCharacter;
  personaOf: (session: Session) => Persona | null;
  notes: (sessionId: string) => ChatNotes;
  preferences: ReadonlyMap<string, CharacterPreferences>;
  contextVersions: readonly ContextVersion[];
  postHistory: string;
  exampleDialogue: ExampleDialogue;
  images: ReadonlyMap<string, MessageImage>;
};

/**
 * A preview shaped like the core's: the system prompt (with world info
 * around the character), the example chats, the history with the notes at
 * their depths, the post-history prompt and the new message.
 */
export function buildPreview(source: PreviewSource, sessionId: string, draft: string | null, imageIds: readonly string[], withBody: boolean): PromptPreview {
  const session = source.sessions.get(sessionId)!;
  const character = source.character(session.summary.characterId);
  const persona = source.personaOf(session);
  const preferences = source.preferences.get(character.id);
  const userName = persona?.name ?? "You";
  const macros = (text: string): string => text.replace(/\{\{user\}\}/gi, userName).replace(/\{\{char\}\}/gi, character.name);
  const worldInfo = source.hooks.worldInfo?.(sessionId) ?? { activated: [], dropped: [], tokensUsed: 0, budget: 0, recursionLevels: 0, keyErrors: [] };
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

  const notes = source.notes(sessionId);
  const note = notes.chat ?? notes.characterDefault;
  const total = source.tree.length(session);
  const keep = Math.min(total, 20);
  const history: Node[] = [];
  for (let i = total - keep; i < total; i++) history.push(source.tree.nodeAt(session, i));
  const newMessage = draft !== null && draft.trim() !== "" ? draft : null;
  const userTurns = history.filter((n) => n.role === "user").length + (newMessage !== null || imageIds.length > 0 ? 1 : 0);
  const noteSent = note !== null && note.text.trim() !== "" && note.interval > 0 && userTurns % note.interval === 0;
  const notePiece = (where: string): Piece => ({ source: "authorsNote", label: `Author's Note (${where})`, text: macros(note!.text) });

  if (noteSent && note.position === "beforeSystem") push("system", [notePiece("before the system prompt")]);
  push("system", [
    { source: "primaryContext", label: "primary context", text: macros(source.contextVersions[0]?.text ?? DEFAULT_PRIMARY_CONTEXT) },
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

  if (source.exampleDialogue !== "never") {
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
    push("system", [{ source: "globalPostHistory", label: "global post-history", text: source.postHistory }]);
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
    newIndex === -1 ? [] : imageIds.map((id) => ({ messageIndex: newIndex, id, mime: source.images.get(id)?.mime ?? "image/png" }));
  const target = source.hooks.target?.(sessionId) ?? null;
  const replyReserve = 512;
  const prompt: AssembledPrompt = {
    messages,
    parts,
    totalTokens: parts.reduce((sum, p) => sum + p.tokens, 0),
    droppedHistory: total - keep,
    droppedExamples: 0,
  };
  const text = target ? (source.hooks.textPrompt?.(sessionId, messages, { user: userName, character: character.name }, replyReserve) ?? null) : null;
  return {
    prompt,
    images,
    worldInfo,
    target: target ? { providerId: target.providerId, providerName: target.providerName, model: target.model } : null,
    contextWindow: target?.contextLength ?? 8192,
    contextWindowKnown: target?.contextLength != null,
    replyReserve,
    speakerId: null,
    textPrompt: text?.turn ?? null,
    requestBody: withBody && target ? (text?.body ?? requestBody(target.model, replyReserve, messages, images)) : null,
    retrieval: { enabled: false, passages: [], inWindow: 0, minScore: null, error: null },
  };
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
