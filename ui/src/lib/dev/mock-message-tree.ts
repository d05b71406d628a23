// A mock chat session's message tree: swipes are siblings, the active path
// follows the chosen child; the first messages of a "synthetic" session are
// made on demand (a 100,000-message chat costs nothing until a page of it is
// read). Reads the path, finds messages, and searches them.

import type { Message, MessageImage, MessageMeta, MessageStatus, Role, SearchHit, SessionSummary } from "../api";
import type { ChatCharacter } from "./mock-chats";

export type Node = {
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
  /** In a group chat, the member who wrote the reply. */
  speakerId?: string | null;
};

/** A reply's meta; the backend may add the model's reasoning to it. */
export type ReplyMeta = MessageMeta & { reasoning?: string | null };

/** Messages 0..count-1 of the active path, generated on demand. */
export type Synthetic = { count: number; make: (index: number) => { role: Role; content: string } };

export type Session = {
  summary: SessionSummary;
  synthetic: Synthetic | null;
  nodes: Map<string, Node>;
  /** Children by parent id ("" for the root). */
  children: Map<string, string[]>;
  /** The active child by parent id. */
  active: Map<string, string>;
};

const NO_META: Message["meta"] = {
  model: null,
  provider: null,
  promptTokens: null,
  completionTokens: null,
  finishReason: null,
  timeToFirstTokenMs: null,
  durationMs: null,
};

/** The active path of a session, and its messages as get_messages returns them. */
export class MessageTree {
  #character: (id: string) => ChatCharacter;

  constructor(character: (id: string) => ChatCharacter) {
    this.#character = character;
  }

  syntheticId(session: Session, index: number): string {
    return `${session.summary.id}~${index}`;
  }

  /** The synthetic index of an id, or -1. */
  syntheticIndex(session: Session, id: string): number {
    if (!session.synthetic) return -1;
    const prefix = `${session.summary.id}~`;
    if (!id.startsWith(prefix)) return -1;
    const index = Number(id.slice(prefix.length));
    return Number.isInteger(index) && index >= 0 && index < session.synthetic.count ? index : -1;
  }

  /** A synthetic message becomes a real node the first time it is changed. */
  materialise(session: Session, index: number): Node {
    const id = this.syntheticId(session, index);
    const existing = session.nodes.get(id);
    if (existing) return existing;
    const made = session.synthetic!.make(index);
    const character = this.#character(session.summary.characterId);
    const node: Node = {
      id,
      parentId: index === 0 ? null : this.syntheticId(session, index - 1),
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

  nodeAt(session: Session, index: number): Node {
    const synthetic = session.synthetic;
    if (synthetic && index < synthetic.count) return this.materialise(session, index);
    return session.nodes.get(this.tail(session)[index - (synthetic?.count ?? 0)]!)!;
  }

  /** Ids of the tree part of the active path (after the synthetic part). */
  tail(session: Session): string[] {
    const ids: string[] = [];
    let key = session.synthetic && session.synthetic.count > 0 ? this.syntheticId(session, session.synthetic.count - 1) : "";
    for (;;) {
      const next = session.active.get(key) ?? session.children.get(key)?.slice(-1)[0];
      if (!next || !session.nodes.has(next)) return ids;
      ids.push(next);
      key = next;
    }
  }

  length(session: Session): number {
    return (session.synthetic?.count ?? 0) + this.tail(session).length;
  }

  message(session: Session, node: Node): Message {
    const siblings = session.children.get(node.parentId ?? "") ?? [node.id];
    const index = Math.max(0, siblings.indexOf(node.id));
    return {
      id: node.id,
      parentId: node.parentId,
      role: node.role,
      name: node.name,
      speakerId: node.speakerId ?? null,
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

  find(sessions: ReadonlyMap<string, Session>, messageId: string): { session: Session; node: Node } | null {
    for (const session of sessions.values()) {
      const node = session.nodes.get(messageId);
      if (node) return { session, node };
      const index = this.syntheticIndex(session, messageId);
      if (index !== -1) return { session, node: this.materialise(session, index) };
    }
    return null;
  }

  pathIndex(session: Session, id: string): number {
    const synthetic = this.syntheticIndex(session, id);
    if (synthetic !== -1) return synthetic;
    const at = this.tail(session).indexOf(id);
    return at === -1 ? -1 : at + (session.synthetic?.count ?? 0);
  }

  search(sessions: ReadonlyMap<string, Session>, query: string, sessionId: string | null): SearchHit[] {
    const needle = query.trim().toLowerCase();
    if (!needle) return [];
    const hits: SearchHit[] = [];
    for (const session of sessions.values()) {
      if (sessionId !== null && session.summary.id !== sessionId) continue;
      const total = this.length(session);
      for (let i = total - 1; i >= 0 && hits.length < 200; i--) {
        // Generated text is only materialised when it matches.
        const synthetic = session.synthetic && i < session.synthetic.count && !session.nodes.has(this.syntheticId(session, i));
        const content = synthetic ? session.synthetic!.make(i).content : this.nodeAt(session, i).content;
        const at = content.toLowerCase().indexOf(needle);
        if (at === -1) continue;
        const node = this.nodeAt(session, i);
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
}
