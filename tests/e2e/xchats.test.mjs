// A conversation: open a character, start a chat, write, and look at the exact prompt.
// (Named to run after library.test.mjs, whose imported characters it uses.)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { By, until } from "selenium-webdriver";
import { clickFresh, launch, onScreen, screenshot, waitReady } from "./driver.mjs";

const WAIT_MS = 30_000;

describe("a conversation with Seraphina", () => {
  let driver;
  before(async () => {
    driver = await launch(process.env.CONFAB_WEBDRIVER_LIBRARY);
    await waitReady(driver);
  });
  after(async () => {
    await driver?.quit();
  });

  test("starts from the character page with her greeting", async () => {
    await onScreen(driver, "library");
    await clickFresh(driver, By.css('[data-testid="character-card"][data-name="Seraphina"]'));
    await driver.wait(until.elementLocated(By.css('[data-testid="character-detail"]')), WAIT_MS);
    await clickFresh(driver, By.css('[data-testid="character-chat"]'));
    await onScreen(driver, "chats");
    const first = await driver.wait(
      until.elementLocated(By.css('[data-testid="message"][data-role="assistant"]')),
      WAIT_MS,
      "the greeting is shown",
    );
    const content = await first.findElement(By.css('[data-testid="message-content"]'));
    assert.ok((await content.getText()).length > 20, "the greeting has text");
    assert.ok(!(await content.getAttribute("innerHTML")).includes("{{char}}"), "macros are filled in");
  });

  test("a message sent with Enter appears at the end", async () => {
    const input = await driver.findElement(By.css('[data-testid="composer-input"]'));
    await input.sendKeys("Where am I? The forest looks strange.");
    await input.sendKeys("\uE007"); // Enter
    await driver.wait(
      async () => {
        const users = await driver.findElements(By.css('[data-testid="message"][data-role="user"]'));
        if (users.length === 0) return false;
        const last = users[users.length - 1];
        return (await last.getText()).includes("The forest looks strange.");
      },
      WAIT_MS,
      "the user message is shown",
    );
    await screenshot(driver, "chat-conversation");
  });

  test("the prompt preview shows the system message, the history and the world info", async () => {
    await clickFresh(driver, By.css('[data-testid="prompt-preview-open"]'));
    const preview = await driver.wait(
      until.elementLocated(By.css('[data-testid="prompt-preview"]')),
      WAIT_MS,
      "the preview opens",
    );
    await driver.wait(
      async () => (await preview.findElements(By.css('[data-testid="prompt-message"]'))).length >= 3,
      WAIT_MS,
      "system, greeting and the new message",
    );
    const text = await preview.getAttribute("textContent");
    assert.match(text, /Seraphina/);
    // "forest" is a key of her embedded Eldoria world book.
    assert.match(text, /Eldoria/i, "world info fired on the message");
    await screenshot(driver, "chat-prompt-preview");
  });
});
