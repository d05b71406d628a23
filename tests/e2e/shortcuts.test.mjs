// Keyboard shortcuts and focus, driven with real key presses: Ctrl+K search,
// Ctrl+N new chat, Esc stops a reply, Alt+Left/Right swipe, Up edits the last
// message, ? shows the shortcuts, and Tab shows where focus is. Runs on the
// first-start app of app.test.mjs (its own character and provider, so the
// library tests' state is left alone); named to run after it and library.test.mjs.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { By, Key, until } from "selenium-webdriver";
import { addFakeProvider, chord, clickFresh, launch, onScreen, pick, screenshot, waitReady } from "./driver.mjs";

const WAIT_MS = 30_000;
const PROVIDER = process.env.CONFAB_FAKE_PROVIDER;
const CARD = join(process.env.CONFAB_FIXTURES ?? "", "v2_png__st_default_FluxTheCat.png");

const css = (selector) => By.css(selector);
const count = async (driver, selector) => (await driver.findElements(css(selector))).length;

async function lastAssistant(driver) {
  return driver.executeScript(
    `const all = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
     const last = all[all.length - 1];
     return last ? { index: Number(last.dataset.swipeIndex), count: Number(last.dataset.swipeCount),
       text: last.querySelector('[data-testid="message-content"]')?.textContent.trim() ?? "" } : null;`,
  );
}

async function composer(driver) {
  const input = await driver.wait(until.elementLocated(css('[data-testid="composer-input"]')), WAIT_MS);
  await driver.wait(until.elementIsEnabled(input), WAIT_MS, "the composer is free");
  return input;
}

describe("keyboard shortcuts and focus", () => {
  let driver;
  before(async () => {
    assert.ok(PROVIDER, "run the suite through tests/e2e/run.sh (it starts the fake provider)");
    driver = await launch(process.env.CONFAB_WEBDRIVER);
    await waitReady(driver);
    // app.test.mjs left this app in Russian: the texts checked here are English.
    await clickFresh(driver, css('[data-testid="nav-settings"]'));
    await onScreen(driver, "settings");
    await pick(driver, "language-select", "en");
    await driver.wait(async () => (await driver.executeScript("return document.documentElement.lang")) === "en", WAIT_MS, "English");
    // A character to find, and a provider to answer.
    await driver.findElement(css('[data-testid="import-input"]')).sendKeys(CARD);
    await clickFresh(driver, css('[data-testid="import-summary-close"]'));
    await addFakeProvider(driver, PROVIDER, { name: "Fake for keys", onlyIfNone: false });
  });
  after(async () => {
    await driver?.quit();
  });

  test("? shows the shortcuts with the platform's modifier; Esc closes them", async () => {
    await clickFresh(driver, css('[data-testid="nav-library"]'));
    await onScreen(driver, "library");
    await driver.executeScript("document.activeElement?.blur()");
    await chord(driver, [Key.SHIFT], "?");
    const dialog = await driver.wait(until.elementLocated(css('[data-testid="shortcuts-dialog"]')), WAIT_MS, "the shortcuts dialog");
    // textContent: getText() reads nothing while the dialog is still fading in.
    const text = await dialog.getAttribute("textContent");
    assert.match(text, /Ctrl\s*\+\s*K/, "Ctrl, not Cmd, off the Mac");
    assert.ok(!text.includes("⌘"));
    assert.match(text, /Esc/);
    await screenshot(driver, "shortcuts-dialog");
    await chord(driver, [], Key.ESCAPE);
    await driver.wait(async () => (await count(driver, '[data-testid="shortcuts-dialog"]')) === 0, WAIT_MS, "closed");
  });

  test("Ctrl+K searches everything; picking a character opens it", async () => {
    await chord(driver, [Key.CONTROL], "k");
    const input = await driver.wait(until.elementLocated(css('[data-testid="switcher-input"]')), WAIT_MS, "the search box");
    await driver.wait(async () => (await driver.executeScript("return document.activeElement?.dataset.testid")) === "switcher-input", WAIT_MS, "it has focus");
    await input.sendKeys("flux");
    await driver.wait(
      until.elementLocated(css('[data-testid="switcher-result"][data-kind="character"]')),
      WAIT_MS,
      "the character is found",
    );
    await screenshot(driver, "quick-switcher");
    await input.sendKeys(Key.ENTER);
    await driver.wait(until.elementLocated(css('[data-testid="character-detail"]')), WAIT_MS, "it opens");
    // The name is in the editor's fields, not its text.
    const names = await driver.executeScript(
      `return [...document.querySelectorAll('[data-testid="character-detail"] input')].map((i) => i.value).join(" ");`,
    );
    assert.match(names, /Flux/i);
  });

  test("Ctrl+N starts a new chat with the open character", async () => {
    await chord(driver, [Key.CONTROL], "n");
    await onScreen(driver, "chats");
    const sessionId = () =>
      driver.executeScript(`return document.querySelector('[data-testid="conversation"]')?.dataset.sessionId ?? null;`);
    await driver.wait(async () => (await sessionId()) !== null, WAIT_MS, "a chat opens");
    const first = await sessionId();
    // Again from the chat: another new chat with the same character.
    await chord(driver, [Key.CONTROL], "n");
    await driver.wait(async () => ![null, first].includes(await sessionId()), WAIT_MS, "a second new chat opens");
  });

  test("Esc stops a streaming reply", async () => {
    const input = await composer(driver);
    await input.sendKeys("Tell me slowly about the sea.", Key.ENTER);
    await driver.wait(async () => ((await lastAssistant(driver))?.text ?? "").includes("word2"), WAIT_MS, "the reply streams");
    await chord(driver, [], Key.ESCAPE);
    await driver.wait(
      until.elementLocated(css('[data-testid="message-status"][data-status="cancelled"]')),
      WAIT_MS,
      "Esc stopped it",
    );
    assert.ok(!(await lastAssistant(driver)).text.includes("word200"), "it did not run to the end");
    await driver.wait(until.elementLocated(css('[data-testid="composer-send"]')), WAIT_MS, "Send is back");
  });

  test("Alt+Left and Alt+Right show the last reply's other versions", async () => {
    const replies = await count(driver, '[data-testid="message"][data-role="assistant"]');
    const input = await composer(driver);
    await input.sendKeys("Hello there.", Key.ENTER);
    // The stopped reply has its own Regenerate: wait for the new reply to finish.
    await driver.wait(
      async () =>
        (await count(driver, '[data-testid="message"][data-role="assistant"]')) > replies &&
        (await count(driver, '[data-testid="composer-send"]')) === 1 &&
        (await count(driver, '[data-testid="message-regenerate"]')) === 1,
      WAIT_MS,
      "the reply is done",
    );
    await clickFresh(driver, css('[data-testid="message-regenerate"]'));
    await driver.wait(async () => (await lastAssistant(driver))?.count === 2, WAIT_MS, "a second version");
    await driver.wait(
      async () => (await count(driver, '[data-testid="composer-send"]')) === 1 && (await lastAssistant(driver))?.index === 1,
      WAIT_MS,
      "it is done and shown",
    );
    await driver.executeScript("document.activeElement?.blur()");
    await chord(driver, [Key.ALT], Key.ARROW_LEFT);
    await driver.wait(async () => (await lastAssistant(driver))?.index === 0, WAIT_MS, "Alt+Left shows the first");
    await chord(driver, [Key.ALT], Key.ARROW_RIGHT);
    await driver.wait(async () => (await lastAssistant(driver))?.index === 1, WAIT_MS, "Alt+Right the second again");
  });

  test("Up in the empty composer edits the last user message", async () => {
    const input = await composer(driver);
    await input.click();
    await chord(driver, [], Key.ARROW_UP);
    const editor = await driver.wait(until.elementLocated(css('[data-testid="message-edit-input"]')), WAIT_MS, "editing starts");
    assert.equal(await editor.getAttribute("value"), "Hello there.");
    await screenshot(driver, "chat-edit-by-keyboard");
    await clickFresh(driver, css('[data-testid="message-edit-cancel"]'));
  });

  test("Tab moves through the controls and the focused one shows a ring", async () => {
    await clickFresh(driver, css('[data-testid="nav-library"]'));
    await onScreen(driver, "library");
    await driver.executeScript("document.activeElement?.blur()");
    const seen = new Set();
    for (let i = 0; i < 8; i++) {
      await chord(driver, [], Key.TAB);
      const focus = await driver.executeScript(
        `const el = document.activeElement;
         if (!el || el === document.body) return null;
         const style = getComputedStyle(el);
         return { id: el.dataset.testid || el.id || el.tagName, outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
           shadow: style.boxShadow !== "none", visible: el.matches(":focus-visible") };`,
      );
      assert.ok(focus, "Tab lands on a control");
      assert.ok(focus.outline || focus.shadow, `${focus.id} shows where focus is`);
      seen.add(focus.id);
    }
    assert.ok(seen.size >= 4, `Tab moved through several controls: ${[...seen].join(", ")}`);
    await screenshot(driver, "library-keyboard-focus");
  });
});
