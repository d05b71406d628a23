// Prompt caching in the UI: the setting that keeps keyword world info out of
// the system message, and the preview's label for an entry it moved.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import App from "../src/App.svelte";
import { partLabel } from "../src/lib/chats/prompt-view";
import { installBackend } from "./helpers/backend";

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
