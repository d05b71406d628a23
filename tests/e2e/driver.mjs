// WebDriver helpers for the Confab end-to-end suite.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Builder, By, Key, until } from "selenium-webdriver";

const APP = process.env.CONFAB_APP;
const SHOTS = process.env.CONFAB_SHOTS ?? "screenshots";
const WAIT_MS = 15_000;
// axe-core checks every screen the suite screenshots (see checkAccessibility).
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** The app never answered: it died at start (its panic is in the tauri-driver log). */
class AppDidNotStart extends Error {}

const START_MS = 90_000;

/** One session request; bounded, because WebKitWebDriver waits forever for an app that crashed at start. */
async function startSession(server, capabilities) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new AppDidNotStart(`the app did not start within ${START_MS / 1000} s: see the tauri-driver log`)),
      START_MS,
    );
  });
  try {
    return await Promise.race([new Builder().usingServer(server).withCapabilities(capabilities).build(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts the app through tauri-driver at `server` and returns a WebDriver session. */
export async function launch(server) {
  if (!APP || !server) throw new Error("run the suite through tests/e2e/run.sh");
  const capabilities = { browserName: "wry", "tauri:options": { application: APP } };
  let lastError;
  // tauri-driver can accept connections before WebKitWebDriver is ready: retry briefly.
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      return await startSession(server, capabilities);
    } catch (error) {
      if (error instanceof AppDidNotStart) throw error;
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  throw lastError;
}

/** Waits until the UI has loaded its settings and app info (or shown why it could not). */
export async function waitReady(driver) {
  await driver.wait(until.elementLocated(By.css('[data-ready="true"]')), WAIT_MS, "the UI is ready");
}

/** Waits for a screen's root element and returns it. */
export async function onScreen(driver, id) {
  const screen = await driver.wait(
    until.elementLocated(By.css(`[data-testid="screen-${id}"]`)),
    WAIT_MS,
    `the ${id} screen appears`,
  );
  await driver.wait(until.elementIsVisible(screen), WAIT_MS);
  return screen;
}

/** The trimmed text of the first element under `scope` matching `locator`. */
export async function textOf(scope, locator) {
  return (await (await scope.findElement(locator)).getText()).trim();
}

/** Chooses an option of the <select> with this test id, as a click would. */
export async function pick(driver, testid, value) {
  const option = await driver.findElement(By.css(`[data-testid="${testid}"] option[value="${value}"]`));
  await option.click();
  const select = await driver.findElement(By.css(`[data-testid="${testid}"]`));
  await driver.wait(async () => (await select.getAttribute("value")) === value, WAIT_MS);
}

/** Saves a PNG of the window as `<name>.png` in the screenshots folder. */
export async function screenshot(driver, name) {
  mkdirSync(SHOTS, { recursive: true });
  // A capture right after a DOM change can show the previous frame: wait for two
  // painted frames, then for short CSS transitions to finish.
  await driver.executeAsyncScript(
    "const done = arguments[arguments.length - 1];" +
      "requestAnimationFrame(() => requestAnimationFrame(() => done()));",
  );
  await driver.sleep(250);
  const png = await driver.takeScreenshot();
  await writeFile(join(SHOTS, `${name}.png`), png, "base64");
  await checkAccessibility(driver, name);
}

/**
 * Runs axe-core on the page and fails with a readable list when any violation is
 * serious or critical. axe is injected through WebDriver, which the app's CSP
 * does not govern; it stays on the window until the page reloads.
 */
export async function checkAccessibility(driver, name) {
  const present = await driver.executeScript("return typeof window.axe === 'object';");
  if (!present) await driver.executeScript(AXE_SOURCE);
  const found = await driver.executeAsyncScript(
    "const done = arguments[arguments.length - 1];" +
      "window.axe.run(document, { resultTypes: ['violations'] }).then(" +
      "  (r) => done({ violations: r.violations" +
      "    .filter((v) => v.impact === 'serious' || v.impact === 'critical')" +
      "    .map((v) => ({ id: v.id, impact: v.impact, help: v.help," +
      "      targets: v.nodes.slice(0, 8).map((n) => n.target.join(' ') + (n.failureSummary ? ' — ' + n.failureSummary.replace(/\\s+/g, ' ').slice(0, 200) : '')) })) })," +
      "  (e) => done({ error: String(e) }));",
  );
  if (found.error) throw new Error(`axe-core could not check ${name}: ${found.error}`);
  if (found.violations.length === 0) return;
  const lines = found.violations.map(
    (v) => `- ${v.id} (${v.impact}): ${v.help}\n${v.targets.map((t) => `    ${t}`).join("\n")}`,
  );
  throw new Error(`accessibility violations on ${name}:\n${lines.join("\n")}`);
}

/** Clicks the element `locator` finds, finding it again if a re-render replaced it. */
export async function clickFresh(driver, locator) {
  for (let attempt = 0; ; attempt++) {
    try {
      const element = await driver.wait(until.elementLocated(locator), WAIT_MS);
      await element.click();
      return;
    } catch (error) {
      if (error?.name !== "StaleElementReferenceError" || attempt >= 10) throw error;
      await driver.sleep(100);
    }
  }
}

/** Replaces the text of the field with this test id. */
export async function typeInto(driver, testid, text) {
  const input = await driver.wait(until.elementLocated(By.css(`[data-testid="${testid}"]`)), WAIT_MS);
  await input.clear();
  await input.sendKeys(text);
}

/**
 * Adds the fake OpenAI-compatible provider at `url` in Settings; with
 * `onlyIfNone`, only when the library has no provider yet.
 */
export async function addFakeProvider(driver, url, { name = "Fake local", onlyIfNone = true } = {}) {
  await clickFresh(driver, By.css('[data-testid="nav-settings"]'));
  await onScreen(driver, "settings");
  await driver.wait(until.elementLocated(By.css('[data-testid="providers"]')), WAIT_MS);
  if (onlyIfNone) {
    // The list arrives just after the section: give it a moment before counting.
    await driver.sleep(300);
    if ((await driver.findElements(By.css('[data-testid="provider-item"]'))).length > 0) return;
  }
  await clickFresh(driver, By.css('[data-testid="provider-add"]'));
  await clickFresh(driver, By.css('[data-testid="provider-kind-openAiCompatible"]'));
  await typeInto(driver, "provider-name", name);
  await typeInto(driver, "provider-base-url", url);
  await typeInto(driver, "provider-default-model", "fake-small");
  await clickFresh(driver, By.css('[data-testid="provider-save"]'));
  await driver.wait(until.elementLocated(By.css('[data-testid="provider-saved"]')), WAIT_MS, "the provider is saved");
}

/** Presses `key` with `modifiers` held, as the keyboard would. */
export async function chord(driver, modifiers, key) {
  let actions = driver.actions();
  for (const modifier of modifiers) actions = actions.keyDown(modifier);
  actions = actions.sendKeys(key);
  for (const modifier of [...modifiers].reverse()) actions = actions.keyUp(modifier);
  await actions.perform();
}

/** What the fake provider (fake-provider.mjs, at its ".../v1" address `url`) has seen so far. */
export async function fakeStats(url) {
  const response = await fetch(url.replace(/\/v1$/, "/__stats"));
  return response.json();
}

/** Sends `text` from the composer and waits until its reply has finished streaming. */
export async function sendAndWait(driver, text, waitMs = 30_000) {
  const input = await driver.wait(until.elementLocated(By.css('[data-testid="composer-input"]')), waitMs);
  await driver.wait(until.elementIsEnabled(input), waitMs, "the composer is free");
  await driver.wait(until.elementLocated(By.css('[data-testid="conversation"][data-streaming="false"]')), waitMs, "no reply streaming");
  await input.sendKeys(text, Key.ENTER);
  await driver.wait(until.elementLocated(By.css('[data-testid="conversation"][data-streaming="true"]')), waitMs, "the reply starts").catch(() => {});
  await driver.wait(until.elementLocated(By.css('[data-testid="conversation"][data-streaming="false"]')), waitMs, "the reply ends");
}

/** Picks the option whose text is `text` in the select with this test id. */
export async function pickByText(driver, testid, text, waitMs = 30_000) {
  const select = await driver.wait(until.elementLocated(By.css(`[data-testid="${testid}"]`)), waitMs);
  const value = await driver.executeScript(
    "const o = [...arguments[0].options].find((o) => o.textContent.trim() === arguments[1]); return o ? o.value : null;",
    select,
    text,
  );
  if (value === null) throw new Error(`${text} is not offered in ${testid}`);
  await select.findElement(By.css(`option[value="${value}"]`)).click();
  await driver.wait(async () => (await select.getAttribute("value")) === value, waitMs);
}

/** Imports `card` (a card's JSON) through the library's import field, as a file named `fileName`. */
export async function importCard(driver, card, fileName, waitMs = 30_000) {
  const file = join(mkdtempSync(join(tmpdir(), "confab-card-")), fileName);
  writeFileSync(file, JSON.stringify(card, null, 2));
  await clickFresh(driver, By.css('[data-testid="nav-library"]'));
  await onScreen(driver, "library");
  await driver.findElement(By.css('[data-testid="import-input"]')).sendKeys(file);
  await driver.wait(until.elementLocated(By.css('[data-testid="import-row"][data-status="imported"]')), waitMs, "the card is imported");
  await clickFresh(driver, By.css('[data-testid="import-summary-close"]'));
}

/** Starts a chat with the library's character `name` and waits for its greeting. */
export async function startChat(driver, name, waitMs = 30_000) {
  await clickFresh(driver, By.css(`[data-testid="character-card"][data-name="${name}"]`));
  await clickFresh(driver, By.css('[data-testid="character-chat"]'));
  await onScreen(driver, "chats");
  await driver.wait(until.elementLocated(By.css('[data-testid="message"][data-role="assistant"]')), waitMs, "the greeting");
}

/** Has the open chat talk to `modelId` of the provider named `providerName`, through the model picker. */
export async function chooseModel(driver, providerName, modelId, waitMs = 30_000) {
  await clickFresh(driver, By.css('[data-testid="model-picker"]'));
  await driver.wait(until.elementLocated(By.css('[data-testid="model-picker-panel"]')), waitMs);
  await pickByText(driver, "model-provider", providerName, waitMs);
  await clickFresh(driver, By.css(`[data-testid="model-option-row"][data-model-id="${modelId}"] [data-testid="model-option"]`));
  await driver.wait(until.elementLocated(By.css(`[data-testid="model-picker"][data-model="${modelId}"]`)), waitMs, `${modelId} is chosen`);
}
