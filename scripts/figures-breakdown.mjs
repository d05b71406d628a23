// Where `make figures` says the memory and the start-up time go: pure functions over
// /proc/PID/smaps text and over the time stamps of one launch, tested in
// scripts/tests/figures-breakdown.test.mjs and used by tests/e2e/figures.mjs.

/** The kinds of memory a mapping is counted under, in the order they are printed. */
export const KINDS = ["heap", "jit", "stack", "libs", "files", "gpu/shm"];

const KIND_LABEL = {
  heap: "anonymous heap (malloc, JS objects, caches)",
  jit: "JS/JIT code (anonymous, executable)",
  stack: "thread stacks",
  libs: "shared libraries (file-backed)",
  files: "other files (the app's own binary, fonts, ICU data, caches)",
  "gpu/shm": "GPU and shared memory (DRM, memfd, shm)",
};
export const kindLabel = (kind) => KIND_LABEL[kind] ?? kind;

const HEADER = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S{4})\s+\S+\s+\S+\s+\d+\s*(.*)$/;

/**
 * One mapping's kind. Anonymous memory cannot be told apart further by its mapping
 * (JavaScriptCore's heap and malloc's both are plain anonymous pages), except the
 * JIT's code, which is the only anonymous memory that is executable.
 */
export function kindOf(path, perms, shmemKb = 0) {
  const name = path.trim();
  if (
    shmemKb > 0 ||
    /^\/dev\/(dri|shm|nvidia|mali|kgsl)/.test(name) ||
    name.startsWith("/memfd:") ||
    name.startsWith("/SYSV") ||
    /^anon_inode:(dmabuf|sync_file|\[?dma)/i.test(name)
  ) {
    return "gpu/shm";
  }
  if (name === "[stack]" || name.startsWith("[stack:") || name.startsWith("[anon:stack")) return "stack";
  if (name === "" || name === "[heap]" || name.startsWith("[anon")) return perms.includes("x") ? "jit" : "heap";
  if (name.startsWith("[")) return "heap"; // [vvar], [vdso] and the like: a few kB
  if (/\.so(\.[\d.]+)?( \(deleted\))?$/.test(name) || name.includes(".so.")) return "libs";
  return "files";
}

/** A short name for what a mapping is: the library's or file's base name, or its anonymous kind. */
function labelOf(path, kind) {
  const name = path.trim();
  if (kind === "heap" || kind === "jit" || kind === "stack") return name.startsWith("[anon:") ? name : kind;
  const base = name.replace(/ \(deleted\)$/, "").split("/").pop() || name;
  return base;
}

/**
 * Sums /proc/PID/smaps by kind (kB of PSS), and the largest mappings grouped by name.
 * @returns {{ totalKb: number, byKind: Record<string, number>, top: {name: string, kind: string, kb: number}[] }}
 */
export function smapsBreakdown(text, topN = 6) {
  const byKind = Object.fromEntries(KINDS.map((k) => [k, 0]));
  const byName = new Map();
  let current = null;
  const flush = () => {
    if (!current) return;
    const kind = kindOf(current.path, current.perms, current.shmem);
    byKind[kind] += current.pss;
    const name = labelOf(current.path, kind);
    const key = `${kind}\0${name}`;
    const entry = byName.get(key) ?? { name, kind, kb: 0 };
    entry.kb += current.pss;
    byName.set(key, entry);
  };
  for (const line of text.split("\n")) {
    const header = HEADER.exec(line);
    if (header) {
      flush();
      current = { perms: header[3], path: header[4] ?? "", pss: 0, shmem: 0 };
      continue;
    }
    if (!current) continue;
    const field = /^(\w+):\s+(\d+) kB/.exec(line);
    if (!field) continue;
    if (field[1] === "Pss") current.pss = Number(field[2]);
    else if (field[1] === "Pss_Shmem") current.shmem = Number(field[2]);
  }
  flush();
  const totalKb = Object.values(byKind).reduce((a, b) => a + b, 0);
  const top = [...byName.values()].sort((a, b) => b.kb - a.kb).slice(0, topN);
  return { totalKb, byKind, top };
}

/** The app's start-up log lines (`confab_app::startup` at info level): phase -> wall-clock ms. */
export function parseStartupLog(text, pid) {
  const phases = {};
  for (const line of text.split("\n")) {
    // tracing's default format: "2026-12-05T07:20:01.123456Z  INFO confab_app::startup: ... phase=setup pid=123"
    const match = /^(\S+Z)\s+INFO\s+confab_app::startup:.*\bphase="?([\w-]+)"?.*\bpid=(\d+)/.exec(line.replace(/\x1b\[[0-9;]*m/g, ""));
    if (!match || Number(match[3]) !== pid) continue;
    const at = Date.parse(match[1]);
    if (Number.isFinite(at) && !(match[2] in phases)) phases[match[2]] = at;
  }
  return phases;
}

/**
 * The cold start as steps: each named moment with its time since the process
 * started, in the order they happened (moments that were not seen are left out).
 * @param {number} startMs the process's start (wall clock)
 * @param {[string, number | null | undefined][]} moments [label, wall-clock ms]
 */
export function timeline(startMs, moments) {
  return moments
    .filter(([, at]) => typeof at === "number" && Number.isFinite(at))
    .map(([label, at]) => ({ label, ms: at - startMs }))
    .sort((a, b) => a.ms - b.ms);
}

/**
 * PSS as if these processes were alone on the machine: each resident page is split
 * among the mappings of it in these processes only. (The kernel's PSS splits a shared
 * library's pages among every process that maps them, so another WebKit app running
 * meanwhile lowers ours; this one does not move with the neighbours.)
 * @param {{pid: number, pages: {pfn: bigint | number, kind: string}[]}[]} processes
 * @returns {Map<number, Record<string, number>>} pid -> kind -> kB
 */
export function ownShare(processes, pageKb = 4) {
  const mappers = new Map();
  for (const { pages } of processes) {
    for (const { pfn } of pages) mappers.set(pfn, (mappers.get(pfn) ?? 0) + 1);
  }
  const out = new Map();
  for (const { pid, pages } of processes) {
    const byKind = Object.fromEntries(KINDS.map((k) => [k, 0]));
    for (const { pfn, kind } of pages) byKind[kind] += pageKb / mappers.get(pfn);
    out.set(pid, byKind);
  }
  return out;
}

/** The resident mappings of a smaps text: [start, end) addresses and their kind. */
export function residentMappings(text) {
  const out = [];
  let current = null;
  for (const line of text.split("\n")) {
    const header = HEADER.exec(line);
    if (header) {
      current = { start: BigInt(`0x${header[1]}`), end: BigInt(`0x${header[2]}`), perms: header[3], path: header[4] ?? "", rss: 0, shmem: 0 };
      out.push(current);
      continue;
    }
    const field = current && /^(\w+):\s+(\d+) kB/.exec(line);
    if (!field) continue;
    if (field[1] === "Rss") current.rss = Number(field[2]);
    else if (field[1] === "Pss_Shmem") current.shmem = Number(field[2]);
  }
  return out.filter((m) => m.rss > 0).map((m) => ({ start: m.start, end: m.end, kind: kindOf(m.path, m.perms, m.shmem) }));
}
