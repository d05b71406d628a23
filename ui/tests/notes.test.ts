// The prompt preview, the Author's Note, the Character's note and the
// example-dialogue setting: what a SillyTavern user brings over, shown and
// edited where they would look for it.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, describe, expect, test } from "vitest";
import App from "../src/App.svelte";
import type { AuthorsNote, CardData, JsonValue, PromptPart, ScanReport } from "../src/lib/api";
import { noteIsActive, wholeNumber } from "../src/lib/chats/authors-note";
import { dropReasonText, partLabel, partsByMessage, shortenImageData, sourceTotals, NOT_PLACED } from "../src/lib/chats/prompt-view";
import { setLanguage } from "../src/lib/i18n/index.svelte";
import { readNote, writeNote } from "../src/lib/library/character-note";
import { parseSettings } from "../src/lib/settings";
import { blankCard, character, chatCharacter, installBackend, makeBook, MockChats, MockWorldBooks, type Call } from "./helpers/backend";

afterEach(() => setLanguage("en"));

const EMBER = character(
  "Ember",
  { id: "ember" },
  {
    first_mes: "Oh! A visitor.",
    description: "A young dragon who reads.",
    mes_example:
      "<START>\n{{user}}: What are you reading?\n{{char}}: A treatise on bell-casting.\n<START>\n{{user}}: Gold?\n{{char}}: I hoard footnotes.",
    extensions: { depth_prompt: { prompt: "{{char}} fears the third bell.", depth: 2, role: "system" }, fav: true },
  },
);
const BO = character("Bo", { id: "bo" }, { first_mes: "Yo." });

const REPORT: ScanReport = {
  activated: [
    {
      book: "wb-ember",
      uid: 0,
      comment: "Emberfall — the city",
      position: "beforeCharacter",
      depth: 4,
      role: "system",
      order: 10,
      tokens: 27,
      reason: { kind: "constant" },
      groupWon: null,
      content: "Emberfall is a walled city.",
    },
    {
      book: "wb-ember",
      uid: 2,
      comment: "Ash storms",
      position: "atDepth",
      depth: 1,
      role: "system",
      order: 100,
      tokens: 12,
      reason: { kind: "key", key: "storm", secondary: null, matchedIn: { kind: "message", index: 0 } },
      groupWon: null,
      content: "Ash storms roll down from the caldera.",
    },
  ],
  dropped: [
    { book: "wb-ember", uid: 3, comment: "Clear skies", reason: { kind: "probability", probability: 30, roll: 71 } },
    // A reason a newer core may send: named generically, never a blank or a crash.
    {
      book: "wb-ember",
      uid: 4,
      comment: "Harbour gossip",
      reason: { kind: "moonPhase", phase: "waning", waxing: false } as unknown as ScanReport["dropped"][number]["reason"],
    },
  ],
  tokensUsed: 39,
  budget: 2048,
  recursionLevels: 1, keyErrors: []
};

type World = { calls: Call[]; chats: MockChats; sessionId: string };

/** Ember's chat "Bells", opened; optionally with a provider, world info and an Author's Note. */
async function openBells(options: { provider?: boolean; note?: AuthorsNote; defaultNote?: AuthorsNote } = {}): Promise<World> {
  const details = new Map([EMBER, BO].map((d) => [d.summary.id, d]));
  let clock = Date.UTC(2026, 0, 1);
  const chats = new MockChats({
    character: (id) => chatCharacter(details.get(id)),
    now: () => (clock += 1000),
    worldInfo: () => REPORT,
    target: () => (options.provider ? { providerId: "p1", providerName: "OpenRouter", model: "anthropic/claude-3.5-sonnet", contextLength: 200_000 } : null),
  });
  const session = chats.addSession(
    "ember",
    [
      { role: "assistant", content: "Oh! A visitor." },
      { role: "user", content: "Is a storm coming?" },
      { role: "assistant", content: "The bells say so." },
    ],
    { title: "Bells" },
  );
  if (options.note) chats.chatNotes.set(session.id, options.note);
  if (options.defaultNote) chats.defaultNotes.set("ember", options.defaultNote);
  const worldBooks = new MockWorldBooks([makeBook("wb-ember", "Emberfall", [])]);
  const calls = installBackend({ characters: [EMBER, BO], chats, worldBooks });
  render(App);
  await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
  await fireEvent.click(screen.getByTestId("nav-chats"));
  const row = await waitFor(() => {
    const found = document.querySelector<HTMLElement>('[data-testid="session-item"][data-title="Bells"]');
    if (!found) throw new Error("no Bells");
    return found;
  });
  await fireEvent.click(within(row).getAllByRole("button")[0]!);
  await screen.findByTestId("conversation");
  await waitFor(() => expect(document.querySelector('[data-testid="message"]')).not.toBeNull());
  return { calls, chats, sessionId: session.id };
}

function previews(calls: Call[]): { message: string | null; imageIds: string[]; withRequestBody: boolean }[] {
  return calls.filter((c) => c.cmd === "preview_prompt").map((c) => c.args as { message: string | null; imageIds: string[]; withRequestBody: boolean });
}

function lastOf<T>(list: readonly T[]): T | undefined {
  return list[list.length - 1];
}

function sources(scope: HTMLElement): string[] {
  return within(scope)
    .getAllByTestId("prompt-part")
    .map((p) => p.dataset["source"]!);
}

const NOTE: AuthorsNote = { text: "[Mood: eerie. The bell is real.]", position: "inChat", depth: 1, role: "system", interval: 1 };

describe("the prompt preview", () => {
  test("shows the provider, model, window and reply reserve, and every part by source in order", async () => {
    const { calls } = await openBells({ provider: true, note: NOTE });
    await fireEvent.input(screen.getByTestId("composer-input"), { target: { value: "Ring it again?" } });
    await fireEvent.click(screen.getByTestId("prompt-preview-open"));
    const drawer = await screen.findByTestId("prompt-preview");
    await waitFor(() => expect(within(drawer).getAllByTestId("prompt-message").length).toBeGreaterThan(8));

    expect(lastOf(previews(calls))).toEqual({ sessionId: expect.any(String), message: "Ring it again?", imageIds: [], speakerId: null, withRequestBody: false });
    expect(within(drawer).getByTestId("prompt-target").textContent).toMatch(/OpenRouter\s*·\s*anthropic\/claude-3\.5-sonnet/);
    expect(within(drawer).getByTestId("prompt-window").textContent).toContain("200,000");
    expect(within(drawer).getByTestId("prompt-window").dataset["known"]).toBe("true");
    expect(within(drawer).queryByTestId("prompt-window-assumed")).toBeNull();
    expect(within(drawer).getByTestId("prompt-reserve").textContent).toBe("512");

    const order = sources(drawer);
    // The frame first, examples before the chat, the notes inside it, the new message last.
    expect(order[0]).toBe("primaryContext");
    expect(order.indexOf("worldInfo")).toBeLessThan(order.indexOf("characterDescription"));
    expect(order.indexOf("exampleDialogue")).toBeGreaterThan(order.indexOf("characterDescription"));
    expect(order.indexOf("chatStart")).toBeGreaterThan(order.lastIndexOf("exampleDialogue"));
    expect(order.indexOf("history")).toBeGreaterThan(order.indexOf("chatStart"));
    expect(order).toContain("characterNote");
    expect(order).toContain("authorsNote");
    expect(lastOf(order)).toBe("newMessage");

    const part = (source: string): HTMLElement => within(drawer).getAllByTestId("prompt-part").find((p) => p.dataset["source"] === source)!;
    expect(part("characterNote").textContent).toContain("Ember fears the third bell.");
    expect(part("characterNote").textContent).toContain("Character's note");
    expect(part("characterNote").textContent).toContain("at depth 2, as System");
    expect(part("authorsNote").textContent).toContain("[Mood: eerie. The bell is real.]");
    const examples = within(drawer)
      .getAllByTestId("prompt-part")
      .filter((p) => p.dataset["source"] === "exampleDialogue")
      .map((p) => p.textContent ?? "");
    expect(examples.some((text) => text.includes("example chat 1 · user") && text.includes("What are you reading?"))).toBe(true);
    expect(examples.some((text) => text.includes("example chat 2 · character") && text.includes("I hoard footnotes."))).toBe(true);
    // Each message says its role and its tokens.
    const characterNoteMessage = part("characterNote").closest<HTMLElement>('[data-testid="prompt-message"]')!;
    expect(characterNoteMessage.dataset["role"]).toBe("system");
    expect(within(characterNoteMessage).getByTestId("prompt-part-tokens").textContent).toMatch(/^\d+$/);

    // A source chip shows only that source's parts.
    const chip = within(drawer)
      .getAllByTestId("prompt-source-chip")
      .find((c) => c.dataset["source"] === "exampleDialogue")!;
    await fireEvent.click(chip);
    expect(new Set(sources(drawer))).toEqual(new Set(["exampleDialogue"]));
    await fireEvent.click(chip);
    expect(sources(drawer)).toContain("history");
  });

  test("without a provider the assumed window is said, and left-out history and examples are counted", async () => {
    const { chats } = await openBells();
    const original = chats.handle.bind(chats);
    chats.handle = (cmd, a, headers) => {
      const answer = original(cmd, a, headers);
      if (cmd !== "preview_prompt") return answer;
      return Promise.resolve(answer).then((p) => {
        const preview = p as { prompt: { droppedHistory: number; droppedExamples: number } };
        preview.prompt.droppedHistory = 12;
        preview.prompt.droppedExamples = 1;
        return preview;
      });
    };
    await fireEvent.click(screen.getByTestId("prompt-preview-open"));
    const drawer = await screen.findByTestId("prompt-preview");
    const assumed = await within(drawer).findByTestId("prompt-window-assumed");
    expect(assumed.textContent).toContain("8,192 tokens are assumed");
    expect(within(drawer).getByTestId("prompt-window").dataset["known"]).toBe("false");
    expect(within(drawer).getByTestId("prompt-target").textContent).toContain("No provider set up");
    expect(within(drawer).getByTestId("prompt-dropped-history").textContent).toBe("12 old messages left out");
    expect(within(drawer).getByTestId("prompt-dropped-examples").textContent).toBe("1 example chat");
    await fireEvent.click(within(drawer).getByTestId("prompt-tab-request"));
    expect((await within(drawer).findByTestId("prompt-body-none")).textContent).toContain("Set up a provider");
  });

  test("world info: what fired and why, and beside it what matched but was dropped, unknown reasons included", async () => {
    await openBells({ provider: true });
    await fireEvent.click(screen.getByTestId("prompt-preview-open"));
    const drawer = await screen.findByTestId("prompt-preview");
    await fireEvent.click(await within(drawer).findByTestId("prompt-tab-world-info"));
    const fired = await within(drawer).findAllByTestId("prompt-wi-fired");
    expect(fired).toHaveLength(2);
    expect(fired[0]!.textContent).toContain("Emberfall — the city");
    await waitFor(() => expect(fired[0]!.textContent).toContain("Emberfall ·")); // the book's name, not its id
    expect(fired[0]!.textContent).toContain("Before character definitions");
    expect(within(fired[0]!).getByTestId("prompt-wi-reason").textContent).toBe("constant");
    expect(fired[1]!.textContent).toContain("At depth 1, as System");
    expect(within(fired[1]!).getByTestId("prompt-wi-reason").textContent).toBe('key "storm" in message 1');

    const dropped = within(drawer).getAllByTestId("prompt-wi-dropped");
    expect(dropped.map((d) => within(d).getByTestId("prompt-wi-reason").textContent)).toEqual([
      "probability 30%: rolled 71",
      "Left out: moon phase (phase: waning, waxing: no)",
    ]);
    expect(within(drawer).getByTestId("prompt-wi-budget").textContent).toBe("World info uses 39 of its 2,048-token budget.");
    expect(within(drawer).queryByTestId("prompt-wi-key-error")).toBeNull();
  });

  test("world info with no book scanned says so instead of a 0-token budget and empty lists", async () => {
    const { chats } = await openBells({ provider: true });
    const original = chats.handle.bind(chats);
    const none = { activated: [], dropped: [], tokensUsed: 0, budget: 0, recursionLevels: 0, keyErrors: [] };
    chats.handle = (cmd, a, headers) => {
      const answer = original(cmd, a, headers);
      return cmd === "preview_prompt" ? Promise.resolve(answer).then((p) => ({ ...(p as object), worldInfo: none })) : answer;
    };
    await fireEvent.click(screen.getByTestId("prompt-preview-open"));
    const drawer = await screen.findByTestId("prompt-preview");
    await fireEvent.click(await within(drawer).findByTestId("prompt-tab-world-info"));
    const line = await within(drawer).findByTestId("prompt-wi-budget");
    expect(line.dataset["books"]).toBe("none");
    expect(line.textContent).toBe("No world book is active for this chat: none is linked to its character, and none is global.");
    expect(drawer.textContent).not.toContain("Matched but left out");
  });

  test("keys whose search failed during the scan are listed when the core reports them", async () => {
    const report = { ...REPORT, keyErrors: [{ uid: 7, key: "/(a+)+$/", kind: "failed", error: "backtracking limit reached" }] };
    const { chats } = await openBells({ provider: true });
    const original = chats.handle.bind(chats);
    chats.handle = (cmd, a, headers) => {
      const answer = original(cmd, a, headers);
      return cmd === "preview_prompt" ? Promise.resolve(answer).then((p) => ({ ...(p as object), worldInfo: report })) : answer;
    };
    await fireEvent.click(screen.getByTestId("prompt-preview-open"));
    const drawer = await screen.findByTestId("prompt-preview");
    await fireEvent.click(await within(drawer).findByTestId("prompt-tab-world-info"));
    const failure = await within(drawer).findByTestId("prompt-wi-key-error");
    expect(failure.textContent).toContain("Entry #7");
    expect(failure.textContent).toContain("/(a+)+$/");
    expect(failure.textContent).toContain("backtracking limit reached");
  });

  test("the request body is fetched on asking, with long image data shortened for display only", async () => {
    const { calls } = await openBells({ provider: true });
    const image = new File([new Uint8Array([137, 80, 78, 71])], "map.png", { type: "image/png" });
    await fireEvent.change(screen.getByTestId("composer-attach-input"), { target: { files: [image] } });
    await screen.findByTestId("composer-attachment");
    await fireEvent.input(screen.getByTestId("composer-input"), { target: { value: "Look at this map." } });
    await fireEvent.click(screen.getByTestId("prompt-preview-open"));
    const drawer = await screen.findByTestId("prompt-preview");
    const imageId = screen.getByTestId("composer-attachment").dataset["imageId"]!;
    await waitFor(() => expect(lastOf(previews(calls))).toMatchObject({ message: "Look at this map.", imageIds: [imageId], withRequestBody: false }));
    // The draft's image shows under the new message.
    const shown = await within(drawer).findByTestId("prompt-image");
    expect(shown.dataset["imageId"]).toBe(imageId);
    expect(shown.closest<HTMLElement>('[data-testid="prompt-message"]')!.textContent).toContain("Look at this map.");
    expect(within(drawer).getByTestId("prompt-include-draft").closest("label")!.textContent).toContain("with 1 image");

    await fireEvent.click(within(drawer).getByTestId("prompt-tab-request"));
    const body = await within(drawer).findByTestId("prompt-request-body");
    expect(lastOf(previews(calls))).toMatchObject({ withRequestBody: true });
    const text = body.textContent ?? "";
    expect(text).toContain('"model": "anthropic/claude-3.5-sonnet"');
    expect(text).toContain('"content": "[Example Chat]"');
    expect(text).toMatch(/"url": "data:image\/png;base64,[A-Za-z0-9+/]{32}… \([\d,]+ more characters not shown\)"/);
    expect(text.length).toBeLessThan(12_000); // the payload itself is 17,600 characters

    // Leaving the draft out builds the prompt without it.
    await fireEvent.click(within(drawer).getByTestId("prompt-include-draft"));
    await waitFor(() => expect(lastOf(previews(calls))).toMatchObject({ message: null, imageIds: [], withRequestBody: true }));
  });

  test("follows the draft as it is typed", async () => {
    const { calls } = await openBells();
    await fireEvent.click(screen.getByTestId("prompt-preview-open"));
    const drawer = await screen.findByTestId("prompt-preview");
    await waitFor(() => expect(previews(calls)).toHaveLength(1));
    await fireEvent.input(screen.getByTestId("composer-input"), { target: { value: "Who rang it?" } });
    await waitFor(() => expect(lastOf(previews(calls))?.message).toBe("Who rang it?"));
    await waitFor(() => expect(lastOf(sources(drawer))).toBe("newMessage"));
  });
});

describe("the Author's Note", () => {
  test("opens in one click from the chat header, explains itself, and saves this chat's note", async () => {
    const { calls, sessionId } = await openBells();
    const button = screen.getByTestId("authors-note-open");
    expect(button.dataset["active"]).toBe("false");
    await fireEvent.click(button);
    const panel = await screen.findByTestId("authors-note-panel");
    expect(panel.textContent).toContain("kept close to the end of the prompt");
    await waitFor(() => expect(panel.dataset["scope"]).toBe("none"));
    // SillyTavern's defaults: in the chat at depth 4, as system, every message.
    expect((within(panel).getByTestId("authors-note-position-inChat") as HTMLInputElement).checked).toBe(true);
    expect((within(panel).getByTestId("authors-note-depth") as HTMLInputElement).value).toBe("4");
    expect((within(panel).getByTestId("authors-note-interval") as HTMLInputElement).value).toBe("1");
    expect((within(panel).getByTestId("authors-note-save") as HTMLButtonElement).disabled).toBe(true);

    await fireEvent.input(within(panel).getByTestId("authors-note-text"), { target: { value: "[Keep it tense.]" } });
    await fireEvent.input(within(panel).getByTestId("authors-note-depth"), { target: { value: "2" } });
    await fireEvent.change(within(panel).getByTestId("authors-note-role"), { target: { value: "user" } });
    await fireEvent.input(within(panel).getByTestId("authors-note-interval"), { target: { value: "3" } });
    await fireEvent.click(within(panel).getByTestId("authors-note-save"));
    const saved = await within(panel).findByTestId("authors-note-saved");
    expect(saved.textContent).toContain("Saved for this chat");
    expect(lastOf(calls.filter((c) => c.cmd === "set_authors_note"))!.args).toEqual({
      sessionId,
      note: { text: "[Keep it tense.]", position: "inChat", depth: 2, role: "user", interval: 3 },
    });
    expect(panel.dataset["scope"]).toBe("chat");
    await waitFor(() => expect(button.dataset["active"]).toBe("true"));
  });

  test("positions outside the chat hide depth and role; 0 means off; the preview follows a save", async () => {
    const { calls } = await openBells({ note: NOTE });
    await fireEvent.click(screen.getByTestId("prompt-preview-open"));
    const drawer = await screen.findByTestId("prompt-preview");
    await waitFor(() => expect(sources(drawer)).toContain("authorsNote"));
    await fireEvent.click(screen.getByTestId("authors-note-open"));
    const panel = await screen.findByTestId("authors-note-panel");
    await waitFor(() => expect(panel.dataset["scope"]).toBe("chat"));
    await fireEvent.click(within(panel).getByTestId("authors-note-position-afterSystem"));
    expect(within(panel).queryByTestId("authors-note-depth")).toBeNull();
    expect(within(panel).queryByTestId("authors-note-role")).toBeNull();
    await fireEvent.input(within(panel).getByTestId("authors-note-interval"), { target: { value: "0" } });
    expect(within(panel).getByTestId("authors-note-off").textContent).toContain("not sent");
    // Not a number: the value kept stays.
    await fireEvent.input(within(panel).getByTestId("authors-note-interval"), { target: { value: "" } });
    expect(calls.some((c) => c.cmd === "set_authors_note")).toBe(false);
    await fireEvent.click(within(panel).getByTestId("authors-note-save"));
    await within(panel).findByTestId("authors-note-saved");
    expect(lastOf(calls.filter((c) => c.cmd === "set_authors_note"))!.args).toMatchObject({
      note: { text: NOTE.text, position: "afterSystem", interval: 0 },
    });
    // The open preview is built again, and the note is off now.
    await waitFor(() => expect(sources(drawer)).not.toContain("authorsNote"));
    expect(screen.getByTestId("authors-note-open").dataset["active"]).toBe("false");
  });

  test("the character's default: used when the chat has none, saved from here, and gone back to", async () => {
    const fallback: AuthorsNote = { text: "[Keep Ember bookish.]", position: "inChat", depth: 4, role: "system", interval: 2 };
    const { calls, sessionId } = await openBells({ defaultNote: fallback });
    await fireEvent.click(screen.getByTestId("authors-note-open"));
    const panel = await screen.findByTestId("authors-note-panel");
    await waitFor(() => expect(panel.dataset["scope"]).toBe("default"));
    expect(within(panel).getByTestId("authors-note-scope").textContent).toContain("Ember's default note");
    expect((within(panel).getByTestId("authors-note-text") as HTMLTextAreaElement).value).toBe(fallback.text);
    expect(within(panel).queryByTestId("authors-note-use-default")).toBeNull();

    await fireEvent.input(within(panel).getByTestId("authors-note-text"), { target: { value: "[Keep Ember bookish and kind.]" } });
    await fireEvent.click(within(panel).getByTestId("authors-note-save-default"));
    expect((await within(panel).findByTestId("authors-note-saved")).textContent).toContain("Saved as Ember's default");
    expect(lastOf(calls.filter((c) => c.cmd === "set_default_authors_note"))!.args).toEqual({
      characterId: "ember",
      note: { ...fallback, text: "[Keep Ember bookish and kind.]" },
    });
    expect(panel.dataset["scope"]).toBe("default");

    await fireEvent.input(within(panel).getByTestId("authors-note-text"), { target: { value: "[Only here: a storm.]" } });
    await fireEvent.click(within(panel).getByTestId("authors-note-save"));
    await waitFor(() => expect(panel.dataset["scope"]).toBe("chat"));
    await fireEvent.click(within(panel).getByTestId("authors-note-use-default"));
    expect((await within(panel).findByTestId("authors-note-saved")).textContent).toContain("uses Ember's default again");
    expect(lastOf(calls.filter((c) => c.cmd === "set_authors_note"))!.args).toEqual({ sessionId, note: null });
    expect(panel.dataset["scope"]).toBe("default");
    expect((within(panel).getByTestId("authors-note-text") as HTMLTextAreaElement).value).toBe("[Keep Ember bookish and kind.]");
  });

  test("a refused save goes to the error display; closing with unsaved edits asks first", async () => {
    const details = new Map([EMBER].map((d) => [d.summary.id, d]));
    const chats = new MockChats({ character: (id) => chatCharacter(details.get(id)) });
    chats.addSession("ember", [{ role: "assistant", content: "Oh! A visitor." }], { title: "Bells" });
    installBackend({
      characters: [EMBER],
      chats,
      override: (cmd) => (cmd === "set_authors_note" ? Promise.reject({ code: "invalid_input", message: "the Author's Note is longer than 100000 bytes" }) : undefined),
    });
    render(App);
    await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
    await fireEvent.click(screen.getByTestId("nav-chats"));
    const row = await waitFor(() => document.querySelector<HTMLElement>('[data-testid="session-item"][data-title="Bells"]')!);
    await fireEvent.click(within(row).getAllByRole("button")[0]!);
    await fireEvent.click(await screen.findByTestId("authors-note-open"));
    const panel = await screen.findByTestId("authors-note-panel");
    await waitFor(() => expect(panel.dataset["scope"]).toBe("none"));
    await fireEvent.input(within(panel).getByTestId("authors-note-text"), { target: { value: "x" } });
    await fireEvent.click(within(panel).getByTestId("authors-note-save"));
    const banner = await screen.findByTestId("error-banner");
    expect(banner.textContent).toContain("The Author's Note wasn't saved.");
    expect(banner.textContent).toContain("longer than 100000 bytes");
    expect(panel.dataset["dirty"]).toBe("true");

    await fireEvent.keyDown(panel, { key: "Escape" });
    expect(await within(panel).findByTestId("authors-note-discard")).toBeTruthy();
    expect(screen.getByTestId("authors-note-panel")).toBeTruthy();
    await fireEvent.click(within(panel).getByTestId("authors-note-discard-ok"));
    await waitFor(() => expect(screen.queryByTestId("authors-note-panel")).toBeNull());

    // The header button that opened it asks the same way before closing it.
    await fireEvent.click(screen.getByTestId("authors-note-open"));
    const again = await screen.findByTestId("authors-note-panel");
    await waitFor(() => expect(again.dataset["scope"]).toBe("none"));
    await fireEvent.input(within(again).getByTestId("authors-note-text"), { target: { value: "y" } });
    await fireEvent.click(screen.getByTestId("authors-note-open"));
    expect(await within(again).findByTestId("authors-note-discard")).toBeTruthy();
    await fireEvent.click(screen.getByTestId("authors-note-open"));
    await waitFor(() => expect(screen.queryByTestId("authors-note-panel")).toBeNull());
    // Unchanged, it just closes.
    await fireEvent.click(screen.getByTestId("authors-note-open"));
    const third = await screen.findByTestId("authors-note-panel");
    await waitFor(() => expect(third.dataset["scope"]).toBe("none"));
    await fireEvent.click(screen.getByTestId("authors-note-open"));
    await waitFor(() => expect(screen.queryByTestId("authors-note-panel")).toBeNull());
  });

  test("in Russian", async () => {
    await openBellsRu();
    await fireEvent.click(screen.getByTestId("authors-note-open"));
    const panel = await screen.findByTestId("authors-note-panel");
    await waitFor(() => expect(panel.dataset["scope"]).toBe("none"));
    expect(panel.textContent).toContain("Заметка автора");
    expect(panel.textContent).toContain("Каждые N сообщений пользователя");
    expect(within(panel).getByTestId("authors-note-save").textContent).toContain("Сохранить для этого чата");
  });
});

/** Ember's "Bells" in a Russian UI. */
async function openBellsRu(): Promise<void> {
  const details = new Map([EMBER].map((d) => [d.summary.id, d]));
  const chats = new MockChats({ character: (id) => chatCharacter(details.get(id)) });
  chats.addSession("ember", [{ role: "assistant", content: "Oh! A visitor." }], { title: "Bells" });
  installBackend({ characters: [EMBER], chats, settings: { language: "ru", theme: "light" } });
  render(App);
  await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
  await fireEvent.click(screen.getByTestId("nav-chats"));
  const row = await waitFor(() => document.querySelector<HTMLElement>('[data-testid="session-item"][data-title="Bells"]')!);
  await fireEvent.click(within(row).getAllByRole("button")[0]!);
  await screen.findByTestId("conversation");
}

describe("the Character's note", () => {
  async function openDetail(card: Partial<CardData>): Promise<Call[]> {
    const detail = character("Wren", { id: "wren" }, card);
    const calls = installBackend({ characters: [detail] });
    render(App);
    await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
    await fireEvent.click(await screen.findByTestId("character-card"));
    await screen.findByTestId("character-note");
    return calls;
  }

  test("is read from the card's depth prompt, edited with the card and saved into it, other fields kept", async () => {
    const calls = await openDetail({
      extensions: { depth_prompt: { prompt: "{{char}} never lies.", depth: "6", role: "assistant", extra: 1 }, talkativeness: "0.5" },
    });
    const note = screen.getByTestId("character-note");
    expect(note.textContent).toContain("saved in the card, so exports carry it");
    expect((within(note).getByTestId("character-note-text") as HTMLTextAreaElement).value).toBe("{{char}} never lies.");
    expect((within(note).getByTestId("character-note-depth") as HTMLInputElement).value).toBe("6");
    expect((within(note).getByTestId("character-note-role") as HTMLSelectElement).value).toBe("assistant");
    expect(within(note).getByTestId("character-note-where").textContent).toBe("Sent before the last 6 messages, as Assistant (the character).");
    expect(screen.getByTestId("character-detail").dataset["dirty"]).toBe("false");

    await fireEvent.input(within(note).getByTestId("character-note-text"), { target: { value: "{{char}} never lies, ever." } });
    await fireEvent.input(within(note).getByTestId("character-note-depth"), { target: { value: "0" } });
    await fireEvent.change(within(note).getByTestId("character-note-role"), { target: { value: "system" } });
    expect(within(note).getByTestId("character-note-where").textContent).toBe("Sent after the newest message, as System.");
    expect(screen.getByTestId("character-detail").dataset["dirty"]).toBe("true");
    await fireEvent.click(screen.getByTestId("detail-save"));
    await waitFor(() => expect(calls.some((c) => c.cmd === "update_character")).toBe(true));
    const sent = calls.find((c) => c.cmd === "update_character")!.args as { card: CardData };
    expect(sent.card.extensions).toEqual({
      depth_prompt: { prompt: "{{char}} never lies, ever.", depth: 0, role: "system", extra: 1 },
      talkativeness: "0.5",
    });
  });

  test("a card without one gets one when text is typed, and none again when it is cleared", async () => {
    await openDetail({});
    const note = screen.getByTestId("character-note");
    expect(within(note).getByTestId("character-note-where").textContent).toContain("No Character's note");
    const text = within(note).getByTestId("character-note-text");
    await fireEvent.input(text, { target: { value: "Remember the storm." } });
    expect(screen.getByTestId("character-detail").dataset["dirty"]).toBe("true");
    await fireEvent.input(text, { target: { value: "" } });
    expect(screen.getByTestId("character-detail").dataset["dirty"]).toBe("false");
  });

  test("the example dialogue field says what it is for", async () => {
    await openDetail({});
    expect(screen.getByTestId("field-mes_example").getAttribute("aria-describedby")).toBe("field-mes_example-hint");
    expect(document.getElementById("field-mes_example-hint")!.textContent).toContain("<START>");
  });
});

describe("the example-dialogue setting", () => {
  test("offers keep, gradual and never, each explained, and saves the choice", async () => {
    const calls = installBackend({ settings: { language: null, theme: "system", exampleDialogue: "gradual" } });
    render(App);
    await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
    await fireEvent.click(screen.getByTestId("nav-settings"));
    const setting = await screen.findByTestId("example-dialogue-setting");
    expect((within(setting).getByTestId("example-dialogue-gradual") as HTMLInputElement).checked).toBe(true);
    expect(setting.textContent).toContain("Always keep");
    expect(setting.textContent).toContain("the last example chats make way");
    expect(setting.textContent).toContain("Never send");
    await fireEvent.click(within(setting).getByTestId("example-dialogue-never"));
    await waitFor(() =>
      expect(lastOf(calls.filter((c) => c.cmd === "set_settings"))!.args).toEqual({
        settings: { language: null, theme: "system", exampleDialogue: "never" },
      }),
    );
    expect((within(setting).getByTestId("example-dialogue-never") as HTMLInputElement).checked).toBe(true);
  });

  test("the cached settings keep the choice (a save before the backend answers does not reset it)", () => {
    expect(parseSettings({ language: "en", theme: "dark", exampleDialogue: "keep" })).toEqual({ language: "en", theme: "dark", exampleDialogue: "keep" });
    expect(parseSettings({ language: "en", theme: "dark", keywordWorldInfoAtDepth: true })).toEqual({ language: "en", theme: "dark", keywordWorldInfoAtDepth: true });
    expect(parseSettings({ language: "en", theme: "dark", keywordWorldInfoAtDepth: "yes" })).toEqual({ language: "en", theme: "dark" });
    expect(parseSettings({ language: "en", theme: "dark", exampleDialogue: "sometimes" })).toEqual({ language: "en", theme: "dark" });
  });
});

describe("prompt-view helpers", () => {
  const part = (source: PromptPart["source"], label: string, messageIndex = 0, tokens = 1): PromptPart => ({ source, label, messageIndex, text: "", tokens });

  test("labels in the user's language; a wording it does not know is shown as written", () => {
    expect(partLabel(part("history", "message 41"))).toBe("message 41");
    expect(partLabel(part("primaryContext", "primary context"))).toBe("");
    expect(partLabel(part("worldInfo", "world info #12 Eldoria (the forest) (at depth 4, user)"))).toBe("#12 Eldoria (the forest) · at depth 4, as User");
    expect(partLabel(part("worldInfo", "world info #3 (outlet Lore)"))).toBe("#3 · outlet “Lore”");
    expect(partLabel(part("exampleDialogue", "example chat for world info #5 Bells (before the example dialogue)"))).toBe(
      "example chat for #5 Bells · Before example messages",
    );
    expect(partLabel(part("authorsNote", "Author's Note (after the system prompt)"))).toBe("After the system prompt");
    expect(partLabel(part("characterSystemPrompt", "character system prompt (with the primary context)"))).toBe("includes the primary context");
    expect(partLabel(part("history", "something new"))).toBe("something new");
    setLanguage("ru");
    expect(partLabel(part("history", "message 41"))).toBe("сообщение 41");
    expect(partLabel(part("exampleDialogue", "example chat 2, character"))).toBe("пример чата 2 · персонаж");
    expect(partLabel(part("characterNote", "Character's note (at depth 4, system)"))).toBe("на глубине 4, от роли «Система»");
    expect(partLabel(part("worldInfo", "world info #1 Город (before character)"))).toBe("#1 Город · Перед описанием персонажа");
  });

  test("unknown drop reasons are named from their kind and fields, in the user's language", () => {
    // Reasons from a newer core than this UI knows.
    const reason = { kind: "moonPhase", phase: "waning", phases: ["full", "new"] } as unknown as Parameters<typeof dropReasonText>[0];
    expect(dropReasonText(reason)).toBe("Left out: moon phase (phase: waning, phases: full, new)");
    expect(dropReasonText({ kind: "tooEarly" })).toBe("Left out: too early");
    setLanguage("ru");
    expect(dropReasonText({ kind: "budget", budget: 100 })).toContain("100");
    expect(dropReasonText({ kind: "tooEarly" })).toBe("Не вошла: too early");
  });

  test("parts by message, unplaced parts apart, and tokens by source in prompt order", () => {
    const parts = [part("primaryContext", "", 0, 10), part("worldInfo", "", 0, 5), part("history", "", 1, 7), part("worldInfo", "", NOT_PLACED, 3), part("history", "", 2, 2)];
    const { placed, unplaced } = partsByMessage(parts);
    expect([...placed.keys()]).toEqual([0, 1, 2]);
    expect(unplaced).toHaveLength(1);
    expect(sourceTotals(parts)).toEqual([
      { source: "primaryContext", tokens: 10, parts: 1 },
      { source: "worldInfo", tokens: 5, parts: 1 },
      { source: "history", tokens: 9, parts: 2 },
    ]);
  });

  test("only image data is shortened: data URLs and bare base64 payloads (OpenAI and Anthropic shapes)", () => {
    const payload = "A".repeat(5000);
    const body: JsonValue = {
      model: "m",
      messages: [
        { role: "user", content: [{ type: "image_url", image_url: { url: `data:image/png;base64,${payload}` } }] },
        { role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/jpeg", data: payload } }] },
        { role: "assistant", content: "word ".repeat(100) },
      ],
    };
    const out = shortenImageData(body, (n) => `[${n} hidden]`) as { messages: { content: unknown }[] };
    expect(JSON.stringify(out.messages[0])).toContain(`data:image/png;base64,${"A".repeat(32)}… [4968 hidden]`);
    expect(JSON.stringify(out.messages[1])).toContain(`"data":"${"A".repeat(32)}… [4968 hidden]"`);
    expect(out.messages[2]!.content).toBe("word ".repeat(100));
    expect(JSON.stringify(body)).toContain(payload); // the original is untouched
  });

  test("the note helpers", () => {
    expect(wholeNumber(3.7, 10)).toBe(3);
    expect(wholeNumber(-2, 10)).toBe(0);
    expect(wholeNumber(99, 10)).toBe(10);
    expect(wholeNumber(NaN, 10)).toBeNull();
    const on: AuthorsNote = { text: "x", position: "inChat", depth: 4, role: "system", interval: 1 };
    expect(noteIsActive({ chat: null, characterDefault: on })).toBe(true);
    expect(noteIsActive({ chat: { ...on, interval: 0 }, characterDefault: on })).toBe(false);
    expect(noteIsActive({ chat: { ...on, text: "  " }, characterDefault: null })).toBe(false);
    const card = blankCard("A");
    expect(readNote(card)).toEqual({ text: "", depth: 4, role: "system" });
    writeNote(card, blankCard("A"), { depth: 7 });
    expect(card.extensions).toEqual({ depth_prompt: { prompt: "", depth: 7, role: "system" } });
  });
});
