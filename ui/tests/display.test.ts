// The chat dictionary's Display scope: rules change how messages are shown
// (also while a reply streams), never what is stored, edited or copied; a
// dictionary saved elsewhere shows at once in the open chat; without Display
// rules nothing extra is asked.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test, vi } from "vitest";
import App from "../src/App.svelte";
import type { DictionaryRule, Message } from "../src/lib/api";
import {
  character,
  chatCharacter,
  emitLive,
  installBackend,
  MockChats,
  MockProviders,
  MockStreams,
  MockWorldBooks,
  model,
  type Call,
} from "./helpers/backend";

const ANN = character("Ann Archer", { id: "ann" }, { first_mes: "Hello, traveller." });

function rule(find: string, replace: string, scope: DictionaryRule["scope"], fields: Partial<DictionaryRule> = {}): DictionaryRule {
  return { find, replace, regex: false, caseSensitive: true, enabled: true, scope, ...fields };
}

type World = { calls: Call[]; chats: MockChats; streams: MockStreams; books: MockWorldBooks };

async function start(lines: { role: Message["role"]; content: string }[], dictionaries: [string, DictionaryRule[]][]): Promise<World> {
  let clock = Date.UTC(2026, 0, 1);
  const chats = new MockChats({ character: (id) => chatCharacter(id === "ann" ? ANN : undefined), now: () => (clock += 1000) });
  chats.addSession("ann", lines, { title: "Talk" });
  const providers = new MockProviders();
  providers.add({ name: "OpenRouter", kind: "openRouter", defaultModel: "m" }, { key: "keyring", models: [model("m", 8192)], favourites: [] });
  const streams = new MockStreams(chats, { onLiveChanged: emitLive });
  const books = new MockWorldBooks();
  for (const [id, rules] of dictionaries) books.dictionaries.set(id, rules);
  const calls = installBackend({ characters: [ANN], chats, streams, providers, worldBooks: books });
  render(App);
  await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
  await fireEvent.click(screen.getByTestId("nav-chats"));
  const item = await waitFor(() => {
    const found = document.querySelector<HTMLElement>('[data-testid="session-item"][data-title="Talk"]');
    if (!found) throw new Error("no session yet");
    return found;
  });
  await fireEvent.click(within(item).getAllByRole("button")[0]!);
  await screen.findByTestId("conversation");
  await waitFor(() => expect(document.querySelector('[data-testid="message"]')).not.toBeNull());
  return { calls, chats, streams, books };
}

function contents(): string[] {
  return [...document.querySelectorAll('[data-testid="message"] [data-testid="message-content"]')].map((el) => el.textContent?.trim() ?? "");
}

function lastMessage(): HTMLElement {
  const all = [...document.querySelectorAll<HTMLElement>('[data-testid="message"]')];
  return all[all.length - 1]!;
}

function liveText(): string {
  return within(lastMessage()).getByTestId("message-content").textContent?.trim() ?? "";
}

const displayCalls = (calls: Call[]): Call[] => calls.filter((c) => c.cmd === "display_texts");

describe("the Display scope", () => {
  test("Display and Both rules change what is shown; Prompt rules do not; the stored text stays", async () => {
    const world = await start(
      [
        { role: "assistant", content: "Cinderjaw smirks at the secret." },
        { role: "user", content: "Where is Cinderjaw?" },
      ],
      [
        ["ann", [rule("Cinderjaw", "Cinderjaw the Old", "display"), rule("secret", "SECRET", "prompt")]],
        ["", [rule("smirks", "smiles", "both")]],
      ],
    );
    await waitFor(() => expect(contents()).toEqual(["Cinderjaw the Old smiles at the secret.", "Where is Cinderjaw the Old?"]));
    // The page was asked for before it was shown: no flash of the stored text.
    const asked = displayCalls(world.calls).map((c) => c.args as { characterId: string; texts: string[] });
    expect(asked[0]).toEqual({ characterId: "ann", texts: [] });
    expect(asked.some((a) => a.texts.includes("Cinderjaw smirks at the secret."))).toBe(true);

    // The editor and the copy button work on the stored text.
    const first = [...document.querySelectorAll<HTMLElement>('[data-testid="message"]')][0]!;
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    await fireEvent.click(within(first).getByTestId("message-copy"));
    expect(writeText).toHaveBeenCalledWith("Cinderjaw smirks at the secret.");
    await fireEvent.click(within(first).getByTestId("message-edit"));
    const field = screen.getByTestId("message-edit-input") as HTMLTextAreaElement;
    expect(field.value).toBe("Cinderjaw smirks at the secret.");
    await fireEvent.input(field, { target: { value: "Cinderjaw grins." } });
    await fireEvent.click(screen.getByTestId("message-edit-save"));
    await waitFor(() => expect(contents()[0]).toBe("Cinderjaw the Old grins."));
    const session = [...world.chats.sessions.values()][0]!;
    expect([...session.nodes.values()].map((n) => n.content)).toContain("Cinderjaw grins.");
  });

  test("a streaming reply is shown through the rules, and so is the saved reply", async () => {
    const world = await start([{ role: "assistant", content: "Hello." }], [["", [rule("Bob", "Robert", "display")]]]);
    await fireEvent.input(screen.getByTestId("composer-input"), { target: { value: "Who?" } });
    await fireEvent.keyDown(screen.getByTestId("composer-input"), { key: "Enter" });
    await waitFor(() => expect(within(lastMessage()).queryByTestId("typing-indicator")).not.toBeNull());
    const stream = world.streams.current;
    const replyId = stream.started.assistantMessageId!;
    stream.delta("I am Bo");
    stream.delta("b, and this is Bob's");
    await waitFor(() => expect(liveText()).toBe("I am Robert, and this is Robert's"));
    stream.delta("\n\nsecond paragraph about Bob");
    await waitFor(() => expect(liveText()).toContain("about Robert"));
    stream.done();
    await waitFor(() => expect(screen.queryByTestId("composer-stop")).toBeNull());
    await waitFor(() => expect(contents()[contents().length - 1]).toBe("I am Robert, and this is Robert's\nsecond paragraph about Robert"));
    const saved = world.chats.messageById(replyId);
    expect(saved?.content).toBe("I am Bob, and this is Bob's\n\nsecond paragraph about Bob");
  });

  test("a dictionary saved in Settings shows at once in the open chat", async () => {
    const world = await start([{ role: "assistant", content: "The mage smirks." }], []);
    expect(contents()).toEqual(["The mage smirks."]);
    await fireEvent.click(screen.getByTestId("nav-settings"));
    const editor = await screen.findByTestId("dictionary-editor");
    await waitFor(() => expect(editor.textContent).toContain("No rules yet."));
    await fireEvent.click(within(editor).getByTestId("dictionary-add"));
    await fireEvent.input(within(editor).getByTestId("dictionary-find"), { target: { value: "smirks" } });
    await fireEvent.input(within(editor).getByTestId("dictionary-replace"), { target: { value: "smiles" } });
    await fireEvent.change(within(editor).getByTestId("dictionary-scope"), { target: { value: "display" } });
    await fireEvent.click(within(editor).getByTestId("dictionary-save"));
    await waitFor(() => expect(world.books.dictionaries.get("")).toHaveLength(1));
    await fireEvent.click(screen.getByTestId("nav-chats"));
    await waitFor(() => expect(contents()).toEqual(["The mage smiles."]));
  });

  test("without Display rules a chat asks once and shows texts as stored", async () => {
    const world = await start(
      [
        { role: "assistant", content: "Plain words." },
        { role: "user", content: "More." },
      ],
      [["ann", [rule("words", "WORDS", "prompt")]]],
    );
    expect(contents()).toEqual(["Plain words.", "More."]);
    await fireEvent.input(screen.getByTestId("composer-input"), { target: { value: "Go" } });
    await fireEvent.keyDown(screen.getByTestId("composer-input"), { key: "Enter" });
    await waitFor(() => expect(within(lastMessage()).queryByTestId("typing-indicator")).not.toBeNull());
    world.streams.current.delta("words words");
    await waitFor(() => expect(liveText()).toBe("words words"));
    world.streams.current.done();
    await waitFor(() => expect(screen.queryByTestId("composer-stop")).toBeNull());
    expect(displayCalls(world.calls).map((c) => c.args)).toEqual([{ characterId: "ann", texts: [] }]);
  });
});
