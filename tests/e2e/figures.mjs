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
// on the wall clock. Memory: PSS (/proc/PID/smaps_rollup) of the app and every
// process under it (WebKit's web and network processes), after the app has settled,
// idle on the library and then with the 10,000-message chat open.
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { Builder, By, until } from "selenium-webdriver";

const SERVER = process.env.CONFAB_WEBDRIVER;
const DATA = process.env.CONFAB_FIGURES_DATA;
const TEMPLATE = process.env.CONFAB_FIGURES_TEMPLATE;
const XDG = process.env.CONFAB_FIGURES_XDG;
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

/** PSS of the app and each process under it, in kB, by process and by kind of memory. */
function pss(appPid) {
  const procs = [];
  for (const pid of [appPid, ...descendants(appPid)]) {
    let rollup;
    try {
      rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    } catch {
      continue;
    }
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(rollup)?.[1] ?? 0);
    const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    procs.push({ pid, comm, pss: field("Pss"), anon: field("Pss_Anon"), file: field("Pss_File"), shmem: field("Pss_Shmem") });
  }
  return { total: procs.reduce((sum, p) => sum + p.pss, 0), procs };
}

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
    await sleep(SETTLE_MS);
    const idle = pss(appPid);

    await driver.findElement(By.css('[data-testid="nav-chats"]')).click();
    const item = await driver.wait(until.elementLocated(By.css('[data-testid="session-item"]')), WAIT_MS);
    await item.click();
    await driver.wait(until.elementLocated(By.css('[data-testid="message"]')), WAIT_MS, "the chat's messages appear");
    await sleep(SETTLE_MS);
    const messagesShown = (await driver.findElements(By.css('[data-testid="message"]'))).length;
    const chat = pss(appPid);
    return { coldStartMs, idle, chat, messagesShown };
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
    process.stderr.write(`  ${name} run ${i + 1}/${RUNS}: ${run.coldStartMs.toFixed(0)} ms, idle ${mb(run.idle.total).toFixed(0)} MB, chat ${mb(run.chat.total).toFixed(0)} MB\n`);
    runs.push(run);
  }
  const coldStarts = runs.map((r) => r.coldStartMs);
  return {
    coldStartMs: median(coldStarts),
    coldStarts,
    idleKb: median(runs.map((r) => r.idle.total)),
    chatKb: median(runs.map((r) => r.chat.total)),
    sample: runs[runs.length - 1],
  };
}

const results = {};
// A first launch warms the OS's file cache for both builds alike; it is not counted.
for (const [, binary] of BUILDS) await measure(binary).catch(() => {});
for (const [name, binary] of BUILDS) results[name] = await figuresFor(name, binary);

const [base, ...rest] = Object.keys(results); // release first, then the debug build it is compared with
const other = rest[0];
const pad = (s, n) => String(s).padEnd(n);
const row = (label, key, unit, target, issue, fmt) => {
  const a = results[base][key];
  const b = other ? results[other][key] : undefined;
  const ratio = b ? (a / b).toFixed(2) : "";
  const verdict = a < target ? "met" : "MISSED";
  console.log(
    `${pad(label, 30)}${pad(fmt(a) + unit, 12)}${pad(b !== undefined ? fmt(b) + unit : "", 12)}${pad(ratio, 8)}${pad(`< ${target}${unit} ${verdict}`, 20)}${issue}`,
  );
};
console.log(`\n${pad("figure", 30)}${pad(base, 12)}${pad(other ?? "", 12)}${pad("ratio", 8)}${pad("target", 20)}issue's debug figure`);
row("cold start to library", "coldStartMs", " ms", 1000, "1800 ms", (v) => v.toFixed(0));
row("PSS idle (library)", "idleKb", " MB", 150, "355 MB", (v) => mb(v).toFixed(0));
row("PSS with 10,000-msg chat", "chatKb", " MB", 150, "414 MB", (v) => mb(v).toFixed(0));
for (const name of Object.keys(results)) {
  console.log(`\n${name}: cold starts ${results[name].coldStarts.map((v) => v.toFixed(0)).join(", ")} ms (median shown); where the memory goes (last run, MB):`);
  for (const [when, snap] of [["idle", results[name].sample.idle], ["chat open", results[name].sample.chat]]) {
    console.log(`  ${when}:`);
    for (const p of snap.procs) {
      console.log(`    ${pad(p.comm, 18)} PSS ${mb(p.pss).toFixed(1).padStart(6)}  anon ${mb(p.anon).toFixed(1).padStart(6)}  file ${mb(p.file).toFixed(1).padStart(6)}  shmem ${mb(p.shmem).toFixed(1).padStart(6)}`);
    }
  }
  console.log(`  messages in the DOM with the chat open: ${results[name].sample.messagesShown}`);
}
