// A chat's memory: the Memory panel's rules (badges, order, the settings
// draft, which providers can embed), the panel driven through a fake backend
// (edit, pin, summarise now, the last error, notes, a search with scores,
// settings), its button in the chat header, and how the prompt preview labels
// summaries and retrieved passages.

import { mockIPC } from "@tauri-apps/api/mocks";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, describe, expect, test } from "vitest";
import type { ApiError, PromptPreview, MemoryHit, MemorySettings, MemorySummary, MemoryView, Provider, ProviderKind } from "../src/lib/api";
import {
  anthropicLeftOut,
  badges,
  choiceOf,
  choiceValue,
  complete,
  DEFAULT_MEMORY,
  DEFAULT_SUMMARY_PROMPT,
  embeddingProviders,
  inPathOrder,
  minScoreOf,
  normalized,
  sameSettings,
  scoreLabel,
  settingsProblem,
  wholeIn,
} from "../src/lib/chats/memory";
import { partLabel } from "../src/lib/chats/prompt-view";
import MemoryPanel from "../src/lib/components/chats/MemoryPanel.svelte";
import PromptRetrieval from "../src/lib/components/chats/PromptRetrieval.svelte";
import { setLanguage } from "../src/lib/i18n/index.svelte";
import settingsRs from "../../crates/core/src/memory/settings.rs?raw";
import App from "../src/App.svelte";
import { installBackend } from "./helpers/backend";
import { ANN, BO, openSession, store } from "./helpers/chats";

afterEach(() => setLanguage("en"));

function summary(id: string, first: number, last: number, extra: Partial<MemorySummary> = {}): MemorySummary {
  return {
    id,
    firstMessageId: `m${first}`,
    lastMessageId: `m${last}`,
    firstPosition: first,
    lastPosition: last,
    content: `What happened in ${first}–${last}.`,
    tokens: 42,
    pinned: false,
    edited: false,
    stale: false,
    author: "Local / small-model",
    updatedAt: 1,
    ...extra,
  };
}

function provider(id: string, kind: ProviderKind): Provider {
  return {
    config: { id, name: id.toUpperCase(), kind, baseUrl: "http://x/v1", defaultModel: "m" },
    key: { kind: "none" },
    isDefault: false,
  } as unknown as Provider;
}

describe("the Memory panel's rules", () => {
  test("the default prompt is the core's, word for word", () => {
    const constant = /pub const DEFAULT_SUMMARY_PROMPT: &str = "([\s\S]*?)";/.exec(settingsRs)![1]!;
    expect(constant.replace(/\\\n/g, "")).toBe(DEFAULT_SUMMARY_PROMPT);
  });

  test("badges, order, choices and scores", () => {
    expect(badges({ pinned: true, edited: true, stale: true })).toEqual(["stale", "pinned", "edited"]);
    expect(badges({ pinned: false, edited: false, stale: false })).toEqual([]);
    expect(inPathOrder([summary("b", 41, 80), summary("a", 1, 40)]).map((s) => s.id)).toEqual(["a", "b"]);
    expect(choiceOf("", "gpt")).toBeNull();
    expect(choiceOf(" p1 ", "  ")).toEqual({ providerId: "p1", model: null });
    expect(choiceOf("p1", "embed-small")).toEqual({ providerId: "p1", model: "embed-small" });
    expect(choiceValue(null)).toBe("");
    expect(choiceValue({ providerId: "p1", model: null })).toBe("p1");
    expect(scoreLabel(0.8234)).toBe("0.82");
    expect(scoreLabel(null)).toBe("—");
    expect(wholeIn(25.7, 1, 20)).toBe(20);
    expect(wholeIn(Number.NaN, 1, 20)).toBeNull();
    expect(minScoreOf(-3)).toBe(-1);
    expect(minScoreOf(0.456)).toBe(0.46);
  });

  test("settings: the core's defaults fill what is absent; the default prompt is stored as none", () => {
    expect(complete({})).toEqual(DEFAULT_MEMORY);
    const form = normalized({ ...DEFAULT_MEMORY, summaryPrompt: `${DEFAULT_SUMMARY_PROMPT}\n` });
    expect(form.summaryPrompt).toBeNull();
    expect(normalized({ summaryPrompt: "  " }).summaryPrompt).toBeNull();
    expect(normalized({ summaryPrompt: "Log it." }).summaryPrompt).toBe("Log it.");
    expect(sameSettings({}, { ...DEFAULT_MEMORY, summaryPrompt: DEFAULT_SUMMARY_PROMPT })).toBe(true);
    expect(sameSettings({}, { retrievalCount: 4 })).toBe(false);
    expect(sameSettings({ embeddings: { providerId: "p", model: null } }, { embeddings: { providerId: "p" } })).toBe(true);
    expect(settingsProblem({ ...DEFAULT_MEMORY, retrieval: true })).toBe("memory.settings.needsModel");
    expect(settingsProblem({ ...DEFAULT_MEMORY, summaryPrompt: "я".repeat(9000) })).toBe("memory.settings.promptTooLong");
    expect(settingsProblem(DEFAULT_MEMORY)).toBeNull();
  });

  test("every provider with an OpenAI-style /v1/embeddings embeds (local servers too); Anthropic's absence is explained", () => {
    const all = [provider("oa", "openAi"), provider("an", "anthropic"), provider("lc", "openAiCompatible"), provider("kc", "koboldCpp")];
    expect(embeddingProviders(all).map((p) => p.config.id)).toEqual(["oa", "lc", "kc"]);
    expect(anthropicLeftOut(all)).toBe(true);
    expect(anthropicLeftOut(all.filter((p) => p.config.kind !== "anthropic"))).toBe(false);
  });

  test("the prompt preview labels summaries and retrieved passages", () => {
    expect(partLabel({ source: "summary", label: "summary of messages 1–40" })).toBe("messages 1–40");
    expect(partLabel({ source: "summary", label: "summary of messages 41–80, pinned" })).toBe("messages 41–80 · pinned");
    expect(partLabel({ source: "summary", label: "summary" })).toBe("");
    expect(partLabel({ source: "retrievedMemory", label: "memory 0.82 · message 412" })).toBe("score 0.82 · message 412");
    expect(partLabel({ source: "retrievedMemory", label: "memory 0.71 · note" })).toBe("score 0.71 · note");
    setLanguage("ru");
    expect(partLabel({ source: "summary", label: "summary of messages 1-40" })).toBe("сообщения 1–40");
    expect(partLabel({ source: "retrievedMemory", label: "memory 0.71 · note" })).toBe("оценка 0.71 · заметка");
  });
});

type Call = { cmd: string; args: Record<string, unknown> };

/** A fake backend for the panel alone: one chat's memory, kept between calls. */
function memoryBackend(initial: Partial<MemoryView> = {}): { calls: Call[]; view: MemoryView; hits: MemoryHit[] } {
  const state = {
    calls: [] as Call[],
    hits: [{ id: 9, text: "The amulet is under the old oak.", score: 0.8234, messageId: null, position: null }] as MemoryHit[],
    view: {
      settings: { ...DEFAULT_MEMORY },
      summaries: [summary("s2", 41, 80, { stale: true }), summary("s1", 1, 40, { pinned: true })],
      unsummarized: 5,
      summarizing: false,
      lastError: null,
      notes: [],
      passages: 0,
      retrievalError: null,
      ...initial,
    } as MemoryView,
  };
  let nextNote = 10;
  mockIPC((cmd, raw) => {
    const args = (raw ?? {}) as Record<string, unknown>;
    state.calls.push({ cmd, args });
    const view = state.view;
    switch (cmd) {
      case "memory_view":
        return structuredClone(view);
      case "list_providers":
        return [provider("oa", "openAi"), provider("an", "anthropic")];
      case "get_models":
        return { providerId: args["providerId"], models: [], favourites: [], fetchedAt: null };
      case "edit_summary": {
        const s = view.summaries.find((x) => x.id === args["summaryId"])!;
        Object.assign(s, { content: args["content"], edited: true, stale: false, author: "" });
        return s;
      }
      case "pin_summary": {
        const s = view.summaries.find((x) => x.id === args["summaryId"])!;
        s.pinned = args["pinned"] as boolean;
        return s;
      }
      case "summarize_now": {
        const written = summary("s3", 81, 85);
        view.summaries.push(written);
        view.unsummarized = 0;
        return [written];
      }
      case "set_memory_settings":
        view.settings = args["settings"] as MemorySettings;
        return view.settings;
      case "add_memory_note": {
        const note = { id: nextNote++, text: args["text"] as string, embedded: false };
        view.notes.push(note);
        return note;
      }
      case "delete_memory_note":
        view.notes = view.notes.filter((n) => n.id !== args["noteId"]);
        return null;
      case "search_memory":
        return state.hits;
      default:
        return null;
    }
  });
  return state;
}

function renderPanel(): { closed: () => boolean; changed: () => number } {
  let closed = false;
  let changed = 0;
  render(MemoryPanel, {
    props: {
      sessionId: "chat-1",
      onClose: () => (closed = true),
      onChanged: () => changed++,
      report: (error: ApiError) => {
        throw new Error(`reported ${error.message}`);
      },
    },
  });
  return { closed: () => closed, changed: () => changed };
}

describe("the Memory panel", () => {
  test("summaries oldest first with range, cost, author and badges; edit, pin, summarise now", async () => {
    const backend = memoryBackend();
    const panel = renderPanel();
    const cards = await screen.findAllByTestId("memory-summary");
    expect(cards.map((c) => c.dataset["summaryId"])).toEqual(["s1", "s2"]);
    expect(within(cards[0]!).getByTestId("memory-summary-range").textContent).toBe("Messages 1–40");
    expect(cards[0]!.textContent).toContain("42 tokens");
    expect(cards[0]!.textContent).toContain("by Local / small-model");
    expect(within(cards[0]!).getByTestId("memory-badge-pinned")).toBeTruthy();
    expect(within(cards[1]!).getByTestId("memory-badge-stale")).toBeTruthy();
    expect(screen.getByTestId("memory-unsummarized").textContent).toBe("5 messages left the window without a summary.");

    await fireEvent.click(within(cards[1]!).getByTestId("memory-summary-edit"));
    const editor = within(cards[1]!).getByTestId("memory-summary-editor") as HTMLTextAreaElement;
    expect(editor.value).toBe("What happened in 41–80.");
    expect(document.activeElement).toBe(editor);
    await fireEvent.input(editor, { target: { value: "Mira found the amulet." } });
    await fireEvent.click(within(cards[1]!).getByTestId("memory-summary-save"));
    await waitFor(() => expect(screen.getAllByTestId("memory-summary-text")[1]!.textContent).toBe("Mira found the amulet."));
    expect(backend.calls.find((c) => c.cmd === "edit_summary")?.args).toEqual({ summaryId: "s2", content: "Mira found the amulet." });
    const edited = screen.getAllByTestId("memory-summary")[1]!;
    expect(within(edited).getByTestId("memory-badge-edited")).toBeTruthy();
    expect(within(edited).queryByTestId("memory-badge-stale")).toBeNull();
    expect(edited.textContent).toContain("written by you");
    expect(panel.changed()).toBe(1);

    await fireEvent.click(within(screen.getAllByTestId("memory-summary")[0]!).getByTestId("memory-summary-pin"));
    await waitFor(() => expect(screen.getAllByTestId("memory-summary")[0]!.dataset["pinned"]).toBe("false"));
    expect(backend.calls.find((c) => c.cmd === "pin_summary")?.args).toEqual({ summaryId: "s1", pinned: false });

    await fireEvent.click(screen.getByTestId("memory-summarize-now"));
    await waitFor(() => expect(screen.getAllByTestId("memory-summary")).toHaveLength(3));
    expect(screen.getByTestId("memory-status").textContent).toContain("Every message that left the window is summarised.");
  });

  test("a summarising chat shows a spinner; the last error is shown", async () => {
    memoryBackend({
      summarizing: true,
      lastError: { code: "rate_limited", message: "Too many requests" },
    });
    renderPanel();
    const status = await screen.findByTestId("memory-status");
    await waitFor(() => expect(status.dataset["summarizing"]).toBe("true"));
    expect(status.textContent).toContain("Writing a summary…");
    expect((screen.getByTestId("memory-summarize-now") as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId("memory-last-error").textContent).toContain("Too many requests");
  });

  test("a failed embedding round is shown beside the notes, apart from the summaries' error", async () => {
    memoryBackend({
      settings: { ...DEFAULT_MEMORY, retrieval: true, embeddings: { providerId: "oa", model: "embed" } },
      retrievalError: { code: "network", message: "connection refused" },
    });
    renderPanel();
    await screen.findByTestId("memory-status");
    expect(screen.queryByTestId("memory-last-error")).toBeNull();
    await fireEvent.click(await screen.findByTestId("memory-tab-notes"));
    const error = await screen.findByTestId("memory-retrieval-error");
    expect(error.textContent).toContain("Embedding the chat's passages failed");
    expect(error.textContent).toContain("connection refused");
  });

  test("notes are added and deleted; a search shows its hits with their scores", async () => {
    const backend = memoryBackend({ settings: { ...DEFAULT_MEMORY, embeddings: { providerId: "oa", model: "embed" } } });
    renderPanel();
    await fireEvent.click(await screen.findByTestId("memory-tab-notes"));
    await fireEvent.input(screen.getByTestId("memory-note-text"), { target: { value: "The amulet is under the old oak." } });
    await fireEvent.click(screen.getByTestId("memory-note-add"));
    const note = await screen.findByTestId("memory-note");
    expect(within(note).getByTestId("memory-note-pending").textContent).toBe("Not embedded yet");

    await fireEvent.input(screen.getByLabelText("Search the chat's memory"), { target: { value: "where is the amulet" } });
    await fireEvent.click(screen.getByTestId("memory-search-run"));
    const hit = await screen.findByTestId("memory-hit");
    expect(within(hit).getByTestId("memory-hit-score").textContent).toBe("score 0.82");
    expect(hit.textContent).toContain("Note");
    expect(backend.calls.find((c) => c.cmd === "search_memory")?.args).toEqual({ sessionId: "chat-1", text: "where is the amulet", limit: 8 });

    await fireEvent.click(within(note).getByTestId("memory-note-delete"));
    await waitFor(() => expect(screen.queryByTestId("memory-note")).toBeNull());
    expect(backend.calls.find((c) => c.cmd === "delete_memory_note")?.args).toEqual({ noteId: 10 });
  });

  test("settings: only OpenAI-style providers embed, Anthropic's absence is explained, the default prompt is saved as none", async () => {
    const backend = memoryBackend();
    renderPanel();
    await fireEvent.click(await screen.findByTestId("memory-tab-settings"));
    const embeddings = (await screen.findByTestId("memory-embeddings")) as HTMLSelectElement;
    await waitFor(() => expect([...embeddings.options].map((o) => o.value)).toEqual(["", "oa"]));
    expect(screen.getByTestId("memory-settings").textContent).toContain("Anthropic is not listed");
    expect((screen.getByTestId("memory-prompt") as HTMLTextAreaElement).value).toBe(DEFAULT_SUMMARY_PROMPT);
    expect((screen.getByTestId("memory-settings-save") as HTMLButtonElement).disabled).toBe(true);

    await fireEvent.click(screen.getByTestId("memory-retrieval-on"));
    expect(screen.getByTestId("memory-settings-problem").textContent).toContain("until an embeddings model is chosen");
    await fireEvent.change(embeddings, { target: { value: "oa" } });
    await fireEvent.input(screen.getByTestId("memory-embeddings-model"), { target: { value: "text-embedding-3-small" } });
    await fireEvent.input(screen.getByTestId("memory-count"), { target: { value: "5" } });
    await fireEvent.click(screen.getByTestId("memory-settings-save"));
    await screen.findByTestId("memory-settings-saved");
    expect(backend.calls.find((c) => c.cmd === "set_memory_settings")?.args).toEqual({
      sessionId: "chat-1",
      settings: { ...DEFAULT_MEMORY, retrieval: true, embeddings: { providerId: "oa", model: "text-embedding-3-small" }, retrievalCount: 5 },
    });
  });
});

describe("the chat header", () => {
  test("the Memory button is labelled and opens the panel; the prompt preview takes its place", async () => {
    const chats = store();
    chats.addSession("ann", [{ role: "assistant", content: "Hi" }], { title: "Long" });
    const view: MemoryView = { settings: {}, summaries: [summary("s1", 1, 40)], unsummarized: 0, summarizing: false, lastError: null, notes: [], passages: 0, retrievalError: null };
    installBackend({ characters: [ANN, BO], chats, override: (cmd) => (cmd === "memory_view" ? view : undefined) });
    render(App);
    await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
    await fireEvent.click(await screen.findByTestId("nav-chats"));
    await openSession("Long");
    const button = screen.getByRole("button", { name: "Memory" });
    expect(button.getAttribute("aria-pressed")).toBe("false");
    await fireEvent.click(button);
    const panel = await screen.findByTestId("memory-panel");
    expect((await within(panel).findByTestId("memory-summary-range")).textContent).toBe("Messages 1–40");
    expect(button.getAttribute("aria-pressed")).toBe("true");
    await fireEvent.click(screen.getByTestId("prompt-preview-open"));
    expect(screen.queryByTestId("memory-panel")).toBeNull();
  });
});

describe("the prompt preview's retrieval report", () => {
  test("which passages were placed, their scores, the lowest allowed, and those already in the window", () => {
    const preview = {
      retrieval: {
        enabled: true,
        passages: [
          { id: 7, label: "memory 0.82 · note", score: 0.8234, messageId: null, position: null, text: "The brass key opens the crypt." },
          { id: 8, label: "memory 0.47 · message 14", score: 0.4712, messageId: "m14", position: 14, text: "Wren spoke of the oak." },
        ],
        inWindow: 2,
        minScore: 0.3,
        error: null,
      },
    } as unknown as PromptPreview;
    render(PromptRetrieval, { props: { preview } });
    const report = screen.getByTestId("prompt-retrieval");
    expect(report.textContent).toContain("2 passages · lowest score 0.30");
    const rows = screen.getAllByTestId("prompt-retrieved");
    expect(rows[0]!.textContent).toContain("score 0.82");
    expect(rows[0]!.textContent).toContain("Note");
    expect(rows[1]!.textContent).toContain("Message 14");
    expect(report.textContent).toContain("2 more scored high enough but are in the prompt already.");
  });

  test("nothing without a report or with retrieval off; the error when it failed", () => {
    const { unmount } = render(PromptRetrieval, { props: { preview: {} as PromptPreview } });
    expect(screen.queryByTestId("prompt-retrieval")).toBeNull();
    unmount();
    const failed = {
      retrieval: { enabled: true, passages: [], inWindow: 0, minScore: 0.3, error: { code: "network", message: "connection refused" } },
    } as unknown as PromptPreview;
    render(PromptRetrieval, { props: { preview: failed } });
    expect(screen.getByTestId("prompt-retrieval-error").textContent).toContain("connection refused");
  });
});
