// Local models end to end: a KoboldCpp server (the fake provider's KoboldCpp
// API at its root) is added as a provider and a connection profile made for
// it in Settings; the chat header switches a chat to that profile in one
// click; the prompt preview's Text tab shows the exact text KoboldCpp will
// get, in the Llama 3 format the server's model name calls for; a reply
// streams in, and Stop aborts generation on the server (the fake sees the
// abort with the request's genkey); a short reply completes; the chat then
// lets the profile go, so the suites after this one use the chat API again.
// (Runs on the library app; chats with Coding Sensei, imported when missing.)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { By, until } from "selenium-webdriver";
import { clickFresh, launch, onScreen, screenshot, typeInto, waitReady } from "./driver.mjs";

const WAIT_MS = 30_000;
const PROVIDER = process.env.CONFAB_FAKE_PROVIDER;
const FIXTURES = process.env.CONFAB_FIXTURES;
const css = (selector) => By.css(selector);
const KOBOLD_NAME = "Kobold (fake)";
const PROFILE_NAME = "Kobold local";
const CHARACTER = "Coding Sensei";

async function stats() {
  const response = await fetch(PROVIDER.replace(/\/v1$/, "/__stats"));
  return response.json();
}

async function send(driver, text) {
  const input = await driver.wait(until.elementLocated(css('[data-testid="composer-input"]')), WAIT_MS);
  await driver.wait(until.elementIsEnabled(input), WAIT_MS, "the composer is free");
  await input.sendKeys(text);
  await input.sendKeys("\uE007"); // Enter
}

/** The last assistant message as {text, status}, read in one step. */
async function lastReply(driver) {
  return driver.executeScript(
    `const all = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
     const m = all.length ? all[all.length - 1] : null;
     return m ? {
       text: (m.querySelector('[data-testid="message-content"]')?.textContent ?? "").trim(),
       status: m.querySelector('[data-testid="message-status"]')?.dataset.status ?? "complete",
     } : { text: "", status: "" };`,
  );
}

async function selectByText(driver, testid, text) {
  const select = await driver.wait(until.elementLocated(css(`[data-testid="${testid}"]`)), WAIT_MS);
  const options = await select.findElements(css("option"));
  for (const option of options) {
    if ((await option.getText()).includes(text)) {
      await option.click();
      return;
    }
  }
  throw new Error(`no option "${text}" in ${testid}`);
}

describe("a local model through KoboldCpp's own API", () => {
  let driver;
  before(async () => {
    assert.ok(PROVIDER, "run the suite through tests/e2e/run.sh (it starts the fake provider)");
    driver = await launch(process.env.CONFAB_WEBDRIVER_LIBRARY);
    await waitReady(driver);
  });
  after(async () => {
    await driver?.quit();
  });

  test("a KoboldCpp provider and a connection profile for it are set up in Settings", async () => {
    await clickFresh(driver, css('[data-testid="nav-settings"]'));
    await onScreen(driver, "settings");
    await clickFresh(driver, css('[data-testid="provider-add"]'));
    await clickFresh(driver, css('[data-testid="provider-kind-koboldCpp"]'));
    await typeInto(driver, "provider-name", KOBOLD_NAME);
    await typeInto(driver, "provider-base-url", PROVIDER.replace(/\/v1$/, ""));
    await screenshot(driver, "local-kobold-provider");
    await clickFresh(driver, css('[data-testid="provider-save"]'));
    await driver.wait(until.elementLocated(css('[data-testid="provider-saved"]')), WAIT_MS, "the provider is saved");

    await clickFresh(driver, css('[data-testid="profile-add"]'));
    await typeInto(driver, "profile-name", PROFILE_NAME);
    await selectByText(driver, "profile-provider", KOBOLD_NAME);
    await screenshot(driver, "local-profile-editor");
    await clickFresh(driver, css('[data-testid="profile-save"]'));
    await driver.wait(until.elementLocated(css('[data-testid="profile-saved"]')), WAIT_MS, "the profile is saved");
    await clickFresh(driver, css('[data-testid="profile-cancel"]'));
    await driver.wait(
      until.elementLocated(css(`[data-testid="profile-row"][data-name="${PROFILE_NAME}"]`)),
      WAIT_MS,
      "the profile is listed",
    );
    // The connections and the template library as they look with a profile.
    await driver.executeScript(`document.querySelector('[data-testid="profiles"]').scrollIntoView({ block: "start" });`);
    await driver.wait(until.elementLocated(css('[data-testid="template-row"][data-name="ChatML"]')), WAIT_MS, "the templates are listed");
    await screenshot(driver, "local-connections-and-templates");
  });

  test("the chat header switches to the profile in one click; the preview shows the exact text", async () => {
    await clickFresh(driver, css('[data-testid="nav-chats"]'));
    await onScreen(driver, "chats");
    // A 1:1 chat of its own, with a character no group has (a group's auto turns would follow each reply).
    await clickFresh(driver, css('[data-testid="nav-library"]'));
    await onScreen(driver, "library");
    await driver.sleep(300);
    if ((await driver.findElements(css(`[data-testid="character-card"][data-name="${CHARACTER}"]`))).length === 0) {
      await driver.findElement(css('[data-testid="import-input"]')).sendKeys(join(FIXTURES, "v2_png__st_default_CodingSensei.png"));
      await driver.wait(until.elementLocated(css('[data-testid="import-summary"]')), WAIT_MS);
      await clickFresh(driver, css('[data-testid="import-summary-close"]'));
    }
    await clickFresh(driver, css(`[data-testid="character-card"][data-name="${CHARACTER}"]`));
    await clickFresh(driver, css('[data-testid="character-chat"]'));
    await onScreen(driver, "chats");
    await driver.wait(until.elementLocated(css('[data-testid="conversation"]')), WAIT_MS);
    await clickFresh(driver, css('[data-testid="profile-picker"]'));
    await clickFresh(driver, css(`[data-testid="profile-option"][data-name="${PROFILE_NAME}"]`));
    await driver.wait(
      async () =>
        driver.executeScript(
          `return [...document.querySelectorAll('[data-testid="profile-current"]')].some((e) => e.textContent.includes(${JSON.stringify(PROFILE_NAME)}));`,
        ),
      WAIT_MS,
      "the header names the profile",
    );
    // KoboldCpp replies with the model it loaded: the header says so, not "No model chosen".
    let labels = [];
    await driver
      .wait(async () => {
        labels = await driver.executeScript(`return [...document.querySelectorAll('[data-testid="model-picker"]')].map((e) => e.textContent.trim());`);
        return labels.some((l) => l.includes("Model loaded on the server"));
      }, WAIT_MS)
      .catch(() => assert.fail(`the model picker names the server's loaded model, not ${JSON.stringify(labels)}`));
    await screenshot(driver, "local-profile-in-header");

    await clickFresh(driver, css('[data-testid="prompt-preview-open"]'));
    await driver.wait(until.elementLocated(css('[data-testid="prompt-preview"]')), WAIT_MS);
    await clickFresh(driver, css('[data-testid="prompt-tab-text"]'));
    const text = await driver.wait(until.elementLocated(css('[data-testid="prompt-text"]')), WAIT_MS);
    await driver.wait(async () => (await text.getAttribute("textContent")).includes("<|start_header_id|>"), WAIT_MS, "the Llama 3 format");
    const raw = await text.getAttribute("textContent");
    assert.ok(raw.trimEnd().endsWith("<|start_header_id|>assistant<|end_header_id|>"), `the text ends: ${JSON.stringify(raw.slice(-200))}`);
    const template = await driver.findElement(css('[data-testid="prompt-template"]'));
    assert.equal(await template.getAttribute("data-origin"), "modelName");
    // textContent, not getText: the drawer may still be fading in, and WebDriver reads no text while it does.
    const templateText = await template.getAttribute("textContent");
    assert.ok(templateText.includes("Llama 3"), templateText);
    const tokens = await driver.findElement(css('[data-testid="prompt-text-tokens"]'));
    assert.equal(await tokens.getAttribute("data-by-server"), "true", "KoboldCpp counted the tokens");
    await screenshot(driver, "local-prompt-text");
    await clickFresh(driver, css('[data-testid="prompt-close"]'));
  });

  test("a reply streams from KoboldCpp, and Stop aborts generation on the server", async () => {
    const before = await stats();
    await send(driver, "Tell me slowly about the river.");
    await driver.wait(async () => (await lastReply(driver)).text.includes("word3"), WAIT_MS, "words arrive");
    await screenshot(driver, "local-kobold-streaming");
    await clickFresh(driver, css('[data-testid="composer-stop"]'));
    await driver.wait(async () => (await lastReply(driver)).status === "cancelled", WAIT_MS, "the reply is marked stopped");
    await driver.wait(
      async () => (await stats()).koboldAborts.length > before.koboldAborts.length,
      WAIT_MS,
      "the server was asked to abort",
    );
    const after = await stats();
    assert.ok(after.koboldRequests > before.koboldRequests, "the reply came from KoboldCpp's API");
    assert.equal(after.koboldAborts.at(-1), after.lastKoboldBody.genkey, "the abort names the request's genkey");
    assert.ok(after.lastKoboldBody.prompt.includes("<|start_header_id|>user<|end_header_id|>"));
    assert.ok(!(await lastReply(driver)).text.includes("word400"), "the partial reply stays");
  });

  test("a short reply completes; the chat then lets the profile go", async () => {
    await send(driver, "And where does it lead?");
    await driver.wait(async () => {
      const last = await lastReply(driver);
      return last.status === "complete" && last.text.includes("Eldoria");
    }, WAIT_MS, "the reply completes");
    await clickFresh(driver, css('[data-testid="profile-picker"]'));
    await clickFresh(driver, css('[data-testid="profile-none"]'));
    await driver.wait(
      async () =>
        driver.executeScript(
          `return ![...document.querySelectorAll('[data-testid="profile-current"]')].some((e) => e.textContent.includes(${JSON.stringify(PROFILE_NAME)}));`,
        ),
      WAIT_MS,
      "no profile in the header",
    );
  });

  test("a chat open in a second window follows the profile chosen in the first", async () => {
    const main = await driver.getWindowHandle();
    const named = (name) => async () =>
      driver.executeScript(
        `return [...document.querySelectorAll('[data-testid="profile-current"]')].some((e) => e.textContent.includes(${JSON.stringify(name)}));`,
      );
    const item = await driver.wait(until.elementLocated(css(`[data-testid="session-item"][data-title="${CHARACTER}"]`)), WAIT_MS);
    await item.findElement(css('[data-testid="session-menu"]')).click();
    await clickFresh(driver, css('[data-testid="session-open-window"]'));
    await driver.wait(async () => (await driver.getAllWindowHandles()).length === 2, WAIT_MS, "a second window opens");
    const second = (await driver.getAllWindowHandles()).find((h) => h !== main);
    await driver.switchTo().window(second);
    await waitReady(driver);
    await driver.wait(until.elementLocated(css('[data-testid="conversation"]')), WAIT_MS, "it opens on the chat");
    assert.equal(await named(PROFILE_NAME)(), false, "no profile yet");

    await driver.switchTo().window(main);
    await clickFresh(driver, css('[data-testid="profile-picker"]'));
    await clickFresh(driver, css(`[data-testid="profile-option"][data-name="${PROFILE_NAME}"]`));
    await driver.wait(named(PROFILE_NAME), WAIT_MS, "the first window takes the profile");

    // The second window is not touched: the backend tells it.
    await driver.switchTo().window(second);
    await driver.wait(named(PROFILE_NAME), WAIT_MS, "the second window's header follows");
    await screenshot(driver, "local-second-window-follows");
    await driver.close();
    await driver.switchTo().window(main);
  });
});
