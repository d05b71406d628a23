// Settings → Backups → Move your library, over a library that changed since
// its archive: export, edit a character, then import the archive again through
// the system's own file dialog (a GTK file chooser, typed into with xdotool as
// a person would: WebDriver cannot reach it). The edited character is a
// conflict; the conflict screen offers a choice per item and for all; "keep
// both" keeps the edited one and adds the archive's as "(imported)".
// Needs the library of library.test.mjs (run it first).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { By, until } from "selenium-webdriver";
import { clickFresh, launch, onScreen, pick, screenshot, typeInto, waitReady } from "./driver.mjs";

const WAIT_MS = 30_000;
const run = promisify(execFile);
const DIALOG_TITLE = "Choose a Confab library archive";

/** xdotool on the suite's X display; a hung call fails the test instead of the suite. */
async function xdotool(...args) {
  const { stdout } = await run("xdotool", args, { timeout: WAIT_MS, env: process.env });
  return stdout.trim();
}

/** The ids of the visible windows titled `title` (none: empty). */
async function visibleWindows(title) {
  try {
    return (await xdotool("search", "--onlyvisible", "--name", title)).split("\n").filter(Boolean);
  } catch {
    return []; // xdotool exits non-zero when nothing matches
  }
}

/**
 * Types `path` into the open GTK file chooser and accepts it. Keys sent while
 * the chooser is still setting itself up are lost, so each attempt ends by
 * waiting for the chooser to close, and another attempt follows if it stays:
 * Ctrl+L opens (or selects all of) its location field, so typing again replaces.
 */
async function chooseInGtkDialog(path) {
  // The chooser maps a moment after the click: wait for it (bounded by the timeout).
  const dialog = (await xdotool("search", "--sync", "--onlyvisible", "--name", DIALOG_TITLE)).split("\n")[0];
  for (let attempt = 0; attempt < 6; attempt++) {
    // No window manager under Xvfb: give the dialog the keyboard directly.
    await xdotool("windowfocus", "--sync", dialog);
    await xdotool("key", "--clearmodifiers", "ctrl+l");
    await xdotool("type", "--delay", "15", path);
    await xdotool("key", "--clearmodifiers", "Return");
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      if ((await visibleWindows(DIALOG_TITLE)).length === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error("the file chooser did not take the path");
}

async function openBackups(driver) {
  await clickFresh(driver, By.css('[data-testid="nav-settings"]'));
  await onScreen(driver, "settings");
  const section = await driver.wait(until.elementLocated(By.css('[data-testid="backups"]')), WAIT_MS);
  await driver.executeScript("arguments[0].scrollIntoView({block: 'start'})", section);
  return section;
}

async function names(driver) {
  const out = [];
  for (const card of await driver.findElements(By.css('[data-testid="character-card"]'))) {
    out.push(await card.getAttribute("data-name"));
  }
  return out;
}

describe("importing a library archive over a library that changed", () => {
  let driver;
  before(async () => {
    driver = await launch(process.env.CONFAB_WEBDRIVER_LIBRARY);
    await waitReady(driver);
  });
  after(async () => {
    await driver?.quit();
  });

  test("the edited character is a conflict; keep both keeps yours and adds the archive's", async () => {
    await openBackups(driver);
    await clickFresh(driver, By.css('[data-testid="library-export"]'));
    const exported = await driver.wait(
      until.elementLocated(By.css('[data-testid="library-exported"] code')),
      WAIT_MS,
      "the export says where it wrote",
    );
    const archive = (await exported.getText()).trim();
    assert.match(archive, /\.confab$/);

    // Edit a character after the export: the archive's Megumin differs now.
    await clickFresh(driver, By.css('[data-testid="nav-library"]'));
    await onScreen(driver, "library");
    await clickFresh(driver, By.css('[data-testid="character-card"][data-name="Megumin"]'));
    const field = await driver.wait(until.elementLocated(By.css('[data-testid="field-name"]')), WAIT_MS, "the form loads");
    assert.equal(await field.getAttribute("value"), "Megumin");
    await typeInto(driver, "field-name", "Megumin Edited");
    await driver.wait(
      async () => (await driver.findElement(By.css('[data-testid="character-detail"]')).getAttribute("data-dirty")) === "true",
      WAIT_MS,
      "the edit is seen",
    );
    await clickFresh(driver, By.css('[data-testid="detail-save"]'));
    // Saved, not just saving (the button is disabled for both): nothing is left unsaved.
    await driver.wait(
      async () => (await driver.findElement(By.css('[data-testid="character-detail"]')).getAttribute("data-dirty")) === "false",
      WAIT_MS,
      "saved",
    );
    await clickFresh(driver, By.css('[data-testid="detail-back"]'));
    await onScreen(driver, "library");
    await driver.wait(async () => (await names(driver)).includes("Megumin Edited"), WAIT_MS, "renamed in the grid");
    const before = (await names(driver)).length;

    // Choose the archive in the system's file dialog.
    await openBackups(driver);
    await clickFresh(driver, By.css('[data-testid="library-import-choose"]'));
    await chooseInGtkDialog(archive);
    const conflicts = await driver.wait(
      until.elementLocated(By.css('[data-testid="library-import-conflicts"]')),
      WAIT_MS,
      "the conflicts are shown before anything is imported",
    );
    const path = await driver.findElement(By.css('[data-testid="library-import-path"]'));
    assert.equal(await path.getAttribute("value"), archive, "the chosen file is the one imported");
    const row = await conflicts.findElement(By.css('[data-testid="library-conflict"][data-kind="character"]'));
    const text = await row.getText();
    assert.match(text, /Megumin/);
    assert.match(text, /Megumin Edited/);
    await driver.executeScript("arguments[0].scrollIntoView({block: 'center'})", conflicts);
    await screenshot(driver, "library-import-conflicts");

    await pick(driver, "library-conflict-all", "keepBoth");
    for (const select of await driver.findElements(By.css('[data-testid="library-conflict-choice"]'))) {
      assert.equal(await select.getAttribute("value"), "keepBoth");
    }
    await clickFresh(driver, By.css('[data-testid="library-conflicts-import"]'));
    const report = await driver.wait(
      until.elementLocated(By.css('[data-testid="library-import-kept-both"]')),
      WAIT_MS,
      "the report says what was kept both",
    );
    assert.match(await report.getText(), /Kept both of [1-9]/);
    await driver.executeScript("arguments[0].scrollIntoView({block: 'center'})", report);
    await screenshot(driver, "library-import-report");

    // Both are in the library: yours as you left it, the archive's as a copy.
    await clickFresh(driver, By.css('[data-testid="nav-library"]'));
    await onScreen(driver, "library");
    await driver.wait(
      async () => {
        const now = await names(driver);
        return now.includes("Megumin Edited") && now.includes("Megumin (imported)");
      },
      WAIT_MS,
      "both Megumins are in the grid",
    );
    assert.equal((await names(driver)).length, before + 1, "one character added, nothing replaced");
    await clickFresh(driver, By.css('[data-testid="character-card"][data-name="Megumin (imported)"]'));
    const copied = await driver.wait(until.elementLocated(By.css('[data-testid="field-name"]')), WAIT_MS, "the copy opens");
    await driver.wait(async () => (await copied.getAttribute("value")) === "Megumin (imported)", WAIT_MS, "its card has its name");
    await clickFresh(driver, By.css('[data-testid="detail-back"]'));
    await onScreen(driver, "library");
  });
});
