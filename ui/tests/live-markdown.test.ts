// A streaming reply rendered incrementally must look exactly like the same
// text rendered whole, at every point the stream could stop, while parsing
// only the open tail; and rendered Markdown keeps none of a reply's own
// classes, ids or ARIA roles.

import { describe, expect, test } from "vitest";
import { closedHtml, LiveMarkdown, type LiveView } from "../src/lib/chats/live-markdown";
import { marked, renderMarkdown } from "../src/lib/chats/markdown";

/** A long reply with every kind of block, and the traps between them. */
const REPLY = [
  "# The Ash Storms",
  "Setext heading\n==============",
  "*The young dragon* looks up from an **enormous** book.\nA second line, broken with `breaks`.",
  "- tight item one\n- tight item two\n  continued lazily\n- three",
  "1. loose item\n\n2. second loose item\n\n   with a second paragraph\n\n3. third",
  "```js\nconst a = 1;\n\nconst b = 2; // a blank line inside the fence\n\n\nreturn a + b;\n```",
  "    indented code\n\n    after a blank line, still code",
  "> A quote\nwith a lazy line\n\n> and a second quote",
  "| Bell | Metal |\n|:-----|------:|\n| first | *gold* |\n| second | silver |",
  "Inline <b>bold html</b> and <i>italics</i>, a <br> break and <span title=\"a > b\">a span</span>.",
  "<div>\n\nInside an unclosed div for a while.\n\n</div>",
  "<!-- a comment\n\nthat spans a blank line -->",
  "Text with <b>an open bold\n\ncontinued in the next paragraph</b>.",
  "- nested\n  - deeper\n    - deepest\n\n  back in the first item",
  "***",
  "~~struck~~ and a footnote-like [^1] and an autolink https://example.com and <https://example.org>.",
  "~~~\nTilde fence\n\n~~~",
  "Last paragraph with trailing spaces  \nand a hard break.",
].join("\n\n");

function joined(view: LiveView): string {
  return view.blocks.map((b) => b.html).join("") + view.tail;
}

/** A tiny seeded generator, so a failure names a case that can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("incremental rendering", () => {
  test("every prefix renders exactly as the whole text would (random cut points, one stream)", () => {
    for (const seed of [1, 2, 3]) {
      const next = random(seed);
      const cuts = new Set<number>([REPLY.length]);
      while (cuts.size < 100) cuts.add(Math.floor(next() * REPLY.length));
      const live = new LiveMarkdown();
      for (const cut of [...cuts].sort((a, b) => a - b)) {
        const prefix = REPLY.slice(0, cut);
        expect(joined(live.render(prefix)), `seed ${seed}, cut ${cut}: ${JSON.stringify(prefix.slice(-40))}`).toBe(
          renderMarkdown(prefix),
        );
      }
    }
  }, 60_000);

  test("every single character of the reply, streamed one at a time", () => {
    const live = new LiveMarkdown();
    for (let cut = 0; cut <= REPLY.length; cut++) {
      const prefix = REPLY.slice(0, cut);
      const got = joined(live.render(prefix));
      if (got !== renderMarkdown(prefix)) {
        expect(got, `cut ${cut}: ${JSON.stringify(prefix.slice(-40))}`).toBe(renderMarkdown(prefix));
      }
    }
  }, 60_000);

  test("random replies made of random blocks match at random cut points", () => {
    const pieces = REPLY.split("\n\n");
    for (let seed = 10; seed < 40; seed++) {
      const next = random(seed);
      const parts: string[] = [];
      const count = 3 + Math.floor(next() * 10);
      for (let i = 0; i < count; i++) parts.push(pieces[Math.floor(next() * pieces.length)]!);
      const separators = ["\n\n", "\n", "\n\n\n", "\r\n\r\n"];
      let text = "";
      for (const part of parts) text += part + separators[Math.floor(next() * separators.length)];
      const live = new LiveMarkdown();
      let at = 0;
      while (at < text.length) {
        at = Math.min(text.length, at + 1 + Math.floor(next() * 12));
        const prefix = text.slice(0, at);
        const got = joined(live.render(prefix));
        if (got !== renderMarkdown(prefix)) {
          expect(got, `seed ${seed}, cut ${at}: ${JSON.stringify(prefix)}`).toBe(renderMarkdown(prefix));
        }
      }
    }
  }, 60_000);

  test("completed blocks are rendered once; each frame parses only the open tail", () => {
    const paragraphs = Array.from({ length: 150 }, (_, i) => `Paragraph ${i} has *some* words and a [link](https://x.example/${i}).`);
    const text = paragraphs.join("\n\n");
    const live = new LiveMarkdown();
    const seen = new Map<number, string>();
    let frames = 0;
    for (let at = 10; at < text.length + 10; at += 10) {
      const view = live.render(text.slice(0, at));
      frames++;
      for (const block of view.blocks) {
        // A completed block keeps its id and its HTML from the frame it completed on.
        const before = seen.get(block.id);
        if (before !== undefined) expect(block.html).toBe(before);
        seen.set(block.id, block.html);
      }
    }
    const final = live.render(text);
    expect(joined(final)).toBe(renderMarkdown(text));
    // All but the last two: the one before an unfinished first line stays open.
    expect(final.blocks).toHaveLength(148);
    expect(live.blockRenders).toBe(148);
    expect(live.tailRenders).toBe(frames + 1);
    // Whole renders would parse sum(prefix lengths) ≈ frames × length / 2 characters.
    const whole = (frames * text.length) / 2;
    expect(live.parsedChars).toBeLessThan(whole / 20);
    // Each frame parses at most the two newest paragraphs.
    const longest = Math.max(...paragraphs.map((p) => p.length));
    expect(live.parsedChars / (frames + 1)).toBeLessThan(2 * (longest + 2));
  }, 60_000);

  test("a reference definition anywhere makes every later render a whole one", () => {
    const text = "See [the map][m] first.\n\nMore text.\n\n[m]: https://example.com/map\n\nAfter.";
    const live = new LiveMarkdown();
    for (let at = 1; at <= text.length; at++) expect(joined(live.render(text.slice(0, at)))).toBe(renderMarkdown(text.slice(0, at)));
    expect(live.render(text).blocks).toEqual([]);
  });

  test("an edited earlier part (a display rule now matching) starts over", () => {
    const live = new LiveMarkdown();
    live.render("First paragraph.\n\nSecond paragraph.\n\nThird");
    const view = live.render("First PARAGRAPH.\n\nSecond paragraph.\n\nThird and more");
    expect(joined(view)).toBe(renderMarkdown("First PARAGRAPH.\n\nSecond paragraph.\n\nThird and more"));
  });

  test("raw HTML is cut after only when it closes within its block", () => {
    const token = (src: string) => marked.lexer(src)[0]!;
    expect(closedHtml(token("plain *text*"))).toBe(true);
    expect(closedHtml(token("a <b>bold</b> and <br> and <img src=x>"))).toBe(true);
    expect(closedHtml(token('<span title="</span>">x</span>'))).toBe(true);
    expect(closedHtml(token("<div>"))).toBe(false);
    expect(closedHtml(token("a <b>open"))).toBe(false);
    expect(closedHtml(token("<b><i>x</b></i>"))).toBe(false);
    expect(closedHtml(token("<!-- open comment"))).toBe(false);
    expect(closedHtml(token("<style>p{}</style>"))).toBe(false);
    expect(closedHtml(token("<div/>"))).toBe(false);
  });
});

describe("sanitising", () => {
  test("a reply cannot borrow the app's classes, ids, roles or ARIA state", () => {
    const hostile = [
      '<div class="backdrop modal-backdrop svelte-1x2y3z" id="app" role="dialog" aria-modal="true" style="position:fixed;inset:0">cover</div>',
      '<span class="btn btn-primary visually-hidden" data-testid="composer-send" tabindex="0">fake</span>',
      "```js\ncode\n```",
      "[link](https://example.com) ![img](https://evil.example/x.png)",
    ].join("\n\n");
    const host = document.createElement("div");
    host.innerHTML = renderMarkdown(hostile);
    expect(host.textContent).toContain("cover");
    expect(host.textContent).toContain("fake");
    for (const attr of ["id", "style", "role", "aria-modal", "data-testid"]) {
      expect(host.querySelector(`[${attr}]`), attr).toBeNull();
    }
    // The only classes left are the two this module sets itself.
    const classes = new Set([...host.querySelectorAll("[class]")].flatMap((el) => [...el.classList]));
    expect([...classes].sort()).toEqual(["md-blocked-image", "md-link"]);
    expect(host.querySelector("code")?.getAttribute("class")).toBeNull();
    // Streaming shows the same.
    const live = new LiveMarkdown();
    expect(joined(live.render(hostile))).toBe(renderMarkdown(hostile));
  });
});
