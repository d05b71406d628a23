// `make figures`: cold start and memory of the release build against the debug
// build, measured in the same run through tauri-driver (started by scripts/figures.sh).
//
//   node figures.mjs   with CONFAB_WEBDRIVER, CONFAB_FIGURES_DATA (the data folder the
//                      driver hands the app), CONFAB_FIGURES_TEMPLATE (a seeded library
//                      copied there before each launch), CONFAB_FIGURES_BUILDS
//                      ("release=PATH,debug=PATH"), CONFAB_FIGURES_RUNS (launches per build)
//
// Cold start: from the app process's start (/proc/PID/stat) to the library's
// "confab:library-interactive" performance mark (its list loaded and painted), both
// on the wall clock, with the steps between: the app's own start-up log lines
// (CONFAB_LOG=confab_app::startup=info, read from CONFAB_FIGURES_LOG, where the
// driver writes the app's stderr), the webview's navigation timing and the UI's marks.
// Memory: PSS (/proc/PID/smaps) of the app and every process under it (WebKit's web
// and network processes), after the app has settled, idle on the library and then
// with the 10,000-message chat open, by process and by kind of memory.
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync } from "node:fs";
import { Builder, By, until } from "selenium-webdriver";
import { KINDS, kindLabel, ownShare, parseStartupLog, residentMappings, smapsBreakdown, timeline } from "../../scripts/figures-breakdown.mjs";

const SERVER = process.env.CONFAB_WEBDRIVER;
const DATA = process.env.CONFAB_FIGURES_DATA;
const TEMPLATE = process.env.CONFAB_FIGURES_TEMPLATE;
const XDG = process.env.CONFAB_FIGURES_XDG;
const LOG = process.env.CONFAB_FIGURES_LOG;
const BUILDS = (process.env.CONFAB_FIGURES_BUILDS ?? "").split(",").filter(Boolean).map((b) => b.split("="));
const RUNS = Number(process.env.CONFAB_FIGURES_RUNS ?? 3);
const SETTLE_MS = Number(process.env.CONFAB_FIGURES_SETTLE_MS ?? 3000);
const WAIT_MS = 60_000;
const CLK_TCK = 100; // USER_HZ: /proc's clock ticks are 1/100 s on Linux

if (!SERVER || !DATA || !TEMPLATE || BUILDS.length === 0) {
  console.error("run through scripts/figures.sh");
  process.exit(2);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wall-clock milliseconds at which a process started (boot time from /proc/uptime, 10 ms resolution). */
function processStartEpochMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const startTicks = Number(fields[19]); // field 22 of stat; counted from after "(comm) "
  const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  const bootEpochMs = Date.now() - uptime * 1000;
  return bootEpochMs + (startTicks / CLK_TCK) * 1000;
}

/** pid -> [child pids], for every process now. */
function childrenMap() {
  const map = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!map.has(ppid)) map.set(ppid, []);
      map.get(ppid).push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return map;
}

function descendants(pid, map = childrenMap()) {
  const out = [];
  for (const child of map.get(pid) ?? []) out.push(child, ...descendants(child, map));
  return out;
}

const exeOf = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0];
  } catch {
    return "";
  }
};

/** The app's process: started from `binary`, under this run's tauri-driver. */
function findApp(binary) {
  const driverPid = Number(process.env.CONFAB_DRIVER_PID);
  const pids = descendants(driverPid).filter((pid) => exeOf(pid) === binary);
  if (pids.length !== 1) throw new Error(`expected one ${binary} under tauri-driver, found ${pids.length}`);
  return pids[0];
}

/** The physical pages (frame numbers) of a process's resident mappings, with their kind; [] without root. */
function residentPages(pid, smaps) {
  const pages = [];
  let fd;
  try {
    fd = openSync(`/proc/${pid}/pagemap`, "r");
  } catch {
    return pages;
  }
  try {
    const chunk = Buffer.alloc(8 * 65536);
    for (const { start, end, kind } of residentMappings(smaps)) {
      for (let page = start / 4096n; page < end / 4096n; page += 65536n) {
        const count = Number(end / 4096n - page < 65536n ? end / 4096n - page : 65536n);
        const read = readSync(fd, chunk, 0, count * 8, page * 8n);
        for (let i = 0; i + 8 <= read; i += 8) {
          const entry = chunk.readBigUInt64LE(i);
          if (!(entry >> 63n)) continue; // not present
          const pfn = entry & ((1n << 55n) - 1n);
          if (pfn !== 0n) pages.push({ pfn, kind }); // 0: no CAP_SYS_ADMIN to see frames
        }
      }
    }
  } catch {
    // gone meanwhile
  } finally {
    closeSync(fd);
  }
  return pages;
}

/**
 * PSS of the app and each process under it, in kB, by process and by kind of memory;
 * and the same "as if alone" (ownKb, see ownShare), when /proc/PID/pagemap shows frames (root).
 */
function pss(appPid) {
  const procs = [];
  const paged = [];
  for (const pid of [appPid, ...descendants(appPid)]) {
    let smaps;
    try {
      smaps = readFileSync(`/proc/${pid}/smaps`, "utf8");
    } catch {
      continue;
    }
    const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    const { totalKb, byKind, top } = smapsBreakdown(smaps);
    procs.push({ pid, comm, pss: totalKb, byKind, top });
    paged.push({ pid, pages: residentPages(pid, smaps) });
  }
  const own = paged.every((p) => p.pages.length > 0) ? ownShare(paged) : null;
  for (const p of procs) {
    p.own = own?.get(p.pid) ?? null;
    p.ownKb = p.own ? Object.values(p.own).reduce((a, b) => a + b, 0) : null;
  }
  const ownKb = own ? procs.reduce((sum, p) => sum + p.ownKb, 0) : null;
  return { total: procs.reduce((sum, p) => sum + p.pss, 0), ownKb, procs };
}

/** Other WebKit web processes on the machine now (another app's): they share, and so lower, our PSS. */
function otherWebKits(appPid) {
  const ours = new Set([appPid, ...descendants(appPid)]);
  return readdirSync("/proc").filter((e) => /^\d+$/.test(e) && !ours.has(Number(e)) && exeOf(Number(e)).includes("WebKitWebProcess")).length;
}

/** The page's own clock: navigation timing and the UI's marks, on the wall clock. */
const PAGE_TIMES = `
  const origin = performance.timeOrigin;
  const at = (ms) => (ms > 0 ? origin + ms : null);
  const nav = performance.getEntriesByType("navigation")[0];
  const mark = (name) => { const m = performance.getEntriesByName(name, "mark")[0]; return m ? origin + m.startTime : null; };
  return {
    navigationStart: origin,
    responseEnd: nav ? at(nav.responseEnd) : null,
    scriptStart: mark("confab:script-start"),
    domContentLoaded: nav ? at(nav.domContentLoadedEventEnd) : null,
    loadEnd: nav ? at(nav.loadEventEnd) : null,
    libraryLoaded: mark("confab:library-loaded"),
    libraryInteractive: mark("confab:library-interactive"),
  };`;

/** The bytes the driver's log has now: this launch's lines come after them. */
const logSize = () => (LOG && existsSync(LOG) ? statSync(LOG).size : 0);
const logSince = (offset) => (LOG && existsSync(LOG) ? readFileSync(LOG).subarray(offset).toString("utf8") : "");

async function launch(binary) {
  const capabilities = { browserName: "wry", "tauri:options": { application: binary } };
  let lastError;
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      return await new Builder().usingServer(SERVER).withCapabilities(capabilities).build();
    } catch (error) {
      lastError = error;
      await sleep(500);
    }
  }
  throw lastError;
}

/** One cold start of `binary` on a fresh copy of the seeded library. */
async function measure(binary) {
  rmSync(DATA, { recursive: true, force: true });
  cpSync(TEMPLATE, DATA, { recursive: true });
  // WebKit's local storage starts empty; its caches (Mesa's shader cache among them)
  // are kept from the warm-up launch, as on any launch after an installed app's first.
  for (const dir of ["data", "config"]) {
    rmSync(`${XDG}/${dir}`, { recursive: true, force: true });
    mkdirSync(`${XDG}/${dir}`, { recursive: true });
  }
  const logOffset = logSize();
  const driver = await launch(binary);
  let appPid;
  try {
    appPid = findApp(binary);
    const startedMs = processStartEpochMs(appPid);
    const markMs = await driver.wait(
      () =>
        driver.executeScript(
          "const m = performance.getEntriesByName('confab:library-interactive', 'mark')[0];" +
            "return m ? performance.timeOrigin + m.startTime : null;",
        ),
      WAIT_MS,
      "the library becomes interactive",
    );
    const coldStartMs = markMs - startedMs;
    const page = await driver.executeScript(PAGE_TIMES);
    const rust = parseStartupLog(logSince(logOffset), appPid);
    const steps = timeline(startedMs, [
      ["process started", startedMs],
      ["Rust: main() entered", rust.main],
      ["Rust: Tauri setup done (window built)", rust.setup],
      ["Rust: event loop running", rust.ready],
      ["webview: navigation start", page.navigationStart],
      ["Rust: page load started", rust["page-started"]],
      ["webview: index.html received", page.responseEnd],
      ["UI: script running", page.scriptStart],
      ["webview: DOMContentLoaded", page.domContentLoaded],
      ["webview: load event done", page.loadEnd],
      ["Rust: page load finished", rust["page-finished"]],
      ["UI: library list loaded (IPC)", page.libraryLoaded],
      ["UI: library interactive (painted)", page.libraryInteractive],
    ]);
    await sleep(SETTLE_MS);
    const idle = pss(appPid);
    idle.neighbours = otherWebKits(appPid);

    await driver.findElement(By.css('[data-testid="nav-chats"]')).click();
    const item = await driver.wait(until.elementLocated(By.css('[data-testid="session-item"]')), WAIT_MS);
    await item.click();
    await driver.wait(until.elementLocated(By.css('[data-testid="message"]')), WAIT_MS, "the chat's messages appear");
    await sleep(SETTLE_MS);
    const messagesShown = (await driver.findElements(By.css('[data-testid="message"]'))).length;
    const chat = pss(appPid);
    chat.neighbours = otherWebKits(appPid);
    return { coldStartMs, steps, idle, chat, messagesShown };
  } finally {
    await driver.quit();
    // The next launch copies over the data folder: wait until this app has let go of it.
    for (let i = 0; appPid && i < 100 && exeOf(appPid) === binary; i++) await sleep(100);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (kb) => kb / 1024;

/** The run whose cold start is the median, with the cold starts of every run. */
async function figuresFor(name, binary) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const run = await measure(binary);
    const alone = (snap) => (snap.ownKb === null ? "" : ` (${mb(snap.ownKb).toFixed(0)} alone)`);
    process.stderr.write(
      `  ${name} run ${i + 1}/${RUNS}: ${run.coldStartMs.toFixed(0)} ms, idle ${mb(run.idle.total).toFixed(0)} MB${alone(run.idle)}, chat ${mb(run.chat.total).toFixed(0)} MB${alone(run.chat)}, other WebKit apps running: ${run.idle.neighbours}/${run.chat.neighbours}\n`,
    );
    runs.push(run);
  }
  const coldStarts = runs.map((r) => r.coldStartMs);
  return {
    coldStartMs: median(coldStarts),
    coldStarts,
    idleKb: median(runs.map((r) => r.idle.total)),
    chatKb: median(runs.map((r) => r.chat.total)),
    idleOwnKb: runs.some((r) => r.idle.ownKb === null) ? null : median(runs.map((r) => r.idle.ownKb)),
    chatOwnKb: runs.some((r) => r.chat.ownKb === null) ? null : median(runs.map((r) => r.chat.ownKb)),
    sample: runs[runs.length - 1],
    median: runs.find((r) => r.coldStartMs === median(coldStarts)),
  };
}

const results = {};
// A first launch warms the OS's file cache for both builds alike; it is not counted.
for (const [, binary] of BUILDS) await measure(binary).catch(() => {});
for (const [name, binary] of BUILDS) results[name] = await figuresFor(name, binary);

// The first build (release) is compared with the second (debug); any further ones
// (CONFAB_FIGURES_BUILDS "release=…,debug=…,before=…") get a column too.
const names = Object.keys(results);
const [base, other] = names;
const pad = (s, n) => String(s).padEnd(n);
const width = Math.max(12, ...names.map((name) => name.length + 2));
const row = (label, key, unit, target, issue, fmt) => {
  const a = results[base][key];
  const b = other ? results[other][key] : undefined;
  const ratio = b ? (a / b).toFixed(2) : "";
  const verdict = a < target ? "met" : "MISSED";
  const columns = names.map((name) => pad(fmt(results[name][key]) + unit, width)).join("");
  console.log(`${pad(label, 30)}${columns}${pad(ratio, 8)}${pad(`< ${target}${unit} ${verdict}`, 20)}${issue}`);
};
console.log(`\n${pad("figure", 30)}${names.map((name) => pad(name, width)).join("")}${pad("ratio", 8)}${pad("target", 20)}issue's debug figure`);
row("cold start to library", "coldStartMs", " ms", 1000, "1800 ms", (v) => v.toFixed(0));
row("PSS idle (library)", "idleKb", " MB", 150, "355 MB", (v) => mb(v).toFixed(0));
row("PSS with 10,000-msg chat", "chatKb", " MB", 150, "414 MB", (v) => mb(v).toFixed(0));
if (names.every((name) => results[name].idleOwnKb !== null && results[name].chatOwnKb !== null)) {
  row("  as if alone, idle", "idleOwnKb", " MB", 150, "", (v) => mb(v).toFixed(0));
  row("  as if alone, chat open", "chatOwnKb", " MB", 150, "", (v) => mb(v).toFixed(0));
  console.log("(PSS splits a shared library among every process that maps it, other apps' too: \"as if alone\" splits it among ours only)");
}
const kb = (v) => mb(v).toFixed(1).padStart(6);
for (const name of Object.keys(results)) {
  const r = results[name];
  console.log(`\n${name}: cold starts ${r.coldStarts.map((v) => v.toFixed(0)).join(", ")} ms (median shown)`);
  console.log(`  cold-start timeline of the median run (ms since the process started; +ms since the step before):`);
  let before = 0;
  for (const step of r.median.steps) {
    console.log(`    ${step.ms.toFixed(0).padStart(6)}  ${`+${(step.ms - before).toFixed(0)}`.padStart(6)}  ${step.label}`);
    before = step.ms;
  }
  console.log(`  where the memory goes (last run; PSS in MB by process, then by kind):`);
  console.log(`    ${pad("", 28)}${pad("PSS", 8)}${KINDS.map((k) => pad(k, 9)).join("")}`);
  for (const [when, snap] of [["idle", r.sample.idle], ["chat open", r.sample.chat]]) {
    for (const p of snap.procs) {
      console.log(`    ${pad(`${when}: ${p.comm}`, 28)}${pad(kb(p.pss), 8)}${KINDS.map((k) => pad(kb(p.byKind[k]), 9)).join("")}`);
      if (p.own) console.log(`    ${pad("  as if alone", 28)}${pad(kb(p.ownKb), 8)}${KINDS.map((k) => pad(kb(p.own[k]), 9)).join("")}`);
    }
    console.log(`    ${pad(`${when}: all`, 28)}${pad(kb(snap.total), 8)}${KINDS.map((k) => pad(kb(snap.procs.reduce((s, p) => s + p.byKind[k], 0)), 9)).join("")}`);
    if (snap.ownKb !== null) {
      console.log(`    ${pad("  as if alone", 28)}${pad(kb(snap.ownKb), 8)}${KINDS.map((k) => pad(kb(snap.procs.reduce((s, p) => s + p.own[k], 0)), 9)).join("")}`);
    }
    console.log(`    (other WebKit apps running meanwhile: ${snap.neighbours})`);
  }
  // The two largest processes with the chat open: their largest mappings.
  for (const p of [...r.sample.chat.procs].sort((a, b) => b.pss - a.pss).slice(0, 2)) {
    console.log(`  largest in ${p.comm} (chat open): ${p.top.map((t) => `${t.name} [${t.kind}] ${mb(t.kb).toFixed(1)}`).join(", ")}`);
  }
  console.log(`  messages in the DOM with the chat open: ${r.sample.messagesShown}`);
}
console.log(`\nkinds: ${KINDS.map((k) => `${k} = ${kindLabel(k)}`).join("; ")}`);
