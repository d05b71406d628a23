// Streaming replies end to end: a provider configured in Settings (a fake
// OpenAI-compatible server on 127.0.0.1), its key kept for this run because no
// keyring runs under the suite, a reply streamed into the chat, Stop, an error
// with Retry, and the usage page. (Named to run after xchats.test.mjs.)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { By, until } from "selenium-webdriver";
import { clickFresh, fakeStats, launch, onScreen, screenshot, typeInto, waitReady } from "./driver.mjs";

const WAIT_MS = 30_000;
const PROVIDER = process.env.CONFAB_FAKE_PROVIDER;
const KEY = "sk-e2e-do-not-show-0123456789";

const providerStats = () => fakeStats(PROVIDER);

async function sendMessage(driver, text) {
  const input = await driver.wait(until.elementLocated(By.css('[data-testid="composer-input"]')), WAIT_MS);
  await driver.wait(until.elementIsEnabled(input), WAIT_MS, "the composer is free");
  await input.sendKeys(text);
  await input.sendKeys("\uE007"); // Enter
}

/** The text of the last message on screen by `role`, read in one step (the list re-renders as replies stream). */
async function lastText(driver, role) {
  return driver.executeScript(
    `const all = document.querySelectorAll('[data-testid="message"][data-role="${role}"]');
     const content = all.length ? all[all.length - 1].querySelector('[data-testid="message-content"]') : null;
     return content ? content.textContent.trim() : "";`,
  );
}

/** The text of the last assistant message on screen. */
async function lastReply(driver) {
  return lastText(driver, "assistant");
}

describe("streaming replies from a configured provider", () => {
  let driver;
  before(async () => {
    assert.ok(PROVIDER, "run the suite through tests/e2e/run.sh (it starts the fake provider)");
    driver = await launch(process.env.CONFAB_WEBDRIVER_LIBRARY);
    await waitReady(driver);
  });
  after(async () => {
    await driver?.quit();
  });

  test("a local OpenAI-compatible provider is added in Settings and lists its models", async () => {
    await clickFresh(driver, By.css('[data-testid="nav-settings"]'));
    await onScreen(driver, "settings");
    await clickFresh(driver, By.css('[data-testid="provider-add"]'));
    await clickFresh(driver, By.css('[data-testid="provider-kind-openAiCompatible"]'));
    await typeInto(driver, "provider-name", "Fake local");
    await typeInto(driver, "provider-base-url", PROVIDER);
    await typeInto(driver, "provider-default-model", "fake-small");
    await clickFresh(driver, By.css('[data-testid="provider-save"]'));
    await driver.wait(until.elementLocated(By.css('[data-testid="provider-saved"]')), WAIT_MS, "the provider is saved");

    await clickFresh(driver, By.css('[data-testid="models-refresh"]'));
    await driver.wait(
      async () =>
        (await driver.findElement(By.css('[data-testid="provider-models"]')).getAttribute("textContent")).includes(
          "fake-large",
        ),
      WAIT_MS,
      "the fake server's models are listed",
    );
    await screenshot(driver, "settings-provider");
  });

  test("without a keyring the key is kept for this run only, by the user's choice, and never shown", async () => {
    await typeInto(driver, "api-key-input", KEY);
    await clickFresh(driver, By.css('[data-testid="api-key-set"]'));
    // No Secret Service runs under the suite: the user is asked where to keep it.
    const fallback = await driver.wait(
      until.elementLocated(By.css('[data-testid="key-fallback"]')),
      WAIT_MS,
      "the fallback choice",
    );
    await driver.executeScript("arguments[0].scrollIntoView({block: 'center'})", fallback);
    await screenshot(driver, "settings-key-fallback");
    await clickFresh(driver, By.css('[data-testid="key-fallback-session"]'));
    const status = await driver.wait(
      until.elementLocated(By.css('[data-testid="api-key-status"][data-storage="session"]')),
      WAIT_MS,
      "the key is kept for this run",
    );
    assert.ok((await status.getText()).length > 0);
    const html = await driver.getPageSource();
    assert.ok(!html.includes(KEY), "the key never reaches the page");
    assert.ok(!html.includes(KEY.slice(0, 12)), "not even part of it");
  });

  test("a reply streams into the conversation and is saved with its model and tokens", async () => {
    await clickFresh(driver, By.css('[data-testid="nav-library"]'));
    await onScreen(driver, "library");
    await clickFresh(driver, By.css('[data-testid="character-card"][data-name="Seraphina"]'));
    await driver.wait(until.elementLocated(By.css('[data-testid="character-detail"]')), WAIT_MS);
    await clickFresh(driver, By.css('[data-testid="character-chat"]'));
    await onScreen(driver, "chats");

    const before = (await providerStats()).chatRequests;
    await sendMessage(driver, "Where is this place?");
    await driver.wait(
      async () => (await lastReply(driver)).includes("tell me how you came to be so far from the road"),
      WAIT_MS,
      "the whole reply arrives",
    );
    await driver.wait(until.elementLocated(By.css('[data-testid="message-meta"]')), WAIT_MS, "the reply's details");
    const stats = await providerStats();
    assert.equal(stats.chatRequests, before + 1, "one request per send");
    const sent = stats.lastBody.messages;
    assert.equal(sent[0].role, "system", "the system prompt goes first");
    assert.equal(sent[sent.length - 1].content, "Where is this place?", "the new message goes last");
    assert.equal(stats.lastBody.model, "fake-small");
    await screenshot(driver, "chat-streamed");
  });

  test("a reply streams on while the user looks elsewhere; Stop drops the request and keeps the partial reply", async () => {
    const closedBefore = (await providerStats()).closedEarly;
    await sendMessage(driver, "Tell me slowly about the glade.");
    await driver.wait(
      until.elementLocated(By.css('[data-testid="composer-stop"]')),
      WAIT_MS,
      "Stop replaces Send",
    );
    await driver.wait(async () => (await lastReply(driver)).includes("word3"), WAIT_MS, "words arrive");
    await screenshot(driver, "chat-streaming");

    // Leaving the chat never stops the reply; coming back shows what arrived and follows on.
    await clickFresh(driver, By.css('[data-testid="nav-library"]'));
    await onScreen(driver, "library");
    await driver.sleep(400);
    await clickFresh(driver, By.css('[data-testid="nav-chats"]'));
    await onScreen(driver, "chats");
    await driver.wait(async () => (await lastReply(driver)).includes("word12"), WAIT_MS, "the reply carried on");
    const seen = await lastReply(driver);
    await driver.wait(
      async () => (await lastReply(driver)).length > seen.length,
      WAIT_MS,
      "and keeps streaming on screen",
    );

    await clickFresh(driver, By.css('[data-testid="composer-stop"]'));
    await driver.wait(
      until.elementLocated(By.css('[data-testid="message-status"][data-status="cancelled"]')),
      WAIT_MS,
      "the reply is marked stopped",
    );
    const partial = await lastReply(driver);
    assert.ok(partial.includes("word1"), "the partial reply stays");
    assert.ok(!partial.includes("word200"), "it did not run to the end");
    await driver.wait(
      async () => (await providerStats()).closedEarly > closedBefore,
      WAIT_MS,
      "the provider saw the connection close",
    );
    await driver.wait(until.elementLocated(By.css('[data-testid="composer-send"]')), WAIT_MS, "Send is back");
  });

  test("a chat opened in a second window follows the reply the first one streams, as busy", async () => {
    const main = await driver.getWindowHandle();
    const item = await driver.wait(
      until.elementLocated(By.css('[data-testid="session-item"][data-title="Seraphina"]')),
      WAIT_MS,
    );
    await item.findElement(By.css('[data-testid="session-menu"]')).click();
    await clickFresh(driver, By.css('[data-testid="session-open-window"]'));
    await driver.wait(async () => (await driver.getAllWindowHandles()).length === 2, WAIT_MS, "a second window opens");
    const second = (await driver.getAllWindowHandles()).find((h) => h !== main);
    await driver.switchTo().window(second);
    await waitReady(driver);
    await driver.wait(until.elementLocated(By.css('[data-testid="conversation"]')), WAIT_MS, "it opens on the chat");

    await driver.switchTo().window(main);
    await sendMessage(driver, "Tell me slowly about the stars.");
    await driver.wait(async () => (await lastReply(driver)).includes("word2"), WAIT_MS, "the first window streams");

    await driver.switchTo().window(second);
    await driver.wait(
      until.elementLocated(By.css('[data-testid="composer-busy"]')),
      WAIT_MS,
      "the second window shows the chat busy",
    );
    await driver.wait(async () => (await lastReply(driver)).includes("word8"), WAIT_MS, "and follows the reply");
    await screenshot(driver, "chat-second-window-busy");
    // Stop works from either window.
    await clickFresh(driver, By.css('[data-testid="composer-stop"]'));
    await driver.wait(
      until.elementLocated(By.css('[data-testid="message-status"][data-status="cancelled"]')),
      WAIT_MS,
      "stopped",
    );
    await driver.close();
    await driver.switchTo().window(main);
    await driver.wait(
      until.elementLocated(By.css('[data-testid="message-status"][data-status="cancelled"]')),
      WAIT_MS,
      "the first window sees it stopped",
    );
    await driver.wait(until.elementLocated(By.css('[data-testid="composer-send"]')), WAIT_MS, "and is free again");
  });

  test("a refused request shows its error in place with Retry", async () => {
    await sendMessage(driver, "Please refuse this one.");
    const error = await driver.wait(
      until.elementLocated(By.css('[data-testid="reply-error"]')),
      WAIT_MS,
      "the error is shown in place",
    );
    const text = await error.getText();
    assert.match(text, /7/, "the retry-after wait is shown");
    await driver.findElement(By.css('[data-testid="message-retry"]'));
    assert.ok((await lastText(driver, "user")).includes("Please refuse this one."), "the user message is kept");
    await screenshot(driver, "chat-error");
  });

  test("Usage in Settings counts the replies, the stop and the failure", async () => {
    await clickFresh(driver, By.css('[data-testid="nav-settings"]'));
    await onScreen(driver, "settings");
    const usage = await driver.wait(until.elementLocated(By.css('[data-testid="usage"]')), WAIT_MS);
    await driver.executeScript("arguments[0].scrollIntoView({block: 'start'})", usage);
    await driver.wait(
      async () => (await driver.findElements(By.css('[data-testid="usage-row"]'))).length > 0,
      WAIT_MS,
      "a usage row",
    );
    const rows = await driver.findElements(By.css('[data-testid="usage-row"]'));
    const row = await rows[0].getAttribute("textContent");
    assert.ok(row.includes("fake-small") && row.includes("Fake local"), row);
    const outcomes = await driver.findElement(By.css('[data-testid="usage-outcomes"]')).getAttribute("textContent");
    assert.match(outcomes, /Too many requests/, "the rate-limited failure is counted");
    assert.match(outcomes, /Stopped by you/, "the stop is counted");
    await screenshot(driver, "settings-usage");
  });
});
