// Files picked in the chats screen reach the real app as raw bytes: a SillyTavern
// chat imported for a character, an image attached to a message, a persona's
// avatar. (Named to run last: it adds a chat to Seraphina, whom the earlier files use.)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { By, until } from "selenium-webdriver";
import { clickFresh, launch, onScreen, pick, screenshot, waitReady } from "./driver.mjs";

const FIXTURES = process.env.CONFAB_FIXTURES ?? "";
const CHAT = join(FIXTURES, "..", "chats", "st_chat_swipes__seraphina_backup.jsonl");
const IMAGE = join(FIXTURES, "v2_png__st_default_FluxTheCat.png");
const AVATAR = join(FIXTURES, "v1_png__st_Megumin.png");
const WAIT_MS = 30_000;

/** True once every <img> the CSS selector finds has loaded with pixels. */
async function imagesLoaded(driver, selector) {
  return driver.executeScript(
    `const imgs = [...document.querySelectorAll(arguments[0])];
     return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);`,
    selector,
  );
}

/** No error toast or banner is on screen (a failed command shows one). */
async function noErrorShown(driver) {
  const errors = await driver.findElements(By.css('[data-testid="error-toast"], [role="alert"]'));
  const texts = [];
  for (const e of errors) {
    const text = (await e.getAttribute("textContent")).trim();
    if (text) texts.push(text);
  }
  assert.deepEqual(texts, [], "no error is shown");
}

describe("files picked in a chat", () => {
  let driver;
  before(async () => {
    driver = await launch(process.env.CONFAB_WEBDRIVER_LIBRARY);
    await waitReady(driver);
  });
  after(async () => {
    await driver?.quit();
  });

  test("a SillyTavern chat (.jsonl) imports for a chosen character and opens", async () => {
    await clickFresh(driver, By.css('[data-testid="nav-chats"]'));
    await onScreen(driver, "chats");
    // With no chat yet, the empty screen offers the import too.
    if ((await driver.findElements(By.css('[data-testid="chats-open-library"]'))).length > 0) {
      await screenshot(driver, "chats-empty");
    }
    const input = await driver.findElement(By.css('[data-testid="chat-import-input"]'));
    await input.sendKeys(CHAT);
    const dialog = await driver.wait(
      until.elementLocated(By.css('[data-testid="chat-import-dialog"]')),
      WAIT_MS,
      "the import asks for the character",
    );
    const seraphina = await dialog.findElement(
      By.xpath(".//select[@data-testid='chat-import-character']/option[normalize-space()='Seraphina']"),
    );
    await pick(driver, "chat-import-character", await seraphina.getAttribute("value"));
    await screenshot(driver, "chat-import-dialog");
    await clickFresh(driver, By.css('[data-testid="chat-import-confirm"]'));

    // The imported chat opens: her greeting, then the user's reply from the file.
    await driver.wait(
      async () => (await driver.findElements(By.css('[data-testid="chat-import-dialog"]'))).length === 0,
      WAIT_MS,
      "the dialog closes",
    );
    await driver.wait(
      async () => (await driver.findElements(By.css('[data-testid="message"]'))).length >= 2,
      WAIT_MS,
      "the imported messages are shown",
    );
    const text = await driver.executeScript(
      `return [...document.querySelectorAll('[data-testid="message-content"]')].map((m) => m.textContent).join("\\n");`,
    );
    assert.match(text, /You wake with a start/, "the greeting from the file");
    await noErrorShown(driver);
    await screenshot(driver, "chat-imported");
  });

  test("an image picked with the paperclip goes with the next message", async () => {
    const input = await driver.findElement(By.css('[data-testid="composer-attach-input"]'));
    await input.sendKeys(IMAGE);
    await driver.wait(
      until.elementLocated(By.css('[data-testid="composer-attachment"]')),
      WAIT_MS,
      "the picked image waits in the composer",
    );
    await noErrorShown(driver);
    await screenshot(driver, "chat-image-attached");

    // Sent as the narrator: a message with the picture, no model asked.
    await clickFresh(driver, By.css('[data-testid="composer-role"]'));
    const composer = await driver.findElement(By.css('[data-testid="composer-input"]'));
    await composer.sendKeys("A cat appears at the edge of the glade.");
    await clickFresh(driver, By.css('[data-testid="composer-send"]'));
    await driver.wait(
      async () => imagesLoaded(driver, '[data-testid="message-image"]'),
      WAIT_MS,
      "the message shows the image, served by the app",
    );
    assert.equal((await driver.findElements(By.css('[data-testid="composer-attachment"]'))).length, 0);
    await screenshot(driver, "chat-image-sent");
  });

  test("a persona gets an avatar from the picker", async () => {
    await clickFresh(driver, By.css('[data-testid="persona-manage"]'));
    const manager = await driver.wait(
      until.elementLocated(By.css('[data-testid="persona-manager"]')),
      WAIT_MS,
      "the persona manager opens",
    );
    if ((await manager.findElements(By.css('[data-testid="persona-item"]'))).length === 0) {
      await clickFresh(driver, By.css('[data-testid="persona-new"]'));
      const name = await driver.findElement(By.css('[data-testid="persona-name"]'));
      await name.sendKeys("Traveller");
      await clickFresh(driver, By.css('[data-testid="persona-save"]'));
      await driver.wait(until.elementLocated(By.css('[data-testid="persona-item"]')), WAIT_MS);
    }
    await clickFresh(driver, By.css('[data-testid="persona-item"]'));
    const input = await driver.wait(
      until.elementLocated(By.css('[data-testid="persona-avatar-input"]')),
      WAIT_MS,
    );
    await input.sendKeys(AVATAR);
    await driver.wait(
      async () => imagesLoaded(driver, '[data-testid="persona-item"] [data-testid="chat-avatar"] img'),
      WAIT_MS,
      "the persona's avatar shows, served by the app",
    );
    await noErrorShown(driver);
    await screenshot(driver, "persona-avatar");
  });
});
