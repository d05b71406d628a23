// An open conversation: paging a 100,000-message chat, sending, images,
// Markdown, edit, delete, swipes, branch, and files dropped on it.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import App from "../src/App.svelte";
import type { DragDropPayload, DragDropSource } from "../src/lib/drop";
import { sampleLine } from "../src/lib/dev/mock-chats";
import { installBackend } from "./helpers/backend";
import { ANN, BO, confirm, item, last, message, messages, openSession, start, store } from "./helpers/chats";

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
