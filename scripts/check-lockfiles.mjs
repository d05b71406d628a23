#!/usr/bin/env node
// Proves `npm ci` works on every platform Confab is built on, from this Linux box.
//
//   node scripts/check-lockfiles.mjs [package-lock.json...]   (default: every lockfile in the repo)
//
// A lockfile made where the registry lacked another platform's optional binaries
// (say @tauri-apps/cli-darwin-arm64) makes `npm ci` refuse, on that platform, with
// "package.json and package-lock.json ... are not in sync". Two checks catch it:
//   1. every package's optionalDependencies resolve, the way npm resolves them
//      (its own node_modules, then each parent's), to an entry in the lockfile;
//   2. `npm ci --dry-run --offline` accepts the lockfile as each release platform
//      (--os/--cpu), with an empty cache: nothing is downloaded, nothing installed.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The platforms the release workflow builds on (and the README's macOS/Windows steps). */
export const PLATFORMS = [
  ["linux", "x64"],
  ["linux", "arm64"],
  ["darwin", "arm64"],
  ["darwin", "x64"],
  ["win32", "x64"],
  ["win32", "arm64"],
];

/** Where npm would look for `name` when `from` (a lockfile key) requires it, nearest first. */
function candidates(from, name) {
  const out = [];
  let base = from;
  for (;;) {
    out.push(base ? `${base}/node_modules/${name}` : `node_modules/${name}`);
    if (!base) return out;
    const cut = base.lastIndexOf("/node_modules/");
    base = cut < 0 ? "" : base.slice(0, cut);
  }
}

/** Optional dependencies a lockfile names but does not hold: [{ from, name }]. */
export function missingOptional(lock) {
  const packages = lock.packages ?? {};
  const missing = [];
  for (const [from, pkg] of Object.entries(packages)) {
    for (const name of Object.keys(pkg.optionalDependencies ?? {})) {
      if (!candidates(from, name).some((path) => path in packages)) {
        missing.push({ from: from || "(root)", name });
      }
    }
  }
  return missing;
}

/** The platforms whose `npm ci` refuses the lockfile in `dir`: [{ os, cpu, reason }]. */
export function refusingPlatforms(dir) {
  const cache = mkdtempSync(join(tmpdir(), "confab-npm-cache-"));
  const refused = [];
  try {
    for (const [os, cpu] of PLATFORMS) {
      try {
        execFileSync(
          "npm",
          ["ci", "--dry-run", "--offline", "--ignore-scripts", "--no-audit", "--no-fund",
            `--cache=${cache}`, `--os=${os}`, `--cpu=${cpu}`],
          { cwd: dir, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" },
        );
      } catch (error) {
        const lines = String(error.stderr ?? error.message).split("\n");
        const reason = lines.find((l) => /^npm error (?!code )\S.{10,}/.test(l));
        refused.push({ os, cpu, reason: reason ?? `exit ${error.status}` });
      }
    }
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
  return refused;
}

/** Every package-lock.json under `root`, outside node_modules and build output. */
export function findLockfiles(root) {
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir)) {
      if (entry === "node_modules" || entry === "target" || entry.startsWith(".")) continue;
      const path = join(dir, entry);
      if (entry === "package-lock.json") found.push(path);
      else if (statSync(path).isDirectory()) walk(path);
    }
  };
  walk(root);
  return found.sort();
}

function main(args) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const lockfiles = args.length ? args.map((a) => resolve(a)) : findLockfiles(root);
  if (lockfiles.length === 0) {
    console.error("no package-lock.json found");
    return 1;
  }
  let failed = 0;
  for (const file of lockfiles) {
    const name = relative(root, file);
    const lock = JSON.parse(readFileSync(file, "utf8"));
    const missing = missingOptional(lock);
    const refused = refusingPlatforms(dirname(file));
    for (const { from, name: dep } of missing) console.error(`${name}: ${from} lists optional ${dep}, not in the lockfile`);
    for (const { os, cpu, reason } of refused) console.error(`${name}: npm ci refuses it on ${os}-${cpu}: ${reason}`);
    if (missing.length || refused.length) {
      failed++;
    } else {
      const optional = Object.values(lock.packages ?? {}).filter((p) => p.optional).length;
      console.log(`${name}: whole (${optional} optional packages; npm ci accepts it on ${PLATFORMS.map((p) => p.join("-")).join(", ")})`);
    }
  }
  if (failed) {
    console.error("regenerate with: npm install --package-lock-only (in that folder, against a registry that has every platform's packages)");
    return 1;
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
