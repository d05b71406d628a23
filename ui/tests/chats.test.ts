import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import App from "../src/App.svelte";
import type { CharacterPreferences } from "../src/lib/api";
import type { DragDropPayload, DragDropSource } from "../src/lib/drop";
import { sampleLine } from "../src/lib/dev/mock-chats";
import { character, chatCharacter, installBackend, MockChats, type Call } from "./helpers/backend";

const ANN = character(
  "Ann Archer",
  { id: "ann" },
  { first_mes: "Hello, traveller.", alternate_greetings: ["Oh. You again.", "*waves*"], description: "An archer." },
);
const BO = character("Bo", { id: "bo" }, { first_mes: "Yo." });

type Started = { calls: Call[]; chats: MockChats };

function store(): MockChats {
  const details = new Map([ANN, BO].map((d) => [d.summary.id, d]));
  let clock = Date.UTC(2026, 0, 1);
  return new MockChats({ character: (id) => chatCharacter(details.get(id)), now: () => (clock += 1000) });
}

async function start(chats: MockChats = store()): Promise<Started> {
  const calls = installBackend({ characters: [ANN, BO], chats });
  render(App);
  await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
  await screen.findByTestId("library-grid");
  await fireEvent.click(screen.getByTestId("nav-chats"));
  return { calls, chats };
}

function item(title: string): HTMLElement {
  const found = document.querySelector<HTMLElement>(`[data-testid="session-item"][data-title="${title}"]`);
  if (!found) throw new Error(`no session ${title}`);
  return found;
}

async function openSession(title: string): Promise<HTMLElement> {
  await waitFor(() => item(title));
  await fireEvent.click(within(item(title)).getAllByRole("button")[0]!);
  const view = await screen.findByTestId("conversation");
  await waitFor(() => expect(document.querySelector('[data-testid="message"]')).not.toBeNull());
  return view;
}

function messages(): HTMLElement[] {
  return [...document.querySelectorAll<HTMLElement>('[data-testid="message"]')];
}

function message(text: string): HTMLElement {
  const found = messages().find((m) => within(m).getByTestId("message-content").textContent?.includes(text));
  if (!found) throw new Error(`no message with ${text}`);
  return found;
}

function last<T>(calls: Call[], cmd: string): T {
  const found = calls.filter((c) => c.cmd === cmd).pop();
  if (!found) throw new Error(`${cmd} was never called`);
  return found.args as T;
}

async function confirm(): Promise<HTMLElement> {
  const dialog = await screen.findByTestId("confirm-dialog");
  return dialog;
}

describe("the chat list", () => {
  test("lists recent chats newest first and filters them by title or character", async () => {
    const chats = store();
    chats.addSession("ann", [{ role: "assistant", content: "Arrows ready." }], { title: "Hunting trip" });
    chats.addSession("bo", [{ role: "assistant", content: "Yo." }], { title: "Bo's garage" });
    chats.addSession("ann", [{ role: "assistant", content: "Old one" }], { title: "Archived talk", archived: true });
    const { calls } = await start(chats);
    await waitFor(() => expect(screen.getAllByTestId("session-item")).toHaveLength(2));
    expect(screen.getAllByTestId("session-item").map((el) => el.dataset["title"])).toEqual(["Bo's garage", "Hunting trip"]);
    expect(item("Hunting trip").textContent).toContain("Arrows ready.");

    await fireEvent.input(screen.getByTestId("session-search"), { target: { value: "ann" } });
    await waitFor(() => expect(screen.getAllByTestId("session-item").map((el) => el.dataset["title"])).toEqual(["Hunting trip"]));
    expect(last<{ query: { search: string } }>(calls, "list_sessions").query.search).toBe("ann");

    await fireEvent.click(screen.getByTestId("session-archived-toggle"));
    await waitFor(() => expect(screen.getAllByTestId("session-item")).toHaveLength(2));
    expect(item("Archived talk").textContent).toContain("Archived");
  });

  test("rename, archive, export and delete from a chat's menu", async () => {
    const chats = store();
    chats.addSession("ann", [{ role: "assistant", content: "Hi" }], { title: "Old title" });
    const { calls } = await start(chats);
    await waitFor(() => item("Old title"));

    await fireEvent.click(within(item("Old title")).getByTestId("session-menu"));
    await fireEvent.click(screen.getByTestId("session-rename"));
    const field = screen.getByTestId("session-title-input") as HTMLInputElement;
    await fireEvent.input(field, { target: { value: "New title" } });
    await fireEvent.keyDown(field, { key: "Enter" });
    await waitFor(() => item("New title"));
    expect(last<{ title: string }>(calls, "rename_session").title).toBe("New title");

    await fireEvent.click(within(item("New title")).getByTestId("session-menu"));
    await fireEvent.click(screen.getByTestId("session-export-md"));
    const result = await screen.findByTestId("session-export-result");
    expect(result.textContent).toContain("Saved to");
    expect(result.textContent).toContain("New title.md");
    expect(last<{ format: string }>(calls, "export_session").format).toBe("markdown");

    await fireEvent.click(within(item("New title")).getByTestId("session-menu"));
    await fireEvent.click(screen.getByTestId("session-archive"));
    await waitFor(() => expect(document.querySelector('[data-title="New title"]')).toBeNull());
    expect(last<{ archived: boolean }>(calls, "archive_session").archived).toBe(true);

    await fireEvent.click(screen.getByTestId("session-archived-toggle"));
    await waitFor(() => item("New title"));
    await fireEvent.click(within(item("New title")).getByTestId("session-menu"));
    await fireEvent.click(screen.getByTestId("session-delete"));
    const dialog = await confirm();
    expect(dialog.textContent).toContain("Delete “New title”?");
    await fireEvent.click(within(dialog).getByTestId("confirm-ok"));
    await waitFor(() => expect(calls.some((c) => c.cmd === "delete_session")).toBe(true));
    await waitFor(() => expect(document.querySelector('[data-title="New title"]')).toBeNull());
  });

  test("a chat opens in a window of its own, and such a window starts on its chat", async () => {
    const chats = store();
    const session = chats.addSession("ann", [{ role: "assistant", content: "Hello from my own window." }], {
      title: "Windowed",
    });
    const { calls } = await start(chats);
    await waitFor(() => item("Windowed"));
    await fireEvent.click(within(item("Windowed")).getByTestId("session-menu"));
    await fireEvent.click(screen.getByTestId("session-open-window"));
    await waitFor(() => expect(calls.some((c) => c.cmd === "open_chat_window")).toBe(true));
    expect(last<{ sessionId: string }>(calls, "open_chat_window").sessionId).toBe(session.id);
    expect(screen.queryByTestId("session-actions")).toBeNull();
  });

  test("a window opened for a chat (?session=ID) starts on that chat", async () => {
    const chats = store();
    const session = chats.addSession("ann", [{ role: "assistant", content: "Hello from my own window." }], {
      title: "Windowed",
    });
    installBackend({ characters: [ANN, BO], chats });
    window.history.replaceState(null, "", `/?session=${session.id}`);
    try {
      render(App);
      await screen.findByTestId("conversation");
      await waitFor(() => expect(message("Hello from my own window.")).toBeTruthy());
      // Just the chat: no navigation, no chat list.
      expect(screen.getByTestId("screen-chats").dataset["focused"]).toBe("true");
      expect(screen.queryByTestId("session-list")).toBeNull();
      expect(screen.queryByTestId("nav-library")).toBeNull();
    } finally {
      window.history.replaceState(null, "", "/");
    }
  });

  test("a SillyTavern chat imports through the file input with its name and character in headers", async () => {
    const chats = store();
    chats.addSession("bo", [{ role: "assistant", content: "Yo." }], { title: "Garage" });
    const { calls } = await start(chats);
    await waitFor(() => item("Garage"));
    const jsonl = [
      JSON.stringify({ user_name: "You", character_name: "Ann Archer" }),
      JSON.stringify({ name: "Ann Archer", is_user: false, mes: "Welcome back." }),
      JSON.stringify({ name: "You", is_user: true, mes: "Thanks!" }),
    ].join("\n");
    const file = new File([jsonl], "Ann chat é.jsonl", { type: "application/jsonl" });
    await fireEvent.change(screen.getByTestId("chat-import-input"), { target: { files: [file] } });
    const picker = (await screen.findByTestId("chat-import-character")) as HTMLSelectElement;
    await fireEvent.change(picker, { target: { value: "ann" } });
    await fireEvent.click(screen.getByTestId("chat-import-confirm"));
    await waitFor(() => expect(calls.some((c) => c.cmd === "import_chat")).toBe(true));
    const call = calls.find((c) => c.cmd === "import_chat")!;
    expect(call.headers?.["x-file-name"]).toBe(encodeURIComponent("Ann chat é.jsonl"));
    expect(call.headers?.["x-character-id"]).toBe("ann");
    await screen.findByTestId("conversation");
    await waitFor(() => expect(message("Welcome back.").dataset["role"]).toBe("assistant"));
    expect(item("Ann chat é").dataset["sessionId"]).toBeTruthy();
  });

  test("with no chat yet, the empty screen imports a SillyTavern chat too", async () => {
    const { calls } = await start(store());
    await screen.findByTestId("chats-open-library");
    const jsonl = [
      JSON.stringify({ user_name: "You", character_name: "Ann Archer" }),
      JSON.stringify({ name: "Ann Archer", is_user: false, mes: "First time here?" }),
    ].join("\n");
    const file = new File([jsonl], "first.jsonl", { type: "application/jsonl" });
    await fireEvent.change(screen.getByTestId("chat-import-input"), { target: { files: [file] } });
    const picker = (await screen.findByTestId("chat-import-character")) as HTMLSelectElement;
    await fireEvent.change(picker, { target: { value: "ann" } });
    await fireEvent.click(screen.getByTestId("chat-import-confirm"));
    await waitFor(() => expect(calls.some((c) => c.cmd === "import_chat")).toBe(true));
    await screen.findByTestId("conversation");
    await waitFor(() => expect(message("First time here?").dataset["role"]).toBe("assistant"));
  });

  test("message search highlights matches and jumps deep into a long chat", async () => {
    const chats = store();
    chats.addSyntheticSession("ann", 5000, (i) => (i === 120 ? { role: "assistant", content: "The <b>kraken</b> wakes." } : sampleLine(i)), {
      title: "Saga",
    });
    chats.addSession("bo", [{ role: "assistant", content: "Nothing here." }], { title: "Garage" });
    const { calls } = await start(chats);
    await waitFor(() => item("Saga"));
    await fireEvent.input(screen.getByTestId("message-search"), { target: { value: "kraken" } });
    const hit = await screen.findByTestId("search-result");
    const mark = hit.querySelector("mark");
    expect(mark?.textContent).toBe("kraken");
    // The snippet is text, never HTML: the tags in the message stay visible as text.
    expect(hit.querySelector("b")).toBeNull();
    expect(hit.textContent).toContain("<b>");
    expect(last<{ sessionId: string | null }>(calls, "search_messages").sessionId).toBeNull();

    await fireEvent.click(hit);
    const id = hit.dataset["messageId"]!;
    await waitFor(() => expect(document.querySelector(`[data-testid="message"][data-message-id="${id}"]`)).not.toBeNull(), {
      timeout: 3000,
    });
    const target = document.querySelector<HTMLElement>(`[data-testid="message"][data-message-id="${id}"]`)!;
    expect(target.dataset["highlighted"]).toBe("true");
    expect(screen.getByTestId("conversation").dataset["sessionId"]).toBe(hit.dataset["sessionId"]);
    // Older pages were read until the message was there.
    expect(calls.filter((c) => c.cmd === "get_messages").length).toBeGreaterThan(1);
  });
});

describe("a conversation", () => {
  test("a 100,000-message chat opens on its newest page and keeps only a window in the DOM", async () => {
    const chats = store();
    chats.addSyntheticSession("ann", 100_000, sampleLine, { title: "The long haul" });
    const { calls } = await start(chats);
    await openSession("The long haul");
    const first = calls.find((c) => c.cmd === "get_messages")!.args as { cursor: string | null; limit: number };
    expect(first).toMatchObject({ cursor: null, limit: 50 });
    const list = screen.getByTestId("message-list");
    expect(list.dataset["count"]).toBe("50");
    expect(messages().length).toBeLessThan(30);
    // The newest message is on screen.
    expect(messages()[messages().length - 1]!.textContent).toContain("(#100000)");
    expect(screen.getByTestId("conversation-count").textContent).toContain("100,000 messages");

    list.scrollTop = 0;
    await fireEvent.scroll(list);
    await waitFor(() => expect(list.dataset["count"]).toBe("100"));
    const older = calls.filter((c) => c.cmd === "get_messages")[1]!.args as { cursor: string | null };
    expect(older.cursor).toBe("99950");
    expect(messages().length).toBeLessThan(30);
    // The view stayed on what was being read: not on the newly loaded page's top.
    expect(list.scrollTop).toBeGreaterThan(1000);
    expect(messages().some((m) => m.textContent?.includes("(#99951)"))).toBe(true);
  });

  test("Enter sends, Shift+Enter and IME composition do not; a narrator note is a system message", async () => {
    const chats = store();
    chats.addSession("ann", [{ role: "assistant", content: "Hello, traveller." }], { title: "Talk" });
    const { calls } = await start(chats);
    await openSession("Talk");
    const input = screen.getByTestId("composer-input") as HTMLTextAreaElement;
    await fireEvent.input(input, { target: { value: "Hi there" } });
    await fireEvent.keyDown(input, { key: "Enter", shiftKey: true });
    await fireEvent.keyDown(input, { key: "Enter", isComposing: true });
    expect(calls.some((c) => c.cmd === "add_message")).toBe(false);

    await fireEvent.keyDown(input, { key: "Enter" });
    await waitFor(() => expect(message("Hi there").dataset["role"]).toBe("user"));
    expect(last(calls, "add_message")).toMatchObject({ role: "user", content: "Hi there", imageIds: [] });
    expect(input.value).toBe("");

    await fireEvent.click(screen.getByTestId("composer-role"));
    await fireEvent.input(input, { target: { value: "Thunder rolls." } });
    await fireEvent.click(screen.getByTestId("composer-send"));
    await waitFor(() => expect(message("Thunder rolls.").dataset["role"]).toBe("system"));
    expect(last(calls, "add_message")).toMatchObject({ role: "system", content: "Thunder rolls." });
  });

  test("images attach before sending and travel with the message", async () => {
    const chats = store();
    chats.addSession("ann", [{ role: "assistant", content: "Show me." }], { title: "Pics" });
    const { calls } = await start(chats);
    await openSession("Pics");
    const image = new File([new Uint8Array([137, 80, 78, 71])], "map.png", { type: "image/png" });
    await fireEvent.change(screen.getByTestId("composer-attach-input"), { target: { files: [image] } });
    await screen.findByTestId("composer-attachment");
    const attach = calls.find((c) => c.cmd === "attach_image")!;
    expect(attach.headers?.["x-file-name"]).toBe("map.png");
    await fireEvent.click(screen.getByTestId("composer-send"));
    await waitFor(() => expect(screen.getAllByTestId("message-image")).toHaveLength(1));
    const sent = last<{ imageIds: string[] }>(calls, "add_message");
    expect(sent.imageIds).toEqual([screen.getAllByTestId("message-image")[0]!.getAttribute("src")!.split("/").pop()]);
    expect(screen.queryByTestId("composer-attachment")).toBeNull();
  });

  test("Markdown is rendered and sanitised: no scripts, handlers, remote images or live links", async () => {
    const chats = store();
    chats.addSession("ann", [
      {
        role: "assistant",
        content: [
          "Some **bold** and *quiet* words.",
          "<script>window.__pwned = true</script>",
          '<img src="x" onerror="window.__pwned = true">',
          "![tracker](https://evil.example/pixel.png)",
          "[click me](javascript:alert(1)) and [site](https://example.com)",
          '<a href="https://evil.example" onclick="steal()">raw link</a>',
          '<iframe src="https://evil.example"></iframe><style>body{display:none}</style>',
          '<p style="background:url(https://evil.example/x.png)">styled</p>',
          "![ok](data:image/png;base64,iVBORw0KGgo=)",
        ].join("\n\n"),
      },
    ], { title: "Evil" });
    await start(chats);
    await openSession("Evil");
    const content = within(message("bold")).getByTestId("message-content");
    expect(content.querySelector("strong")?.textContent).toBe("bold");
    expect(content.querySelector("em")?.textContent).toBe("quiet");
    expect(content.querySelector("script")).toBeNull();
    expect(content.querySelector("iframe")).toBeNull();
    expect(content.querySelector("style")).toBeNull();
    expect(content.querySelector("[onerror]")).toBeNull();
    expect(content.querySelector("[onclick]")).toBeNull();
    expect(content.querySelector("[style]")).toBeNull();
    expect(content.querySelectorAll("a[href]")).toHaveLength(0);
    expect(content.textContent).toContain("click me");
    expect(content.textContent).toContain("raw link");
    const images = [...content.querySelectorAll("img")];
    expect(images.every((img) => (img.getAttribute("src") ?? "").startsWith("data:image/"))).toBe(true);
    expect(images).toHaveLength(1);
    expect(content.querySelectorAll(".md-blocked-image").length).toBe(2);
    expect((window as { __pwned?: boolean }).__pwned).toBeUndefined();
  });

  test("edit keeps earlier versions, which can be restored", async () => {
    const chats = store();
    chats.addSession("ann", [{ role: "assistant", content: "First words." }], { title: "Edits" });
    const { calls } = await start(chats);
    await openSession("Edits");
    const bubble = message("First words.");
    await fireEvent.click(within(bubble).getByTestId("message-edit"));
    const field = screen.getByTestId("message-edit-input") as HTMLTextAreaElement;
    expect(field.value).toBe("First words.");
    await fireEvent.input(field, { target: { value: "Second words." } });
    await fireEvent.click(screen.getByTestId("message-edit-save"));
    await waitFor(() => message("Second words."));
    expect(last(calls, "edit_message")).toMatchObject({ content: "Second words." });

    await fireEvent.click(within(message("Second words.")).getByTestId("message-versions"));
    const version = await screen.findByTestId("message-version");
    expect(version.textContent).toContain("First words.");
    await fireEvent.click(within(version).getByTestId("message-version-restore"));
    await waitFor(() => message("First words."));
    expect(last(calls, "edit_message")).toMatchObject({ content: "First words." });
  });

  test("delete asks, counting the messages after it", async () => {
    const chats = store();
    chats.addSession("ann", [
      { role: "assistant", content: "One" },
      { role: "user", content: "Two" },
      { role: "assistant", content: "Three" },
      { role: "user", content: "Four" },
    ], { title: "Count" });
    const { calls } = await start(chats);
    await openSession("Count");
    await fireEvent.click(within(message("Two")).getByTestId("message-delete"));
    const dialog = await confirm();
    expect(dialog.textContent).toContain("and the 2 messages after it");
    await fireEvent.click(within(dialog).getByTestId("confirm-cancel"));
    expect(calls.some((c) => c.cmd === "delete_message")).toBe(false);

    await fireEvent.click(within(message("Two")).getByTestId("message-delete"));
    await fireEvent.click(within(await confirm()).getByTestId("confirm-ok"));
    await waitFor(() => expect(messages()).toHaveLength(1));
    expect(messages()[0]!.textContent).toContain("One");
  });

  test("swipes move between the greeting's alternatives", async () => {
    const { calls } = await start();
    await screen.findByText("No chats yet");
    await fireEvent.click(screen.getByTestId("nav-library"));
    await fireEvent.click(await screen.findByText("Ann Archer"));
    await fireEvent.click(await screen.findByTestId("character-chat"));
    await screen.findByTestId("conversation");
    const greeting = await waitFor(() => {
      const first = messages()[0];
      if (!first) throw new Error("no message yet");
      return first;
    });
    expect(greeting.dataset["swipeIndex"]).toBe("0");
    expect(greeting.dataset["swipeCount"]).toBe("3");
    expect(within(greeting).getByTestId("message-swipe-position").textContent).toBe("1 / 3");
    expect((within(greeting).getByTestId("message-swipe-prev") as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.click(within(greeting).getByTestId("message-swipe-next"));
    await waitFor(() => expect(messages()[0]!.dataset["swipeIndex"]).toBe("1"));
    expect(messages()[0]!.textContent).toContain("Oh. You again.");
    expect(last(calls, "select_swipe")).toMatchObject({ index: 1 });
    expect(calls.some((c) => c.cmd === "open_or_create_session")).toBe(true);
  });

  test("branch starts a new chat with the path up to that message", async () => {
    const chats = store();
    chats.addSession("ann", [
      { role: "assistant", content: "Alpha" },
      { role: "user", content: "Beta" },
      { role: "assistant", content: "Gamma" },
    ], { title: "Tree" });
    const { calls } = await start(chats);
    await openSession("Tree");
    await fireEvent.click(within(message("Beta")).getByTestId("message-branch"));
    await waitFor(() => expect(screen.getByTestId("conversation-title").textContent).toBe("Tree (branch)"));
    await waitFor(() => expect(messages().map((m) => within(m).getByTestId("message-content").textContent?.trim())).toEqual(["Alpha", "Beta"]));
    expect(calls.some((c) => c.cmd === "branch_session")).toBe(true);
    await waitFor(() => item("Tree (branch)"));
  });
});

describe("personas, preferences and the prompt", () => {
  test("the persona picker switches this chat's persona; the manager creates, edits and deletes", async () => {
    const chats = store();
    chats.handle("create_persona", { name: "Alex", description: "A cartographer." });
    chats.addSession("ann", [{ role: "assistant", content: "Hi" }], { title: "Who" });
    const { calls } = await start(chats);
    await openSession("Who");
    const picker = (await screen.findByTestId("persona-picker")) as HTMLSelectElement;
    await waitFor(() => expect(picker.options[0]!.textContent).toBe("Default (Alex)"));

    await fireEvent.click(screen.getByTestId("persona-manage"));
    const manager = await screen.findByTestId("persona-manager");
    expect(within(manager).getAllByTestId("persona-item")).toHaveLength(1);
    await fireEvent.click(within(manager).getByTestId("persona-new"));
    await fireEvent.input(within(manager).getByTestId("persona-name"), { target: { value: "Reyes" } });
    await fireEvent.input(within(manager).getByTestId("persona-description"), { target: { value: "A captain." } });
    await fireEvent.click(within(manager).getByTestId("persona-save"));
    await waitFor(() => expect(within(manager).getAllByTestId("persona-item")).toHaveLength(2));
    expect(last(calls, "create_persona")).toEqual({ name: "Reyes", description: "A captain." });
    const reyes = within(manager).getAllByTestId("persona-item").find((el) => el.textContent?.includes("Reyes"))!;
    const reyesId = reyes.dataset["personaId"]!;

    await fireEvent.click(within(manager).getByTestId("persona-set-default"));
    await waitFor(() => expect(reyes.dataset["default"]).toBe("true"));
    expect(last(calls, "set_default_persona")).toEqual({ id: reyesId });

    const avatar = new File([new Uint8Array([1, 2, 3])], "me.png", { type: "image/png" });
    await fireEvent.change(within(manager).getByTestId("persona-avatar-input"), { target: { files: [avatar] } });
    await waitFor(() => expect(calls.some((c) => c.cmd === "set_persona_avatar")).toBe(true));
    expect(calls.find((c) => c.cmd === "set_persona_avatar")!.headers?.["x-persona-id"]).toBe(reyesId);

    const alex = within(manager).getAllByTestId("persona-item").find((el) => el.textContent?.includes("Alex"))!;
    await fireEvent.click(alex);
    await fireEvent.click(within(manager).getByTestId("persona-delete"));
    await fireEvent.click(within(await confirm()).getByTestId("confirm-ok"));
    await waitFor(() => expect(within(manager).getAllByTestId("persona-item")).toHaveLength(1));
    await fireEvent.keyDown(manager, { key: "Escape" });
    await waitFor(() => expect(screen.queryByTestId("persona-manager")).toBeNull());

    await fireEvent.change(picker, { target: { value: reyesId } });
    await waitFor(() => expect(last(calls, "set_session_persona")).toMatchObject({ personaId: reyesId }));
  });

  test("preferences: opposites exclude each other, the summary overrides, save sends the object", async () => {
    const chats = store();
    chats.addSession("ann", [{ role: "assistant", content: "Hi" }], { title: "Prefs" });
    const { calls } = await start(chats);
    await openSession("Prefs");
    await fireEvent.click(screen.getByTestId("preferences-open"));
    const panel = await screen.findByTestId("preferences-panel");
    await waitFor(() => within(panel).getByTestId("pref-relationship"));
    const formal = within(panel).getByTestId("pref-speech-be_formal") as HTMLInputElement;
    const informal = within(panel).getByTestId("pref-speech-be_informal") as HTMLInputElement;
    await fireEvent.click(formal);
    expect(formal.checked).toBe(true);
    expect(informal.disabled).toBe(true);
    expect(informal.closest("label")?.getAttribute("title")).toContain("Formal");
    await fireEvent.click(formal);
    expect(informal.disabled).toBe(false);
    await fireEvent.click(informal);
    await fireEvent.click(within(panel).getByTestId("pref-behaviour-be_warm"));
    expect((within(panel).getByTestId("pref-behaviour-be_cold") as HTMLInputElement).disabled).toBe(true);
    await fireEvent.change(within(panel).getByTestId("pref-relationship"), { target: { value: "custom" } });
    await fireEvent.input(within(panel).getByTestId("pref-custom-relationship"), { target: { value: "Old rivals" } });

    expect(within(panel).queryByTestId("pref-summary-override")).toBeNull();
    await fireEvent.input(within(panel).getByTestId("pref-summary"), { target: { value: "She is my mentor." } });
    expect(within(panel).getByTestId("pref-summary-override").textContent).toContain("The summary replaces the options above");
    expect((within(panel).getByTestId("pref-speech-talk_less") as HTMLInputElement).disabled).toBe(true);

    await fireEvent.click(within(panel).getByTestId("pref-save"));
    await waitFor(() => expect(calls.some((c) => c.cmd === "set_preferences")).toBe(true));
    const sent = last<{ characterId: string; preferences: CharacterPreferences }>(calls, "set_preferences");
    expect(sent).toEqual({
      characterId: "ann",
      preferences: {
        relationship: "custom",
        customRelationship: "Old rivals",
        speech: ["be_informal"],
        behaviour: ["be_warm"],
        summary: "She is my mentor.",
      },
    });
  });

  test("a rejected save shows the backend's reason readably", async () => {
    const chats = store();
    chats.addSession("ann", [{ role: "assistant", content: "Hi" }], { title: "Prefs" });
    installBackend({
      characters: [ANN],
      chats,
      override: (cmd) =>
        cmd === "set_preferences" ? Promise.reject({ code: "invalid_input", message: "be_warm and be_cold contradict each other" }) : undefined,
    });
    render(App);
    await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
    await fireEvent.click(screen.getByTestId("nav-chats"));
    await openSession("Prefs");
    await fireEvent.click(screen.getByTestId("preferences-open"));
    const panel = await screen.findByTestId("preferences-panel");
    await fireEvent.click(await within(panel).findByTestId("pref-behaviour-be_funny"));
    await fireEvent.click(within(panel).getByTestId("pref-save"));
    const error = await within(panel).findByTestId("pref-error");
    expect(error.textContent).toContain("Something in the request isn't valid");
    expect(error.textContent).toContain("be_warm and be_cold contradict each other");
  });

  test("the prompt preview lists messages with each part's source and tokens", async () => {
    const chats = store();
    chats.addSession("ann", [
      { role: "assistant", content: "Hello, traveller." },
      { role: "user", content: "Hi!" },
    ], { title: "Prompt" });
    const { calls } = await start(chats);
    await openSession("Prompt");
    await fireEvent.input(screen.getByTestId("composer-input"), { target: { value: "What now?" } });
    await fireEvent.click(screen.getByTestId("prompt-preview-open"));
    const drawer = await screen.findByTestId("prompt-preview");
    await waitFor(() => expect(within(drawer).getAllByTestId("prompt-message").length).toBe(4));
    expect(last(calls, "preview_prompt")).toMatchObject({ message: "What now?" });
    const [system, , , draft] = within(drawer).getAllByTestId("prompt-message");
    expect(system!.dataset["role"]).toBe("system");
    expect(within(system!).getAllByTestId("prompt-part").map((p) => p.dataset["source"])).toEqual(["primaryContext", "characterDescription"]);
    expect(system!.textContent).toContain("Primary context");
    expect(draft!.dataset["role"]).toBe("user");
    expect(draft!.textContent).toContain("New message");
    expect(within(draft!).getByTestId("prompt-part-tokens").textContent).toBe("3");
    expect(within(drawer).getByTestId("prompt-total-tokens").textContent).toMatch(/^\d+ tokens$/);
    expect(drawer.textContent).toContain("What now?");
  });
});

describe("the primary context", () => {
  test("save makes versions, a version can be viewed and restored, and leaving unsaved asks", async () => {
    const { calls } = await start();
    await fireEvent.click(screen.getByTestId("nav-settings"));
    const editor = (await screen.findByTestId("primary-context-editor")) as HTMLTextAreaElement;
    await waitFor(() => expect(editor.placeholder).toContain("never-ending roleplay"));
    expect(screen.getByTestId("primary-context-default")).toBeTruthy();
    expect(screen.queryAllByTestId("context-version")).toHaveLength(0);

    await fireEvent.input(editor, { target: { value: "Version one." } });
    await fireEvent.click(screen.getByTestId("primary-context-save"));
    await waitFor(() => expect(screen.getAllByTestId("context-version")).toHaveLength(1));
    await fireEvent.input(editor, { target: { value: "Version two." } });
    await fireEvent.click(screen.getByTestId("primary-context-save"));
    await waitFor(() => expect(screen.getAllByTestId("context-version")).toHaveLength(2));
    expect(calls.filter((c) => c.cmd === "save_primary_context").map((c) => (c.args as { text: string }).text)).toEqual([
      "Version one.",
      "Version two.",
    ]);

    const older = screen.getAllByTestId("context-version")[1]!;
    await fireEvent.click(within(older).getByTestId("context-version-view"));
    expect(within(older).getByTestId("context-version-text").textContent).toBe("Version one.");
    await fireEvent.click(within(older).getByTestId("context-version-restore"));
    await waitFor(() => expect(editor.value).toBe("Version one."));
    expect(last(calls, "restore_context_version")).toEqual({ id: older.dataset["versionId"] });
    expect(screen.getAllByTestId("context-version")).toHaveLength(3);

    await fireEvent.input(editor, { target: { value: "Unsaved idea" } });
    await fireEvent.click(screen.getByTestId("nav-chats"));
    const dialog = await confirm();
    expect(dialog.textContent).toContain("Discard unsaved changes?");
    await fireEvent.click(within(dialog).getByTestId("confirm-cancel"));
    expect(screen.getByTestId("screen-settings")).toBeTruthy();
    expect(editor.value).toBe("Unsaved idea");
    await fireEvent.click(screen.getByTestId("nav-chats"));
    await fireEvent.click(within(await confirm()).getByTestId("confirm-ok"));
    await screen.findByTestId("screen-chats");
  });

  test("the window asks before closing with an unsaved primary context", async () => {
    let mayClose: (() => Promise<boolean>) | null = null;
    installBackend({ chats: store() });
    render(App, {
      props: {
        closeRequests: async (ask: () => Promise<boolean>) => {
          mayClose = ask;
          return () => {};
        },
      },
    });
    await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
    await fireEvent.click(screen.getByTestId("nav-settings"));
    const editor = (await screen.findByTestId("primary-context-editor")) as HTMLTextAreaElement;
    await waitFor(() => expect(editor.placeholder).not.toBe(""));
    await fireEvent.input(editor, { target: { value: "Draft" } });
    const answer = mayClose!();
    const dialog = await confirm();
    await fireEvent.click(within(dialog).getByTestId("confirm-cancel"));
    expect(await answer).toBe(false);
  });
});

describe("dropping files on an open chat", () => {
  test("images go with the next message; anything else is still imported", async () => {
    let deliver: ((payload: DragDropPayload) => void) | null = null;
    const dragDrop: DragDropSource = (handler) => {
      deliver = handler;
      return Promise.resolve(() => {
        deliver = null;
      });
    };
    const chats = store();
    chats.addSession("ann", [{ role: "assistant", content: "Arrows ready." }], { title: "Hunting trip" });
    const calls = installBackend({ characters: [ANN, BO], chats });
    render(App, { props: { dragDrop } });
    await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
    await fireEvent.click(screen.getByTestId("nav-chats"));
    await openSession("Hunting trip");

    deliver!({ type: "drop", paths: ["/pictures/map.png", "/pictures/bow.JPG"] });
    await waitFor(() => expect(screen.getAllByTestId("composer-attachment")).toHaveLength(2));
    expect(calls.filter((c) => c.cmd === "attach_image_path").map((c) => (c.args as { path: string }).path)).toEqual([
      "/pictures/map.png",
      "/pictures/bow.JPG",
    ]);
    expect(calls.some((c) => c.cmd === "import_paths")).toBe(false);
    expect(screen.getByTestId("conversation")).toBeTruthy();

    // A card file is not an attachment: it is imported, as anywhere else.
    deliver!({ type: "drop", paths: ["/cards/Aqua.json"] });
    await waitFor(() => expect(calls.some((c) => c.cmd === "import_paths")).toBe(true));
  });
});
