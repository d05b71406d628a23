// The release workflow's validation: the real file passes, and each way a broken
// one can fail here (it cannot run here) is caught.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { checkWorkflow, mergeConfig, tauriConfigProblem } from "../check-release-workflow.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WORKFLOW = readFileSync(join(ROOT, ".github/workflows/release.yml"), "utf8");
const UPDATER = readFileSync(join(ROOT, "tauri.updater.conf.json"), "utf8");

/** The real workflow with one piece of text replaced (which must be there). */
function edited(from, to) {
  assert.ok(WORKFLOW.includes(from), `the workflow no longer contains ${from}`);
  return WORKFLOW.replace(from, to);
}

const has = (problems, pattern) => assert.ok(problems.some((p) => pattern.test(p)), `expected ${pattern} in ${JSON.stringify(problems)}`);

test("the release workflow and the updater overlay pass", () => {
  assert.deepEqual(checkWorkflow(WORKFLOW, UPDATER), []);
});

test("a YAML syntax error or a duplicate key is caught", () => {
  has(checkWorkflow(edited("jobs:\n", "jobs:\n  - [unclosed\n"), UPDATER), /^YAML: /);
  has(checkWorkflow(edited("permissions:\n", "name: Twice\npermissions:\n"), UPDATER), /^YAML: .*[Uu]nique|^YAML: .*[Dd]uplicate/);
});

test("a job without a runner, or a matrix entry with an empty one, is caught", () => {
  has(checkWorkflow(edited("    runs-on: ${{ matrix.runner }}\n", ""), UPDATER), /job installers: names no runner/);
  has(checkWorkflow(edited("runner: windows-2022", "runner: ''"), UPDATER), /windows-x64: names no runner/);
});

test("a missing installer, or one built on the wrong OS, is caught", () => {
  has(checkWorkflow(edited("bundles: nsis,msi", "bundles: nsis"), UPDATER), /no job builds the msi installer/);
  has(checkWorkflow(edited("bundles: deb,rpm,appimage", "bundles: deb,rpm,appimage,dmg"), UPDATER), /dmg cannot be built on ubuntu/);
  has(checkWorkflow(edited("--bundles ${{ matrix.bundles }}", ""), UPDATER), /names no bundle targets/);
  has(checkWorkflow(edited("target_args: --target universal-apple-darwin", "target_args: ''"), UPDATER), /universal-apple-darwin/);
});

test("an unpinned action is caught", () => {
  has(checkWorkflow(edited("actions/checkout@v4", "actions/checkout"), UPDATER), /not pinned/);
});

test("the updater stays off until a key exists, and no key is committed", () => {
  has(checkWorkflow(WORKFLOW, UPDATER.replace('"pubkey": ""', '"pubkey": "dW50cnVzdGVkIGNvbW1lbnQ="')), /holds a public key/);
  has(checkWorkflow(WORKFLOW, UPDATER.replace('"createUpdaterArtifacts": true', '"createUpdaterArtifacts": false')), /does not create updater artifacts/);
  has(checkWorkflow(edited("        if: env.HAS_UPDATER_KEY == 'true'\n", "").replace("secrets.TAURI_SIGNING_PRIVATE_KEY != ''", "true"), UPDATER), /not gated/);
});

test("the app's config with the updater overlay is one the Tauri CLI accepts, and a wrong key is refused", () => {
  const cli = join(ROOT, "ui/node_modules/.bin/tauri");
  const app = JSON.parse(readFileSync(join(ROOT, "tauri.conf.json"), "utf8"));
  const merged = mergeConfig(app, JSON.parse(UPDATER));
  assert.equal(merged.bundle.createUpdaterArtifacts, true);
  assert.equal(merged.bundle.category, app.bundle.category, "the overlay merges, it does not replace bundle");
  assert.equal(tauriConfigProblem(merged, cli), "");
  assert.match(tauriConfigProblem(mergeConfig(merged, { bundle: { createUpdaterArtefacts: true } }), cli), /createUpdaterArtefacts/);
});
