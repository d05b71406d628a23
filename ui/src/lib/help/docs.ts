// The user guide and the troubleshooting page (docs/ in the repository),
// bundled into the UI at build time: Help works offline and the same on every
// OS, with no file paths to find and no browser to start. Each page exists in
// English and Russian; the window's language picks one.

import DOMPurify from "dompurify";
import { Marked } from "marked";
import type { Language } from "../api";
import guideEn from "../../../../docs/en/user-guide.md?raw";
import guideRu from "../../../../docs/ru/user-guide.md?raw";
import troubleEn from "../../../../docs/en/troubleshooting.md?raw";
import troubleRu from "../../../../docs/ru/troubleshooting.md?raw";

export const DOC_IDS = ["guide", "troubleshooting"] as const;
export type DocId = (typeof DOC_IDS)[number];

const SOURCES: Record<DocId, Record<Language, string>> = {
  guide: { en: guideEn, ru: guideRu },
  troubleshooting: { en: troubleEn, ru: troubleRu },
};

/** The file name each page has in docs/, for links between them. */
const FILE_NAMES: Record<string, DocId> = {
  "user-guide.md": "guide",
  "troubleshooting.md": "troubleshooting",
};

export type Heading = { id: string; text: string };
export type RenderedDoc = { html: string; title: string; headings: Heading[] };

/** A heading's anchor, as GitHub makes it (so links work there and here alike). */
export function slug(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, "")
    .replace(/\s/g, "-");
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Renders a page: HTML with ids on headings, its title, and its sections for the contents list. */
export function renderDoc(id: DocId, language: Language): RenderedDoc {
  const source = SOURCES[id][language];
  const headings: Heading[] = [];
  let title = "";
  const marked = new Marked({ gfm: true, async: false });
  marked.use({
    renderer: {
      heading({ tokens, depth }) {
        const html = this.parser.parseInline(tokens);
        const text = tokens.map((t) => ("text" in t ? t.text : t.raw)).join("");
        const anchor = slug(text);
        if (depth === 1 && title === "") title = text;
        if (depth === 2) headings.push({ id: anchor, text });
        return `<h${depth} id="${anchor}">${html}</h${depth}>\n`;
      },
      // A code block scrolls sideways when its lines are long: the keyboard must reach it.
      code({ text }) {
        return `<pre tabindex="0"><code>${escapeHtml(text)}</code></pre>\n`;
      },
    },
  });
  const raw = marked.parse(source) as string;
  // Our own text, but sanitised all the same: nothing in Help may run.
  const html = DOMPurify.sanitize(raw, { FORBID_TAGS: ["style", "script", "iframe", "form", "img"], ADD_ATTR: ["tabindex"] });
  return { html, title, headings };
}

/** Where a link in a page points: another page and/or a section, or outside (null). */
export function linkTarget(href: string, current: DocId): { doc: DocId; anchor: string | null } | null {
  const [path = "", anchor = ""] = href.split("#", 2);
  if (path === "") return { doc: current, anchor: anchor || null };
  const file = path.split("/").pop() ?? "";
  const doc = FILE_NAMES[file];
  return doc ? { doc, anchor: anchor || null } : null;
}
