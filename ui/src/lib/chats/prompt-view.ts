// What the prompt preview shows, worked out from a PromptPreview: parts by
// message, tokens by source, labels in the user's language, world-info
// reasons (also ones this UI does not know yet), and the request body with
// long image data shortened for display.

import type { ActivationReason, DropReason, ErrorCode, EntryPosition, JsonValue, PromptPart, PromptSource, Role } from "../api";
import { t } from "../i18n/index.svelte";
import type { TextKey } from "../i18n/types";
import { activationText, dropText, positionLabel } from "../worldbooks/explain";

/** `PromptPart.messageIndex` of a part that is in no message (an outlet no prompt pulls in). */
export const NOT_PLACED = 4_294_967_295;

/** The parts of each message, by message index; parts in no message apart. */
export function partsByMessage(parts: readonly PromptPart[]): { placed: Map<number, PromptPart[]>; unplaced: PromptPart[] } {
  const placed = new Map<number, PromptPart[]>();
  const unplaced: PromptPart[] = [];
  for (const part of parts) {
    if (part.messageIndex === NOT_PLACED) {
      unplaced.push(part);
      continue;
    }
    const list = placed.get(part.messageIndex);
    if (list) list.push(part);
    else placed.set(part.messageIndex, [part]);
  }
  return { placed, unplaced };
}

export type SourceTotal = { source: PromptSource; tokens: number; parts: number };

/** Tokens per source, in the order the sources first appear in the prompt (placed parts only). */
export function sourceTotals(parts: readonly PromptPart[]): SourceTotal[] {
  const totals = new Map<PromptSource, SourceTotal>();
  for (const part of parts) {
    if (part.messageIndex === NOT_PLACED) continue;
    const total = totals.get(part.source);
    if (total) {
      total.tokens += part.tokens;
      total.parts += 1;
    } else {
      totals.set(part.source, { source: part.source, tokens: part.tokens, parts: 1 });
    }
  }
  return [...totals.values()];
}

/** The name of a source; one this UI does not know is shown as written. */
export function sourceName(source: string): string {
  return KNOWN_SOURCES.has(source) ? t(`prompt.source.${source as PromptSource}`) : humanize(source);
}

const KNOWN_SOURCES = new Set<string>([
  "primaryContext",
  "characterSystemPrompt",
  "characterDescription",
  "personaDescription",
  "worldInfo",
  "preferences",
  "exampleDialogue",
  "chatStart",
  "characterNote",
  "authorsNote",
  "history",
  "postHistoryInstructions",
  "globalPostHistory",
  "newMessage",
  "continuePrefill",
  "impersonationInstruction",
  "groupMember",
  "groupNudge",
  "summary",
  "retrievedMemory",
] satisfies PromptSource[]);

/** `characterFilter` → `character filter`. */
export function humanize(kind: string): string {
  return kind
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_-]+/g, " ")
    .toLowerCase()
    .trim();
}

// ---- Labels ----

// The core labels every part in English ("message 41", "world info #12 Eldoria
// (at depth 4, system)"). These are the shapes it uses; a label in any other
// shape is shown as written, so a new wording only loses its translation.

const FIXED_LABELS = new Set([
  "primary context",
  "character system prompt",
  "character description",
  "persona",
  "world info",
  "preferences",
  "message",
  "post-history instructions",
  "global post-history",
  "new message",
  "example dialogue",
  "start of the chat",
  "character's note",
  "author's note",
  "reply so far (continue)",
  "impersonation instruction",
  "summary",
  "retrieved memory",
]);

const PLACES: Readonly<Record<string, TextKey>> = {
  "before character": "entry.position.beforeCharacter",
  "after character": "entry.position.afterCharacter",
  "before the example dialogue": "entry.position.exampleMessagesTop",
  "after the example dialogue": "entry.position.exampleMessagesBottom",
  "top of the Author's Note": "entry.position.authorsNoteTop",
  "bottom of the Author's Note": "entry.position.authorsNoteBottom",
  "before the system prompt": "authorsNote.position.beforeSystem",
  "after the system prompt": "authorsNote.position.afterSystem",
};

const WHO: Readonly<Record<string, TextKey>> = {
  user: "prompt.label.who.user",
  character: "prompt.label.who.character",
  narration: "prompt.label.who.narration",
};

export function roleName(role: string): string {
  return role === "user" || role === "assistant" || role === "system" ? t(`note.role.${role as Role}`) : role;
}

/** `at depth 4, system`, `before character`, `outlet Name` in the user's language. */
function place(text: string): string {
  const moved = /^(.*); moved from (.*?) to keep the cached start of the prompt stable$/.exec(text);
  if (moved) return t("prompt.label.moved", { place: place(moved[1]!), from: place(moved[2]!) });
  const depth = /^at depth (\d+), (\w+)$/.exec(text);
  if (depth) return t("prompt.label.atDepth", { depth: depth[1]!, role: roleName(depth[2]!) });
  const outlet = /^outlet (.*)$/.exec(text);
  if (outlet) return t("prompt.label.outlet", { name: outlet[1]! });
  const key = PLACES[text];
  return key ? t(key) : text;
}

/** `world info #12 Eldoria (at depth 4, system)` → `#12 Eldoria · At depth 4, as System`. */
function worldInfoLabel(text: string): string | null {
  const match = /^world info #(\d+)(?: (.*?))? \(([^()]*)\)$/.exec(text);
  if (!match) return null;
  const title = match[2] ? `#${match[1]} ${match[2]}` : `#${match[1]}`;
  return `${title} · ${place(match[3]!)}`;
}

/**
 * The part's label in the user's language, or "" when it says no more than
 * its source's name (which is shown beside it anyway).
 */
export function partLabel(part: Pick<PromptPart, "label" | "source">): string {
  const label = part.label.trim();
  if (label === "" || FIXED_LABELS.has(label.toLowerCase()) || label === sourceName(part.source)) return "";
  const withPrimary = / \(with the primary context\)$/.exec(label);
  if (withPrimary) return t("prompt.label.withPrimary");
  if (/ \(with the global post-history\)$/.test(label)) return t("prompt.label.withGlobal");
  const message = /^message (\d+)$/.exec(label);
  if (message) return t("prompt.label.message", { n: message[1]! });
  // An example turn: `example chat 2, user`, `world info #3 X (…), character`.
  const turn = /^(.*), (user|character|narration)$/.exec(label);
  if (turn) {
    const whose = turn[1]!;
    const who = t(WHO[turn[2]!]!);
    const chat = /^example chat (\d+)$/.exec(whose);
    if (chat) return t("prompt.label.exampleTurn", { n: chat[1]!, who });
    const entry = worldInfoLabel(whose);
    if (entry) return `${entry} · ${who}`;
  }
  const chat = /^example chat (\d+)$/.exec(label);
  if (chat) return t("prompt.label.exampleChat", { n: chat[1]! });
  const forEntry = /^example chat for (.*)$/.exec(label);
  if (forEntry) return t("prompt.label.exampleChatFor", { entry: worldInfoLabel(forEntry[1]!) ?? forEntry[1]! });
  const entry = worldInfoLabel(label);
  if (entry) return entry;
  const memory = memoryLabel(label);
  if (memory) return memory;
  const note = /^(?:Author's Note|Character's note) \(([^()]*)\)$/.exec(label);
  if (note) return place(note[1]!);
  return label;
}

/**
 * A summary's or a retrieved passage's label, as the core writes them:
 * `summary of messages 1–40` (`, pinned`), `memory 0.82 · message 412`,
 * `memory 0.71 · note`. The score stays as written: it says why the passage
 * was chosen.
 */
function memoryLabel(text: string): string | null {
  const summary = /^summary of messages (\d+)\s*[–-]\s*(\d+)(, pinned)?$/i.exec(text);
  if (summary) {
    const range = t("prompt.label.summary", { first: summary[1]!, last: summary[2]! });
    return summary[3] ? `${range} · ${t("prompt.label.pinned")}` : range;
  }
  const retrieved = /^memory (-?\d+(?:\.\d+)?) · (?:message (\d+)|(note))$/i.exec(text);
  if (!retrieved) return null;
  const score = t("prompt.label.score", { score: retrieved[1]! });
  const from = retrieved[2] ? t("prompt.label.message", { n: retrieved[2] }) : t("prompt.label.note");
  return `${score} · ${from}`;
}

// ---- Retrieval ----

/**
 * What retrieval did for the turn, as the core's `RetrievalReport` sends it in
 * the preview (`PromptPreview.retrieval`). Read through {@link retrievalOf}, so
 * a preview from a core without it shows no retrieval section.
 */
export type RetrievalReportView = {
  enabled: boolean;
  passages: { id: number; label: string; score: number | null; messageId: string | null; position: number | null; text: string }[];
  inWindow: number;
  minScore: number | null;
  error: { code: ErrorCode; message: string } | null;
};

/** The preview's retrieval report, when the core sent one. */
export function retrievalOf(preview: object): RetrievalReportView | null {
  const report = (preview as { retrieval?: RetrievalReportView | null }).retrieval;
  return report && typeof report === "object" && Array.isArray(report.passages) ? report : null;
}

// ---- World info ----

/** Why an entry fired; a reason this UI does not know yet is named generically. */
export function activationReasonText(reason: ActivationReason | { kind: string }, groupWon: string | null): string {
  let text: string | undefined;
  try {
    text = activationText(reason as ActivationReason, groupWon);
  } catch {
    text = undefined;
  }
  return text ?? t("prompt.wi.otherReason", { reason: describeUnknown(reason) });
}

/** Why a matched entry was left out; a reason this UI does not know yet is named generically. */
export function dropReasonText(reason: DropReason | { kind: string }): string {
  let text: string | undefined;
  try {
    text = dropText(reason as DropReason);
  } catch {
    text = undefined;
  }
  return text ?? t("prompt.wi.otherReason", { reason: describeUnknown(reason) });
}

/** `character filter (character: Ann, exclude: yes)`: the kind and its plain fields. */
function describeUnknown(reason: { kind: string }): string {
  const details = Object.entries(reason)
    .filter(([key]) => key !== "kind")
    .map(([key, value]) => `${humanize(key)}: ${scalar(value)}`)
    .filter((text) => text.length < 120);
  const kind = humanize(typeof reason.kind === "string" ? reason.kind : "unknown");
  return details.length > 0 ? `${kind} (${details.join(", ")})` : kind;
}

function scalar(value: unknown): string {
  if (typeof value === "boolean") return t(value ? "prompt.yes" : "prompt.no");
  if (Array.isArray(value)) return value.map(scalar).join(", ");
  if (value !== null && typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Where an activated entry went, with its depth and role when it is in the chat. */
export function activationPlace(position: string, depth: number, role: string, outlet?: string): string {
  if (position === "atDepth") return capitalise(t("prompt.label.atDepth", { depth, role: roleName(role) }));
  if (position === "outlet" && outlet) return capitalise(t("prompt.label.outlet", { name: outlet }));
  return POSITIONS.has(position) ? positionLabel(position as EntryPosition) : capitalise(humanize(position));
}

const POSITIONS = new Set<string>([
  "beforeCharacter",
  "afterCharacter",
  "authorsNoteTop",
  "authorsNoteBottom",
  "atDepth",
  "exampleMessagesTop",
  "exampleMessagesBottom",
  "outlet",
] satisfies EntryPosition[]);

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// ---- The request body ----

/** Strings shorter than this are never shortened. */
const LONG = 160;
const KEEP = 32;
const BASE64 = /^[A-Za-z0-9+/=\r\n]+$/;
const DATA_URL = /^(data:[^;,]{1,100}(?:;[^;,]{1,100})*;base64,)(.*)$/s;

/**
 * The body with long image data (base64 payloads and data: URLs) cut to a
 * short head and `marker(hidden)`, for display only; everything else as is.
 */
export function shortenImageData(value: JsonValue, marker: (hidden: number) => string): JsonValue {
  if (typeof value === "string") {
    if (value.length <= LONG) return value;
    const url = DATA_URL.exec(value);
    if (url) {
      const payload = url[2]!;
      return `${url[1]}${payload.slice(0, KEEP)}… ${marker(payload.length - KEEP)}`;
    }
    if (BASE64.test(value)) return `${value.slice(0, KEEP)}… ${marker(value.length - KEEP)}`;
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => shortenImageData(item, marker));
  if (value !== null && typeof value === "object") {
    const out: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(value)) out[key] = shortenImageData(item as JsonValue, marker);
    return out;
  }
  return value;
}
