// A streaming reply's Markdown, rendered incrementally: the text is cut into
// blocks at blank lines that Markdown itself treats as the end of a block
// (marked's own lexer decides, so a blank line inside a code fence or a loose
// list is not a cut), completed blocks keep their sanitised HTML, and each
// frame re-parses only the open tail. Rendering every prefix this way gives
// exactly what rendering it whole gives (tests/live-markdown.test.ts checks
// this at random cut points); where that could not hold, it renders whole:
//
// - a link reference definition (`[x]: url`) changes links anywhere in the
//   text, so once one appears every render is a whole one;
// - raw HTML that is not closed within its block (an open `<div>`, a comment,
//   `<style>`) can swallow what follows, so no cut is made after it until it
//   closes.

import type { Token, TokensList } from "marked";
import { marked, renderMarkdown, sanitize } from "./markdown";

/** A completed block: its Markdown source and its sanitised HTML. */
export type LiveBlock = { readonly id: number; readonly source: string; readonly html: string };

/** What to show: completed blocks (stable ids, so their DOM stays) and the open tail's HTML. */
export type LiveView = { readonly blocks: readonly LiveBlock[]; readonly tail: string };

/** How a streaming reply is rendered: "incremental" (the app), or "full" every frame (the benchmark's baseline). */
export const liveRendering: { mode: "incremental" | "full" } = { mode: "incremental" };

export class LiveMarkdown {
  #blocks: LiveBlock[] = [];
  /** The sources of #blocks, joined. */
  #done = "";
  #nextId = 0;
  /** A reference definition was seen: render whole from now on. */
  #whole = false;
  /** Blocks rendered (each completed block once). */
  blockRenders = 0;
  /** Open tails rendered (one a frame). */
  tailRenders = 0;
  /** Characters of Markdown parsed so far, all renders together. */
  parsedChars = 0;

  /** The view of `text`; call it with each newer text of the same reply. */
  render(input: string): LiveView {
    const text = input.includes("\r") ? input.replace(/\r\n?/g, "\n") : input;
    if (liveRendering.mode === "full" || this.#whole) return this.#wholeView(text);
    if (!text.startsWith(this.#done)) this.#forget();

    const rest = text.slice(this.#done.length);
    let tokens: TokensList;
    try {
      tokens = marked.lexer(rest);
    } catch {
      return this.#wholeView(text);
    }
    this.parsedChars += rest.length;
    if (Object.keys(tokens.links).length > 0) {
      this.#whole = true;
      return this.#wholeView(text);
    }

    // The last token with content is still open: more text may extend it.
    let open = tokens.length - 1;
    while (open >= 0 && tokens[open]!.type === "space") open--;
    // Until its first line is complete, the open token may still turn into
    // something that joins the block before it ("2" becoming "2." continues
    // a list across the blank line), so that block stays open too.
    const lastCut = open >= 0 && !tokens[open]!.raw.includes("\n") ? lastSpaceBefore(tokens, open) : open;
    let start = 0;
    for (let i = 0; i < lastCut; i++) {
      const token = tokens[i]!;
      if (token.type !== "space") {
        if (!closedHtml(token)) break;
        continue;
      }
      // A blank line: the tokens since `start`, and this space, make a completed block.
      const group = tokens.slice(start, i + 1);
      const source = group.map((t) => t.raw).join("");
      this.#blocks.push({ id: this.#nextId++, source, html: this.#html(group, tokens) });
      this.#done += source;
      this.blockRenders++;
      start = i + 1;
    }
    const tail = tokens.slice(start);
    this.tailRenders++;
    return { blocks: this.#blocks.slice(), tail: tail.length > 0 ? this.#html(tail, tokens) : "" };
  }

  #html(group: Token[], all: TokensList): string {
    const list = group as TokensList;
    list.links = all.links;
    let out: string;
    try {
      out = marked.parser(list);
    } catch {
      out = group.map((t) => escapeHtml(t.raw)).join("");
    }
    return sanitize(out);
  }

  #wholeView(text: string): LiveView {
    this.#forget();
    this.tailRenders++;
    this.parsedChars += text.length;
    return { blocks: [], tail: renderMarkdown(text) };
  }

  #forget(): void {
    this.#blocks = [];
    this.#done = "";
  }
}

/** The index of the space token right before the content token at `index` (or 0: no cut before it). */
function lastSpaceBefore(tokens: TokensList, index: number): number {
  let i = index - 1;
  while (i >= 0 && tokens[i]!.type === "space") i--;
  return i + 1;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Elements whose content is not Markdown-like HTML (raw text, foreign
// content, templates): a block holding one is never cut after.
const NEVER_CUT = new Set([
  "script",
  "style",
  "textarea",
  "title",
  "xmp",
  "iframe",
  "noembed",
  "noframes",
  "noscript",
  "plaintext",
  "template",
  "svg",
  "math",
  "select",
]);

const VOID = new Set(["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr", "keygen"]);

// A start or end tag with attributes (quoted values may hold `>`), as the
// HTML tokenizer reads it.
const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*(\/?)>/g;
const COMMENT = /<!--[\s\S]*?-->/g;

/**
 * True when the raw HTML in `token` (if any) is closed within it: every tag
 * opened is closed in order, no comment or raw-text element is left open.
 * Then the browser parses the block's HTML to the same nodes whether the
 * blocks after it are parsed with it or apart.
 */
export function closedHtml(token: Token): boolean {
  let raw = "";
  marked.walkTokens([token], (t) => {
    if (t.type === "html") raw += t.raw;
  });
  if (raw === "") return true;
  const text = raw.replace(COMMENT, "");
  if (text.includes("<!--")) return false;
  const stack: string[] = [];
  let last = 0;
  for (const match of text.matchAll(TAG)) {
    // Anything tag-like the pattern did not read is not trusted.
    if (/<[a-zA-Z/!?]/.test(text.slice(last, match.index))) return false;
    last = match.index + match[0].length;
    const [, closing, rawName] = match;
    const name = rawName!.toLowerCase();
    if (NEVER_CUT.has(name)) return false;
    if (VOID.has(name)) continue;
    if (closing) {
      if (stack.pop() !== name) return false;
    } else {
      // `<div/>` opens a div in HTML: it counts as open.
      stack.push(name);
    }
  }
  if (/<[a-zA-Z/!?]/.test(text.slice(last))) return false;
  return stack.length === 0;
}
