// No trace of an API key: a distinctive key is set through Settings (no
// keyring runs under the suite, so it is kept encrypted in the database, the
// fallback the user picks), a chat uses it (the fake provider sees it), and
// then every file the suite's apps wrote (every data folder with its database,
// WAL and backups, WebKit's folders, the tauri-driver logs that carry the apps'
// output), and every IPC request and response the page exchanged (recorded in the page), are searched for the key:
// as text, base64 (any alignment, URL-safe too), hex and UTF-16. The one place
// it may appear is the request that sets it. ystreaming.test.mjs's key (kept
// "for this run") is searched for in the files too. Named to run last.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { By, until } from "selenium-webdriver";
import { addFakeProvider, clickFresh, launch, onScreen, screenshot, typeInto, waitReady } from "./driver.mjs";
import { ipcLog, recordIpc } from "./inspect.mjs";

const WAIT_MS = 30_000;
const PROVIDER = process.env.CONFAB_FAKE_PROVIDER;
const WORK = process.env.CONFAB_E2E_WORK;
const SECRET = randomBytes(12).toString("hex");
const KEY = `sk-e2e-CANARY-${SECRET}`;
// ystreaming.test.mjs's key, set on the library app earlier in the suite.
const STREAMING_KEY = "sk-e2e-do-not-show-0123456789";

/** Every byte form of `text` worth searching for: as is, base64 at each alignment (and URL-safe), hex, UTF-16. */
function forms(text) {
  const bytes = Buffer.from(text, "utf8");
  const out = new Map([["text", bytes], ["utf-16le", Buffer.from(text, "utf16le")], ["hex", Buffer.from(bytes.toString("hex"))]]);
  for (let pad = 0; pad < 3; pad++) {
    const encoded = Buffer.concat([Buffer.alloc(pad), bytes]).toString("base64");
    // Only the characters that depend on the key's bytes alone.
    const start = pad === 0 ? 0 : 4;
    const end = Math.floor((pad + bytes.length) / 3) * 4;
    const core = encoded.slice(start, end);
    out.set(`base64+${pad}`, Buffer.from(core));
    out.set(`base64url+${pad}`, Buffer.from(core.replace(/\+/g, "-").replace(/\//g, "_")));
  }
  return out;
}

/** Runs `read(path)`, or notes `path` in `vanished` and answers `fallback` if it went meanwhile. */
function unlessGone(path, vanished, fallback, read) {
  try {
    return read(path);
  } catch (error) {
    if (error?.code !== "ENOENT") throw error;
    vanished.push(path);
    return fallback;
  }
}

/**
 * Every regular file under `dir`, recursively (sockets and links left out).
 * Apps of the suite may still be closing while it looks (WebKit writes its
 * caches on the way out, a backup renames its temporary file): an entry that
 * goes between listing and reading is noted in `vanished`, not an error.
 */
function files(dir, vanished = []) {
  const out = [];
  for (const name of unlessGone(dir, vanished, [], readdirSync)) {
    const path = join(dir, name);
    const stat = unlessGone(path, vanished, null, lstatSync);
    if (stat?.isDirectory()) out.push(...files(path, vanished));
    else if (stat?.isFile()) out.push(path);
  }
  return out;
}

/** One pass over the files under `dir`: where any form of `needles` occurs ("file: label (form)") and what went while it read. */
function scan(dir, needles) {
  const found = [];
  const vanished = [];
  for (const file of files(dir, vanished)) {
    const bytes = unlessGone(file, vanished, null, readFileSync);
    if (!bytes) continue;
    for (const [label, text] of Object.entries(needles)) {
      for (const [form, needle] of forms(text)) {
        if (bytes.includes(needle)) found.push(`${file}: ${label} (${form})`);
      }
    }
  }
  return { found, vanished };
}

/**
 * Every trace of `needles` under `dir`, scanning again (up to 20 times, half a
 * second apart) until a pass reads every file it lists, so a file renamed
 * while a pass ran is read under its new name. A trace seen in any pass counts.
 */
async function traces(dir, needles) {
  const found = new Set();
  let vanished = [];
  for (let pass = 0; pass < 20; pass++) {
    const result = scan(dir, needles);
    for (const trace of result.found) found.add(trace);
    vanished = result.vanished;
    if (vanished.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { found: [...found], vanished };
}

describe("an API key leaves no trace", () => {
  let driver;
  let log = null;
  before(async () => {
    assert.ok(PROVIDER && WORK, "run the suite through tests/e2e/run.sh");
    driver = await launch(process.env.CONFAB_WEBDRIVER_SECURITY);
    await waitReady(driver);
    await recordIpc(driver);
  });
  after(async () => {
    await driver?.quit();
  });

  test("a key set in Settings is kept encrypted when there is no keyring, and a chat uses it", async () => {
    await addFakeProvider(driver, PROVIDER);
    if ((await driver.findElements(By.css('[data-testid="api-key-input"]'))).length === 0) {
      await clickFresh(driver, By.css('[data-testid="provider-edit"]'));
    }
    await typeInto(driver, "api-key-input", KEY);
    await clickFresh(driver, By.css('[data-testid="api-key-set"]'));
    const fallback = await driver.wait(until.elementLocated(By.css('[data-testid="key-fallback"]')), WAIT_MS);
    await driver.executeScript("arguments[0].scrollIntoView({block: 'center'})", fallback);
    await clickFresh(driver, By.css('[data-testid="key-fallback-encrypted"]'));
    await driver.wait(
      until.elementLocated(By.css('[data-testid="api-key-status"][data-storage="encrypted"]')),
      WAIT_MS,
      "the key is kept encrypted",
    );
    await screenshot(driver, "keytrace-settings");

    // A chat with a character of this library (security.test.mjs imported one).
    await clickFresh(driver, By.css('[data-testid="nav-chats"]'));
    await onScreen(driver, "chats");
    await clickFresh(driver, By.css('[data-testid="session-item"]'));
    const input = await driver.wait(until.elementLocated(By.css('[data-testid="composer-input"]')), WAIT_MS);
    await driver.wait(until.elementIsEnabled(input), WAIT_MS, "the composer is free");
    await input.sendKeys("Is the key used?");
    await input.sendKeys("\uE007"); // Enter
    await driver.wait(
      async () => {
        const stats = await (await fetch(PROVIDER.replace(/\/v1$/, "/__stats"))).json();
        return stats.lastAuthorization === `Bearer ${KEY}`;
      },
      WAIT_MS,
      "the provider gets the key",
    );
    await driver.wait(until.elementLocated(By.css('[data-testid="composer-send"]')), WAIT_MS, "the reply ends");
    log = await ipcLog(driver);
  });

  test("the IPC messages carry the key only in the request that sets it", () => {
    assert.ok(Array.isArray(log) && log.length > 10, `IPC messages were recorded (${log?.length})`);
    assert.ok(log.some((m) => m.kind === "response"), "responses were recorded too");
    const setters = log.filter((m) => m.kind === "request" && m.cmd === "set_api_key");
    assert.ok(
      setters.some((m) => m.body.includes(KEY) && m.body.includes("encrypted")),
      `the key was set through IPC: ${[...new Set(log.map((m) => m.cmd))].join(", ")}`,
    );
    const leaks = [];
    for (const [i, message] of log.entries()) {
      if (message.kind === "request" && message.cmd === "set_api_key") continue;
      for (const [form, needle] of forms(SECRET)) {
        if (message.body.includes(needle.toString())) leaks.push(`#${i} ${message.kind} ${message.cmd} (${form})`);
      }
    }
    assert.deepEqual(leaks, [], "no other message holds the key or any form of it");
  });

  test("no file of any data folder or log holds the key", async () => {
    await driver.quit();
    driver = null;
    const db = join(process.env.CONFAB_SECURITY_DATA ?? join(WORK, "security"), "confab.db");
    const listed = files(WORK);
    assert.ok(listed.includes(db), "the security library's database is scanned");
    assert.ok(listed.some((f) => f.endsWith(".log")), "the driver logs are scanned");
    const needles = { key: KEY, "key's random part": SECRET, "ystreaming's key": STREAMING_KEY };
    assert.ok(process.env.CONFAB_SECURITY_PASSPHRASE, "run.sh passes the passphrase");
    needles["the passphrase"] = process.env.CONFAB_SECURITY_PASSPHRASE;
    const { found, vanished } = await traces(WORK, needles);
    assert.deepEqual(found, [], "no trace in any file");
    assert.deepEqual(vanished, [], "the folders settled: a whole pass read every file it listed");
  });
});
