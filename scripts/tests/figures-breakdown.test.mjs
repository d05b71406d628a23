// `make figures`' breakdowns: smaps summed by kind of memory, the app's start-up log
// read for one process, and the cold-start steps put in order.
import assert from "node:assert/strict";
import { test } from "node:test";
import { kindOf, ownShare, parseStartupLog, residentMappings, smapsBreakdown, timeline } from "../figures-breakdown.mjs";

/** One smaps entry as the kernel writes it (the fields the breakdown reads, and one it does not). */
const entry = (header, pss, shmem = 0) =>
  `${header}\nSize:               1024 kB\nPss:                ${pss} kB\nPss_Shmem:          ${shmem} kB\nVmFlags: rd wr mr mw me ac\n`;

const SMAPS = [
  entry("55d0c0000000-55d0c1000000 rw-p 00000000 00:00 0                          [heap]", 3000),
  entry("7f0000000000-7f0004000000 rw-p 00000000 00:00 0 ", 50000),
  entry("7f1000000000-7f1000800000 rwxp 00000000 00:00 0 ", 4000),
  entry("7f2000000000-7f2000400000 r-xp 00000000 08:01 1234                       /usr/lib/x86_64-linux-gnu/libwebkit2gtk-4.1.so.0.19.5", 30000),
  entry("7f2000400000-7f2000500000 r--p 00400000 08:01 1234                       /usr/lib/x86_64-linux-gnu/libwebkit2gtk-4.1.so.0.19.5", 2000),
  entry("7f3000000000-7f3000100000 r--p 00000000 08:01 99                         /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 700),
  entry("7f4000000000-7f4000100000 rw-s 00000000 00:05 77                         /memfd:wayland-shm (deleted)", 900, 900),
  entry("7f5000000000-7f5000100000 rw-s 00000000 00:06 12                         /dev/dri/renderD128", 1500),
  entry("7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]", 136),
].join("");

test("smaps is summed by kind, and the largest mappings are named", () => {
  const { totalKb, byKind, top } = smapsBreakdown(SMAPS, 3);
  assert.deepEqual(byKind, { heap: 53000, jit: 4000, stack: 136, libs: 32000, files: 700, "gpu/shm": 2400 });
  assert.equal(totalKb, 53000 + 4000 + 136 + 32000 + 700 + 2400);
  // A library's mappings count together, under its file name.
  assert.deepEqual(top, [
    { name: "heap", kind: "heap", kb: 53000 },
    { name: "libwebkit2gtk-4.1.so.0.19.5", kind: "libs", kb: 32000 },
    { name: "jit", kind: "jit", kb: 4000 },
  ]);
});

test("a mapping's kind: executable anonymous memory is the JIT's, shared memory is GPU/shm", () => {
  assert.equal(kindOf("", "r-xp"), "jit");
  assert.equal(kindOf("[anon:JSC]", "rw-p"), "heap");
  assert.equal(kindOf("/usr/lib/libLLVM-15.so.1", "r-xp"), "libs");
  assert.equal(kindOf("/usr/share/icu/72.1/icudt72l.dat", "r--p"), "files");
  assert.equal(kindOf("/SYSV00000000 (deleted)", "rw-s"), "gpu/shm");
  assert.equal(kindOf("anon_inode:dmabuf", "rw-s"), "gpu/shm");
  // Anything that counts shared memory is counted there, whatever its name.
  assert.equal(kindOf("", "rw-s", 12), "gpu/shm");
});

test("the start-up log gives each phase's first time, for the process asked about only", () => {
  const log = [
    "2026-12-05T07:20:01.100000Z  INFO confab_app::startup: start-up phase=main pid=41",
    "2026-12-05T07:20:01.250000Z  INFO confab_app::startup: start-up phase=setup pid=41",
    "2026-12-05T07:20:01.260000Z  INFO confab_app::startup: start-up phase=setup pid=41",
    "2026-12-05T07:20:02.000000Z  INFO confab_app::startup: start-up phase=main pid=42",
    "\x1b[2m2026-12-05T07:20:01.400000Z\x1b[0m \x1b[32m INFO\x1b[0m confab_app::startup: start-up phase=\"page-started\" pid=41",
    "WebKitWebDriver: something else entirely",
  ].join("\n");
  assert.deepEqual(parseStartupLog(log, 41), {
    main: Date.parse("2026-12-05T07:20:01.100Z"),
    setup: Date.parse("2026-12-05T07:20:01.250Z"),
    "page-started": Date.parse("2026-12-05T07:20:01.400Z"),
  });
  assert.deepEqual(parseStartupLog(log, 7), {});
});

test("the timeline is in the order things happened, from the process's start, without the missing steps", () => {
  assert.deepEqual(
    timeline(1000, [
      ["started", 1000],
      ["interactive", 1900],
      ["setup", 1200],
      ["not seen", null],
    ]),
    [
      { label: "started", ms: 0 },
      { label: "setup", ms: 200 },
      { label: "interactive", ms: 900 },
    ],
  );
});

test("own share: a page shared by two of our processes counts half in each, a private one whole", () => {
  const shares = ownShare([
    { pid: 1, pages: [{ pfn: 10n, kind: "libs" }, { pfn: 11n, kind: "heap" }] },
    { pid: 2, pages: [{ pfn: 10n, kind: "libs" }, { pfn: 12n, kind: "heap" }, { pfn: 13n, kind: "heap" }] },
  ]);
  assert.equal(shares.get(1).libs, 2);
  assert.equal(shares.get(1).heap, 4);
  assert.equal(shares.get(2).libs, 2);
  assert.equal(shares.get(2).heap, 8);
});

test("resident mappings: only those with pages in memory, with their kind", () => {
  const mappings = residentMappings(SMAPS.replace("Pss:                700 kB", "Pss:                700 kB\nRss:                0 kB").replaceAll("Size:", "Rss:"));
  assert.equal(mappings.length, 8); // the font's mapping has nothing resident
  assert.deepEqual(mappings[0], { start: 0x55d0c0000000n, end: 0x55d0c1000000n, kind: "heap" });
  assert.equal(mappings.filter((m) => m.kind === "libs").length, 2);
});
