// World books: import a SillyTavern book through the UI, browse it, and test what a chat activates.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { By, until } from "selenium-webdriver";
import { clickFresh, launch, onScreen, screenshot, waitReady } from "./driver.mjs";

const LOREBOOKS = join(process.env.CONFAB_FIXTURES ?? "", "..", "lorebooks");
const WAIT_MS = 30_000;

describe("a world book from SillyTavern", () => {
  let driver;
  before(async () => {
    driver = await launch(process.env.CONFAB_WEBDRIVER_LIBRARY);
    await waitReady(driver);
  });
  after(async () => {
    await driver?.quit();
  });

  test("imports through the picker and opens with its entries", async () => {
    await driver.findElement(By.css('[data-testid="nav-worldbooks"]')).click();
    await onScreen(driver, "worldbooks");
    const input = await driver.findElement(By.css('[data-testid="world-book-import-input"]'));
    await input.sendKeys(join(LOREBOOKS, "st_worldinfo_official__Eldoria.json"));
    // The imported book opens at once.
    await driver.wait(until.elementLocated(By.css('[data-testid="world-book-view"]')), WAIT_MS);
    await driver.wait(
      async () => (await driver.findElements(By.css('[data-testid="entry-row"]'))).length === 4,
      WAIT_MS,
      "four entries",
    );
    // Back in the list it is there beside the books embedded in the imported cards.
    await clickFresh(driver, By.css('[data-testid="book-back"]'));
    const item = By.css('[data-testid="world-book-item"][data-name*="official__Eldoria"]');
    await driver.wait(until.elementLocated(item), WAIT_MS, "the imported book is listed");
    await screenshot(driver, "world-book-list");
    await clickFresh(driver, item);
    await driver.wait(
      async () => (await driver.findElements(By.css('[data-testid="entry-row"]'))).length === 4,
      WAIT_MS,
      "four entries again",
    );
    await screenshot(driver, "world-book-editor");
  });

  test("the test panel explains which entries a chat activates", async () => {
    await clickFresh(driver, By.css('[data-testid="book-tab-test"]'));
    const panel = await driver.wait(until.elementLocated(By.css('[data-testid="test-panel"]')), WAIT_MS);
    const messages = await panel.findElement(By.css('[data-testid="test-messages"]'));
    await messages.clear();
    await messages.sendKeys("Traveller: Is this glade safe? The forest frightens me.");
    await panel.findElement(By.css('[data-testid="test-run"]')).click();
    await driver.wait(
      async () => (await driver.findElements(By.css('[data-testid="test-activation"]'))).length >= 2,
      WAIT_MS,
      "entries activate",
    );
    const uids = await Promise.all(
      (await driver.findElements(By.css('[data-testid="test-activation"]'))).map((a) => a.getAttribute("data-uid")),
    );
    assert.deepEqual(uids.sort(), ["0", "2"]);
    await screenshot(driver, "world-book-test");
  });
});
