// Message text → safe HTML. Card and model text is untrusted, so the Markdown
// output goes through DOMPurify with a strict policy: no scripts, no event
// handlers, no styles, no forms or frames, nothing that loads from the
// network. Links never navigate (the app has no browser inside it): they
// become inert text that shows the address on hover. Images survive only as
// data:image/… or attachment:<id> (our own stored images).

import DOMPurify, { type DOMPurify as Purifier } from "dompurify";
import { Marked } from "marked";
import { attachmentUrl } from "../api";

/** The one Markdown reader (GFM, single newlines are line breaks). */
export const marked = new Marked({ gfm: true, breaks: true, async: false });

const FORBID_TAGS = [
  "style",
  "script",
  "iframe",
  "frame",
  "frameset",
  "object",
  "embed",
  "form",
  "input",
  "button",
  "textarea",
  "select",
  "option",
  "video",
  "audio",
  "source",
  "track",
  "picture",
  "link",
  "meta",
  "base",
  "svg",
  "math",
  "template",
  "dialog",
];

// `class`, `id` and `role` would let a reply borrow the app's own styles and
// landmarks (a modal backdrop over the window, a fake dialog); `aria-*` too
// (aria-modal is how the app knows a dialog is open). Only the classes this
// module sets itself (md-link, md-blocked-image) survive.
const FORBID_ATTR = [
  "class",
  "style",
  "srcset",
  "background",
  "poster",
  "action",
  "formaction",
  "ping",
  "id",
  "name",
  "role",
  "target",
  "xlink:href",
];

let purifier: Purifier | null = null;

function purify(): Purifier {
  if (purifier) return purifier;
  const instance = DOMPurify(window);
  // Placeholders this module puts in for blocked images: the sanitiser walks
  // them too (and drops their class, as any other), so the class is put back.
  const placeholders = new WeakSet<Node>();
  instance.addHook("afterSanitizeAttributes", (node) => {
    if (placeholders.has(node)) {
      node.setAttribute("class", "md-blocked-image");
      return;
    }
    if (node.tagName === "A") {
      const href = node.getAttribute("href");
      node.removeAttribute("href");
      node.removeAttribute("rel");
      if (href) node.setAttribute("title", href);
      node.setAttribute("class", "md-link");
      return;
    }
    if (node.tagName === "IMG") {
      const src = safeImageSrc(node.getAttribute("src"));
      if (src === null) {
        const alt = node.getAttribute("alt") ?? "";
        const placeholder = node.ownerDocument.createElement("span");
        placeholder.className = "md-blocked-image";
        placeholder.textContent = alt ? `[${alt}]` : "[image]";
        placeholders.add(placeholder);
        node.replaceWith(placeholder);
        return;
      }
      node.setAttribute("src", src);
      node.setAttribute("loading", "lazy");
      node.setAttribute("decoding", "async");
    }
  });
  purifier = instance;
  return instance;
}

/** The src an image may keep, or null to drop it. */
export function safeImageSrc(src: string | null): string | null {
  if (!src) return null;
  const value = src.trim();
  if (/^data:image\/(png|jpe?g|gif|webp|avif|bmp);/i.test(value)) return value;
  const attachment = /^attachment:([\w.-]+)$/i.exec(value);
  if (attachment) return attachmentUrl(attachment[1]!);
  return null;
}

/** Sanitised HTML for a message's Markdown. */
export function renderMarkdown(text: string): string {
  let html: string;
  try {
    html = marked.parse(text) as string;
  } catch {
    html = text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }
  return sanitize(html);
}

/** `html` (from Markdown) with everything the strict policy forbids removed. */
export function sanitize(html: string): string {
  return purify().sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS,
    FORBID_ATTR,
    ALLOW_ARIA_ATTR: false,
    ALLOW_DATA_ATTR: false,
    ALLOW_UNKNOWN_PROTOCOLS: false,
  });
}

const cache = new Map<string, string>();
const CACHE_LIMIT = 600;

/**
 * Seeds the cache with `html` already rendered for `text` (a streamed reply's
 * last incremental render, which equals its whole render): the saved reply
 * then shows without parsing it all again in one long task.
 */
export function rememberRendered(text: string, html: string): void {
  if (cache.has(text)) return;
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(text, html);
}

/** renderMarkdown with a small cache: scrolling back and forth re-renders nothing. */
export function renderCached(text: string): string {
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const html = renderMarkdown(text);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(text, html);
  return html;
}
