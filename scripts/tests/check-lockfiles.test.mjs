// The lockfile check itself: it must catch what made `npm ci` fail on macOS and
// Windows (other platforms' optional packages left out), and pass a whole lockfile.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { missingOptional, refusingPlatforms } from "../check-lockfiles.mjs";

const DARWIN_CLI = {
  version: "2.12.5",
  integrity: "sha512-VVvBRBdTFF7BP7RqGeItp9yDiyXj0DI1laRCEN2q6GLrNkw4wrHeWAxHp23PwtQtn/XET+yTN1jOKrq+Yor5PQ==",
  cpu: ["arm64"],
  os: ["darwin"],
  optional: true,
};

/** A lockfile whose root depends on a package with platform binaries, as npm writes it. */
function lockfile({ withDarwin }) {
  const packages = {
    "": { name: "fixture", version: "1.0.0", optionalDependencies: { "@tauri-apps/cli-darwin-arm64": "2.12.5" } },
  };
  if (withDarwin) packages["node_modules/@tauri-apps/cli-darwin-arm64"] = DARWIN_CLI;
  return { name: "fixture", version: "1.0.0", lockfileVersion: 3, requires: true, packages };
}

test("an optional package that is not in the lockfile is reported with who lists it", () => {
  assert.deepEqual(missingOptional(lockfile({ withDarwin: false })), [
    { from: "(root)", name: "@tauri-apps/cli-darwin-arm64" },
  ]);
  assert.deepEqual(missingOptional(lockfile({ withDarwin: true })), []);
});

test("optional packages resolve as npm resolves them: nested first, then hoisted", () => {
  const lock = {
    packages: {
      "": {},
      "node_modules/rollup": { optionalDependencies: { "@rollup/rollup-darwin-arm64": "4.0.0", fsevents: "2" } },
      "node_modules/rollup/node_modules/@rollup/rollup-darwin-arm64": { version: "4.0.0" },
      "node_modules/fsevents": { version: "2.3.3" },
      "node_modules/a/node_modules/b": { optionalDependencies: { fsevents: "2", "only-in-c": "1" } },
      "node_modules/c/node_modules/only-in-c": { version: "1.0.0" },
    },
  };
  assert.deepEqual(missingOptional(lock), [{ from: "node_modules/a/node_modules/b", name: "only-in-c" }]);
});

test("npm ci refuses a lockfile without another platform's package, on every platform, and accepts a whole one", () => {
  const dir = mkdtempSync(join(tmpdir(), "confab-lock-test-"));
  try {
    const manifest = { name: "fixture", version: "1.0.0", optionalDependencies: { "@tauri-apps/cli-darwin-arm64": "2.12.5" } };
    writeFileSync(join(dir, "package.json"), JSON.stringify(manifest));
    writeFileSync(join(dir, "package-lock.json"), JSON.stringify(lockfile({ withDarwin: false })));
    const refused = refusingPlatforms(dir);
    assert.equal(refused.length, 6, JSON.stringify(refused));
    assert.match(refused[0].reason, /in sync/);
    writeFileSync(join(dir, "package-lock.json"), JSON.stringify(lockfile({ withDarwin: true })));
    assert.deepEqual(refusingPlatforms(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
