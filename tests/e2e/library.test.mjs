// Importing real cards through the UI, browsing them, exporting one and importing it again.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { By, until } from "selenium-webdriver";
import { launch, onScreen, screenshot, waitReady } from "./driver.mjs";

const FIXTURES = process.env.CONFAB_FIXTURES;
const CARDS = [
  "v2_png__st_default_Seraphina_2024.png",
  "ccv3_plus_chara__st_default_Seraphina.png",
  "v1_png__st_Megumin.png",
  "v2_png__st_default_FluxTheCat.png",
  "v1_json_zh__mushoku_Roxy_stage1.json",
  "charx_small__tavernkit_test_character.charx",
  "webp_exif_decbytes__TavernAI_Aqua.webp",
];
const BROKEN = join(process.env.CONFAB_INBOX ?? "", "broken card.png");
const WAIT_MS = 30_000;

/** Picks files in the Import… file input, as the native file chooser would. */
async function pickFiles(driver, paths) {
  const input = await driver.findElement(By.css('[data-testid="import-input"]'));
  await input.sendKeys(paths.join("\n"));
}

/** Waits for the import summary and returns its rows as {file, status, text}. */
async function summaryRows(driver, expected) {
  const summary = await driver.wait(
    until.elementLocated(By.css('[data-testid="import-summary"]')),
    WAIT_MS,
    "the import summary appears",
  );
  await driver.wait(
    async () => (await summary.findElements(By.css('[data-testid="import-row"]'))).length === expected,
    WAIT_MS,
    `${expected} rows in the summary`,
  );
  const rows = [];
  for (const row of await summary.findElements(By.css('[data-testid="import-row"]'))) {
    rows.push({
      file: await row.getAttribute("data-file"),
      status: await row.getAttribute("data-status"),
      text: await row.getAttribute("textContent"),
    });
  }
  return rows;
}

async function closeSummary(driver) {
  await driver.findElement(By.css('[data-testid="import-summary-close"]')).click();
  await driver.wait(async () => (await driver.findElements(By.css('[data-testid="import-summary"]'))).length === 0, WAIT_MS);
}

describe("a library built from real cards", () => {
  let driver;
  before(async () => {
    driver = await launch(process.env.CONFAB_WEBDRIVER_LIBRARY);
    await waitReady(driver);
  });
  after(async () => {
    await driver?.quit();
  });

  test("importing cards of every kind through the file picker", async () => {
    await onScreen(driver, "library");
    await pickFiles(driver, [...CARDS.map((c) => join(FIXTURES, c)), BROKEN]);
    const rows = await summaryRows(driver, CARDS.length + 1);
    await screenshot(driver, "import-summary");
    const byFile = (name) => rows.find((r) => r.file.endsWith(name));
    for (const card of CARDS) {
      assert.equal(byFile(card)?.status, "imported", `${card}: ${byFile(card)?.text}`);
    }
    const broken = byFile("broken card.png");
    assert.equal(broken?.status, "failed");
    assert.ok(broken.text.length > "broken card.png".length, `a readable reason: ${broken.text}`);
    await closeSummary(driver);
  });

  test("the grid shows every character with its avatar", async () => {
    const grid = await driver.findElement(By.css('[data-testid="library-grid"]'));
    const cards = await grid.findElements(By.css('[data-testid="character-card"]'));
    assert.equal(cards.length, CARDS.length);
    const names = await Promise.all(cards.map((c) => c.getAttribute("data-name")));
    for (const name of ["Seraphina", "Megumin", "Flux the Cat"]) {
      assert.ok(names.includes(name), `${name} in ${names.join(", ")}`);
    }
    // Avatars come through the avatar:// protocol: wait until the images have pixels.
    await driver.wait(
      async () =>
        driver.executeScript(
          "const imgs = [...document.querySelectorAll('[data-testid=character-card] img')];" +
            "return imgs.length >= 5 && imgs.every((i) => i.complete && i.naturalWidth > 0);",
        ),
      WAIT_MS,
      "the avatars load",
    );
    await screenshot(driver, "library-grid");
  });

  test("search narrows the grid as you type", async () => {
    const search = await driver.findElement(By.css('[data-testid="library-search"]'));
    await search.sendKeys("megu");
    await driver.wait(
      async () => (await driver.findElements(By.css('[data-testid="character-card"]'))).length === 1,
      WAIT_MS,
      "one match",
    );
    await search.clear();
    await search.sendKeys(" ");
    await search.sendKeys("\uE003"); // backspace: the field is empty again
    await driver.wait(
      async () => (await driver.findElements(By.css('[data-testid="character-card"]'))).length === CARDS.length,
      WAIT_MS,
      "all cards again",
    );
  });

  test("a character opens, exports, and its export is already in the library", async () => {
    const megumin = await driver.findElement(By.css('[data-testid="character-card"][data-name="Megumin"]'));
    await megumin.click();
    await driver.wait(
      until.elementLocated(By.css('[data-testid="character-detail"]')),
      WAIT_MS,
      "the detail view opens",
    );
    // The form renders once the character has loaded, a moment after the view.
    const name = await driver.wait(until.elementLocated(By.css('[data-testid="field-name"]')), WAIT_MS, "the form loads");
    assert.equal(await name.getAttribute("value"), "Megumin");
    await screenshot(driver, "character-detail");

    await driver.findElement(By.css('[data-testid="export-png"]')).click();
    const result = await driver.wait(
      until.elementLocated(By.css('[data-testid="export-result"]')),
      WAIT_MS,
      "the export says where it went",
    );
    const exported = await result.getAttribute("data-path");
    assert.match(exported, /Megumin.*\.png$/);

    await driver.findElement(By.css('[data-testid="detail-back"]')).click();
    await onScreen(driver, "library");
    await pickFiles(driver, [exported]);
    const rows = await summaryRows(driver, 1);
    assert.equal(rows[0].status, "alreadyInLibrary", rows[0].text);
    await screenshot(driver, "import-already-in-library");
    await closeSummary(driver);
    const cards = await driver.findElements(By.css('[data-testid="character-card"]'));
    assert.equal(cards.length, CARDS.length, "no copy was made");
  });
});
