// The Help pages as rendered: a code block (the user guide's command lines)
// can be reached by the keyboard, since it scrolls sideways, and keeps its text.

import { describe, expect, test } from "vitest";
import { renderDoc } from "../src/lib/help/docs";

describe("Help pages", () => {
  test("code blocks are focusable and escaped, in both languages", () => {
    for (const language of ["en", "ru"] as const) {
      const { html } = renderDoc("guide", language);
      const page = document.createElement("div");
      page.innerHTML = html;
      const blocks = [...page.querySelectorAll("pre")];
      expect(blocks.length).toBeGreaterThan(0);
      for (const block of blocks) expect(block.getAttribute("tabindex")).toBe("0");
      expect(blocks.some((b) => b.textContent?.includes("confab prompt SESSION"))).toBe(true);
    }
  });
});
