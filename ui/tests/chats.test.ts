// The chat list: recent chats and filtering, a chat's menu, chat windows,
// importing SillyTavern chats, message search.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import App from "../src/App.svelte";
import { sampleLine } from "../src/lib/dev/mock-chats";
import { installBackend } from "./helpers/backend";
import { ANN, BO, confirm, item, last, message, start, store } from "./helpers/chats";

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
