// Group chats end to end: three characters picked in the library start a
// group, a message is answered by the turn order's member, auto turns let two
// more members answer on their own (a second window on the chat following each
// as it streams), Esc stops a streaming reply and ends the
// chain, a muted member leaves the turns, and the prompt preview shows the
// next speaker's prompt with the group's nudge line and the other members'
// descriptions. (Runs on the library app after ystreaming.test.mjs; imports
// the three cards itself when they are missing, so it also runs alone.)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { By, Key, until } from "selenium-webdriver";
import { addFakeProvider, clickFresh, launch, onScreen, screenshot, waitReady } from "./driver.mjs";

const WAIT_MS = 30_000;
const PROVIDER = process.env.CONFAB_FAKE_PROVIDER;
const FIXTURES = process.env.CONFAB_FIXTURES;
const CAST = [
  { name: "Seraphina", file: "v2_png__st_default_Seraphina_2024.png", description: "compassionate" },
  { name: "Megumin", file: "v1_png__st_Megumin.png", description: "Arch Wizard of the Crimson Magic Clan" },
  { name: "Flux the Cat", file: "v2_png__st_default_FluxTheCat.png", description: "quick-witted" },
];

const css = (selector) => By.css(selector);
const count = async (driver, selector) => (await driver.findElements(css(selector))).length;

/** Every assistant message on screen as {id, speaker, status, text}, read in one step. */
async function replies(driver) {
  return driver.executeScript(
    `return [...document.querySelectorAll('[data-testid="message"][data-role="assistant"]')].map((m) => ({
       id: m.dataset.messageId,
       speaker: m.dataset.speakerId ?? null,
       status: m.querySelector('[data-testid="message-status"]')?.dataset.status ?? "complete",
       text: (m.querySelector('[data-testid="message-content"]')?.textContent ?? "").trim(),
     }));`,
  );
}

/**
 * The replies after the last message of the user, as {id, speaker, status, text}
 * (the list draws only the rows near the view, so counting all rows says little).
 */
async function answers(driver) {
  return driver.executeScript(
    `const all = [...document.querySelectorAll('[data-testid="message"]')];
     let at = -1;
     all.forEach((m, i) => { if (m.dataset.role === "user") at = i; });
     return all.slice(at + 1).filter((m) => m.dataset.role === "assistant").map((m) => ({
       id: m.dataset.messageId,
       speaker: m.dataset.speakerId ?? null,
       status: m.querySelector('[data-testid="message-status"]')?.dataset.status ?? "complete",
       text: (m.querySelector('[data-testid="message-content"]')?.textContent ?? "").trim(),
     }));`,
  );
}

/** The text of the last message of the user on screen. */
async function lastUserText(driver) {
  return driver.executeScript(
    `const all = document.querySelectorAll('[data-testid="message"][data-role="user"]');
     const m = all.length ? all[all.length - 1] : null;
     return m ? (m.querySelector('[data-testid="message-content"]')?.textContent ?? "").trim() : null;`,
  );
}

/** The members in the bar as {id, name, presence, next}. */
async function members(driver) {
  return driver.executeScript(
    `return [...document.querySelectorAll('[data-testid="group-member"]')].map((m) => ({
       id: m.dataset.characterId, name: m.dataset.name, presence: m.dataset.presence, next: m.dataset.next === "true",
     }));`,
  );
}

async function idle(driver) {
  await driver.wait(
    async () => (await count(driver, '[data-testid="composer-send"]')) === 1 && (await count(driver, '[data-testid="conversation"][data-streaming="true"]')) === 0,
    WAIT_MS,
    "no reply streams",
  );
}

async function send(driver, text) {
  const input = await driver.wait(until.elementLocated(css('[data-testid="composer-input"]')), WAIT_MS);
  await driver.wait(until.elementIsEnabled(input), WAIT_MS, "the composer is free");
  await input.sendKeys(text);
  await input.sendKeys(Key.ENTER);
}

describe("a group chat of three", () => {
  let driver;
  before(async () => {
    assert.ok(PROVIDER, "run the suite through tests/e2e/run.sh (it starts the fake provider)");
    driver = await launch(process.env.CONFAB_WEBDRIVER_LIBRARY);
    await waitReady(driver);
    // Every console error and uncaught failure from here on is kept for the last test.
    await driver.executeScript(
      `window.__groupErrors = [];
       const original = console.error.bind(console);
       console.error = (...args) => { window.__groupErrors.push(args.map(String).join(" ")); original(...args); };
       window.addEventListener("error", (e) => window.__groupErrors.push(String(e.message)));
       window.addEventListener("unhandledrejection", (e) => window.__groupErrors.push(String(e.reason)));`,
    );
  });
  after(async () => {
    await driver?.quit();
  });

  test("a provider is set up (the fake local server, added if there is none)", async () => {
    await addFakeProvider(driver, PROVIDER);
  });

  test("three characters picked in the library start a group chat, each greeting in turn", async () => {
    await clickFresh(driver, css('[data-testid="nav-library"]'));
    await onScreen(driver, "library");
    await driver.sleep(300);
    const missing = [];
    for (const member of CAST) {
      if ((await count(driver, `[data-testid="character-card"][data-name="${member.name}"]`)) === 0) missing.push(member);
    }
    if (missing.length > 0) {
      await driver.findElement(css('[data-testid="import-input"]')).sendKeys(missing.map((m) => join(FIXTURES, m.file)).join("\n"));
      await driver.wait(until.elementLocated(css('[data-testid="import-summary"]')), WAIT_MS, "the import summary");
      await clickFresh(driver, css('[data-testid="import-summary-close"]'));
    }
    await clickFresh(driver, css('[data-testid="library-select"]'));
    await driver.wait(until.elementLocated(css('[data-testid="library-selection"]')), WAIT_MS, "select mode");
    for (const member of CAST) {
      await clickFresh(driver, css(`[data-testid="character-card"][data-name="${member.name}"]`));
    }
    await driver.wait(
      async () => (await count(driver, '[data-testid="character-card"][data-selected="true"]')) === 3,
      WAIT_MS,
      "three cards are selected",
    );
    await clickFresh(driver, css('[data-testid="library-start-group"]'));
    await onScreen(driver, "chats");
    await driver.wait(async () => (await members(driver)).length === 3, WAIT_MS, "the member bar lists three members");
    const cast = await members(driver);
    assert.deepEqual(
      cast.map((m) => m.name).sort(),
      CAST.map((m) => m.name).sort(),
    );
    assert.ok(cast.every((m) => m.presence === "present"));
    // Each greets in turn, under its own name.
    await driver.wait(async () => (await replies(driver)).length >= 3, WAIT_MS, "three greetings");
    const speakers = new Set((await replies(driver)).map((r) => r.speaker));
    assert.equal(speakers.size, 3, "each greeting has its own speaker");
    const header = await driver.findElement(css('[data-testid="conversation-members"]'));
    assert.equal(await header.getText(), "3 members");
    assert.ok((await header.getAttribute("title")).includes("Megumin"));
    await screenshot(driver, "group-member-bar");
  });

  test("in list order, a message is answered by the member the turn order names", async () => {
    await clickFresh(driver, css('[data-testid="group-settings-open"]'));
    await clickFresh(driver, css('[data-testid="group-turn-order-list"]'));
    await driver.wait(
      async () => (await driver.findElement(css('[data-testid="group-turn-order-list"]')).isSelected()) === true,
      WAIT_MS,
      "list order is chosen",
    );
    await driver.sleep(300);
    await clickFresh(driver, css('[data-testid="group-settings-done"]'));
    await driver.wait(async () => (await count(driver, '[data-testid="group-settings"]')) === 0, WAIT_MS);
    const next = (await members(driver)).find((m) => m.next);
    assert.ok(next, "the bar marks who speaks next");
    const choice = await driver.findElement(css('[data-testid="next-speaker"] option[value=""]')).getText();
    assert.ok(choice.includes(next.name), `the composer says who answers: ${choice}`);
    await send(driver, "Hello everyone. Where are we?");
    await driver.wait(async () => (await answers(driver)).length === 1, WAIT_MS, "a reply starts");
    await idle(driver);
    const last = (await answers(driver)).at(-1);
    assert.equal(last.speaker, next.id, "the next speaker answered");
    assert.ok(last.text.includes("tell me how you came to be so far from the road"), last.text);
  });

  test("with two auto turns, two more members answer on their own, one after another", async () => {
    await clickFresh(driver, css('[data-testid="group-settings-open"]'));
    const auto = await driver.wait(until.elementLocated(css('[data-testid="group-auto-turns"]')), WAIT_MS, "the settings open");
    await auto.clear();
    await auto.sendKeys("2", Key.ENTER);
    await driver.sleep(400);
    await screenshot(driver, "group-settings");
    await clickFresh(driver, css('[data-testid="group-settings-done"]'));
    await driver.wait(async () => (await count(driver, '[data-testid="group-settings"]')) === 0, WAIT_MS);
    // Saved: the panel opens again on 2.
    await clickFresh(driver, css('[data-testid="group-settings-open"]'));
    const again = await driver.wait(until.elementLocated(css('[data-testid="group-auto-turns"]')), WAIT_MS);
    assert.equal(await again.getAttribute("value"), "2");
    await clickFresh(driver, css('[data-testid="group-settings-done"]'));

    await send(driver, "What do you all think of this place?");
    await driver.wait(async () => (await answers(driver)).length === 3, WAIT_MS, "the reply and two auto turns");
    await idle(driver);
    const turns = await answers(driver);
    assert.ok(turns.every((r) => r.status === "complete" && r.text.length > 0), JSON.stringify(turns));
    assert.notEqual(turns[1].speaker, turns[0].speaker, "an auto turn is another member's");
    assert.notEqual(turns[2].speaker, turns[1].speaker, "and the next one another's again");
    await driver.sleep(1500);
    assert.equal((await answers(driver)).length, 3, "no third auto turn");
  });

  test("a second window on the group follows every auto turn as it streams, then goes quiet", async () => {
    const main = await driver.getWindowHandle();
    const open = await driver.executeScript(`return document.querySelector('[data-testid="session-item"] .open[aria-current="true"]').closest('[data-testid="session-item"]');`);
    await open.findElement(css('[data-testid="session-menu"]')).click();
    await clickFresh(driver, css('[data-testid="session-open-window"]'));
    await driver.wait(async () => (await driver.getAllWindowHandles()).length === 2, WAIT_MS, "a second window opens");
    const second = (await driver.getAllWindowHandles()).find((h) => h !== main);
    await driver.switchTo().window(second);
    await waitReady(driver);
    await driver.wait(async () => (await members(driver)).length === 3, WAIT_MS, "it opens on the group");

    await driver.switchTo().window(main);
    await send(driver, "Answer steadily, one by one.");
    await driver.switchTo().window(second);
    let turns;
    try {
      // Each of the three replies is seen growing here (streaming, with text), not only read back at the end.
      const seenStreaming = new Set();
      await driver.wait(
        async () => {
          if ((await lastUserText(driver)) !== "Answer steadily, one by one.") return false;
          const now = await answers(driver);
          for (const a of now) if (a.status === "streaming" && a.text.includes("step")) seenStreaming.add(a.id);
          return now.length === 3 && now.every((a) => a.status === "complete");
        },
        60_000,
        "the second window shows the message, the reply and both auto turns",
      );
      turns = await answers(driver);
      assert.ok(turns.every((a) => a.text.includes("step30")), JSON.stringify(turns));
      assert.ok(seenStreaming.has(turns[1].id) && seenStreaming.has(turns[2].id), `the auto turns streamed here: ${[...seenStreaming]}`);
      await screenshot(driver, "group-second-window-auto-turns");
    } finally {
      // The tests after this one run in the main window whatever happened here.
      await driver.close();
      await driver.switchTo().window(main);
    }
    await idle(driver);
    assert.deepEqual((await answers(driver)).map((a) => a.id), turns.map((a) => a.id), "both windows saw the same replies");
  });

  test("Esc stops the reply that streams, and the auto turns after it", async () => {
    await send(driver, "Tell us slowly about the glade.");
    await driver.wait(until.elementLocated(css('[data-testid="composer-stop"]')), WAIT_MS, "Stop replaces Send");
    await driver.wait(async () => ((await answers(driver)).at(-1)?.text ?? "").includes("word3"), WAIT_MS, "words arrive");
    const streaming = await answers(driver);
    assert.equal(streaming.length, 1, "the first reply streams");
    await driver.findElement(css('[data-testid="composer-input"]')).sendKeys(Key.ESCAPE);
    await driver.wait(
      until.elementLocated(css('[data-testid="message-status"][data-status="cancelled"]')),
      WAIT_MS,
      "the reply is marked stopped",
    );
    await idle(driver);
    const stopped = await answers(driver);
    assert.equal(stopped.length, 1);
    assert.equal(stopped[0].id, streaming[0].id);
    assert.equal(stopped[0].status, "cancelled");
    assert.ok(stopped[0].text.includes("word1") && !stopped[0].text.includes("word200"), "the partial reply stays");
    await driver.sleep(2000);
    assert.deepEqual((await answers(driver)).map((a) => a.id), [streaming[0].id], "no auto turn follows a stop");
    assert.equal(await count(driver, '[data-testid="conversation"][data-streaming="true"]'), 0);
  });

  test("Stop during an auto turn stops that member's reply and the turns after it", async () => {
    await send(driver, "Go on slowly, all of you.");
    // The first reply runs to its end (200 slow words); the next member's turn follows on its own.
    await driver.wait(async () => (await answers(driver)).length === 2, 60_000, "an auto turn starts");
    const [first] = await answers(driver);
    assert.equal(first.status, "complete", "the reply before it finished");
    await driver.wait(async () => ((await answers(driver))[1]?.text ?? "").includes("word3"), WAIT_MS, "the auto turn streams");
    const turn = (await answers(driver))[1];
    assert.notEqual(turn.speaker, first.speaker, "another member speaks");
    await clickFresh(driver, css('[data-testid="composer-stop"]'));
    await driver.wait(
      async () => (await answers(driver))[1]?.status === "cancelled",
      WAIT_MS,
      "the auto turn is marked stopped",
    );
    await idle(driver);
    await driver.sleep(2000);
    assert.deepEqual((await answers(driver)).map((a) => a.id), [first.id, turn.id], "no third turn");
  });

  test("a muted member leaves the turns; the preview shows the next speaker's prompt with the others' cards", async () => {
    // Mute the member who would speak next.
    const next = (await members(driver)).find((m) => m.next);
    assert.ok(next);
    await clickFresh(driver, css(`[data-testid="member-menu-open"][data-character-id="${next.id}"]`));
    await driver.wait(until.elementLocated(css(`[data-menu-for="${next.id}"]`)), WAIT_MS, "the member's menu opens");
    await screenshot(driver, "group-member-menu");
    await clickFresh(driver, css(`[data-menu-for="${next.id}"] [data-testid="member-mute"]`));
    await driver.wait(
      async () => (await members(driver)).find((m) => m.id === next.id)?.presence === "muted",
      WAIT_MS,
      "the member is muted",
    );
    await driver.wait(async () => {
      const now = (await members(driver)).find((m) => m.next);
      return now !== undefined && now.id !== next.id;
    }, WAIT_MS, "another member speaks next");
    await driver.wait(until.elementLocated(css('[data-testid="member-event"][data-change="muted"]')), WAIT_MS, "the change is in the history");
    await screenshot(driver, "group-member-bar-muted");

    const speaker = (await members(driver)).find((m) => m.next);
    await clickFresh(driver, css('[data-testid="prompt-preview-open"]'));
    const preview = await driver.wait(until.elementLocated(css('[data-testid="prompt-preview"]')), WAIT_MS, "the preview opens");
    await driver.wait(
      async () => (await driver.findElement(css('[data-testid="prompt-speaker"]')).getAttribute("data-speaker-id")) === speaker.id,
      WAIT_MS,
      "the prompt is the next speaker's",
    );
    await driver.wait(async () => (await count(driver, '[data-testid="prompt-message"]')) >= 3, WAIT_MS, "the prompt is built");
    assert.match(await driver.findElement(css('[data-testid="prompt-speaker"]')).getAttribute("textContent"), new RegExp(`Prompt for ${speaker.name}`));
    const text = await preview.getAttribute("textContent");
    assert.ok(text.includes(`[Write the next reply only as ${speaker.name}.]`), "the group's nudge names the speaker");
    for (const member of CAST.filter((m) => m.name !== speaker.name)) {
      assert.ok(text.includes(member.description), `${member.name}'s description is in the prompt`);
    }
    await screenshot(driver, "group-prompt-preview");

    // Another member's prompt on request.
    const other = (await members(driver)).find((m) => m.id !== speaker.id && m.presence === "present") ?? next;
    await driver.findElement(css(`[data-testid="prompt-speaker-pick"] option[value="${other.id}"]`)).click();
    await driver.wait(
      async () => (await driver.findElement(css('[data-testid="prompt-speaker"]')).getAttribute("data-speaker-id")) === other.id,
      WAIT_MS,
      "the preview follows the pick",
    );
    await driver.wait(
      async () => (await preview.getAttribute("textContent")).includes(`[Write the next reply only as ${other.name}.]`),
      WAIT_MS,
      "with that member's nudge",
    );
  });

  test("no console error or uncaught failure along the way", async () => {
    assert.deepEqual(await driver.executeScript("return window.__groupErrors;"), []);
  });
});
