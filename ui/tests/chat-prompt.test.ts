// What shapes a chat's prompt: personas, a character's preferences, the
// prompt preview, and the primary context with its versions.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import App from "../src/App.svelte";
import type { CharacterPreferences } from "../src/lib/api";
import { installBackend } from "./helpers/backend";
import { ANN, confirm, last, openSession, start, store } from "./helpers/chats";

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
