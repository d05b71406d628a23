// Settings → Backups in the real app: back up, change something, restore the
// backup after the confirmation, and find the library as it was (the app
// reloads), with the library before the restore kept as a backup of its own.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { By, until } from "selenium-webdriver";
import { clickFresh, launch, onScreen, pick, screenshot, waitReady } from "./driver.mjs";

const WAIT_MS = 30_000;

async function openBackups(driver) {
  await clickFresh(driver, By.css('[data-testid="nav-settings"]'));
  await onScreen(driver, "settings");
  const section = await driver.wait(until.elementLocated(By.css('[data-testid="backups"]')), WAIT_MS);
  await driver.executeScript("arguments[0].scrollIntoView({block: 'start'})", section);
  return section;
}

async function kinds(driver) {
  const items = await driver.findElements(By.css('[data-testid="backup-item"]'));
  const out = [];
  for (const item of items) out.push(await item.getAttribute("data-kind"));
  return out;
}

describe("backups in Settings", () => {
  let driver;
  before(async () => {
    driver = await launch(process.env.CONFAB_WEBDRIVER_LIBRARY);
    await waitReady(driver);
  });
  after(async () => {
    await driver?.quit();
  });

  test("a backup taken now restores the library as it was", async () => {
    await openBackups(driver);
    const theme = await driver.findElement(By.css('[data-testid="theme-select"]'));
    const before = await theme.getAttribute("value");
    const changed = before === "dark" ? "light" : "dark";
    const count = (await kinds(driver)).length;

    await clickFresh(driver, By.css('[data-testid="backup-now"]'));
    await driver.wait(until.elementLocated(By.css('[data-testid="backup-notice"]')), WAIT_MS, "backed up");
    await driver.wait(async () => (await kinds(driver)).length === count + 1, WAIT_MS, "the new backup is listed");
    assert.equal((await kinds(driver))[0], "manual");

    // A change after the backup: the theme, stored in the library.
    await pick(driver, "theme-select", changed);
    await driver.sleep(500);

    await clickFresh(driver, By.css('[data-testid="backup-item"]:first-child [data-testid="backup-restore"]'));
    await driver.wait(until.elementLocated(By.css('[data-testid="confirm-dialog"]')), WAIT_MS, "restore asks first");
    await screenshot(driver, "backups-restore-confirm");
    await clickFresh(driver, By.css('[data-testid="confirm-ok"]'));

    // The app reloads with the restored library.
    await driver.wait(
      async () => {
        try {
          await waitReady(driver);
          await (await driver.findElement(By.css('[data-testid="nav-settings"]'))).click();
          const select = await driver.findElement(By.css('[data-testid="theme-select"]'));
          return (await select.getAttribute("value")) === before;
        } catch {
          return false;
        }
      },
      WAIT_MS,
      "the theme is back as it was",
    );
    await openBackups(driver);
    await driver.wait(async () => (await kinds(driver)).includes("preRestore"), WAIT_MS, "the replaced library is kept");
    await screenshot(driver, "settings-backups");
  });
});
