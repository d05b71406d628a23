#!/usr/bin/env node
// Validates .github/workflows/release.yml, which cannot run on a developer's machine:
//
//   node scripts/check-release-workflow.mjs [WORKFLOW.yml [UPDATER.json]]
//
// It must parse as YAML (the `yaml` package, YAML 1.2 as GitHub reads it; duplicate
// keys are errors), every job must name a runner (each matrix entry too, when the
// runner comes from the matrix), the jobs together must build every installer a
// release ships (each on an OS that can build it), every action must be pinned to
// a version, and the updater must stay off until a signing key exists.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDocument } from "yaml";

/** The installers a release ships, and the runner OS that builds each. */
export const REQUIRED_BUNDLES = {
  deb: "linux",
  rpm: "linux",
  appimage: "linux",
  nsis: "windows",
  msi: "windows",
  app: "macos",
  dmg: "macos",
};

/** The OS of a GitHub-hosted runner label (ubuntu-22.04, macos-14, windows-2022, ...). */
function runnerOs(label) {
  const name = String(label).toLowerCase();
  if (name.startsWith("ubuntu")) return "linux";
  if (name.startsWith("macos")) return "macos";
  if (name.startsWith("windows")) return "windows";
  return null;
}

/** `${{ matrix.KEY }}` -> KEY; anything else -> null. */
function matrixKey(value) {
  const m = /^\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}$/.exec(String(value).trim());
  return m ? m[1] : null;
}

/** The concrete variants of a job: its matrix's include entries, or the job alone. */
function variants(job) {
  const matrix = job?.strategy?.matrix;
  if (!matrix) return [{}];
  if (typeof matrix !== "object") return null;
  const include = matrix.include ?? [];
  const axes = Object.keys(matrix).filter((k) => k !== "include" && k !== "exclude");
  if (axes.length) return null; // a cross product: not used here, so refuse rather than guess
  return Array.isArray(include) && include.length ? include : null;
}

/** Problems found in the workflow text (and the updater overlay), as sentences; [] when it is sound. */
export function checkWorkflow(text, updaterText) {
  const problems = [];
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  for (const e of [...doc.errors, ...doc.warnings]) problems.push(`YAML: ${e.message}`);
  if (doc.errors.length) return problems;
  const wf = doc.toJS();
  if (!wf || typeof wf !== "object") return ["the workflow is not a mapping"];

  if (!wf.name) problems.push("the workflow has no name");
  const tags = wf.on?.push?.tags;
  if (!Array.isArray(tags) || tags.length === 0) problems.push("the workflow does not run on pushed tags (on.push.tags)");
  const jobs = wf.jobs;
  if (!jobs || typeof jobs !== "object" || Object.keys(jobs).length === 0) {
    problems.push("the workflow has no jobs");
    return problems;
  }

  const built = new Map(); // bundle -> [runner OS]
  for (const [id, job] of Object.entries(jobs)) {
    if (!job || typeof job !== "object") {
      problems.push(`job ${id}: not a mapping`);
      continue;
    }
    if (job["runs-on"] === undefined || job["runs-on"] === "") {
      problems.push(`job ${id}: names no runner (runs-on)`);
      continue;
    }
    const runs = variants(job);
    if (!runs) {
      problems.push(`job ${id}: its matrix must list its variants under include`);
      continue;
    }
    const steps = Array.isArray(job.steps) ? job.steps : [];
    if (steps.length === 0) problems.push(`job ${id}: has no steps`);
    for (const [i, step] of steps.entries()) {
      if (step?.uses && !/^[\w.-]+\/[\w./-]+@[\w.-]+$/.test(step.uses)) {
        problems.push(`job ${id}, step ${i + 1}: action "${step.uses}" is not pinned to a version`);
      }
      if (!step?.uses && !step?.run) problems.push(`job ${id}, step ${i + 1}: neither uses nor run`);
    }
    const build = steps.find((s) => /tauri-apps\/tauri-action@/.test(s?.uses ?? "") || /\btauri(\.js)?\b.*\bbuild\b/.test(s?.run ?? ""));
    const buildArgs = build ? `${build.with?.args ?? ""} ${build.run ?? ""}` : "";
    for (const [n, variant] of runs.entries()) {
      const where = runs.length > 1 ? `job ${id}, variant ${variant.name ?? n + 1}` : `job ${id}`;
      const runsOn = job["runs-on"];
      const key = matrixKey(runsOn);
      const runner = key ? variant[key] : runsOn;
      if (!runner) {
        problems.push(`${where}: names no runner (runs-on is ${runsOn}, which is empty here)`);
        continue;
      }
      if (!build) continue;
      const os = runnerOs(runner);
      if (!os) problems.push(`${where}: unknown runner "${runner}"`);
      // The build's arguments as this variant runs them: matrix values filled in.
      const args = buildArgs.replace(/\$\{\{\s*matrix\.([\w-]+)\s*\}\}/g, (_, k) => String(variant[k] ?? ""));
      const bundlesArg = /--bundles\s+(\S+)/.exec(args)?.[1];
      if (!bundlesArg) {
        problems.push(`${where}: its build names no bundle targets (--bundles)`);
        continue;
      }
      const bundles = bundlesArg.split(",").map((b) => b.trim()).filter(Boolean);
      if (bundles.length === 0) problems.push(`${where}: names no bundle targets`);
      for (const bundle of bundles) {
        if (!(bundle in REQUIRED_BUNDLES)) {
          problems.push(`${where}: unknown bundle target "${bundle}"`);
        } else if (os && REQUIRED_BUNDLES[bundle] !== os) {
          problems.push(`${where}: ${bundle} cannot be built on ${runner}`);
        } else {
          built.set(bundle, [...(built.get(bundle) ?? []), args]);
        }
      }
    }
  }
  for (const bundle of Object.keys(REQUIRED_BUNDLES)) {
    if (!built.has(bundle)) problems.push(`no job builds the ${bundle} installer`);
  }
  // One dmg for both kinds of Mac.
  for (const args of built.get("dmg") ?? []) {
    if (!/--target\s+universal-apple-darwin\b/.test(args)) problems.push("the dmg is not built for universal-apple-darwin");
  }

  // The updater: configured, but off until a signing key exists (and no key in the repository).
  if (updaterText !== undefined) {
    let updater;
    try {
      updater = JSON.parse(updaterText);
    } catch (e) {
      problems.push(`tauri.updater.conf.json: ${e.message}`);
    }
    const conf = updater?.plugins?.updater;
    if (updater && updater.bundle?.createUpdaterArtifacts !== true) problems.push("tauri.updater.conf.json does not create updater artifacts");
    if (updater && !(Array.isArray(conf?.endpoints) && conf.endpoints.length)) problems.push("tauri.updater.conf.json names no update endpoint");
    if (updater && conf?.pubkey) problems.push("tauri.updater.conf.json holds a public key: it comes from the TAURI_UPDATER_PUBKEY variable");
    if (!/TAURI_SIGNING_PRIVATE_KEY\s*!=\s*''/.test(text)) problems.push("the updater is not gated on the TAURI_SIGNING_PRIVATE_KEY secret");
    if (/TAURI_SIGNING_PRIVATE_KEY:\s*(?!\$\{\{)\S/.test(text)) problems.push("a signing key is written in the workflow");
  }
  return problems;
}

/** `overlay` merged into `base` as the Tauri CLI merges a --config file (objects merge, the rest replaces). */
export function mergeConfig(base, overlay) {
  const out = structuredClone(base);
  for (const [key, value] of Object.entries(overlay)) {
    const both = value && typeof value === "object" && !Array.isArray(value) && out[key] && typeof out[key] === "object";
    out[key] = both ? mergeConfig(out[key], value) : value;
  }
  return out;
}

/** What the Tauri CLI (its own JSON schema) says about a config; "" when it accepts it. */
export function tauriConfigProblem(config, tauriCli) {
  const dir = mkdtempSync(join(tmpdir(), "confab-tauri-conf-"));
  try {
    writeFileSync(join(dir, "tauri.conf.json"), JSON.stringify(config));
    // The CLI looks for the app's Cargo.toml beside its config before it answers.
    writeFileSync(join(dir, "Cargo.toml"), '[package]\nname = "confab-app"\nversion = "0.1.0"\n');
    mkdirSync(join(dir, "src"));
    writeFileSync(join(dir, "src", "main.rs"), "fn main() {}\n");
    // The cheapest command that loads and validates the config: no build, no network.
    execFileSync(tauriCli, ["inspect", "wix-upgrade-code"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
    return "";
  } catch (error) {
    return String(error.stderr || error.stdout || error.message).trim().split("\n").pop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(args) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const workflow = resolve(args[0] ?? `${root}/.github/workflows/release.yml`);
  const updater = resolve(args[1] ?? `${root}/tauri.updater.conf.json`);
  const problems = checkWorkflow(readFileSync(workflow, "utf8"), readFileSync(updater, "utf8"));
  // The app's own config must not switch the updater on by itself.
  const appConf = JSON.parse(readFileSync(`${root}/tauri.conf.json`, "utf8"));
  if (appConf.bundle?.createUpdaterArtifacts) problems.push("tauri.conf.json creates updater artifacts without a signing key");
  // The config a signed release builds with must be one the Tauri CLI accepts.
  const tauriCli = `${root}/ui/node_modules/.bin/tauri`;
  const merged = mergeConfig(appConf, JSON.parse(readFileSync(updater, "utf8")));
  const problem = tauriConfigProblem(merged, tauriCli);
  if (problem) problems.push(`tauri.conf.json with tauri.updater.conf.json: ${problem}`);
  for (const p of problems) console.error(`${workflow}: ${p}`);
  if (problems.length) return 1;
  console.log(`release workflow: parses; every job names a runner; builds ${Object.keys(REQUIRED_BUNDLES).join(", ")} (universal dmg); updater off until a signing key exists, and its config valid for the Tauri CLI`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
