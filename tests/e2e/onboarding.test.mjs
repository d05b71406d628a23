// A new user's first start in the real app: the walk-through (language, replies,
// characters) to a chat with the demo character, Help, and the walk-through
// remembered as done after a restart. Runs on its own driver (a fresh data
// folder, without CONFAB_SKIP_FIRST_RUN; see run.sh).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { By, until } from "selenium-webdriver";
import { clickFresh, launch, onScreen, screenshot, waitReady } from "./driver.mjs";

const SERVER = process.env.CONFAB_WEBDRIVER_FIRSTRUN;
const WAIT_MS = 15_000;
const byTestId = (id) => By.css(`[data-testid="${id}"]`);

async function stepOf(driver) {
  return (await driver.findElement(byTestId("first-run-body"))).getAttribute("data-step");
}

async function waitForStep(driver, step) {
  await driver.wait(async () => (await stepOf(driver)) === step, WAIT_MS, `the ${step} step shows`);
}

describe("a new user's first start", () => {
  let driver;
  before(async () => {
    driver = await launch(SERVER);
    await waitReady(driver);
  });
  after(async () => {
    await driver?.quit();
  });

  test("the walk-through opens on the language step and switches the language live", async () => {
    const dialog = await driver.wait(until.elementLocated(byTestId("first-run")), WAIT_MS, "the walk-through opens");
    await driver.wait(until.elementIsVisible(dialog), WAIT_MS);
    assert.equal(await stepOf(driver), "language");
    assert.match(await dialog.getText(), /Welcome to Confab/);
    await screenshot(driver, "first-run-1-language");

    await clickFresh(driver, byTestId("first-run-language-ru"));
    await driver.wait(
      async () => /Добро пожаловать в Confab/.test(await (await driver.findElement(byTestId("first-run"))).getText()),
      WAIT_MS,
      "the walk-through turns Russian",
    );
    await screenshot(driver, "first-run-1-language-ru");
    await clickFresh(driver, byTestId("first-run-language-en"));
    await driver.wait(
      async () => /Welcome to Confab/.test(await (await driver.findElement(byTestId("first-run"))).getText()),
      WAIT_MS,
      "back in English",
    );
  });

  test("the replies step finds local servers, or says what to install and run", async () => {
    await clickFresh(driver, byTestId("first-run-next"));
    await waitForStep(driver, "replies");
    await clickFresh(driver, By.css('[data-testid="first-run-body"] [data-testid="find-local-servers"]'));
    // Nothing listens on the usual ports here, unless the machine runs a model server.
    const found = await driver.wait(
      async () => {
        const help = await driver.findElements(byTestId("local-server-help"));
        if (help.length > 0) return help[0];
        const servers = await driver.findElements(byTestId("local-server"));
        return servers.length > 0 ? servers[0] : null;
      },
      WAIT_MS,
      "the search answers",
    );
    if ((await found.getAttribute("data-testid")) === "local-server-help") {
      const text = await found.getText();
      for (const server of ["Ollama", "LM Studio", "KoboldCpp", "llama.cpp"]) assert.match(text, new RegExp(server));
    }
    await screenshot(driver, "first-run-2-replies");
  });

  test("the demo character's button leads to a chat with her", async () => {
    await clickFresh(driver, byTestId("first-run-next"));
    await waitForStep(driver, "characters");
    // Her portrait, bundled with the app, has loaded.
    await driver.wait(
      async () => driver.executeScript('const img = document.querySelector(".option.demo img"); return !!img && img.complete && img.naturalWidth > 0;'),
      WAIT_MS,
      "the demo portrait loads",
    );
    await screenshot(driver, "first-run-3-characters");

    await clickFresh(driver, byTestId("first-run-demo"));
    await driver.wait(async () => (await driver.findElements(byTestId("first-run"))).length === 0, WAIT_MS, "the walk-through closes");
    const chats = await onScreen(driver, "chats");
    await driver.wait(
      async () => {
        for (const message of await chats.findElements(byTestId("message-content"))) {
          if (/I'm Mira/.test(await message.getText())) return true;
        }
        return false;
      },
      WAIT_MS,
      "Mira's greeting shows",
    );
    const nav = await driver.findElement(byTestId("nav-chats"));
    assert.equal(await nav.getAttribute("aria-current"), "page");
    await screenshot(driver, "first-run-4-demo-chat");

    // She came with her world book.
    await clickFresh(driver, byTestId("nav-worldbooks"));
    await onScreen(driver, "worldbooks");
    await driver.wait(
      until.elementLocated(By.css('[data-testid="world-book-item"][data-name="Lantern Archive"]')),
      WAIT_MS,
      "her world book is listed",
    );
    await screenshot(driver, "first-run-5-world-book");
  });

  test("the Help menu opens the user guide and troubleshooting", async () => {
    await clickFresh(driver, byTestId("help-button"));
    await driver.wait(until.elementLocated(byTestId("help-menu")), WAIT_MS);
    await screenshot(driver, "help-menu");
    await clickFresh(driver, byTestId("help-guide"));
    const help = await onScreen(driver, "help");
    const doc = await help.findElement(byTestId("help-doc"));
    assert.equal(await (await doc.findElement(By.css("h1"))).getText(), "Confab user guide");
    assert.match(await doc.getText(), /Moving to another machine/);
    await screenshot(driver, "help-guide");

    await clickFresh(driver, byTestId("help-tab-troubleshooting"));
    await driver.wait(
      async () => (await (await driver.findElement(byTestId("help-doc"))).getAttribute("data-doc")) === "troubleshooting",
      WAIT_MS,
    );
    assert.match(await (await driver.findElement(byTestId("help-doc"))).getText(), /No keyring/);
    await screenshot(driver, "help-troubleshooting");
  });

  test("after a restart it is not shown again, and Settings opens it", async () => {
    await driver.quit();
    driver = await launch(SERVER);
    await waitReady(driver);
    await onScreen(driver, "library");
    // Give a (wrong) walk-through time to appear before saying it did not.
    await driver.sleep(1000);
    assert.equal((await driver.findElements(byTestId("first-run"))).length, 0);

    await clickFresh(driver, byTestId("nav-settings"));
    await onScreen(driver, "settings");
    await clickFresh(driver, byTestId("settings-open-first-run"));
    await driver.wait(until.elementLocated(byTestId("first-run")), WAIT_MS);
    assert.equal(await stepOf(driver), "language");
    await clickFresh(driver, byTestId("first-run-skip-all"));
    await driver.wait(async () => (await driver.findElements(byTestId("first-run"))).length === 0, WAIT_MS);
  });
});
