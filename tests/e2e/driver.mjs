// WebDriver helpers for the Confab end-to-end suite.
import { mkdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Builder, By, until } from "selenium-webdriver";

const APP = process.env.CONFAB_APP;
const SHOTS = process.env.CONFAB_SHOTS ?? "screenshots";
const WAIT_MS = 15_000;

/** Starts the app through tauri-driver at `server` and returns a WebDriver session. */
export async function launch(server) {
  if (!APP || !server) throw new Error("run the suite through tests/e2e/run.sh");
  const capabilities = { browserName: "wry", "tauri:options": { application: APP } };
  let lastError;
  // tauri-driver can accept connections before WebKitWebDriver is ready: retry briefly.
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      return await new Builder().usingServer(server).withCapabilities(capabilities).build();
    } catch (error) {
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
