// What can be done to a message of the open conversation: edit it (earlier
// texts are kept as versions), delete it with what follows, move between its
// swipes, or branch a new chat from it. Each reads back what changed on the
// path and keeps the session list in step.

import { branchSession, deleteMessage, editMessage, messageVersions, selectSwipe, type Message, type SessionSummary } from "../api";
import type { Confirmer } from "../confirm.svelte";
import { t, tn } from "../i18n/index.svelte";
import type { Reporter } from "../library/library.svelte";
import type { Conversation } from "./conversation.svelte";
import type { Sessions } from "./sessions.svelte";

/** What message actions need of their conversation beyond its public state. */
export type MessageActionsHost = {
  /** Reads the newest page again, replacing what is loaded; false when it failed or went stale. */
  loadNewest: () => Promise<boolean>;
  /** Puts a changed message in place of its old object. */
  replace: (message: Message) => void;
  /** The session list follows the conversation (preview, count, order). */
  touchList: () => void;
  sessions: Sessions;
  confirm: Confirmer;
  report: Reporter;
};

/** The actions on the messages of one conversation. */
export class MessageActions {
  #conversation: Conversation;
  #host: MessageActionsHost;

  constructor(conversation: Conversation, host: MessageActionsHost) {
    this.#conversation = conversation;
    this.#host = host;
  }

  async edit(messageId: string, content: string): Promise<boolean> {
    const result = await editMessage(messageId, content);
    if (!result.ok) {
      this.#host.report(result.error, "error.context.editMessage");
      return false;
    }
    await this.#conversation.display.prepare([result.data.content]);
    this.#host.replace(result.data);
    if (this.#conversation.editingId === messageId) this.#conversation.editingId = null;
    this.#host.touchList();
    return true;
  }

  async versions(messageId: string): Promise<string[] | null> {
    const result = await messageVersions(messageId);
    if (result.ok) return result.data;
    this.#host.report(result.error, "error.context.editMessage");
    return null;
  }

  /** How many messages come after this one on the path. */
  after(messageId: string): number {
    const index = this.#conversation.messages.findIndex((m) => m.id === messageId);
    return index === -1 ? 0 : this.#conversation.total - (this.#conversation.offset + index) - 1;
  }

  async delete(messageId: string): Promise<boolean> {
    const after = this.after(messageId);
    const ok = await this.#host.confirm.ask({
      title: t("message.delete.title"),
      body: after > 0 ? tn("message.delete.bodyAfter", after) : t("message.delete.body"),
      confirmLabel: t("message.delete.ok"),
      cancelLabel: t("confirm.cancel"),
      danger: true,
    });
    if (!ok) return false;
    const result = await deleteMessage(messageId);
    if (!result.ok) {
      this.#host.report(result.error, "error.context.deleteMessage");
      return false;
    }
    // The path below may now follow another branch: read it again.
    await this.#host.loadNewest();
    this.#host.touchList();
    return true;
  }

  async swipe(message: Message, step: -1 | 1): Promise<void> {
    const index = message.swipeIndex + step;
    if (index < 0 || index >= message.swipeCount) return;
    const result = await selectSwipe(message.id, index);
    if (!result.ok) {
      this.#host.report(result.error, "error.context.swipe");
      return;
    }
    await this.#conversation.display.prepare([result.data.content]);
    const position = this.#conversation.messages.findIndex((m) => m.id === message.id);
    const isLast = position === this.#conversation.messages.length - 1;
    if (isLast) {
      // Nothing below it: swap it in place (no reload, no jump).
      this.#conversation.messages = [...this.#conversation.messages.slice(0, position), result.data];
    } else {
      // Everything below follows the new sibling's branch.
      if (await this.#host.loadNewest()) await this.#conversation.reveal(result.data.id);
    }
    this.#host.touchList();
  }

  async branch(messageId: string): Promise<SessionSummary | null> {
    const result = await branchSession(messageId);
    if (!result.ok) {
      this.#host.report(result.error, "error.context.branch");
      return null;
    }
    this.#host.sessions.upsert(result.data);
    await this.#conversation.open(result.data);
    return result.data;
  }
}
