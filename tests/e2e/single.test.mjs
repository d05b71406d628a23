// One Confab per library: launching the app again on the same library brings the
// running window forward and exits, instead of opening a second Confab on it.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { launch, onScreen, screenshot, waitReady } from "./driver.mjs";

const APP = process.env.CONFAB_APP;
const DATA = process.env.CONFAB_SINGLE_DATA;
const BUS = process.env.CONFAB_SINGLE_BUS;
const WAIT_MS = 30_000;

/** Runs the app binary as a person would, a second time; answers its exit code (null: still running). */
function launchAgain() {
  const xdg = `${DATA}-xdg`;
  const child = spawn(APP, [], {
    env: {
      ...process.env,
      CONFAB_DATA_DIR: DATA,
      DBUS_SESSION_BUS_ADDRESS: BUS,
      XDG_DATA_HOME: `${xdg}/data`,
      XDG_CONFIG_HOME: `${xdg}/config`,
      XDG_CACHE_HOME: `${xdg}/cache`,
    },
    stdio: "ignore",
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve(null);
    }, WAIT_MS);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe("a second launch on the same library", () => {
  let driver;
  before(async () => {
    assert.ok(DATA && BUS, "run the suite through tests/e2e/run.sh (it starts the private bus)");
    driver = await launch(process.env.CONFAB_WEBDRIVER_SINGLE);
    await waitReady(driver);
  });
  after(async () => {
    await driver?.quit();
  });

  test("hands over to the running window, which comes forward, and exits", async () => {
    await onScreen(driver, "library");
    // Put the first window away, as a person switching to another app would.
    await driver.manage().window().minimize();
    await driver.wait(
      async () => driver.executeScript("return document.visibilityState === 'hidden' && !document.hasFocus()"),
      WAIT_MS,
      "the window is minimised",
    );
    assert.equal(await launchAgain(), 0, "the second launch exits at once, successfully");
    await driver.wait(
      async () => driver.executeScript("return document.visibilityState === 'visible' && document.hasFocus()"),
      WAIT_MS,
      "the first window comes back, focused",
    );
    // The first Confab carries on.
    const handles = await driver.getAllWindowHandles();
    assert.equal(handles.length, 1, "no second window was opened");
    await onScreen(driver, "library");
    await screenshot(driver, "single-instance");
  });
});
