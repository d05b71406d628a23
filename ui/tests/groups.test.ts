// Group chats: the member bar and its actions, the next-speaker choice and
// Skip my turn, speakers on every message and presence lines in the history,
// auto turns (several replies on one channel), adding a character with Undo,
// the group's settings, regenerate as another member, whose prompt the
// preview shows, and starting a group from the library.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import App from "../src/App.svelte";
import type { GroupSettings } from "../src/lib/api";
import { character, chatCharacter, emitLive, installBackend, MockChats, MockProviders, MockStreams, model, type Call } from "./helpers/backend";

const ANN = character("Ann Archer", { id: "ann" }, { first_mes: "Hello, traveller.", description: "An archer." });
const BO = character("Bo", { id: "bo" }, { first_mes: "Yo.", description: "A drummer." });
const CY = character("Cy", { id: "cy" }, { first_mes: "Greetings.", description: "A scholar." });
const CAST = [ANN, BO, CY];

type World = { calls: Call[]; chats: MockChats; streams: MockStreams; sessionId: string };

function store(): MockChats {
  const details = new Map(CAST.map((d) => [d.summary.id, d]));
  let clock = Date.UTC(2026, 0, 1);
  return new MockChats({ character: (id) => chatCharacter(details.get(id)), now: () => (clock += 1000) });
}

function configured(): MockProviders {
  const providers = new MockProviders();
  providers.add({ name: "OpenRouter", kind: "openRouter", defaultModel: "openai/gpt-4o" }, { key: "keyring", models: [model("openai/gpt-4o", 131_072)] });
  return providers;
}

/** The app on a chat: a group of Ann, Bo and Cy ("Trio"), or a 1:1 chat with Ann ("Solo"). */
async function start(kind: "group" | "solo" = "group", settings: Partial<GroupSettings> = {}): Promise<World> {
  const chats = store();
  const summary =
    kind === "group"
      ? chats.addGroupSession(["ann", "bo", "cy"], { title: "Trio" })
      : chats.addSession("ann", [{ role: "assistant", content: "Hello, traveller." }], { title: "Solo" });
  if (kind === "group") {
    const record = chats.groups.record(summary.id)!;
    record.members = CAST.map((c) => ({ characterId: c.summary.id, presence: "present" }));
    record.lastSpeaker = "cy";
    record.settings = { ...record.settings, ...settings };
  }
  const streams = new MockStreams(chats, { onLiveChanged: emitLive });
  const calls = installBackend({ characters: CAST, chats, streams, providers: configured() });
  render(App);
  await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
  await fireEvent.click(screen.getByTestId("nav-chats"));
  const title = kind === "group" ? "Trio" : "Solo";
  const item = await waitFor(() => {
    const found = document.querySelector<HTMLElement>(`[data-testid="session-item"][data-title="${title}"]`);
    if (!found) throw new Error("no session yet");
    return found;
  });
  await fireEvent.click(within(item).getAllByRole("button")[0]!);
  await screen.findByTestId("conversation");
  await waitFor(() => expect(document.querySelector('[data-testid="message"]')).not.toBeNull());
  if (kind === "group") await waitFor(() => expect(members()).toHaveLength(3));
  return { calls, chats, streams, sessionId: summary.id };
}

function members(): HTMLElement[] {
  return [...document.querySelectorAll<HTMLElement>('[data-testid="group-member"]')];
}

function member(id: string): HTMLElement {
  const found = members().find((m) => m.dataset["characterId"] === id);
  if (!found) throw new Error(`no member ${id}`);
  return found;
}

function replies(): HTMLElement[] {
  return [...document.querySelectorAll<HTMLElement>('[data-testid="message"][data-role="assistant"]')];
}

function lastReply(): HTMLElement {
  const all = replies();
  const found = all[all.length - 1];
  if (!found) throw new Error("no replies");
  return found;
}

function textOf(message: HTMLElement): string {
  return message.querySelector('[data-testid="message-content"]')?.textContent?.trim() ?? "";
}

function calledWith(calls: Call[], cmd: string): Record<string, unknown>[] {
  return calls.filter((c) => c.cmd === cmd).map((c) => c.args as Record<string, unknown>);
}

function last(calls: Call[], cmd: string): Record<string, unknown> {
  const found = calledWith(calls, cmd).pop();
  if (!found) throw new Error(`${cmd} was never called`);
  return found;
}

async function memberAction(id: string, action: string): Promise<void> {
  await fireEvent.click(within(member(id)).getByTestId("member-menu-open"));
  await fireEvent.click(await within(member(id)).findByTestId(action));
}

async function send(text: string): Promise<void> {
  const input = screen.getByTestId("composer-input") as HTMLTextAreaElement;
  await fireEvent.input(input, { target: { value: text } });
  await fireEvent.keyDown(input, { key: "Enter" });
}

describe("the member bar", () => {
  test("shows each member with its presence and who speaks next; every greeting carries its speaker", async () => {
    await start();
    expect(members().map((m) => m.dataset["name"])).toEqual(["Ann Archer", "Bo", "Cy"]);
    expect(members().every((m) => m.dataset["presence"] === "present")).toBe(true);
    // The last greeting was Cy's: the list order comes back to Ann.
    expect(member("ann").dataset["next"]).toBe("true");
    expect(screen.getByTestId("conversation-members").textContent?.trim()).toBe("3 members");
    expect(screen.getByTestId("conversation-members").getAttribute("title")).toBe("Ann Archer, Bo, Cy");
    expect(replies().map((r) => r.dataset["speakerId"])).toEqual(["ann", "bo", "cy"]);
    expect(replies().map((r) => r.getAttribute("aria-label"))).toEqual(["Ann Archer", "Bo", "Cy"]);
    expect(within(screen.getByTestId("next-speaker-bar")).getByRole("combobox").querySelector("option")?.textContent).toBe("By turn order (Ann Archer)");
  });

  test("mute, out of the scene, back, speak now and remove call their commands; changes show in the history", async () => {
    const { calls, sessionId, streams } = await start();
    await memberAction("ann", "member-mute");
    await waitFor(() => expect(member("ann").dataset["presence"]).toBe("muted"));
    expect(last(calls, "set_member_presence")).toEqual({ sessionId, characterId: "ann", presence: "muted" });
    expect(within(member("ann")).getByTestId("member-presence").textContent).toBe("Muted");
    // A muted member is not the next speaker any more.
    await waitFor(() => expect(member("bo").dataset["next"]).toBe("true"));
    const line = await screen.findByTestId("member-event");
    expect(line.dataset["change"]).toBe("muted");
    expect(line.textContent).toContain("Ann Archer was muted");

    await memberAction("bo", "member-absent");
    await waitFor(() => expect(member("bo").dataset["presence"]).toBe("absent"));
    expect(last(calls, "set_member_presence")).toEqual({ sessionId, characterId: "bo", presence: "absent" });
    await memberAction("bo", "member-absent");
    await waitFor(() => expect(member("bo").dataset["presence"]).toBe("present"));
    expect(last(calls, "set_member_presence")).toEqual({ sessionId, characterId: "bo", presence: "present" });
    expect(screen.getAllByTestId("member-event").map((e) => e.dataset["change"])).toEqual(["muted", "absent", "present"]);

    await memberAction("cy", "member-speak");
    await waitFor(() => expect(last(calls, "speak")).toMatchObject({ sessionId, speakerId: "cy" }));
    streams.current.delta("Indeed.");
    streams.current.done();
    await waitFor(() => expect(textOf(lastReply())).toBe("Indeed."));
    expect(lastReply().dataset["speakerId"]).toBe("cy");

    await memberAction("cy", "member-remove");
    const dialog = await screen.findByTestId("confirm-dialog");
    await fireEvent.click(within(dialog).getByTestId("confirm-ok"));
    await waitFor(() => expect(members()).toHaveLength(2));
    expect(last(calls, "remove_group_member")).toEqual({ sessionId, characterId: "cy" });
    // Its messages stay.
    expect(replies().some((r) => r.dataset["speakerId"] === "cy")).toBe(true);
  });

  test("the member menu is reachable by keyboard and Escape closes it", async () => {
    await start();
    const open = within(member("bo")).getByTestId("member-menu-open");
    await fireEvent.click(open);
    const menu = await within(member("bo")).findByTestId("member-menu");
    expect(open.getAttribute("aria-expanded")).toBe("true");
    expect(within(menu).getAllByRole("menuitem").map((b) => b.textContent?.trim())).toEqual([
      "Let Bo speak now",
      "Mute Bo",
      "Send Bo out of the scene",
      "Remove Bo from the chat",
    ]);
    await fireEvent.keyDown(menu, { key: "Escape" });
    expect(within(member("bo")).queryByTestId("member-menu")).toBeNull();
  });
});

describe("the chat list", () => {
  test("a group shows its members' avatars with their presence, and who wrote the last line; a 1:1 chat one avatar", async () => {
    const w = await start("group");
    const item = document.querySelector<HTMLElement>('[data-testid="session-item"][data-title="Trio"]')!;
    const stack = within(item).getByTestId("session-members");
    expect(stack.dataset["count"]).toBe("3");
    expect(stack.getAttribute("aria-label")).toBe("Group chat: Ann Archer, Bo, Cy");
    expect(within(stack).getAllByTestId("chat-avatar")).toHaveLength(3);
    // The last greeting is Cy's: the preview says so, not the first member's name.
    expect(within(item).getByTestId("session-preview").textContent).toMatch(/^\s*Cy:\s*Greetings\./);

    // Sent out of the scene: the list follows at once; its avatar fades and the label says so.
    await memberAction("cy", "member-absent");
    await waitFor(() => expect(w.chats.groups.record(w.sessionId)!.members[2]!.presence).toBe("absent"));
    const listed = (): HTMLElement => document.querySelector<HTMLElement>('[data-testid="session-item"][data-title="Trio"] [data-testid="session-members"]')!;
    await waitFor(() => expect(listed().getAttribute("aria-label")).toBe("Group chat: Ann Archer, Bo, Cy (out of the scene)"));
    expect(listed().querySelectorAll(".away")).toHaveLength(1);
  });

  test("a 1:1 chat keeps one avatar and names who wrote its last line", async () => {
    await start("solo");
    const item = document.querySelector<HTMLElement>('[data-testid="session-item"][data-title="Solo"]')!;
    expect(within(item).queryByTestId("session-members")).toBeNull();
    expect(within(item).getAllByTestId("chat-avatar")).toHaveLength(1);
    expect(within(item).getByTestId("session-preview").textContent).toMatch(/^\s*Ann Archer:\s*Hello, traveller\./);
  });
});

describe("who answers", () => {
  test("the next-speaker choice goes with the message once; then the turn order again", async () => {
    const { calls, streams } = await start();
    const choice = screen.getByTestId("next-speaker") as HTMLSelectElement;
    await fireEvent.change(choice, { target: { value: "bo" } });
    await send("Bo, play something.");
    await waitFor(() => expect(last(calls, "send_message")).toMatchObject({ text: "Bo, play something.", speakerId: "bo" }));
    streams.current.delta("Drums.");
    streams.current.done();
    await waitFor(() => expect(textOf(lastReply())).toBe("Drums."));
    expect(lastReply().dataset["speakerId"]).toBe("bo");
    expect((screen.getByTestId("next-speaker") as HTMLSelectElement).value).toBe("");

    await waitFor(() => expect(screen.getByTestId("composer-send")).toBeTruthy());
    await send("And now?");
    await waitFor(() => expect(last(calls, "send_message")).toMatchObject({ text: "And now?", speakerId: null }));
    streams.current.done();
  });

  test("Skip my turn lets the turn order's member speak with no message", async () => {
    const { calls, streams, sessionId } = await start();
    const before = replies().length;
    await fireEvent.click(screen.getByTestId("skip-turn"));
    await waitFor(() => expect(last(calls, "speak")).toMatchObject({ sessionId, speakerId: null }));
    expect(calledWith(calls, "send_message")).toHaveLength(0);
    streams.current.delta("Let us go.");
    streams.current.done();
    await waitFor(() => expect(replies()).toHaveLength(before + 1));
    expect(lastReply().dataset["speakerId"]).toBe("ann");
    expect(document.querySelectorAll('[data-testid="message"][data-role="user"]')).toHaveLength(0);
  });

  test("with auto turns, several started events on one channel become several replies, each as it streams", async () => {
    const { calls, streams } = await start("group", { autoTurns: 2 });
    const before = replies().length;
    await send("Hello all.");
    await waitFor(() => expect(replies()).toHaveLength(before + 1));
    streams.current.delta("Hi from Ann.");
    await waitFor(() => expect(textOf(lastReply())).toBe("Hi from Ann."));
    streams.current.done();

    // The next member's turn arrives on the same channel.
    await waitFor(() => expect(replies()).toHaveLength(before + 2));
    expect(lastReply().dataset["speakerId"]).toBe("bo");
    expect(screen.getByTestId("stream-status").textContent).toContain("Bo");
    streams.current.delta("Bo here.");
    await waitFor(() => expect(textOf(lastReply())).toBe("Bo here."));
    expect(screen.getByTestId("composer-stop")).toBeTruthy();
    streams.current.done();

    await waitFor(() => expect(replies()).toHaveLength(before + 3));
    streams.current.delta("Cy agrees.");
    streams.current.done();
    await waitFor(() => expect(textOf(lastReply())).toBe("Cy agrees."));
    await waitFor(() => expect(screen.getByTestId("composer-send")).toBeTruthy());
    expect(replies().slice(before).map((r) => [r.dataset["speakerId"], textOf(r)])).toEqual([
      ["ann", "Hi from Ann."],
      ["bo", "Bo here."],
      ["cy", "Cy agrees."],
    ]);
    expect(calledWith(calls, "send_message")).toHaveLength(1);
    expect(streams.live.size).toBe(0);
  });

  test("Stop during an auto turn ends the chain", async () => {
    const { calls, streams } = await start("group", { autoTurns: 3 });
    const before = replies().length;
    await send("Talk among yourselves.");
    await waitFor(() => expect(replies()).toHaveLength(before + 1));
    streams.current.delta("First.");
    streams.current.done();
    await waitFor(() => expect(replies()).toHaveLength(before + 2));
    streams.current.delta("Second, cut");
    await fireEvent.keyDown(screen.getByTestId("composer-input"), { key: "Escape" });
    await waitFor(() => expect(calledWith(calls, "stop_stream")).toHaveLength(1));
    await waitFor(() => expect(screen.getByTestId("composer-send")).toBeTruthy());
    expect(streams.live.size).toBe(0);
    expect(replies()).toHaveLength(before + 2);
    expect(lastReply().querySelector('[data-testid="message-status"]')?.getAttribute("data-status")).toBe("cancelled");
  });

  test("the last reply can be regenerated as another member", async () => {
    const { calls, streams } = await start();
    const final = lastReply();
    await fireEvent.click(within(final).getByTestId("message-regenerate-as"));
    const menu = await within(final).findByTestId("regenerate-as-menu");
    const bo = within(menu).getAllByTestId("regenerate-as-member").find((b) => b.dataset["characterId"] === "bo")!;
    expect(bo.textContent?.trim()).toBe("Regenerate as Bo");
    await fireEvent.click(bo);
    await waitFor(() => expect(last(calls, "regenerate_reply")).toMatchObject({ speakerId: "bo" }));
    streams.current.delta("Bo's take.");
    streams.current.done();
    await waitFor(() => expect(textOf(lastReply())).toBe("Bo's take."));
    expect(lastReply().dataset["speakerId"]).toBe("bo");
    expect(lastReply().dataset["swipeCount"]).toBe("2");
  });
});

describe("the header", () => {
  test("Add a character turns a 1:1 chat into a group; Undo makes it 1:1 again", async () => {
    const { calls, sessionId } = await start("solo");
    expect(screen.queryByTestId("member-bar")).toBeNull();
    expect(screen.queryByTestId("group-settings-open")).toBeNull();
    await fireEvent.click(screen.getByTestId("group-add"));
    const dialog = await screen.findByTestId("group-add-dialog");
    await waitFor(() => expect(within(dialog).getAllByTestId("group-add-pick")).toHaveLength(2));
    // Ann is in the chat already: only the others are offered.
    expect(within(dialog).getAllByTestId("group-add-pick").map((b) => b.dataset["characterId"])).toEqual(["bo", "cy"]);
    await fireEvent.input(within(dialog).getByTestId("group-add-search"), { target: { value: "cy" } });
    await waitFor(() => expect(within(dialog).getAllByTestId("group-add-pick")).toHaveLength(1));
    await fireEvent.click(within(dialog).getByTestId("group-add-pick"));
    await waitFor(() => expect(members()).toHaveLength(2));
    expect(last(calls, "add_group_member")).toEqual({ sessionId, characterId: "cy" });
    expect(screen.getByTestId("group-added").textContent).toContain("Cy joined the chat.");
    expect(screen.getByTestId("group-settings-open")).toBeTruthy();

    await fireEvent.click(screen.getByTestId("group-undo"));
    await waitFor(() => expect(screen.queryByTestId("member-bar")).toBeNull());
    expect(last(calls, "remove_group_member")).toEqual({ sessionId, characterId: "cy" });
    expect(screen.queryByTestId("next-speaker-bar")).toBeNull();
  });

  test("the group settings save turn order, auto turns and cards", async () => {
    const { calls, sessionId } = await start();
    await fireEvent.click(screen.getByTestId("group-settings-open"));
    const panel = await screen.findByTestId("group-settings");
    await fireEvent.click(within(panel).getByTestId("group-turn-order-random"));
    await waitFor(() => expect(last(calls, "set_group_settings")).toEqual({ sessionId, settings: { turnOrder: "random", autoTurns: 0, cardMode: "join" } }));
    const auto = within(panel).getByTestId("group-auto-turns") as HTMLInputElement;
    await fireEvent.input(auto, { target: { value: "250" } });
    await fireEvent.blur(auto);
    await waitFor(() => expect(last(calls, "set_group_settings")).toMatchObject({ settings: { autoTurns: 100 } }));
    expect(auto.value).toBe("100");
    await fireEvent.click(within(panel).getByTestId("group-card-mode-speaker"));
    await waitFor(() => expect(last(calls, "set_group_settings")).toEqual({ sessionId, settings: { turnOrder: "random", autoTurns: 100, cardMode: "speaker" } }));
    await fireEvent.keyDown(panel, { key: "Escape" });
    await waitFor(() => expect(screen.queryByTestId("group-settings")).toBeNull());
  });

  test("the prompt preview says whose prompt it is and previews another member's on request", async () => {
    const { calls } = await start();
    await fireEvent.click(screen.getByTestId("prompt-preview-open"));
    const speaker = await screen.findByTestId("prompt-speaker");
    await waitFor(() => expect(speaker.textContent?.trim()).toBe("Prompt for Ann Archer"));
    expect(last(calls, "preview_prompt")).toMatchObject({ speakerId: null });
    await fireEvent.change(screen.getByTestId("prompt-speaker-pick"), { target: { value: "cy" } });
    await waitFor(() => expect(last(calls, "preview_prompt")).toMatchObject({ speakerId: "cy" }));
    await waitFor(() => expect(screen.getByTestId("prompt-speaker").textContent?.trim()).toBe("Prompt for Cy"));
  });
});

describe("the library", () => {
  test("several characters picked in select mode start a group chat, opened", async () => {
    const chats = store();
    const calls = installBackend({ characters: CAST, chats, providers: configured() });
    render(App);
    await screen.findByTestId("library-grid");
    await fireEvent.click(screen.getByTestId("library-select"));
    const start = screen.getByTestId("library-start-group") as HTMLButtonElement;
    const card = (id: string): HTMLElement => document.querySelector<HTMLElement>(`[data-testid="character-card"][data-character-id="${id}"]`)!;
    await fireEvent.click(card("bo"));
    expect(start.disabled).toBe(true);
    expect(card("bo").getAttribute("aria-pressed")).toBe("true");
    await fireEvent.click(card("ann"));
    expect(start.disabled).toBe(false);
    expect(screen.getByTestId("library-selected-count").textContent).toContain("2 selected");
    // Clicking in select mode picks; it never opens the character.
    expect(screen.queryByTestId("character-detail")).toBeNull();
    await fireEvent.click(start);
    await waitFor(() => expect(last(calls, "create_group_chat")).toEqual({ characterIds: ["bo", "ann"] }));
    await screen.findByTestId("conversation");
    await waitFor(() => expect(members().map((m) => m.dataset["name"])).toEqual(["Bo", "Ann Archer"]));
    await waitFor(() => expect(replies().map((r) => r.dataset["speakerId"])).toEqual(["bo", "ann"]));
  });

  test("Escape leaves select mode; fewer than two picked cannot start a group", async () => {
    const calls = installBackend({ characters: CAST, chats: store(), providers: configured() });
    render(App);
    await screen.findByTestId("library-grid");
    await fireEvent.click(screen.getByTestId("library-select"));
    expect(screen.getByTestId("library-select").getAttribute("aria-pressed")).toBe("true");
    await fireEvent.click(document.querySelector<HTMLElement>('[data-testid="character-card"][data-character-id="cy"]')!);
    expect(screen.getByTestId("library-selected-count").textContent).toContain("Pick at least two characters");
    expect((screen.getByTestId("library-start-group") as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.keyDown(window, { key: "Escape" });
    await waitFor(() => expect(screen.queryByTestId("library-selection")).toBeNull());
    expect(document.querySelector('[data-testid="character-card"][data-selected]')).toBeNull();
    expect(calledWith(calls, "create_group_chat")).toHaveLength(0);
  });
});

describe("importing a SillyTavern group chat", () => {
  test("with a group open, the import goes to a new chat of its members by default", async () => {
    const { calls, sessionId } = await start("group");
    const jsonl = [
      JSON.stringify({ user_name: "You", character_name: "unused" }),
      JSON.stringify({ name: "Bo", is_user: false, mes: "Toll first." }),
    ].join("\n");
    const file = new File([jsonl], "trio.jsonl", { type: "application/jsonl" });
    await fireEvent.change(screen.getByTestId("chat-import-input"), { target: { files: [file] } });
    const picker = (await screen.findByTestId("chat-import-character")) as HTMLSelectElement;
    expect(picker.value).toBe(`group:${sessionId}`);
    expect(picker.selectedOptions[0]!.textContent).toContain("Ann Archer, Bo, Cy");
    await fireEvent.click(screen.getByTestId("chat-import-confirm"));
    await waitFor(() => expect(calls.some((c) => c.cmd === "import_chat")).toBe(true));
    const call = calls.find((c) => c.cmd === "import_chat")!;
    expect(call.headers?.["x-group-session-id"]).toBe(sessionId);
    expect(call.headers?.["x-character-id"]).toBeUndefined();
  });
});
