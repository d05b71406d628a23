// Connections: the chat header's profile switch and pin, Settings →
// Connections (profiles, the template library), a text-completion
// provider's templates, and the prompt preview's Text tab.

import { emit } from "@tauri-apps/api/event";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, describe, expect, test, vi } from "vitest";
import App from "../src/App.svelte";
import type { ConnectionProfile, Language, ProviderConfig, SessionModel } from "../src/lib/api";
import { chatCharacter, installBackend, MockChats, MockProviders, model, type Call } from "./helpers/backend";
import { ANN, BO, openSession } from "./helpers/chats";

afterEach(() => {
  vi.restoreAllMocks();
});

type Setup = { providers: MockProviders; chats: MockChats; router: ProviderConfig; kobold: ProviderConfig };

/** Two providers (a chat API and a text-completion one) and a chat store whose previews know both. */
function setup(): Setup {
  const providers = new MockProviders();
  const router = providers.add({ name: "OpenRouter", kind: "openRouter", defaultModel: "openai/gpt-4o" }, { key: "keyring" });
  const kobold = providers.add({ name: "Kobold", kind: "koboldCpp", defaultModel: "Mistral-Nemo-12B" });
  const details = new Map([ANN, BO].map((d) => [d.summary.id, d]));
  let clock = Date.UTC(2026, 0, 1);
  const chats = new MockChats({
    character: (id) => chatCharacter(details.get(id)),
    now: () => (clock += 1000),
    target: (sessionId) => {
      const m = providers.handle("get_session_model", { sessionId }) as SessionModel;
      return m.providerId === null ? null : { providerId: m.providerId, providerName: m.providerName ?? "", model: m.model, contextLength: m.contextLength };
    },
    textPrompt: (sessionId, messages, names, maxTokens) => providers.textPrompt(sessionId, messages, names, maxTokens),
  });
  return { providers, chats, router, kobold };
}

async function start(s: Setup, screenName: "chats" | "settings", language: Language | null = null): Promise<Call[]> {
  const calls = installBackend({ characters: [ANN, BO], chats: s.chats, providers: s.providers, settings: { language, theme: "system" } });
  render(App);
  await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
  await fireEvent.click(screen.getByTestId(`nav-${screenName}`));
  return calls;
}

function last<T>(calls: Call[], cmd: string): T {
  const found = calls.filter((c) => c.cmd === cmd).pop();
  if (!found) throw new Error(`${cmd} was never called`);
  return found.args as T;
}

function row(testid: string, name: string, extra = ""): HTMLElement {
  const found = document.querySelector<HTMLElement>(`[data-testid="${testid}"][data-name="${name}"]${extra}`);
  if (!found) throw new Error(`no ${testid} ${name}`);
  return found;
}

async function openPicker(): Promise<HTMLElement> {
  await fireEvent.click(screen.getByTestId("profile-picker"));
  return screen.findByTestId("profile-picker-panel");
}

describe("the chat header's profile switch", () => {
  test("choosing a profile calls use_profile and shows its name; No profile lets it go", async () => {
    const s = setup();
    const story = s.providers.connections.addProfile({ name: "Story", providerId: s.router.id, model: "anthropic/claude-3.5-sonnet" });
    s.providers.connections.addProfile({ name: "Local", providerId: s.kobold.id });
    const session = s.chats.addSession("ann", [{ role: "assistant", content: "Hello, traveller." }], { title: "Trip" });
    const calls = await start(s, "chats");
    await openSession("Trip");
    const current = screen.getByTestId("profile-current");
    await waitFor(() => expect(current.dataset["source"]).toBe("none"));

    const panel = await openPicker();
    await waitFor(() => expect(within(panel).getAllByTestId("profile-option").map((o) => o.dataset["name"])).toEqual(["Story", "Local"]));
    await fireEvent.click(row("profile-option", "Story"));
    await waitFor(() => expect(screen.getByTestId("profile-current").textContent?.trim()).toBe("Story"));
    expect(last(calls, "use_profile")).toEqual({ sessionId: session.id, profileId: story.id });
    expect(screen.getByTestId("profile-current").dataset["source"]).toBe("chat");
    expect(screen.queryByTestId("profile-picker-panel")).toBeNull();
    // The profile's model is the chat's now.
    expect(screen.getByTestId("model-picker").dataset["model"]).toBe("anthropic/claude-3.5-sonnet");

    const again = await openPicker();
    expect(row("profile-option", "Story").getAttribute("aria-selected")).toBe("true");
    await fireEvent.click(within(again).getByTestId("profile-none"));
    await waitFor(() => expect(screen.getByTestId("profile-current").dataset["source"]).toBe("none"));
    expect(last(calls, "use_profile")).toEqual({ sessionId: session.id, profileId: null });
    expect(screen.getByTestId("model-picker").dataset["model"]).toBe("openai/gpt-4o");
  });

  test("a KoboldCpp profile with no model says the server's loaded model replies, naming it once listed", async () => {
    const s = setup();
    const bare = s.providers.add({ name: "Kobold bare", kind: "koboldCpp", defaultModel: "" });
    const listed = s.providers.add({ name: "Kobold listed", kind: "koboldCpp", defaultModel: "" }, { models: [model("koboldcpp/Llama-3.1-8B", null)] });
    s.providers.connections.addProfile({ name: "Bare", providerId: bare.id });
    s.providers.connections.addProfile({ name: "Listed", providerId: listed.id });
    s.chats.addSession("ann", [{ role: "assistant", content: "Hello, traveller." }], { title: "Trip" });
    await start(s, "chats");
    await openSession("Trip");
    const picker = screen.getByTestId("model-picker");

    await openPicker();
    await fireEvent.click(row("profile-option", "Bare"));
    await waitFor(() => expect(picker.textContent).toContain("Model loaded on the server"));
    expect(picker.textContent).not.toContain("No model chosen");
    expect(picker.dataset["model"]).toBe(""); // the request still names none

    await openPicker();
    await fireEvent.click(row("profile-option", "Listed"));
    await waitFor(() => expect(picker.textContent).toContain("koboldcpp/Llama-3.1-8B"));
  });

  test("a change made in another window reaches this chat's header", async () => {
    const s = setup();
    const session = s.chats.addSession("ann", [{ role: "assistant", content: "Hello, traveller." }], { title: "Trip" });
    const calls = await start(s, "chats");
    await openSession("Trip");
    const picker = screen.getByTestId("model-picker");
    await waitFor(() => expect(picker.dataset["model"]).toBe("openai/gpt-4o"));

    // Another window chooses KoboldCpp for this chat: the backend says so.
    s.providers.handle("set_session_model", { sessionId: session.id, providerId: s.kobold.id, model: null });
    await emit("chat-connections-changed", { sessionId: session.id });
    await waitFor(() => expect(picker.dataset["model"]).toBe("Mistral-Nemo-12B"));

    // Another chat's change is not this one's: no reading again.
    const reads = calls.filter((c) => c.cmd === "get_session_model").length;
    await emit("chat-connections-changed", { sessionId: "another-chat" });
    expect(calls.filter((c) => c.cmd === "get_session_model").length).toBe(reads);

    // A provider, profile or pin changed anywhere: every chat reads its model again.
    s.providers.handle("set_session_model", { sessionId: session.id, providerId: null, model: null });
    await emit("chat-connections-changed", { sessionId: null });
    await waitFor(() => expect(picker.dataset["model"]).toBe("openai/gpt-4o"));
  });

  test("pin the profile to the character: its chats that chose nothing use it; unpin lets it go", async () => {
    const s = setup();
    const story = s.providers.connections.addProfile({ name: "Story", providerId: s.router.id });
    s.chats.addSession("ann", [{ role: "assistant", content: "Hello, traveller." }], { title: "Trip" });
    const calls = await start(s, "chats");
    await openSession("Trip");

    let panel = await openPicker();
    await waitFor(() => within(panel).getAllByTestId("profile-option"));
    expect(within(panel).queryByTestId("profile-pin")).toBeNull(); // nothing in force, nothing pinned
    await fireEvent.click(row("profile-option", "Story"));
    await waitFor(() => expect(screen.getByTestId("profile-current").textContent?.trim()).toBe("Story"));

    panel = await openPicker();
    const pin = await within(panel).findByTestId("profile-pin");
    expect(pin.dataset["action"]).toBe("pin");
    expect(pin.textContent).toContain("Pin to Ann Archer");
    await fireEvent.click(pin);
    await waitFor(() => expect(last(calls, "pin_character")).toEqual({ characterId: "ann", pins: { profileId: story.id, instruct: null } }));
    await waitFor(() => expect(within(panel).getByTestId("profile-pin").dataset["action"]).toBe("unpin"));

    // The chat lets its own choice go: the character's pin serves it.
    await fireEvent.click(within(panel).getByTestId("profile-none"));
    await waitFor(() => expect(screen.getByTestId("profile-current").dataset["source"]).toBe("character"));
    expect(screen.getByTestId("profile-current").textContent?.trim()).toBe("Story");
    expect(screen.getByTestId("profile-pinned").textContent).toContain("pinned for Ann Archer");

    panel = await openPicker();
    const unpin = await within(panel).findByTestId("profile-pin");
    expect(unpin.textContent).toContain("Unpin from Ann Archer");
    await fireEvent.click(unpin);
    await waitFor(() => expect(last(calls, "pin_character")).toEqual({ characterId: "ann", pins: { profileId: null, instruct: null } }));
    await waitFor(() => expect(screen.getByTestId("profile-current").dataset["source"]).toBe("none"));
    expect(screen.queryByTestId("profile-pinned")).toBeNull();

    // An instruct template pinned to the character (it wins over the profile's and provider's).
    const instruct = within(panel).getByTestId("profile-pin-instruct") as HTMLSelectElement;
    await waitFor(() => expect([...instruct.options].map((o) => o.value)).toContain("Alpaca"));
    expect(instruct.value).toBe("");
    await fireEvent.change(instruct, { target: { value: "Alpaca" } });
    await waitFor(() => expect(last(calls, "pin_character")).toEqual({ characterId: "ann", pins: { profileId: null, instruct: "Alpaca" } }));
    expect(s.providers.connections.pins.get("ann")).toEqual({ profileId: null, instruct: "Alpaca" });
  });
});

describe("Settings → Connections: profiles", () => {
  test("add with checks, only the samplers set are saved, a refusal shows on its field, edit and delete", async () => {
    const s = setup();
    const calls = await start(s, "settings");
    const section = await screen.findByTestId("profiles");
    await waitFor(() => expect(within(section).getByTestId("profiles-empty").textContent).toBe("No profiles yet."));

    await fireEvent.click(within(section).getByTestId("profile-add"));
    const editor = await screen.findByTestId("profile-editor");
    // A new profile has no name yet: said so, and it cannot be saved.
    expect(within(editor).getByTestId("profile-name-error").textContent).toBe("Give the profile a name");
    expect((within(editor).getByTestId("profile-save") as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.input(within(editor).getByTestId("profile-name"), { target: { value: "  Night  " } });
    expect(within(editor).queryByTestId("profile-name-error")).toBeNull();

    const provider = within(editor).getByTestId("profile-provider") as HTMLSelectElement;
    expect(provider.value).toBe(s.router.id);
    await fireEvent.change(provider, { target: { value: s.kobold.id } });
    const instruct = within(editor).getByTestId("profile-instruct") as HTMLSelectElement;
    await waitFor(() => expect([...instruct.options].map((o) => o.value)).toContain("named:ChatML"));
    expect([...instruct.options].map((o) => o.textContent?.trim()).slice(0, 2)).toEqual(["The provider's choice", "Auto"]);
    await fireEvent.change(instruct, { target: { value: "named:ChatML" } });
    await fireEvent.change(within(editor).getByTestId("profile-context"), { target: { value: "Plain" } });

    await fireEvent.input(within(editor).getByTestId("profile-temperature"), { target: { value: "3" } });
    expect(within(editor).getByTestId("profile-temperature-error").textContent).toContain("0");
    expect((within(editor).getByTestId("profile-save") as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.input(within(editor).getByTestId("profile-temperature"), { target: { value: "0.7" } });

    await fireEvent.click(within(editor).getByTestId("profile-samplers-toggle"));
    await fireEvent.input(await within(editor).findByTestId("sampler-minP"), { target: { value: "0.05" } });
    await fireEvent.click(within(editor).getByTestId("profile-save"));
    await waitFor(() => expect(screen.getByTestId("profile-saved")).toBeTruthy());
    const saved = last<{ profile: ConnectionProfile }>(calls, "save_profile").profile;
    expect(saved).toEqual({
      id: "",
      name: "Night",
      providerId: s.kobold.id,
      model: null,
      instruct: { type: "named", name: "ChatML" },
      contextTemplate: "Plain",
      generation: { temperature: 0.7, minP: 0.05 },
    });
    await fireEvent.click(screen.getByTestId("profile-cancel"));
    await waitFor(() => expect(row("profile-row", "Night").textContent).toContain("Kobold"));
    expect(row("profile-row", "Night").textContent).toContain("ChatML");

    // The core refuses a second profile of the same name: shown on the name.
    await fireEvent.click(screen.getByTestId("profile-add"));
    await fireEvent.input(await screen.findByTestId("profile-name"), { target: { value: "night" } });
    await fireEvent.input(screen.getByTestId("profile-model"), { target: { value: "my model" } });
    await fireEvent.click(screen.getByTestId("profile-save"));
    await waitFor(() => expect(screen.getByTestId("profile-model-error").textContent).toContain("has spaces"));
    await fireEvent.input(screen.getByTestId("profile-model"), { target: { value: "" } });
    await fireEvent.click(screen.getByTestId("profile-save"));
    await waitFor(() => expect(screen.getByTestId("profile-name-error").textContent).toBe('a profile named "night" already exists'));
    await fireEvent.click(screen.getByTestId("profile-cancel"));

    // Edit: the form shows what was saved; delete asks first.
    const id = row("profile-row", "Night").dataset["profileId"]!;
    expect(id).not.toBe("");
    await fireEvent.click(within(row("profile-row", "Night")).getByTestId("profile-edit"));
    const again = await screen.findByTestId("profile-editor");
    expect((within(again).getByTestId("profile-temperature") as HTMLInputElement).value).toBe("0.7");
    expect((within(again).getByTestId("profile-instruct") as HTMLSelectElement).value).toBe("named:ChatML");
    await fireEvent.click(within(again).getByTestId("profile-delete"));
    await fireEvent.click(within(await screen.findByTestId("confirm-dialog")).getByTestId("confirm-ok"));
    await waitFor(() => expect(screen.queryAllByTestId("profile-row")).toHaveLength(0));
    expect(last(calls, "delete_profile")).toEqual({ profileId: id });
  });
});

describe("Settings → Connections: templates", () => {
  function file(name: string, text: string): File {
    return new File([text], name, { type: "application/json" });
  }

  test("the library marks built-in, saved and edited presets; import shows what came in or why not", async () => {
    const s = setup();
    const calls = await start(s, "settings");
    await screen.findByTestId("templates");
    await waitFor(() => expect(row("template-row", "ChatML", '[data-kind="instruct"]').dataset["status"]).toBe("builtin"));
    expect(row("template-row", "Llama 3 Instruct").dataset["kind"]).toBe("instruct");
    expect(row("template-row", "Default").dataset["kind"]).toBe("context");
    expect(within(row("template-row", "ChatML")).queryByTestId("template-delete")).toBeNull();

    const input = screen.getByTestId("template-import-input") as HTMLInputElement;
    expect(input.accept).toContain(".json");
    const mine = JSON.stringify({ name: "My Tmpl", input_sequence: "<|user|>\n", output_sequence: "<|assistant|>\n" });
    await fireEvent.change(input, { target: { files: [file("mine.json", mine)] } });
    await waitFor(() => expect(screen.getByTestId("template-import-result").textContent).toContain("Imported: My Tmpl (Instruct)"));
    expect(last(calls, "import_template")).toEqual({ json: mine });
    await waitFor(() => expect(row("template-row", "My Tmpl").dataset["status"]).toBe("saved"));
    expect(row("template-row", "My Tmpl").textContent).toContain("Saved");

    // A master export holding a preset's name: that preset is now the user's.
    const master = JSON.stringify({ instruct: { name: "ChatML", input_sequence: "<|im_start|>user\n", output_sequence: "<|im_start|>assistant\n" } });
    await fireEvent.change(input, { target: { files: [file("master.json", master)] } });
    await waitFor(() => expect(row("template-row", "ChatML").dataset["status"]).toBe("edited"));
    expect(row("template-row", "ChatML").textContent).toContain("Edited preset");

    await fireEvent.change(input, { target: { files: [file("notes.json", '{"hello": 1}')] } });
    const error = await screen.findByTestId("template-import-error");
    expect(error.dataset["code"]).toBe("invalid_input");
    expect(error.textContent).toContain("notes.json wasn't imported: this is not a SillyTavern instruct or context template");
    expect(screen.queryByTestId("template-import-result")).toBeNull();

    await fireEvent.change(input, { target: { files: [file("broken.json", "{nope")] } });
    await waitFor(() => expect(screen.getByTestId("template-import-error").textContent).toContain("broken.json wasn't imported: the template file is not JSON"));
  });

  test("export downloads the JSON; delete removes a saved one after asking", async () => {
    const s = setup();
    s.providers.connections.saved.set("instruct:My Tmpl", JSON.stringify({ name: "My Tmpl", input_sequence: "U:" }));
    const blobs: Blob[] = [];
    const downloads: string[] = [];
    Object.assign(URL, { createObjectURL: (blob: Blob) => (blobs.push(blob), "blob:template"), revokeObjectURL: () => {} });
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      downloads.push(`${this.download} ${this.href}`);
    });
    const calls = await start(s, "settings");
    await waitFor(() => row("template-row", "Llama 3 Instruct"));

    await fireEvent.click(within(row("template-row", "Llama 3 Instruct")).getByTestId("template-export"));
    await waitFor(() => expect(downloads).toEqual(["Llama 3 Instruct (instruct).json blob:template"]));
    expect(last(calls, "export_template")).toEqual({ kind: "instruct", name: "Llama 3 Instruct" });
    const text = await new Promise<string>((resolve) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result));
      reader.readAsText(blobs[0]!);
    });
    expect(JSON.parse(text)).toMatchObject({ name: "Llama 3 Instruct", stop_sequence: "<|eot_id|>" });

    await fireEvent.click(within(row("template-row", "My Tmpl")).getByTestId("template-delete"));
    const dialog = await screen.findByTestId("confirm-dialog");
    expect(dialog.textContent).toContain("Delete the saved template “My Tmpl”?");
    await fireEvent.click(within(dialog).getByTestId("confirm-ok"));
    await waitFor(() => expect(document.querySelector('[data-testid="template-row"][data-name="My Tmpl"]')).toBeNull());
    expect(last(calls, "delete_template")).toEqual({ kind: "instruct", name: "My Tmpl" });
  });
});

describe("Settings → Connections: editing a template", () => {
  test("a preset opens as JSON; saved, it becomes an edited preset; a bad edit says why and keeps the text", async () => {
    const s = setup();
    const calls = await start(s, "settings");
    await waitFor(() => row("template-row", "Alpaca"));
    await fireEvent.click(within(row("template-row", "Alpaca")).getByTestId("template-edit"));
    const editor = await screen.findByTestId("template-editor");
    expect(editor.dataset["name"]).toBe("Alpaca");
    const json = within(editor).getByTestId("template-editor-json") as HTMLTextAreaElement;
    const template = JSON.parse(json.value) as Record<string, unknown>;
    expect(template["name"]).toBe("Alpaca");

    await fireEvent.input(json, { target: { value: "{nope" } });
    await fireEvent.click(within(editor).getByTestId("template-editor-save"));
    const error = await within(editor).findByTestId("template-editor-error");
    expect(error.dataset["code"]).toBe("invalid_input");
    expect(json.value).toBe("{nope");

    const edited = JSON.stringify({ ...template, input_sequence: "### Question:" });
    await fireEvent.input(json, { target: { value: edited } });
    await fireEvent.click(within(editor).getByTestId("template-editor-save"));
    await waitFor(() => expect(screen.queryByTestId("template-editor")).toBeNull());
    expect(last(calls, "import_template")).toEqual({ json: edited });
    await waitFor(() => expect(row("template-row", "Alpaca").dataset["status"]).toBe("edited"));

    // Cancel leaves everything as it was.
    await fireEvent.click(within(row("template-row", "ChatML")).getByTestId("template-edit"));
    await fireEvent.click(within(await screen.findByTestId("template-editor")).getByTestId("template-editor-cancel"));
    expect(screen.queryByTestId("template-editor")).toBeNull();
    expect(row("template-row", "ChatML").dataset["status"]).toBe("builtin");
  });
});

describe("a text-completion provider's templates", () => {
  test("only text-completion kinds show the instruct and context selects; the choice is saved in the config", async () => {
    const s = setup();
    const calls = await start(s, "settings");
    await waitFor(() => expect(screen.getAllByTestId("provider-item")).toHaveLength(2));
    const item = (name: string): HTMLElement => document.querySelector<HTMLElement>(`[data-testid="provider-item"][data-name="${name}"]`)!;

    await fireEvent.click(within(item("OpenRouter")).getByTestId("provider-edit"));
    await screen.findByTestId("provider-editor");
    expect(screen.queryByTestId("provider-instruct")).toBeNull();
    expect(screen.queryByTestId("provider-context")).toBeNull();
    await fireEvent.click(screen.getByTestId("provider-editor-close"));

    await fireEvent.click(within(item("Kobold")).getByTestId("provider-edit"));
    const instruct = (await screen.findByTestId("provider-instruct")) as HTMLSelectElement;
    expect(instruct.value).toBe("auto");
    await waitFor(() => expect([...instruct.options].map((o) => o.value)).toContain("named:Llama 3 Instruct"));
    expect(screen.getByTestId("provider-editor").textContent).toContain("The model's own template when the server reports one, else matched by model name");
    await fireEvent.change(instruct, { target: { value: "named:Llama 3 Instruct" } });
    const context = screen.getByTestId("provider-context") as HTMLSelectElement;
    expect(context.value).toBe("");
    expect(context.options[0]!.textContent?.trim()).toBe("Plain (default)");
    await fireEvent.change(context, { target: { value: "Default" } });
    await fireEvent.click(screen.getByTestId("provider-save"));
    await waitFor(() => expect(screen.getByTestId("provider-saved")).toBeTruthy());
    const config = last<{ config: ProviderConfig }>(calls, "save_provider").config;
    expect(config.instruct).toEqual({ type: "named", name: "Llama 3 Instruct" });
    expect(config.contextTemplate).toBe("Default");
  });
});

describe("the prompt preview's Text tab", () => {
  async function openText(): Promise<HTMLElement> {
    await fireEvent.click(screen.getByTestId("prompt-preview-open"));
    const drawer = await screen.findByTestId("prompt-preview");
    await fireEvent.click(await within(drawer).findByTestId("prompt-tab-text"));
    return drawer;
  }

  test("shows the exact text, the template and why, the stop strings; follows the character's pin and the model's name", async () => {
    const s = setup();
    const session = s.chats.addSession("ann", [{ role: "assistant", content: "Hello, traveller." }], { title: "Trip" });
    s.providers.handle("set_session_model", { sessionId: session.id, providerId: s.kobold.id, model: null });
    await start(s, "chats");
    await openSession("Trip");
    const drawer = await openText();

    const template = await within(drawer).findByTestId("prompt-template");
    expect(template.dataset["origin"]).toBe("fallback");
    expect(template.textContent?.replace(/\s+/g, " ").trim()).toBe("Template ChatML — nothing matched (fallback)");
    const text = within(drawer).getByTestId("prompt-text");
    expect(text.getAttribute("role")).toBe("textbox");
    expect(text.getAttribute("aria-readonly")).toBe("true");
    expect(text.textContent).toMatch(/^<\|im_start\|>system\n/);
    expect(text.textContent).toContain("<|im_start|>assistant\nHello, traveller.<|im_end|>\n");
    expect(text.textContent!.endsWith("<|im_start|>assistant\n")).toBe(true);
    expect(text.querySelector(".token")?.textContent).toBe("<|im_start|>");
    expect(within(drawer).getAllByTestId("prompt-stop-item").map((el) => el.textContent)).toEqual(["<|im_end|>", "\\nYou:"]);
    expect(within(drawer).queryByTestId("prompt-think")).toBeNull();
    // KoboldCpp has a tokenizer: the length is the server's count, and says so.
    const tokens = within(drawer).getByTestId("prompt-text-tokens");
    expect(tokens.dataset["byServer"]).toBe("true");
    expect(tokens.textContent).toMatch(/\d+ tokens \(the server’s count\)/);

    // The character's instruct pin wins.
    s.providers.connections.pins.set("ann", { profileId: null, instruct: "Llama 3 Instruct" });
    await fireEvent.click(within(drawer).getByTestId("prompt-refresh"));
    await waitFor(() => expect(within(drawer).getByTestId("prompt-template").dataset["origin"]).toBe("character"));
    expect(within(drawer).getByTestId("prompt-template").textContent).toContain("Llama 3 Instruct — pinned for this character");
    expect(within(drawer).getByTestId("prompt-text").textContent).toMatch(/^<\|begin_of_text\|><\|start_header_id\|>system<\|end_header_id\|>\n\n/);

    // Unpinned, a model whose name matches a preset; a thinking model's reply starts as reasoning.
    s.providers.connections.pins.delete("ann");
    s.providers.handle("set_session_model", { sessionId: session.id, providerId: s.kobold.id, model: "Meta-Llama-3-8B-think" });
    await fireEvent.click(within(drawer).getByTestId("prompt-refresh"));
    await waitFor(() => expect(within(drawer).getByTestId("prompt-template").dataset["origin"]).toBe("modelName"));
    expect(within(drawer).getByTestId("prompt-template").textContent).toContain("Llama 3 Instruct — matched by the model's name");
    expect(within(drawer).getByTestId("prompt-think").textContent).toContain("<think>");

    // The request body is the text backend's.
    await fireEvent.click(within(drawer).getByTestId("prompt-tab-request"));
    await waitFor(() => expect(within(drawer).getByTestId("prompt-request-body").textContent).toContain('"stop_sequence"'));
  });

  test("a chat-completion provider has no Text tab", async () => {
    const s = setup();
    s.chats.addSession("ann", [{ role: "assistant", content: "Hello, traveller." }], { title: "Trip" });
    await start(s, "chats");
    await openSession("Trip");
    await fireEvent.click(screen.getByTestId("prompt-preview-open"));
    const drawer = await screen.findByTestId("prompt-preview");
    await waitFor(() => expect(within(drawer).getAllByTestId("prompt-message").length).toBeGreaterThan(0));
    expect(within(drawer).queryByTestId("prompt-tab-text")).toBeNull();
  });

  test("in Russian, the template's origin is said in Russian", async () => {
    const s = setup();
    const session = s.chats.addSession("ann", [{ role: "assistant", content: "Hello, traveller." }], { title: "Trip" });
    s.providers.handle("set_session_model", { sessionId: session.id, providerId: s.kobold.id, model: null });
    await start(s, "chats", "ru");
    await openSession("Trip");
    const drawer = await openText();
    expect(within(drawer).getByTestId("prompt-tab-text").textContent?.trim()).toBe("Текст");
    const template = await within(drawer).findByTestId("prompt-template");
    expect(template.textContent).toContain("ChatML — ничего не подошло (запасной)");
    expect(within(drawer).getByTestId("prompt-stop").textContent).toContain("Стоп-строки");
  });
});
