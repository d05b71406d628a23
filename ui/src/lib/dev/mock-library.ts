// The dev mock's character library: a dozen sample characters with drawn
// SVG avatars, and fake versions of every library command.

import type {
  ApiError,
  CardData,
  CharacterDetail,
  CharacterQuery,
  CharacterSummary,
  ExportFormat,
  ImportEvent,
  ImportOutcome,
  ImportSummary,
  LibraryFacets,
} from "../api";

type Sample = {
  name: string;
  creator: string;
  tags: string[];
  collections: string[];
  avatar: boolean;
  description: string;
};

const SAMPLES: Sample[] = [
  { name: "Aria Voss", creator: "nightglass", tags: ["sci-fi", "pilot", "adventure"], collections: ["Starfall"], avatar: true, description: "A smuggler-turned-pilot with a ship held together by tape and spite." },
  { name: "Brother Ignatius", creator: "quillwright", tags: ["fantasy", "mentor"], collections: ["Old Kingdoms"], avatar: true, description: "A monk who keeps the last library of a fallen empire." },
  { name: "Captain Mara Quell", creator: "nightglass", tags: ["sci-fi", "military"], collections: ["Starfall"], avatar: false, description: "Commander of the frigate Perihelion. Dry humour, no patience." },
  { name: "Dr. Elise Hartmann", creator: "lab_notes", tags: ["mystery", "doctor", "noir"], collections: [], avatar: true, description: "A forensic pathologist in 1920s Vienna." },
  { name: "Ember", creator: "pyre", tags: ["fantasy", "dragon"], collections: ["Old Kingdoms"], avatar: true, description: "A young dragon who would rather read than hoard gold." },
  { name: "Felix the Innkeeper", creator: "quillwright", tags: ["fantasy", "cozy", "slice of life"], collections: ["Old Kingdoms"], avatar: false, description: "Runs the Crooked Lantern. Knows everybody's business." },
  { name: "Hana Mori", creator: "sakura.works", tags: ["slice of life", "school"], collections: [], avatar: true, description: "The literature club's quiet president." },
  { name: "Kestrel", creator: "pyre", tags: ["adventure", "ranger"], collections: [], avatar: true, description: "A ranger of the northern marches." },
  { name: "Lord Ashcombe", creator: "gaslight", tags: ["noir", "mystery", "victorian"], collections: ["Gaslight"], avatar: false, description: "A peer of the realm with too many secrets." },
  { name: "Nova-7", creator: "lab_notes", tags: ["sci-fi", "android", "companion"], collections: ["Starfall"], avatar: true, description: "A maintenance android who has started writing poetry." },
  { name: "Olga Petrova", creator: "gaslight", tags: ["historical", "spy"], collections: ["Gaslight"], avatar: true, description: "A translator at the embassy. Probably." },
  { name: "Zoë Lambert", creator: "sakura.works", tags: ["romance", "artist", "cozy"], collections: [], avatar: false, description: "A painter who runs a tiny café on the harbour." },
];

/** Richer example dialogue for a few characters (two example chats each). */
const SAMPLE_EXAMPLES: Readonly<Record<string, string>> = {
  Ember: [
    "<START>",
    "{{user}}: What are you reading?",
    "{{char}}: *pushes her spectacles up her snout* A treatise on bell-casting. Did you know bronze sings differently in the cold?",
    "{{user}}: I did not.",
    "{{char}}: Nobody does! That's what makes it *wonderful*.",
    "<START>",
    "{{user}}: Do dragons really hoard gold?",
    "{{char}}: Some do. I hoard footnotes. They're lighter, and nobody tries to steal them.",
  ].join("\n"),
};

/** A Character's note (ST depth prompt) for a few characters. */
const SAMPLE_NOTES: Readonly<Record<string, { prompt: string; depth: number; role: string }>> = {
  Ember: { prompt: "[{{char}} is secretly terrified of the third bell and changes the subject when it comes up.]", depth: 2, role: "system" },
};

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 20, 18, 0, 0);

function svgAvatar(seed: number, size: "thumb" | "full"): string {
  const hue = (seed * 47) % 360;
  const w = size === "thumb" ? 256 : 512;
  const h = Math.round((w * 3) / 2);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 200 300">
<defs><linearGradient id="g" x1="0" y1="0" x2="0.6" y2="1"><stop offset="0" stop-color="hsl(${hue} 65% 70%)"/><stop offset="1" stop-color="hsl(${(hue + 50) % 360} 55% 30%)"/></linearGradient>
<radialGradient id="l" cx="0.3" cy="0.15" r="0.8"><stop offset="0" stop-color="white" stop-opacity="0.35"/><stop offset="1" stop-color="white" stop-opacity="0"/></radialGradient></defs>
<rect width="200" height="300" fill="url(#g)"/><rect width="200" height="300" fill="url(#l)"/>
<circle cx="100" cy="122" r="46" fill="hsl(${(hue + 20) % 360} 35% 86%)"/>
<path d="M22 300c6-70 40-108 78-108s72 38 78 108z" fill="hsl(${(hue + 200) % 360} 35% 28%)"/>
<path d="M54 118c0-34 20-56 46-56s46 22 46 56c-8-18-24-28-46-28s-38 10-46 28z" fill="hsl(${(hue + 330) % 360} 40% 22%)"/></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

function card(sample: Sample, index: number): CardData {
  return {
    name: sample.name,
    nickname: index === 0 ? "Ari" : null,
    description: `${sample.description}\n\n{{char}} speaks plainly and remembers every favour owed.`,
    personality: "Curious, guarded, quick to laugh once trust is earned.",
    scenario: "{{user}} meets {{char}} at the start of a long journey.",
    first_mes: `*${sample.name} looks up as you come in.* "You're late. Sit down, we have a lot to talk about."`,
    mes_example: SAMPLE_EXAMPLES[sample.name] ?? `<START>\n{{user}}: Who are you?\n{{char}}: Someone who was expecting you.`,
    alternate_greetings: index % 3 === 0 ? ['"Oh. It\'s you again."', "*waves you over without a word*"] : [],
    group_only_greetings: [],
    system_prompt: "",
    post_history_instructions: "",
    creator_notes: `Made by ${sample.creator}. Works best with a long context.`,
    creator_notes_multilingual: index === 0 ? { ru: "Лучше всего работает с длинным контекстом." } : {},
    tags: sample.tags,
    creator: sample.creator,
    character_version: "1.2",
    source: index % 2 === 0 ? [`https://example.org/cards/${index + 1}`] : [],
    creation_date: Math.round((NOW - (index + 3) * 9 * DAY) / 1000),
    modification_date: Math.round((NOW - (index + 1) * 2 * DAY) / 1000),
    assets: [],
    character_book:
      index % 4 === 0
        ? { name: `${sample.name} lore`, entries: [{ keys: ["ship"], content: "…" }, { keys: ["home"], content: "…" }, { keys: ["past"], content: "…" }] }
        : null,
    extensions: SAMPLE_NOTES[sample.name]
      ? { depth_prompt: SAMPLE_NOTES[sample.name]!, talkativeness: "0.5", fav: true }
      : index % 2 === 0
        ? { depth_prompt: { prompt: "", depth: 4 }, talkativeness: "0.5", fav: false }
        : {},
  };
}

type Entry = { detail: CharacterDetail; seed: number };

export class MockLibrary {
  #entries = new Map<string, Entry>();
  #nextId = 1;

  constructor(populated: boolean) {
    if (!populated) return;
    SAMPLES.forEach((sample, index) => {
      const id = this.#id();
      const summary: CharacterSummary = {
        id,
        name: sample.name,
        creator: sample.creator,
        tags: sample.tags,
        collections: sample.collections,
        avatarKey: sample.avatar ? `k${index}` : null,
        createdAt: NOW - (index * 5 + 2) * DAY,
        updatedAt: NOW - index * DAY,
        lastUsedAt: index % 3 === 1 ? null : NOW - ((index * 7) % 12) * DAY,
      };
      this.#entries.set(id, {
        seed: index + 1,
        detail: {
          summary,
          card: card(sample, index),
          spec: index % 3 === 2 ? "v2" : "v3",
          format: index % 4 === 3 ? "charx" : "png",
          sourceFile: `${sample.name.replace(/[^\p{L}\p{N}]+/gu, "_")}.${index % 4 === 3 ? "charx" : "png"}`,
          assets:
            index % 4 === 3
              ? [
                  { kind: "background", name: "tavern", ext: "webp", size: 184_320 },
                  { kind: "emotion", name: "happy", ext: "png", size: 48_210 },
                ]
              : [],
          pendingDictionary:
            index === 1
              ? [
                  { find: "Captain", replace: "Cap'n", regex: false, caseSensitive: true, enabled: true, scope: "both" },
                  { find: "\\bsmiles?\\b", replace: "grins", regex: true, caseSensitive: false, enabled: true, scope: "display" },
                ]
              : [],
        },
      });
    });
  }

  /** `avatar://` URLs become drawn SVGs (the `#` keeps the `?v=` suffix out of the data). */
  avatarSrc(path: string): string {
    const [size, id] = path.split("/");
    const entry = this.#entries.get(id ?? "");
    return `${svgAvatar(entry?.seed ?? 1, size === "full" ? "full" : "thumb")}#`;
  }

  list(query: CharacterQuery): CharacterSummary[] {
    const all = [...this.#entries.values()].map((e) => e.detail.summary);
    const sorted = [...all];
    if (query.sort === "name") sorted.sort((a, b) => a.name.localeCompare(b.name));
    else if (query.sort === "recentlyAdded") sorted.sort((a, b) => b.createdAt - a.createdAt);
    else sorted.sort((a, b) => (b.lastUsedAt ?? 0) - (a.lastUsedAt ?? 0) || b.createdAt - a.createdAt);
    return sorted;
  }

  facets(): LibraryFacets {
    const count = (pick: (s: CharacterSummary) => string[]): Map<string, number> => {
      const counts = new Map<string, number>();
      for (const e of this.#entries.values()) for (const n of pick(e.detail.summary)) counts.set(n, (counts.get(n) ?? 0) + 1);
      return counts;
    };
    return {
      tags: [...count((s) => s.tags)].map(([name, c]) => ({ name, count: c })).sort((a, b) => b.count - a.count || a.name.localeCompare(b.name)),
      collections: [...count((s) => s.collections)].map(([name, c]) => ({ name, count: c })).sort((a, b) => a.name.localeCompare(b.name)),
    };
  }

  get(id: string): CharacterDetail {
    const entry = this.#entries.get(id);
    if (!entry) throw notFound(id);
    return entry.detail;
  }

  update(id: string, data: CardData): CharacterDetail {
    const entry = this.#entries.get(id);
    if (!entry) throw notFound(id);
    entry.detail = {
      ...entry.detail,
      card: data,
      summary: { ...entry.detail.summary, name: data.name, creator: data.creator, tags: data.tags, updatedAt: Date.now() },
    };
    return entry.detail;
  }

  delete(id: string): null {
    if (!this.#entries.delete(id)) throw notFound(id);
    return null;
  }

  replace(targetId: string, sourceId: string): CharacterDetail {
    const source = this.get(sourceId);
    const target = this.get(targetId);
    this.#entries.delete(sourceId);
    return this.update(targetId, { ...source.card, name: target.card.name });
  }

  export(id: string, format: ExportFormat): { path: string; fileName: string } {
    const detail = this.get(id);
    const ext = format === "png" ? "png" : format === "charx" ? "charx" : "json";
    const fileName = `${detail.card.name.replace(/[^\p{L}\p{N}]+/gu, "_")}${format === "jsonV2" ? ".v2" : ""}.${ext}`;
    return { path: `/home/alex/Downloads/${fileName}`, fileName };
  }

  /** A fake import of one file, decided by its name. */
  importOne(file: string): ImportOutcome {
    const base = file.split(/[\\/]/).pop() ?? file;
    const stem = base.replace(/\.[^.]+$/, "");
    const failed = (error: ApiError): ImportOutcome => ({ file, status: "failed", characterId: null, name: null, worldBookId: null, sessionId: null, sameNameAs: null, pendingDictionaryRules: 0, error: { ...error, path: null } });
    if (/\.(txt|pdf|docx)$/i.test(base) && stem.toLowerCase().includes("notes")) {
      return failed({ code: "unsupported_format", message: `${base} is not a format Confab can import (a plain text note)` });
    }
    if (/photo|holiday|screenshot/i.test(stem)) {
      return failed({ code: "no_card_data", message: `${base} has no character card in it` });
    }
    if (/broken|corrupt/i.test(stem)) {
      return failed({ code: "invalid_card", message: `${base} is not a readable character card: data.name is missing` });
    }
    const existing = [...this.#entries.values()].find((e) => e.detail.card.name.toLowerCase() === stem.replace(/_/g, " ").toLowerCase());
    if (existing && /dup/i.test(file)) {
      return { file, status: "alreadyInLibrary", characterId: existing.detail.summary.id, name: existing.detail.card.name, worldBookId: null, sessionId: null, sameNameAs: null, pendingDictionaryRules: 0, error: null };
    }
    const name = existing ? existing.detail.card.name : stem.replace(/_/g, " ");
    const id = this.#id();
    const sample: Sample = { name, creator: "imported", tags: ["new"], collections: [], avatar: true, description: "Freshly imported." };
    this.#entries.set(id, {
      seed: this.#nextId,
      detail: {
        summary: { id, name, creator: sample.creator, tags: sample.tags, collections: [], avatarKey: `n${id}`, createdAt: Date.now(), updatedAt: Date.now(), lastUsedAt: null },
        card: card(sample, 1),
        spec: "v3",
        format: "png",
        sourceFile: base,
        assets: [],
        pendingDictionary: [],
      },
    });
    return { file, status: "imported", characterId: id, name, worldBookId: null, sessionId: null, sameNameAs: existing ? existing.detail.summary.id : null, pendingDictionaryRules: 0, error: null };
  }

  async importPaths(paths: string[], emit: (event: ImportEvent) => void): Promise<ImportSummary> {
    emit({ kind: "started", total: paths.length });
    const outcomes: ImportOutcome[] = [];
    for (const [index, path] of paths.entries()) {
      await new Promise((resolve) => setTimeout(resolve, 120));
      const outcome = this.importOne(path);
      outcomes.push(outcome);
      emit({ kind: "progress", done: index + 1, total: paths.length, outcome });
    }
    const summary: ImportSummary = {
      imported: outcomes.filter((o) => o.status === "imported").length,
      alreadyInLibrary: outcomes.filter((o) => o.status === "alreadyInLibrary").length,
      failed: outcomes.filter((o) => o.status === "failed").length,
      outcomes,
    };
    emit({ kind: "finished", summary });
    return summary;
  }

  #id(): string {
    return `00000000-0000-4000-8000-${String(this.#nextId++).padStart(12, "0")}`;
  }
}

function notFound(id: string): ApiError {
  return { code: "not_found", message: `character ${id} was not found` };
}
