// Prompt caching in the UI: the setting that keeps keyword world info out of
// the system message, and the preview's label for an entry it moved.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, describe, expect, test } from "vitest";
import App from "../src/App.svelte";
import type { UsageReport } from "../src/lib/api";
import { partLabel } from "../src/lib/chats/prompt-view";
import { setLanguage } from "../src/lib/i18n/index.svelte";
import { installBackend, MockProviders } from "./helpers/backend";

afterEach(() => setLanguage("en"));

describe("the keyword world info setting", () => {
  test("is off by default, explained in one line, and saves when turned on", async () => {
    const calls = installBackend({ settings: { language: null, theme: "system", exampleDialogue: "gradual" } });
    render(App);
    await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
    await fireEvent.click(screen.getByTestId("nav-settings"));
    const setting = await screen.findByTestId("stable-world-info-setting");
    const toggle = within(setting).getByTestId("stable-world-info") as HTMLInputElement;
    expect(toggle.checked).toBe(false);
    expect(setting.textContent).toContain("at depth 4");
    await fireEvent.click(toggle);
    await waitFor(() =>
      expect(calls.filter((c) => c.cmd === "set_settings").pop()!.args).toEqual({
        settings: { language: null, theme: "system", exampleDialogue: "gradual", keywordWorldInfoAtDepth: true },
      }),
    );
  });

  test("a moved entry's label says where it asked to go and why", () => {
    const label = "world info #2 Storms (at depth 4, system; moved from after character to keep the cached start of the prompt stable)";
    expect(partLabel({ source: "worldInfo", label })).toBe(
      "#2 Storms · at depth 4, as System; moved from “After character definitions” to keep the start of the prompt the same for the prompt cache",
    );
  });
});

describe("the usage page's cache savings", () => {
  test("in Russian", async () => {
    const usage = (): UsageReport => ({
      rows: [
        { day: "2026-01-03", providerName: "Anthropic", model: "claude-sonnet-4-5", requests: 3, promptTokens: 9_000, completionTokens: 100, costUsd: 0.01, cacheReadTokens: 8_000, cacheWriteTokens: 0, cacheSavedUsd: 0.0216 },
      ],
      outcomes: [],
    });
    installBackend({ providers: new MockProviders({ usage }), settings: { language: "ru", theme: "system" } });
    render(App);
    await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
    await fireEvent.click(screen.getByTestId("nav-settings"));
    const summary = await screen.findByTestId("usage-cache-savings");
    expect(summary.textContent).toContain("Кэш промпта сэкономил");
    expect(summary.textContent).toContain("0,0216");
    expect(screen.getByTestId("usage-table").textContent).toContain("Из кэша");
  });
});
