// A fake chat engine for the dev mock and the tests: reply requests save
// what the real engine saves (through MockChats), stream their events over
// the Tauri Channel they were given, and keep one live stream per session
// (a second request is `busy`). Tests drive a stream by hand (`delta`,
// `done`, `fail`, `cancel`); the dev mock lets it play by itself.

import type { ApiError, CancelReason, ReplyKind, ReplyUsage, StreamStarted } from "../api";
import type { StreamEvent } from "../bindings";
import type { MockChats, ReplyMeta } from "./mock-chats";

/** What a command receives for its `onEvent` argument: the real Channel object. */
export type StreamChannel = { onmessage: (event: StreamEvent) => void };

export type Autoplay = {
  /** The whole text a request of `kind` streams. */
  text: (kind: ReplyKind) => string;
  /** Reasoning streamed before the text (may be empty). */
  reasoning?: (kind: ReplyKind) => string;
  /** Milliseconds between deltas. */
  every: number;
  /** Milliseconds before the first delta. */
  firstAfter?: number;
  /**
   * Words a second by the clock (default: one to three words a delta): each
   * delta carries every word due by then, as a backend on its own thread
   * keeps its pace however busy the page is.
   */
  wordsPerSecond?: number;
};

export type StreamOptions = {
  /** Streams play by themselves (the dev mock); tests leave this out and drive them. */
  autoplay?: Autoplay;
  /** Heard whenever the set of live sessions changes (the `live-sessions-changed` event). */
  onLiveChanged?: (sessionIds: string[]) => void;
  /** The model and provider a finished reply records in its meta. */
  model?: () => { model: string; provider: string };
};

function reject(error: ApiError): Promise<never> {
  return Promise.reject(error);
}

/** One live stream in the fake engine. */
export class MockStream {
  readonly started: StreamStarted;
  /** Auto turns still to come after this reply (a group's). */
  autoLeft = 0;
  text = "";
  reasoning = "";
  ended = false;
  #base: string;
  #channels: StreamChannel[] = [];
  #engine: MockStreams;
  #chats: MockChats;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #startedAt = Date.now();
  #firstAt: number | null = null;

  constructor(engine: MockStreams, chats: MockChats, started: StreamStarted, base: string) {
    this.#engine = engine;
    this.#chats = chats;
    this.started = started;
    this.#base = base;
  }

  get sessionId(): string {
    return this.started.sessionId;
  }

  get channels(): number {
    return this.#channels.length;
  }

  /** The channels listening (an auto turn goes on to the same ones). */
  get listeners(): readonly StreamChannel[] {
    return this.#channels;
  }

  subscribe(channel: StreamChannel, snapshot: boolean): void {
    this.#channels.push(channel);
    channel.onmessage({ type: "started", ...this.started });
    if (snapshot) channel.onmessage({ type: "snapshot", text: this.text, reasoning: this.reasoning });
  }

  #send(event: StreamEvent): void {
    for (const channel of this.#channels) channel.onmessage(event);
  }

  #save(status: "partial" | "complete" | "failed" | "cancelled", meta?: ReplyMeta): void {
    const id = this.started.assistantMessageId;
    if (id) this.#chats.writeReply(id, this.#base + this.text, status, meta);
  }

  /** New text (and reasoning) since the last event. */
  delta(text: string, reasoning = ""): void {
    if (this.ended) return;
    this.#firstAt ??= Date.now();
    this.text += text;
    this.reasoning += reasoning;
    this.#save("partial");
    this.#send({ type: "delta", text, reasoning });
  }

  /** The reply finished and is saved. */
  done(usage: Partial<ReplyUsage> = {}, finishReason: string | null = "stop"): void {
    if (this.ended) return;
    const full: ReplyUsage = {
      promptTokens: usage.promptTokens ?? 812,
      completionTokens: usage.completionTokens ?? Math.max(1, Math.ceil(this.text.length / 4)),
      costUsd: usage.costUsd === undefined ? 0.00042 : usage.costUsd,
    };
    const { model, provider } = this.#engine.model();
    const now = Date.now();
    const meta: ReplyMeta = {
      model,
      provider,
      promptTokens: full.promptTokens,
      completionTokens: full.completionTokens,
      finishReason,
      timeToFirstTokenMs: this.#firstAt === null ? null : this.#firstAt - this.#startedAt,
      durationMs: now - this.#startedAt,
      ...(this.reasoning ? { reasoning: this.reasoning } : {}),
    };
    this.#save("complete", meta);
    const messageId = this.started.kind === "impersonate" ? null : this.started.assistantMessageId;
    this.#end({ type: "done", messageId, text: this.#base + this.text, usage: full, finishReason });
    this.#engine.nextTurn(this);
  }

  /** The request failed; a partial reply is kept when anything arrived. */
  fail(error: ApiError, partialSaved = this.text !== ""): void {
    if (this.ended) return;
    this.#settle("failed", partialSaved);
    this.#end({ type: "failed", error: { ...error }, partialSaved });
  }

  /** The stream was cancelled (the user pressed stop, or it ran too long). */
  cancel(reason: CancelReason = "user", partialSaved = this.text !== "" || this.#base !== ""): void {
    if (this.ended) return;
    this.#settle("cancelled", partialSaved);
    this.#end({ type: "cancelled", reason, partialSaved });
  }

  #settle(status: "failed" | "cancelled", partialSaved: boolean): void {
    const id = this.started.assistantMessageId;
    if (!id || this.started.kind === "impersonate") return;
    if (partialSaved) this.#save(status);
    else if (this.started.kind === "continue") this.#chats.writeReply(id, this.#base, "complete");
    else this.#chats.discardReply(id);
  }

  #end(event: StreamEvent): void {
    this.ended = true;
    clearTimeout(this.#timer);
    this.#send(event);
    this.#engine.ended(this);
  }

  /** Plays `text` in small pieces every `every` ms, then finishes. */
  play(autoplay: Autoplay): void {
    const kind = this.started.kind;
    const rate = autoplay.wordsPerSecond;
    let sent = 0;
    let since = 0;
    const reasoningWords = (autoplay.reasoning?.(kind) ?? "").split(/(?<=\s)/).filter((w) => w !== "");
    const words = autoplay.text(kind).split(/(?<=\s)/).filter((w) => w !== "");
    const step = (): void => {
      if (this.ended) return;
      if (reasoningWords.length > 0) {
        this.delta("", reasoningWords.splice(0, 3).join(""));
      } else if (words.length > 0) {
        since ||= performance.now();
        const due = rate === undefined ? sent + 1 + Math.floor(Math.random() * 3) : Math.max(sent + 1, Math.floor(((performance.now() - since) * rate) / 1000));
        this.delta(words.splice(0, due - sent).join(""));
        sent = due;
      } else {
        this.done();
        return;
      }
      this.#timer = setTimeout(step, autoplay.every);
    };
    this.#timer = setTimeout(step, autoplay.firstAfter ?? autoplay.every);
  }
}

export class MockStreams {
  /** Live streams by session. */
  live = new Map<string, MockStream>();
  #chats: MockChats;
  #options: StreamOptions;

  constructor(chats: MockChats, options: StreamOptions = {}) {
    this.#chats = chats;
    this.#options = options;
  }

  model(): { model: string; provider: string } {
    return this.#options.model?.() ?? { model: "mock-model", provider: "Mock" };
  }

  /** The session's live stream (tests drive it); throws when there is none. */
  stream(sessionId: string): MockStream {
    const found = this.live.get(sessionId);
    if (!found) throw new Error(`no live stream in ${sessionId}`);
    return found;
  }

  /** The only live stream (tests with one chat). */
  get current(): MockStream {
    const [first] = this.live.values();
    if (!first) throw new Error("no live stream");
    return first;
  }

  ended(stream: MockStream): void {
    if (this.live.get(stream.sessionId) === stream) {
      this.live.delete(stream.sessionId);
      this.#notify();
    }
  }

  #notify(): void {
    this.#options.onLiveChanged?.([...this.live.keys()]);
  }

  /**
   * Starts a stream with no subscriber of ours, as another window would
   * (the UI finds it through live-sessions-changed and attach_stream).
   */
  startElsewhere(sessionId: string, kind: ReplyKind = "send", text = "Hello from the other window"): MockStream {
    const started = this.#chats.beginReply(sessionId, kind, text, []);
    if (!("sessionId" in started)) throw new Error(started.message);
    return this.#open(started, null);
  }

  /** A group reply finished: with auto turns left, the next member speaks on the same channels. */
  nextTurn(previous: MockStream): void {
    if (previous.autoLeft <= 0 || previous.started.kind === "impersonate" || this.live.has(previous.sessionId)) return;
    const started = this.#chats.beginReply(previous.sessionId, "speak");
    if (!("sessionId" in started)) return;
    const stream = this.#open(started, null);
    stream.autoLeft = previous.autoLeft - 1;
    for (const channel of previous.listeners) stream.subscribe(channel, false);
  }

  #open(started: StreamStarted, channel: StreamChannel | null): MockStream {
    const base =
      started.kind === "continue" && started.assistantMessageId
        ? (this.#chats.messageById(started.assistantMessageId)?.content ?? "")
        : "";
    const stream = new MockStream(this, this.#chats, started, base);
    this.live.set(started.sessionId, stream);
    if (channel) stream.subscribe(channel, false);
    this.#notify();
    if (this.#options.autoplay) stream.play(this.#options.autoplay);
    return stream;
  }

  #request(kind: ReplyKind, a: Record<string, unknown>): unknown {
    const sessionId = a["sessionId"] as string;
    if (this.live.has(sessionId)) return reject({ code: "busy", message: "a reply is already streaming in this chat" });
    const started = this.#chats.beginReply(
      sessionId,
      kind,
      (a["text"] as string | undefined) ?? "",
      (a["imageIds"] as string[] | undefined) ?? [],
      (a["speakerId"] as string | null | undefined) ?? null,
    );
    if (!("sessionId" in started)) return reject(started);
    const stream = this.#open(started, a["onEvent"] as StreamChannel);
    if (kind === "send" || kind === "speak") stream.autoLeft = this.#chats.groups.autoTurns(sessionId);
    return started;
  }

  /** Answers an engine command, or undefined when `cmd` is not one. */
  handle(cmd: string, a: Record<string, unknown>): unknown {
    switch (cmd) {
      case "send_message":
        return this.#request("send", a);
      case "regenerate_reply":
        return this.#request("regenerate", a);
      case "continue_reply":
        return this.#request("continue", a);
      case "impersonate":
        return this.#request("impersonate", a);
      case "speak":
        return this.#request("speak", a);
      case "attach_stream": {
        const stream = this.live.get(a["sessionId"] as string);
        if (!stream) return false;
        stream.subscribe(a["onEvent"] as StreamChannel, true);
        return true;
      }
      case "stop_stream": {
        const stream = this.live.get(a["sessionId"] as string);
        if (!stream) return false;
        stream.cancel("user");
        return true;
      }
      case "live_sessions":
        return { sessionIds: [...this.live.keys()] };
      default:
        return undefined;
    }
  }
}
