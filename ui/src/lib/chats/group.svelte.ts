// The open chat's cast: its members with their presence, how the group takes
// turns, the presence changes recorded in its history, who speaks next, and
// the composer's next-speaker choice. A 1:1 chat has a cast too (its one
// character, `isGroup` false): "Add a character" turns it into a group, and
// the Undo right after removes the character again (the chat is 1:1 again).

import {
  addGroupMember,
  avatarUrl,
  getGroup,
  removeGroupMember,
  setGroupSettings,
  setMemberPresence,
  type ApiResult,
  type GroupMember,
  type GroupSettings,
  type GroupState,
  type MemberEvent,
  type Presence,
} from "../api";
import type { Confirmer } from "../confirm.svelte";
import { t } from "../i18n/index.svelte";
import type { Reporter } from "../library/library.svelte";

/** The character just added, until Undo or the next change. */
export type Added = { characterId: string; name: string };

export class GroupCast {
  state = $state.raw<GroupState | null>(null);
  /** The composer's choice of who answers next: null follows the turn order. */
  speaker = $state<string | null>(null);
  /** The character just added (the header offers Undo). */
  added = $state.raw<Added | null>(null);
  /** A change is on its way (member actions wait). */
  busy = $state(false);

  #sessionId: string | null = null;
  #report: Reporter;
  #confirm: Confirmer;
  #onChanged: () => void;
  #generation = 0;

  /** `onChanged` hears each change saved (the chat list shows the members). */
  constructor(report: Reporter, confirm: Confirmer, onChanged: () => void = () => {}) {
    this.#report = report;
    this.#confirm = confirm;
    this.#onChanged = onChanged;
  }

  get isGroup(): boolean {
    return this.state?.isGroup === true;
  }

  get members(): readonly GroupMember[] {
    return this.state?.members ?? [];
  }

  get settings(): GroupSettings | null {
    return this.state?.settings ?? null;
  }

  get events(): readonly MemberEvent[] {
    return this.state?.events ?? [];
  }

  member(characterId: string | null): GroupMember | null {
    if (characterId === null) return null;
    return this.members.find((m) => m.characterId === characterId) ?? null;
  }

  /** The member who answers without a pick (the turn order's choice). */
  get nextSpeaker(): GroupMember | null {
    return this.member(this.state?.nextSpeaker ?? null);
  }

  /** Members who may be asked to speak (not muted, not out of the scene). */
  get speakers(): readonly GroupMember[] {
    return this.members.filter((m) => m.presence === "present");
  }

  /** A member's avatar (null: its initial is drawn). */
  avatar(characterId: string | null, size: "thumb" | "full" = "thumb"): string | null {
    const member = this.member(characterId);
    return member ? avatarUrl({ id: member.characterId, avatarKey: member.avatarKey }, size) : null;
  }

  /** Presence changes recorded after each message, by message id ("" before any). */
  get eventsAfter(): ReadonlyMap<string, readonly MemberEvent[]> {
    const map = new Map<string, MemberEvent[]>();
    for (const event of this.events) {
      const key = event.afterMessageId ?? "";
      const list = map.get(key);
      if (list) list.push(event);
      else map.set(key, [event]);
    }
    return map;
  }

  /** Reads the cast of `sessionId` (null: no chat open). */
  async open(sessionId: string | null): Promise<void> {
    if (sessionId !== this.#sessionId) {
      this.#sessionId = sessionId;
      this.state = null;
      this.speaker = null;
      this.added = null;
    }
    await this.reload();
  }

  /** Reads the cast again (after a reply: the next speaker moved on). */
  async reload(): Promise<void> {
    const id = this.#sessionId;
    if (id === null) return;
    const generation = ++this.#generation;
    const result = await getGroup(id);
    if (generation !== this.#generation || id !== this.#sessionId) return;
    if (result.ok) this.#apply(result.data);
    // A chat whose cast cannot be read still works as a 1:1 chat: no report.
  }

  #apply(state: GroupState): void {
    this.#generation++;
    this.state = state;
    if (this.speaker !== null && !state.members.some((m) => m.characterId === this.speaker && m.presence === "present")) {
      this.speaker = null;
    }
    if (this.added !== null && !state.members.some((m) => m.characterId === this.added?.characterId)) this.added = null;
  }

  async #change(run: (sessionId: string) => Promise<ApiResult<GroupState>>): Promise<boolean> {
    const id = this.#sessionId;
    if (id === null) return false;
    this.busy = true;
    const result = await run(id);
    this.busy = false;
    if (id !== this.#sessionId) return false;
    if (!result.ok) {
      this.#report(result.error, "error.context.group");
      return false;
    }
    this.#apply(result.data);
    this.#onChanged();
    return true;
  }

  /** Adds a character; Undo is offered until the next change. */
  async add(characterId: string, name: string): Promise<boolean> {
    const ok = await this.#change((id) => addGroupMember(id, characterId));
    if (ok) this.added = { characterId, name };
    return ok;
  }

  /** Takes back the last "add a character" (a chat of one becomes 1:1 again). */
  async undoAdd(): Promise<boolean> {
    const added = this.added;
    if (added === null) return false;
    const ok = await this.#change((id) => removeGroupMember(id, added.characterId));
    if (ok) this.added = null;
    return ok;
  }

  async setPresence(characterId: string, presence: Presence): Promise<boolean> {
    const ok = await this.#change((id) => setMemberPresence(id, characterId, presence));
    if (ok) this.added = null;
    return ok;
  }

  /** Removes a member once confirmed; its messages stay. */
  async remove(characterId: string): Promise<boolean> {
    const member = this.member(characterId);
    if (!member) return false;
    const yes = await this.#confirm.ask({
      title: t("group.removeConfirm.title", { name: member.name }),
      body: t("group.removeConfirm.body"),
      confirmLabel: t("group.removeConfirm.ok"),
      cancelLabel: t("common.cancel"),
      danger: true,
    });
    if (!yes) return false;
    const ok = await this.#change((id) => removeGroupMember(id, characterId));
    if (ok) this.added = null;
    return ok;
  }

  async setSettings(settings: GroupSettings): Promise<boolean> {
    return this.#change((id) => setGroupSettings(id, settings));
  }
}
