// The real Confab window, driven as a person would: open it, look around, switch language.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { By } from "selenium-webdriver";
import { launch, onScreen, pick, screenshot, textOf, waitReady } from "./driver.mjs";

const SCREENS = [
  { id: "library", en: "Library", ru: "Библиотека" },
  { id: "chats", en: "Chats", ru: "Чаты" },
  { id: "worldbooks", en: "World books", ru: "Книги миров" },
  { id: "settings", en: "Settings", ru: "Настройки" },
];

describe("a new user opens Confab", () => {
  let driver;
  before(async () => {
    driver = await launch(process.env.CONFAB_WEBDRIVER);
    await waitReady(driver);
  });
  after(async () => {
    await driver?.quit();
  });

  test("the window is Confab and opens on the Library with an empty state", async () => {
    assert.equal(await driver.getTitle(), "Confab");
    const screen = await onScreen(driver, "library");
    assert.equal(await textOf(screen, By.css("h1")), "Library");
    const body = await screen.getText();
    assert.match(body, /No characters yet/);
    assert.match(body, /Drag character cards/);
    await screenshot(driver, "library");
  });

  test("the navigation reaches every screen", async () => {
    for (const { id, en } of SCREENS) {
      await driver.findElement(By.css(`[data-testid="nav-${id}"]`)).click();
      const screen = await onScreen(driver, id);
      assert.equal(await textOf(screen, By.css("h1")), en, `title of ${id}`);
      const current = await driver.findElement(By.css(`[data-testid="nav-${id}"]`));
      assert.equal(await current.getAttribute("aria-current"), "page");
      await screenshot(driver, id);
    }
  });

  test("Settings shows where the data lives", async () => {
    await driver.findElement(By.css('[data-testid="nav-settings"]')).click();
    const screen = await onScreen(driver, "settings");
    const dataDir = await textOf(screen, By.css('[data-testid="about-data-dir"]'));
    assert.ok(dataDir.length > 0, "a data folder is shown");
    const schema = await textOf(screen, By.css('[data-testid="about-schema-version"]'));
    assert.ok(Number(schema) >= 1, `schema version ${schema}`);
  });

  test("the dark theme applies at once", async () => {
    await driver.findElement(By.css('[data-testid="nav-settings"]')).click();
    await onScreen(driver, "settings");
    await pick(driver, "theme-select", "dark");
    await driver.wait(
      async () => (await driver.executeScript("return document.documentElement.dataset.theme")) === "dark",
      5000,
      "the page turns dark",
    );
    await screenshot(driver, "settings-dark");
    await driver.findElement(By.css('[data-testid="nav-library"]')).click();
    await onScreen(driver, "library");
    await screenshot(driver, "library-dark");
    await driver.findElement(By.css('[data-testid="nav-settings"]')).click();
    await onScreen(driver, "settings");
    await pick(driver, "theme-select", "light");
  });

  test("switching to Russian changes the visible text", async () => {
    await driver.findElement(By.css('[data-testid="nav-settings"]')).click();
    await onScreen(driver, "settings");
    await pick(driver, "language-select", "ru");
    await driver.wait(
      async () => (await textOf(driver, By.css('[data-testid="screen-settings"] h1'))) === "Настройки",
      5000,
      "the Settings title turns Russian",
    );
    assert.equal(await driver.executeScript("return document.documentElement.lang"), "ru");
    for (const { id, ru } of SCREENS) {
      const nav = await driver.findElement(By.css(`[data-testid="nav-${id}"]`));
      // The sidebar is user-select: none, which WebKit's getText() reports as empty.
      assert.match(await nav.getAttribute("textContent"), new RegExp(ru), `nav item ${id}`);
    }
    await screenshot(driver, "settings-ru");
    await driver.findElement(By.css('[data-testid="nav-library"]')).click();
    const library = await onScreen(driver, "library");
    assert.match(await library.getText(), /Пока нет персонажей/);
    await screenshot(driver, "library-ru");
  });

  test("the language is remembered after a restart", async () => {
    await driver.quit();
    driver = await launch(process.env.CONFAB_WEBDRIVER);
    await waitReady(driver);
    const screen = await onScreen(driver, "library");
    assert.equal(await textOf(screen, By.css("h1")), "Библиотека");
  });
});

describe("a damaged library file", () => {
  let driver;
  before(async () => {
    driver = await launch(process.env.CONFAB_WEBDRIVER_BROKEN);
    await waitReady(driver);
  });
  after(async () => {
    await driver?.quit();
  });

  test("is explained plainly and left untouched", async () => {
    const fatal = await driver.findElement(By.css('[data-testid="fatal-error"]'));
    assert.equal(await fatal.getAttribute("data-code"), "database_corrupt");
    const text = await fatal.getText();
    assert.ok(text.includes(process.env.CONFAB_BROKEN_DB), `the path is shown: ${text}`);
    await screenshot(driver, "fatal-database-corrupt");
    assert.deepEqual(
      readFileSync(process.env.CONFAB_BROKEN_DB),
      readFileSync(process.env.CONFAB_BROKEN_ORIGINAL),
      "the damaged file is byte for byte as it was",
    );
  });
});
