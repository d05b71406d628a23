// The user guide's "Keyboard shortcuts" section, as Help renders it, lists every
// shortcut of lib/shortcuts.ts with both platforms' keys, in English and Russian:
// a shortcut added to the app and not to the guide fails here.

import { expect, test } from "vitest";
import type { Language } from "../src/lib/api";
import { renderDoc } from "../src/lib/help/docs";
import { shortcutRows } from "../src/lib/shortcuts";

const SECTION: Record<Language, string> = { en: "Keyboard shortcuts", ru: "Сочетания клавиш" };

/** The rendered section under the heading `title`, up to the next section. */
function section(language: Language): string {
  const doc = renderDoc("guide", language);
  const heading = doc.headings.find((h) => h.text === SECTION[language]);
  expect(heading, `the ${language} guide has a "${SECTION[language]}" section`).toBeDefined();
  const start = doc.html.indexOf(`<h2 id="${heading?.id}">`);
  const end = doc.html.indexOf("<h2", start + 1);
  return doc.html.slice(start, end === -1 ? undefined : end);
}

/** The keys as the guide writes them: `<kbd>Ctrl</kbd>+<kbd>K</kbd>`. */
const combo = (keys: string[]): string => keys.map((key) => `<kbd>${key}</kbd>`).join("+");

for (const language of ["en", "ru"] as const) {
  test(`the ${language} guide lists every shortcut, for the Mac and the rest, one table row each`, () => {
    const html = section(language);
    const rows = html.split("<tr>").slice(1);
    const pc = shortcutRows(false);
    const mac = shortcutRows(true);
    expect(pc.map((row) => row.label)).toEqual(mac.map((row) => row.label));
    pc.forEach((row, index) => {
      const keys = combo(row.keys);
      const macKeys = combo(mac[index]?.keys ?? []);
      // The row's first cell starts with the keys, so "↑" is not found inside "Alt+↑".
      const found = rows.find((tr) => tr.replace(/^\s*<td>/, "").startsWith(keys));
      expect(found, `${language}: a row for ${row.label} (${keys})`).toBeDefined();
      expect(found, `${language}: ${row.label} on a Mac (${macKeys})`).toContain(macKeys);
    });
    // And nothing else: one row per shortcut (the header row aside).
    expect(rows.filter((tr) => tr.includes("<td>"))).toHaveLength(pc.length);
  });
}
