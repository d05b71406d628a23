// Replies that stream: send, stop, failures with Retry, regenerate, continue,
// impersonate, following a stream started elsewhere (busy), the model picker,
// and what a burst of deltas costs the rest of the list.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import App from "../src/App.svelte";
import type { Message } from "../src/lib/api";
import type { ReplyMeta } from "../src/lib/dev/mock-chats";
import {
  character,
  chatCharacter,
  emitLive,
  installBackend,
  MockChats,
  MockProviders,
  MockStreams,
  model,
  type Call,
} from "./helpers/backend";

const ANN = character("Ann Archer", { id: "ann" }, { first_mes: "Hello, traveller." });

type Line = { role: Message["role"]; content: string; status?: Message["status"]; meta?: ReplyMeta };

type World = { calls: Call[]; chats: MockChats; streams: MockStreams; providers: MockProviders; sessionId: string };

function store(): MockChats {
  let clock = Date.UTC(2026, 0, 1);
  return new MockChats({ character: (id) => chatCharacter(id === "ann" ? ANN : undefined), now: () => (clock += 1000) });
}

function configured(): MockProviders {
  const providers = new MockProviders();
  providers.add(
    { name: "OpenRouter", kind: "openRouter", defaultModel: "anthropic/claude-3.5-sonnet" },
    {
      key: "keyring",
      models: [model("anthropic/claude-3.5-sonnet", 200_000), model("openai/gpt-4o", 131_072), model("meta/llama-3-8b", 8192)],
      favourites: ["openai/gpt-4o"],
    },
  );
  return providers;
}

async function start(
  lines: Line[] = [{ role: "assistant", content: "Hello, traveller." }],
  options: { providers?: MockProviders; announce?: boolean; before?: (world: Omit<World, "calls">) => void } = {},
): Promise<World> {
  const chats = store();
  const summary = chats.addSession("ann", lines, { title: "Talk" });
  const providers = options.providers ?? configured();
  const streams = new MockStreams(chats, { onLiveChanged: options.announce === false ? () => {} : emitLive });
  options.before?.({ chats, streams, providers, sessionId: summary.id });
  const calls = installBackend({ characters: [ANN], chats, streams, providers });
  render(App);
  await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
  await fireEvent.click(screen.getByTestId("nav-chats"));
  return { calls, chats, streams, providers, sessionId: summary.id };
}

async function openTalk(): Promise<void> {
  const item = await waitFor(() => {
    const found = document.querySelector<HTMLElement>('[data-testid="session-item"][data-title="Talk"]');
    if (!found) throw new Error("no session yet");
    return found;
  });
  await fireEvent.click(within(item).getAllByRole("button")[0]!);
  await screen.findByTestId("conversation");
  await waitFor(() => expect(document.querySelector('[data-testid="message"]')).not.toBeNull());
}

function messages(): HTMLElement[] {
  return [...document.querySelectorAll<HTMLElement>('[data-testid="message"]')];
}

function lastMessage(): HTMLElement {
  const all = messages();
  const found = all[all.length - 1];
  if (!found) throw new Error("no messages");
  return found;
}

function textOf(message: HTMLElement): string {
  return message.querySelector('[data-testid="message-content"]')?.textContent?.trim() ?? "";
}

function input(): HTMLTextAreaElement {
  return screen.getByTestId("composer-input") as HTMLTextAreaElement;
}

function last<T>(calls: Call[], cmd: string): T {
  const found = calls.filter((c) => c.cmd === cmd).pop();
  if (!found) throw new Error(`${cmd} was never called`);
  return found.args as T;
}

function count(calls: Call[], cmd: string): number {
  return calls.filter((c) => c.cmd === cmd).length;
}

async function send(text: string): Promise<void> {
  await fireEvent.input(input(), { target: { value: text } });
  await fireEvent.keyDown(input(), { key: "Enter" });
}

const frame = (): Promise<void> => new Promise((resolve) => requestAnimationFrame(() => resolve()));

describe("sending", () => {
  test("the reply streams in: typing indicator, then text; Stop replaces Send; done reads back the saved message with its meta", async () => {
    const world = await start();
    await openTalk();
    await waitFor(() => expect(screen.getByTestId("model-picker").textContent).toContain("anthropic/claude-3.5-sonnet"));
    await send("Where am I?");

    await waitFor(() => expect(count(world.calls, "send_message")).toBe(1));
    const args = last<{ sessionId: string; text: string; imageIds: string[]; onEvent: unknown }>(world.calls, "send_message");
    expect(args).toMatchObject({ sessionId: world.sessionId, text: "Where am I?", imageIds: [] });
    expect(args.onEvent).toBeTruthy();
    expect(count(world.calls, "add_message")).toBe(0);

    // The user's message and an empty reply appear at once; the draft clears.
    await waitFor(() => expect(messages()).toHaveLength(3));
    expect(messages()[1]!.dataset["role"]).toBe("user");
    expect(textOf(messages()[1]!)).toBe("Where am I?");
    expect(input().value).toBe("");
    expect(within(lastMessage()).getByTestId("typing-indicator")).toBeTruthy();
    expect(screen.getByTestId("composer-stop")).toBeTruthy();
    expect(screen.queryByTestId("composer-send")).toBeNull();
    const status = screen.getByTestId("stream-status");
    expect(status.getAttribute("aria-live")).toBe("polite");
    expect(status.textContent).toContain("Ann Archer is typing");

    world.streams.current.delta("You are in the ");
    world.streams.current.delta("**Whispering Woods**.");
    await waitFor(() => expect(textOf(lastMessage())).toBe("You are in the Whispering Woods."));
    expect(lastMessage().querySelector('[data-streaming="true"] strong')?.textContent).toBe("Whispering Woods");
    expect(within(lastMessage()).queryByTestId("typing-indicator")).toBeNull();
    expect(status.textContent).toContain("Ann Archer is replying");

    const reads = count(world.calls, "get_messages");
    world.streams.current.done({ promptTokens: 900, completionTokens: 12, costUsd: 0.001 });
    await waitFor(() => expect(screen.getByTestId("composer-send")).toBeTruthy());
    expect(count(world.calls, "get_messages")).toBeGreaterThan(reads);
    const reply = lastMessage();
    expect(textOf(reply)).toBe("You are in the Whispering Woods.");
    expect(reply.querySelector('[data-streaming="true"]')).toBeNull();
    expect(within(reply).queryByTestId("message-status")).toBeNull();
    await waitFor(() => expect(within(reply).getByTestId("message-meta").textContent).toContain("mock-model"));
    expect(within(reply).getByTestId("message-meta").textContent).toContain("12 tokens");
    expect(within(reply).getByTestId("message-meta").getAttribute("title")).toContain("Prompt tokens: 900");
    expect(status.textContent).toContain("Enter to send");
  });

  test("Stop calls stop_stream and the reply is marked stopped, with Retry and Continue", async () => {
    const world = await start();
    await openTalk();
    await send("Tell me a long story.");
    await waitFor(() => expect(world.streams.live.size).toBe(1));
    world.streams.current.delta("Once upon a time");
    await waitFor(() => expect(textOf(lastMessage())).toBe("Once upon a time"));

    await fireEvent.click(screen.getByTestId("composer-stop"));
    await waitFor(() => expect(last(world.calls, "stop_stream")).toEqual({ sessionId: world.sessionId }));
    await waitFor(() => expect(screen.getByTestId("composer-send")).toBeTruthy());
    const reply = lastMessage();
    await waitFor(() => expect(within(reply).getByTestId("message-status").dataset["status"]).toBe("cancelled"));
    expect(within(reply).getByTestId("message-status").textContent).toContain("Stopped");
    expect(textOf(reply)).toBe("Once upon a time");
    expect(within(reply).getByTestId("message-retry")).toBeTruthy();
    expect(within(reply).getByTestId("message-continue")).toBeTruthy();
  });

  test("Escape stops a stream", async () => {
    const world = await start();
    await openTalk();
    await send("Hi");
    await waitFor(() => expect(world.streams.live.size).toBe(1));
    await fireEvent.keyDown(window, { key: "Escape" });
    await waitFor(() => expect(count(world.calls, "stop_stream")).toBe(1));
    await waitFor(() => expect(screen.getByTestId("composer-send")).toBeTruthy());
  });

  test("a failure shows its localized title, message and wait under the partial reply; Retry regenerates", async () => {
    const world = await start();
    await openTalk();
    await send("Hello?");
    await waitFor(() => expect(world.streams.live.size).toBe(1));
    world.streams.current.delta("I was about to");
    world.streams.current.fail({ code: "rate_limited", message: "429: slow down", retryAfterSecs: 30 });

    const error = await screen.findByTestId("reply-error");
    expect(error.closest('[data-testid="message"]')).toBe(lastMessage());
    expect(textOf(lastMessage())).toBe("I was about to");
    expect(within(error).getByTestId("reply-error-title").textContent).toBe("Too many requests, slow down a little");
    expect(within(error).getByTestId("reply-error-message").textContent).toBe("429: slow down");
    expect(within(error).getByTestId("reply-error-retry-after").textContent).toContain("30 seconds");
    expect(within(lastMessage()).getByTestId("message-status").dataset["status"]).toBe("failed");

    await fireEvent.click(within(error).getByTestId("message-retry"));
    await waitFor(() => expect(last(world.calls, "regenerate_reply")).toMatchObject({ sessionId: world.sessionId }));
    expect(screen.queryByTestId("reply-error")).toBeNull();
    world.streams.current.delta("Second try.");
    world.streams.current.done();
    await waitFor(() => expect(textOf(lastMessage())).toBe("Second try."));
    await waitFor(() => expect(within(lastMessage()).getByTestId("message-swipe-position").textContent).toBe("2 / 2"));
  });

  test("a failure before any text shows the error under the user's message", async () => {
    const world = await start();
    await openTalk();
    await send("Anyone?");
    await waitFor(() => expect(world.streams.live.size).toBe(1));
    world.streams.current.fail({ code: "unauthorized", message: "invalid x-api-key" }, false);
    const error = await screen.findByTestId("reply-error");
    expect(error.closest('[data-testid="message"]')?.getAttribute("data-role")).toBe("user");
    expect(error.textContent).toContain("Access was denied");
    expect(messages()).toHaveLength(2);
  });

  test("in Russian, a failure's title is Russian too", async () => {
    const chats = store();
    chats.addSession("ann", [{ role: "assistant", content: "Привет." }], { title: "Talk" });
    const streams = new MockStreams(chats, { onLiveChanged: emitLive });
    installBackend({ characters: [ANN], chats, streams, providers: configured(), settings: { language: "ru", theme: "light" } });
    render(App);
    await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
    await fireEvent.click(screen.getByTestId("nav-chats"));
    await openTalk();
    await send("Эй");
    await waitFor(() => expect(streams.live.size).toBe(1));
    streams.current.fail({ code: "overloaded", message: "529" }, false);
    const error = await screen.findByTestId("reply-error");
    expect(within(error).getByTestId("reply-error-title").textContent).toBe("Сервис ИИ перегружен, попробуйте чуть позже");
    expect(within(error).getByTestId("message-retry").textContent).toContain("Повторить");
  });
});

describe("regenerate, continue and impersonate", () => {
  const lines: Line[] = [
    { role: "assistant", content: "Hello, traveller." },
    { role: "user", content: "Who are you?" },
    { role: "assistant", content: "Reply one." },
  ];

  test("Regenerate streams a new swipe of the last reply; Continue extends it", async () => {
    const world = await start(lines);
    await openTalk();
    // Only the last reply offers them.
    expect(within(messages()[0]!).queryByTestId("message-regenerate")).toBeNull();
    await fireEvent.click(within(lastMessage()).getByTestId("message-regenerate"));
    await waitFor(() => expect(count(world.calls, "regenerate_reply")).toBe(1));
    await waitFor(() => expect(within(lastMessage()).getByTestId("typing-indicator")).toBeTruthy());
    expect(messages()).toHaveLength(3);
    world.streams.current.delta("Reply two.");
    await waitFor(() => expect(textOf(lastMessage())).toBe("Reply two."));
    world.streams.current.done();
    await waitFor(() => expect(within(lastMessage()).getByTestId("message-swipe-position").textContent).toBe("2 / 2"));

    await fireEvent.click(within(lastMessage()).getByTestId("message-continue"));
    await waitFor(() => expect(last(world.calls, "continue_reply")).toMatchObject({ sessionId: world.sessionId }));
    world.streams.current.delta(" And more.");
    await waitFor(() => expect(textOf(lastMessage())).toBe("Reply two. And more."));
    world.streams.current.done();
    await waitFor(() => expect(screen.getByTestId("composer-send")).toBeTruthy());
    expect(textOf(lastMessage())).toBe("Reply two. And more.");
    expect(messages()).toHaveLength(3);
  });

  test("Impersonate streams a draft into the composer and saves nothing", async () => {
    const world = await start(lines);
    await openTalk();
    await fireEvent.input(input(), { target: { value: "my own words" } });
    await fireEvent.click(screen.getByTestId("composer-impersonate"));
    await waitFor(() => expect(last(world.calls, "impersonate")).toMatchObject({ sessionId: world.sessionId }));
    expect(input().readOnly).toBe(true);
    world.streams.current.delta("*draws my sword* ");
    world.streams.current.delta("Stand back!");
    await waitFor(() => expect(input().value).toBe("*draws my sword* Stand back!"));
    world.streams.current.done();
    await waitFor(() => expect(input().readOnly).toBe(false));
    expect(input().value).toBe("*draws my sword* Stand back!");
    expect(messages()).toHaveLength(3);
    expect(count(world.calls, "send_message")).toBe(0);
  });

  test("a stopped impersonation with nothing written gives the draft back", async () => {
    const world = await start(lines);
    await openTalk();
    await fireEvent.input(input(), { target: { value: "keep me" } });
    await fireEvent.click(screen.getByTestId("composer-impersonate"));
    await waitFor(() => expect(world.streams.live.size).toBe(1));
    await fireEvent.click(screen.getByTestId("composer-stop"));
    await waitFor(() => expect(input().readOnly).toBe(false));
    expect(input().value).toBe("keep me");
  });

  test("failed, stopped and interrupted replies show a badge; the last one offers Retry and Continue", async () => {
    const world = await start([
      { role: "assistant", content: "Hello, traveller.", status: "cancelled" },
      { role: "user", content: "Go on." },
      { role: "assistant", content: "Half a sentence", status: "interrupted" },
    ]);
    await openTalk();
    const first = messages()[0]!;
    expect(within(first).getByTestId("message-status").textContent).toContain("Stopped");
    expect(within(first).queryByTestId("message-retry")).toBeNull();
    const reply = lastMessage();
    const badge = within(reply).getByTestId("message-status");
    expect(badge.textContent).toContain("Interrupted");
    expect(badge.getAttribute("title")).toContain("closed while this reply was streaming");
    expect(within(reply).getByTestId("message-unfinished").textContent).toContain("Confab closed while this reply was streaming.");

    await fireEvent.click(within(reply).getByTestId("message-continue"));
    await waitFor(() => expect(count(world.calls, "continue_reply")).toBe(1));
    world.streams.current.delta(", and the rest.");
    await waitFor(() => expect(textOf(lastMessage())).toBe("Half a sentence, and the rest."));
    world.streams.current.done();
    await waitFor(() => expect(within(lastMessage()).queryByTestId("message-status")).toBeNull());

    expect(within(lastMessage()).queryByTestId("message-retry")).toBeNull();
    await fireEvent.click(within(lastMessage()).getByTestId("message-regenerate"));
    await waitFor(() => expect(count(world.calls, "regenerate_reply")).toBe(1));
  });

  test("reasoning shows collapsed above the reply", async () => {
    const world = await start();
    await openTalk();
    await send("Think first.");
    await waitFor(() => expect(world.streams.live.size).toBe(1));
    world.streams.current.delta("", "The user wants me to think. ");
    const details = await waitFor(() => within(lastMessage()).getByTestId("message-reasoning") as HTMLDetailsElement);
    expect(details.tagName).toBe("DETAILS");
    expect(details.open).toBe(false);
    expect(details.querySelector("summary")?.textContent).toContain("Thinking");
    expect(details.textContent).toContain("The user wants me to think.");
    world.streams.current.delta("Done thinking.");
    await waitFor(() => expect(details.querySelector("summary")?.textContent).toContain("Reasoning"));
    world.streams.current.done();
    // Saved in the reply's meta, it is still there after the read-back.
    await waitFor(() => expect(screen.getByTestId("composer-send")).toBeTruthy());
    expect(within(lastMessage()).getByTestId("message-reasoning").textContent).toContain("The user wants me to think.");
  });
});

describe("streams started elsewhere (busy)", () => {
  test("a stream another window starts is followed live; the composer waits with a busy note", async () => {
    const world = await start();
    await openTalk();
    const other = world.streams.startElsewhere(world.sessionId, "send", "Hello from the other window");
    await waitFor(() => expect(last(world.calls, "attach_stream")).toMatchObject({ sessionId: world.sessionId }));
    const busy = await screen.findByTestId("composer-busy");
    expect(busy.textContent).toContain("already streaming");
    expect(input().disabled).toBe(true);
    await waitFor(() => expect(messages().some((m) => textOf(m) === "Hello from the other window")).toBe(true));
    other.delta("Seen from ");
    other.delta("here.");
    await waitFor(() => expect(textOf(lastMessage())).toBe("Seen from here."));
    // The chat list marks the busy session.
    expect(document.querySelector('[data-testid="session-item"][data-live="true"]')).not.toBeNull();

    other.done();
    await waitFor(() => expect(screen.queryByTestId("composer-busy")).toBeNull());
    expect(input().disabled).toBe(false);
    expect(textOf(lastMessage())).toBe("Seen from here.");
    await waitFor(() => expect(document.querySelector('[data-testid="session-item"][data-live="true"]')).toBeNull());
  });

  test("opening a session mid-stream shows what has arrived and continues", async () => {
    let stream: ReturnType<MockStreams["startElsewhere"]> | null = null;
    const world = await start(undefined, {
      before: ({ streams, sessionId }) => {
        stream = streams.startElsewhere(sessionId, "send", "Still there?");
        stream.delta("Part one");
      },
    });
    await openTalk();
    await waitFor(() => expect(count(world.calls, "attach_stream")).toBe(1));
    await waitFor(() => expect(textOf(lastMessage())).toBe("Part one"));
    expect(screen.getByTestId("composer-busy")).toBeTruthy();
    stream!.delta(", part two.");
    await waitFor(() => expect(textOf(lastMessage())).toBe("Part one, part two."));
    stream!.done();
    await waitFor(() => expect(screen.queryByTestId("composer-busy")).toBeNull());
  });

  test("another window's impersonation never lands in this composer", async () => {
    const world = await start();
    await openTalk();
    await fireEvent.input(input(), { target: { value: "mine" } });
    const other = world.streams.startElsewhere(world.sessionId, "impersonate");
    await waitFor(() => expect(count(world.calls, "attach_stream")).toBe(1));
    await screen.findByTestId("composer-busy");
    other.delta("their draft");
    other.done();
    await waitFor(() => expect(screen.queryByTestId("composer-busy")).toBeNull());
    expect(input().value).toBe("mine");
  });

  test("a busy error from send follows the live stream instead", async () => {
    const world = await start(undefined, { announce: false });
    await openTalk();
    const other = world.streams.startElsewhere(world.sessionId, "regenerate");
    await send("Me too");
    await waitFor(() => expect(count(world.calls, "attach_stream")).toBe(1));
    expect(await screen.findByTestId("composer-busy")).toBeTruthy();
    expect(input().value).toBe("Me too");
    other.delta("Busy writing.");
    await waitFor(() => expect(textOf(lastMessage())).toBe("Busy writing."));
    other.done();
    await waitFor(() => expect(screen.queryByTestId("composer-busy")).toBeNull());
    expect(screen.queryByTestId("error-banner")).toBeNull();
  });
});

describe("the model", () => {
  test("no provider: the composer invites you to set one up and sending only saves the message", async () => {
    const world = await start(undefined, { providers: new MockProviders() });
    await openTalk();
    const notice = await screen.findByTestId("composer-no-provider");
    expect(notice.textContent).toContain("No AI model is set up yet");
    expect((screen.getByTestId("composer-impersonate") as HTMLButtonElement).disabled).toBe(true);
    await send("Hello anyway");
    await waitFor(() => expect(last(world.calls, "add_message")).toMatchObject({ role: "user", content: "Hello anyway" }));
    expect(count(world.calls, "send_message")).toBe(0);

    await fireEvent.click(within(notice).getByTestId("composer-setup-provider"));
    await screen.findByTestId("screen-settings");
    await waitFor(() => expect(screen.getByTestId("settings-providers").textContent).toContain("No providers yet"));
  });

  test("the picker lists models with favourites on top, stars toggle, and a choice sets the session's model", async () => {
    const providers = configured();
    const local = providers.add({ name: "Kobold", kind: "openAiCompatible", defaultModel: "tiny" }, { models: [model("tiny", 4096)] });
    const world = await start(undefined, { providers });
    await openTalk();
    const trigger = screen.getByTestId("model-picker");
    await waitFor(() => expect(trigger.textContent).toContain("anthropic/claude-3.5-sonnet"));
    expect(screen.getByTestId("model-context-length").textContent).toBe("200K context");

    await fireEvent.click(trigger);
    const panel = await screen.findByTestId("model-picker-panel");
    await waitFor(() => expect(within(panel).getAllByTestId("model-option")).toHaveLength(3));
    const ids = (): string[] => within(panel).getAllByTestId("model-option").map((el) => el.dataset["modelId"]!);
    expect(ids()[0]).toBe("openai/gpt-4o");
    expect(panel.textContent).toContain("Favourites");

    const llama = within(panel).getAllByTestId("model-option-row").find((row) => row.dataset["modelId"] === "meta/llama-3-8b")!;
    await fireEvent.click(within(llama).getByTestId("model-favourite"));
    await waitFor(() => expect(last(world.calls, "set_favourite_model")).toMatchObject({ modelId: "meta/llama-3-8b", favourite: true }));
    await waitFor(() => expect(ids().slice(0, 2).sort()).toEqual(["meta/llama-3-8b", "openai/gpt-4o"]));

    await fireEvent.click(within(panel).getAllByTestId("model-option").find((el) => el.dataset["modelId"] === "openai/gpt-4o")!);
    await waitFor(() =>
      expect(last(world.calls, "set_session_model")).toEqual({ sessionId: world.sessionId, providerId: null, model: "openai/gpt-4o" }),
    );
    await waitFor(() => expect(trigger.textContent).toContain("openai/gpt-4o"));
    expect(screen.getByTestId("model-context-length").textContent).toBe("128K context");
    expect(screen.queryByTestId("model-picker-panel")).toBeNull();

    await fireEvent.click(trigger);
    const again = await screen.findByTestId("model-picker-panel");
    await fireEvent.change(within(again).getByTestId("model-provider"), { target: { value: local.id } });
    await waitFor(() => expect(last(world.calls, "set_session_model")).toEqual({ sessionId: world.sessionId, providerId: local.id, model: null }));
    await waitFor(() => expect(trigger.textContent).toContain("tiny"));
    await fireEvent.click(within(again).getByTestId("model-option-default"));
    await waitFor(() => expect(screen.queryByTestId("model-picker-panel")).toBeNull());
    await fireEvent.click(trigger);
    const third = await screen.findByTestId("model-picker-panel");
    await waitFor(() => expect(within(third).getAllByTestId("model-option").map((el) => el.dataset["modelId"])).toEqual(["tiny"]));
  });
});

describe("render cost", () => {
  test("2,000 deltas in a burst re-render only the streaming bubble, at most once a frame", async () => {
    const lines: Line[] = [];
    for (let i = 0; i < 40; i++) lines.push({ role: i % 2 === 0 ? "assistant" : "user", content: `Message **${i}** of the long chat.` });
    const world = await start(lines);
    await openTalk();
    await send("Now write a lot.");
    await waitFor(() => expect(within(lastMessage()).queryByTestId("typing-indicator")).not.toBeNull());
    const list = screen.getByTestId("message-list");
    const streaming = lastMessage();
    const old = messages().slice(0, -1);
    const oldContent = old.map((m) => m.querySelector('[data-testid="message-content"]')!);
    const oldHtml = oldContent.map((el) => el.innerHTML);

    const outside: MutationRecord[] = [];
    let inside = 0;
    const observer = new MutationObserver((records) => {
      for (const record of records) {
        if (streaming.contains(record.target)) inside++;
        else outside.push(record);
      }
    });
    observer.observe(list, { subtree: true, childList: true, characterData: true, attributes: true });

    const stream = world.streams.current;
    for (let i = 0; i < 2000; i++) stream.delta(`w${i} `);
    await frame();
    await frame();
    await waitFor(() => expect(textOf(lastMessage())).toContain("w1999"));
    await new Promise((resolve) => setTimeout(resolve, 0));
    observer.disconnect();

    expect(outside).toEqual([]);
    // One publish for the whole burst (a frame or two), not 2,000.
    expect(inside).toBeGreaterThan(0);
    expect(inside).toBeLessThan(40);
    const now = messages();
    expect(now.slice(0, old.length).every((m, i) => m === old[i])).toBe(true);
    expect(now.slice(0, old.length).map((m) => m.querySelector('[data-testid="message-content"]'))).toEqual(oldContent);
    expect(oldContent.map((el) => el.innerHTML)).toEqual(oldHtml);
    expect(textOf(lastMessage()).split(" ")).toHaveLength(2000);

    stream.done();
    await waitFor(() => expect(screen.getByTestId("composer-send")).toBeTruthy());
    // The read-back keeps unchanged messages as they were.
    expect(messages().slice(0, old.length).every((m, i) => m === old[i])).toBe(true);
  });

  test("a long streaming reply keeps its completed paragraphs' DOM; only the open tail changes", async () => {
    const world = await start();
    await openTalk();
    await send("Tell a long story.");
    await waitFor(() => expect(within(lastMessage()).queryByTestId("typing-indicator")).not.toBeNull());
    const stream = world.streams.current;
    stream.delta("First *paragraph* of the story.\n\nSecond paragraph.\n\nThird");
    await frame();
    await waitFor(() => expect(textOf(lastMessage())).toContain("Third"));
    const content = (): HTMLElement => lastMessage().querySelector<HTMLElement>('[data-testid="message-content"]')!;
    const first = content().querySelector("p")!;
    expect(first.textContent).toBe("First paragraph of the story.");
    const changed: Node[] = [];
    const observer = new MutationObserver((records) => {
      for (const record of records) for (const node of [...record.addedNodes, ...record.removedNodes]) changed.push(node);
    });
    observer.observe(content(), { childList: true, subtree: true, characterData: true });
    for (let i = 0; i < 30; i++) {
      stream.delta(` more words ${i}`);
      if (i % 10 === 9) stream.delta("\n\nA new paragraph");
      await frame();
    }
    await waitFor(() => expect(textOf(lastMessage())).toContain("more words 29"));
    observer.disconnect();
    // The first paragraph is the very same node, never removed or re-added.
    expect(content().querySelector("p")).toBe(first);
    expect(changed.some((node) => node === first || node.contains?.(first))).toBe(false);
    expect(content().querySelectorAll("p").length).toBeGreaterThanOrEqual(4);
    stream.done();
    await waitFor(() => expect(screen.getByTestId("composer-send")).toBeTruthy());
    await waitFor(() => expect(content().querySelectorAll("p").length).toBeGreaterThanOrEqual(4));
  });
});
