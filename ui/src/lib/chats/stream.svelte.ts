// A reply while it streams: the small reactive state the streaming bubble
// (or, for impersonate, the composer) reads, kept apart from the message
// array so a delta re-renders only that bubble. Deltas are appended to plain
// strings and published at most once per animation frame, so a model writing
// 1,000 tokens a second costs one Markdown render a frame, not one a token.

import type { ApiError, ReplyKind } from "../api";

export type ReplyPhase =
  /** The request is on its way: nothing has come back yet. */
  | "starting"
  /** Started; waiting for the first token (the typing indicator). */
  | "waiting"
  /** Text or reasoning is arriving. */
  | "streaming"
  /** Stop was pressed; waiting for the stream to end. */
  | "stopping"
  /** Ended: finished, failed or cancelled. */
  | "done"
  | "failed"
  | "cancelled";

/** "own": this window asked for it; "attached": following one started elsewhere. */
export type ReplyOrigin = "own" | "attached";

type Frame = { cancel: () => void };

/** Runs `run` on the next animation frame, or after 100 ms when frames stall (a hidden window). */
function nextFrame(run: () => void): Frame {
  let done = false;
  const once = (): void => {
    if (done) return;
    done = true;
    if (typeof cancelAnimationFrame === "function" && raf !== null) cancelAnimationFrame(raf);
    clearTimeout(timer);
    run();
  };
  const raf = typeof requestAnimationFrame === "function" ? requestAnimationFrame(once) : null;
  const timer = setTimeout(once, 100);
  return {
    cancel: () => {
      done = true;
      if (typeof cancelAnimationFrame === "function" && raf !== null) cancelAnimationFrame(raf);
      clearTimeout(timer);
    },
  };
}

/**
 * `text` appended to `base` where `text` may already repeat the end of
 * `base` (a snapshot of a continued reply, whose saved text holds part of
 * what streamed): the overlap is written once.
 */
export function mergeOverlap(base: string, text: string): string {
  if (base === "" || text.startsWith(base)) return text;
  for (let k = Math.min(base.length, text.length); k > 0; k--) {
    if (base.endsWith(text.slice(0, k))) return base + text.slice(k);
  }
  return base + text;
}

export class LiveReply {
  readonly sessionId: string;
  readonly origin: ReplyOrigin;
  kind = $state<ReplyKind>("send");
  phase = $state<ReplyPhase>("starting");
  /** The reply being written (none for impersonate, and until `started`). */
  assistantMessageId = $state<string | null>(null);
  userMessageId: string | null = null;
  /** In a group, the member writing the reply. */
  speakerId = $state<string | null>(null);
  /** What has arrived, as last published (at most once a frame). */
  text = $state("");
  reasoning = $state("");
  error = $state.raw<ApiError | null>(null);
  /** A continued reply's text before this request; the new text is appended to it. */
  base = $state("");
  /** True once `started` has been applied to the conversation. */
  startedSeen = false;
  /** Called after each publish (impersonate writes the text into the composer). */
  onPublish: ((text: string) => void) | null = null;

  #text = "";
  #reasoning = "";
  #frame: Frame | null = null;
  #mergeBase = false;

  constructor(sessionId: string, origin: ReplyOrigin, kind: ReplyKind) {
    this.sessionId = sessionId;
    this.origin = origin;
    this.kind = kind;
  }

  /** Still running (not ended). */
  get active(): boolean {
    return this.phase !== "done" && this.phase !== "failed" && this.phase !== "cancelled";
  }

  /** Nothing has arrived yet. */
  get waiting(): boolean {
    return this.phase === "starting" || this.phase === "waiting";
  }

  /** The text to show: a continued reply's earlier text, then what streamed. */
  get display(): string {
    return this.#mergeBase ? mergeOverlap(this.base, this.text) : this.base + this.text;
  }

  /** Sets the text a continued reply extends; `merge` when a snapshot may repeat its end. */
  setBase(base: string, merge: boolean): void {
    this.base = base;
    this.#mergeBase = merge;
  }

  started(): void {
    if (this.phase === "starting") this.phase = "waiting";
  }

  /** Everything so far (attaching mid-stream). */
  snapshot(text: string, reasoning: string): void {
    this.#text = text;
    this.#reasoning = reasoning;
    if (text !== "" || reasoning !== "") this.#arrived();
    this.#schedule();
  }

  /** New text since the last event. */
  push(text: string, reasoning: string): void {
    if (text === "" && reasoning === "") return;
    this.#text += text;
    this.#reasoning += reasoning;
    this.#arrived();
    this.#schedule();
  }

  #arrived(): void {
    if (this.phase === "starting" || this.phase === "waiting") this.phase = "streaming";
  }

  #schedule(): void {
    if (this.#frame) return;
    this.#frame = nextFrame(() => {
      this.#frame = null;
      this.publish();
    });
  }

  /** Publishes what has arrived now (the next frame does it anyway). */
  publish(): void {
    this.#frame?.cancel();
    this.#frame = null;
    if (this.text !== this.#text) this.text = this.#text;
    if (this.reasoning !== this.#reasoning) this.reasoning = this.#reasoning;
    this.onPublish?.(this.#text);
  }

  /** Ends the stream: publishes what arrived (or `finalText`) and settles the phase. */
  end(phase: "done" | "failed" | "cancelled", finalText?: string, error?: ApiError): void {
    if (finalText !== undefined && finalText !== "") {
      this.#text = finalText;
      // A continued reply's final text may be the whole reply or only the new part.
      if (this.kind === "continue") this.#mergeBase = true;
    }
    this.publish();
    if (error) this.error = error;
    this.phase = phase;
  }

  /** Stop was pressed. */
  stopping(): void {
    if (this.active) this.phase = "stopping";
  }

  /** Drops a pending frame (the reply is no longer shown). */
  dispose(): void {
    this.#frame?.cancel();
    this.#frame = null;
    this.onPublish = null;
  }
}
