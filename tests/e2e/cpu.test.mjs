// Confab as it ships on Linux: WebKit drawing with the CPU (src-tauri/startup.rs).
// The rest of the suite keeps WebKit's GPU path, because WebKitGTK does not answer
// WebDriver's screenshots when it draws with the CPU; this file drives one app
// drawn as users get it, through the main path (import, a provider, a streamed
// reply, the keyboard), and takes no screenshot. Runs on a driver of its own.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { By, Key, until } from "selenium-webdriver";
import { addFakeProvider, chord, clickFresh, launch, onScreen, waitReady } from "./driver.mjs";

const WAIT_MS = 30_000;
const PROVIDER = process.env.CONFAB_FAKE_PROVIDER;
const CARD = join(process.env.CONFAB_FIXTURES ?? "", "v2_png__st_default_FluxTheCat.png");
const css = (selector) => By.css(selector);
const count = async (driver, selector) => (await driver.findElements(css(selector))).length;

/** The environments of this app's processes (found by its data folder), by command name. */
function processesOf(dataDir) {
  const found = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      if (!env.includes(`CONFAB_DATA_DIR=${dataDir}`)) continue;
      found.push({ name: readFileSync(`/proc/${pid}/comm`, "utf8").trim(), env });
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found;
}

describe("Confab drawn by the CPU, as it ships on Linux", () => {
  let driver;
  before(async () => {
    assert.ok(process.env.CONFAB_WEBDRIVER_CPU, "run the suite through tests/e2e/run.sh");
    driver = await launch(process.env.CONFAB_WEBDRIVER_CPU);
    await waitReady(driver);
  });
  after(async () => {
    await driver?.quit();
  });

  test("the app runs as it ships: no GPU asked for, its web process without DMA-BUF", async () => {
    const data = join(process.env.CONFAB_E2E_WORK ?? "", "cpu");
    const processes = processesOf(data);
    const app = processes.find((p) => p.name.startsWith("confab-app"));
    assert.ok(app, `the app's process is found (${processes.map((p) => p.name).join(", ")})`);
    assert.ok(!app.env.includes("CONFAB_WEBKIT_GPU=1"), "the GPU path is not asked for");
    // The app sets this for WebKit before GTK starts (startup.rs); its children inherit it.
    const web = processes.find((p) => p.name.startsWith("WebKitWebProces"));
    assert.ok(web, "WebKit's web process is found");
    assert.ok(web.env.includes("WEBKIT_DISABLE_DMABUF_RENDERER=1"), "the web process draws without DMA-BUF");
  });

  test("every screen opens and lays out", async () => {
    for (const id of ["library", "chats", "worldbooks", "settings"]) {
      await clickFresh(driver, css(`[data-testid="nav-${id}"]`));
      const screen = await onScreen(driver, id);
      const { width, height } = await screen.getRect();
      assert.ok(width > 300 && height > 300, `${id} has a size (${width}×${height})`);
    }
  });

  test("a card imports, and a chat with it streams a reply", async () => {
    await clickFresh(driver, css('[data-testid="nav-library"]'));
    await onScreen(driver, "library");
    await driver.findElement(css('[data-testid="import-input"]')).sendKeys(CARD);
    await clickFresh(driver, css('[data-testid="import-summary-close"]'));
    await addFakeProvider(driver, PROVIDER, { name: "Fake for the CPU-drawn app" });

    await chord(driver, [Key.CONTROL], "k");
    const search = await driver.wait(until.elementLocated(css('[data-testid="switcher-input"]')), WAIT_MS, "search");
    await search.sendKeys("flux");
    await driver.wait(until.elementLocated(css('[data-testid="switcher-result"][data-kind="character"]')), WAIT_MS);
    await search.sendKeys(Key.ENTER);
    await driver.wait(until.elementLocated(css('[data-testid="character-detail"]')), WAIT_MS, "the character opens");
    await chord(driver, [Key.CONTROL], "n");
    await onScreen(driver, "chats");

    const input = await driver.wait(until.elementLocated(css('[data-testid="composer-input"]')), WAIT_MS);
    await driver.wait(until.elementIsEnabled(input), WAIT_MS, "the composer is free");
    const before = await count(driver, '[data-testid="message"][data-role="assistant"]');
    await input.sendKeys("Hello there.", Key.ENTER);
    await driver.wait(
      async () =>
        (await count(driver, '[data-testid="message"][data-role="assistant"]')) > before &&
        (await count(driver, '[data-testid="composer-send"]')) === 1,
      WAIT_MS,
      "the reply streamed in and finished",
    );
    const reply = await driver.executeScript(
      `const all = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
       return all[all.length - 1].querySelector('[data-testid="message-content"]')?.textContent.trim() ?? "";`,
    );
    assert.ok(reply.length > 0, "the reply has text");
  });

  test("? opens the shortcuts and Esc closes them", async () => {
    await driver.executeScript("document.activeElement?.blur()");
    await chord(driver, [Key.SHIFT], "?");
    await driver.wait(until.elementLocated(css('[data-testid="shortcuts-dialog"]')), WAIT_MS, "the shortcuts dialog");
    await chord(driver, [], Key.ESCAPE);
    await driver.wait(async () => (await count(driver, '[data-testid="shortcuts-dialog"]')) === 0, WAIT_MS, "closed");
  });
});
