// Faithful prompts end to end: a SillyTavern V2 card with example dialogue and a
// Character's note is imported, a chat with it gets an Author's Note from the
// chat header, and the prompt preview shows all three where they go; the
// request body it previews is the one the provider then gets, message for message.
// Self-contained: it imports its own card and adds the fake provider if the
// library has none (ystreaming.test.mjs adds one when it runs first).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { By, Key, until } from "selenium-webdriver";
import { addFakeProvider, clickFresh, fakeStats, launch, onScreen, screenshot, waitReady } from "./driver.mjs";

const WAIT_MS = 30_000;
const PROVIDER = process.env.CONFAB_FAKE_PROVIDER;
const NAME = "Mira Vale";
const CHARACTER_NOTE = "{{char}} never leaves the lamp unattended, and says so when asked.";
const AUTHORS_NOTE = "[Mood: a storm is coming. Keep the replies short and tense.]";
const DRAFT = "Is the lamp lit tonight?";

/** A V2 card as SillyTavern exports it: the V1 fields at the top, the card in `data`. */
function stCard() {
  const data = {
    name: NAME,
    description: "{{char}} keeps the lighthouse on Gull Point. She is in her fifties, weathered and kind.",
    personality: "patient, dry humour, stubborn about the lamp",
    scenario: "{{user}} is stranded at the lighthouse by a storm.",
    first_mes: "*Mira sets down the oil can.* You picked a poor night to get lost, traveller.",
    mes_example:
      "<START>\n{{user}}: What keeps you out here?\n{{char}}: The lamp. Ships still pass, and somebody has to care.\n" +
      "<START>\n{{user}}: Do you ever sleep?\n{{char}}: *snorts* Between the second and third watch, if the sea allows it.",
    creator_notes: "An end-to-end test card.",
    system_prompt: "",
    post_history_instructions: "",
    alternate_greetings: [],
    character_book: undefined,
    tags: ["e2e", "lighthouse"],
    creator: "confab-e2e",
    character_version: "1.0",
    extensions: {
      talkativeness: "0.5",
      fav: false,
      world: "",
      depth_prompt: { prompt: CHARACTER_NOTE, depth: 2, role: "system" },
    },
  };
  return {
    name: data.name,
    description: data.description,
    personality: data.personality,
    scenario: data.scenario,
    first_mes: data.first_mes,
    mes_example: data.mes_example,
    creatorcomment: data.creator_notes,
    avatar: "none",
    chat: "Mira Vale - 2025-01-01@00h00m00s",
    talkativeness: "0.5",
    fav: false,
    tags: data.tags,
    spec: "chara_card_v2",
    spec_version: "2.0",
    data,
    create_date: "2025-01-01T00:00:00.000Z",
  };
}

async function typeInto(driver, locator, text) {
  const input = await driver.wait(until.elementLocated(locator), WAIT_MS);
  await input.clear();
  await input.sendKeys(text);
  return input;
}

/** Replaces a number as a person would: erase it with Backspace, then type (no blur in between). */
async function typeNumber(driver, locator, text) {
  const input = await driver.wait(until.elementLocated(locator), WAIT_MS);
  await input.sendKeys(Key.END, Key.BACK_SPACE, Key.BACK_SPACE, Key.BACK_SPACE, Key.BACK_SPACE, Key.BACK_SPACE, text);
  return input;
}

/** The parts the preview lists, as [source, text] in order, read in one step. */
async function previewParts(driver) {
  return driver.executeScript(
    `return [...document.querySelectorAll('[data-testid="prompt-preview"] [data-testid="prompt-part"]')]
       .map((p) => [p.dataset.source, p.querySelector('pre')?.textContent ?? '']);`,
  );
}

const providerStats = () => fakeStats(PROVIDER);

describe("example dialogue, the Character's note and the Author's Note reach the prompt", () => {
  let driver;
  before(async () => {
    assert.ok(PROVIDER, "run the suite through tests/e2e/run.sh (it starts the fake provider)");
    driver = await launch(process.env.CONFAB_WEBDRIVER_LIBRARY);
    await waitReady(driver);
  });
  after(async () => {
    await driver?.quit();
  });

  test("a provider is set up (the fake local server, added if there is none)", async () => {
    await addFakeProvider(driver, PROVIDER);
  });

  test("a SillyTavern V2 card's depth prompt shows as its Character's note", async () => {
    const dir = mkdtempSync(join(tmpdir(), "confab-notes-"));
    const file = join(dir, "Mira_Vale.json");
    writeFileSync(file, JSON.stringify(stCard(), null, 2));

    await clickFresh(driver, By.css('[data-testid="nav-library"]'));
    await onScreen(driver, "library");
    await driver.findElement(By.css('[data-testid="import-input"]')).sendKeys(file);
    const row = await driver.wait(
      until.elementLocated(By.css('[data-testid="import-row"][data-status="imported"]')),
      WAIT_MS,
      "the card is imported",
    );
    assert.ok((await row.getAttribute("data-file")).endsWith("Mira_Vale.json"));
    await clickFresh(driver, By.css('[data-testid="import-summary-close"]'));

    await clickFresh(driver, By.css(`[data-testid="character-card"][data-name="${NAME}"]`));
    const note = await driver.wait(until.elementLocated(By.css('[data-testid="character-note"]')), WAIT_MS);
    const text = await note.findElement(By.css('[data-testid="character-note-text"]'));
    assert.equal(await text.getAttribute("value"), CHARACTER_NOTE);
    assert.equal(await note.findElement(By.css('[data-testid="character-note-depth"]')).getAttribute("value"), "2");
    assert.equal(await note.findElement(By.css('[data-testid="character-note-role"]')).getAttribute("value"), "system");
    assert.match(await note.getText(), /Sent before the last 2 messages, as System/);
    const examples = await driver.findElement(By.css('[data-testid="field-mes_example"]')).getAttribute("value");
    assert.ok(examples.includes("<START>"), "the example dialogue is in the card");
    await driver.executeScript("arguments[0].scrollIntoView({block: 'center'})", note);
    await screenshot(driver, "notes-character-note");

    // Edited in the card, saved with it (the preview below sends the edited text).
    await text.sendKeys(Key.END, " Always.");
    await driver.wait(until.elementLocated(By.css('[data-testid="character-detail"][data-dirty="true"]')), WAIT_MS, "unsaved");
    await clickFresh(driver, By.css('[data-testid="detail-save"]'));
    await driver.wait(until.elementLocated(By.css('[data-testid="character-detail"][data-dirty="false"]')), WAIT_MS, "saved");
  });

  test("the Author's Note is set from the chat header in one click", async () => {
    await clickFresh(driver, By.css('[data-testid="character-chat"]'));
    await onScreen(driver, "chats");
    await driver.wait(until.elementLocated(By.css('[data-testid="message"][data-role="assistant"]')), WAIT_MS, "the greeting");

    await clickFresh(driver, By.css('[data-testid="authors-note-open"]'));
    const panel = await driver.wait(until.elementLocated(By.css('[data-testid="authors-note-panel"][data-scope="none"]')), WAIT_MS);
    await typeInto(driver, By.css('[data-testid="authors-note-text"]'), AUTHORS_NOTE);
    const depth = await typeNumber(driver, By.css('[data-testid="authors-note-depth"]'), "1");
    assert.equal(await depth.getAttribute("value"), "1");
    await clickFresh(driver, By.css('[data-testid="authors-note-save"]'));
    const saved = await driver.wait(until.elementLocated(By.css('[data-testid="authors-note-saved"]')), WAIT_MS, "saved");
    await screenshot(driver, "notes-authors-note");
    assert.match(await saved.getAttribute("textContent"), /Saved for this chat/);
    assert.equal(await panel.getAttribute("data-scope"), "chat");
    await clickFresh(driver, By.css('[data-testid="authors-note-close"]'));
    await driver.wait(async () => (await driver.findElements(By.css('[data-testid="authors-note-panel"]'))).length === 0, WAIT_MS);
    assert.equal(await driver.findElement(By.css('[data-testid="authors-note-open"]')).getAttribute("data-active"), "true");
  });

  test("the preview shows the example dialogue, the Character's note and the Author's Note where they go", async () => {
    await typeInto(driver, By.css('[data-testid="composer-input"]'), DRAFT);
    await clickFresh(driver, By.css('[data-testid="prompt-preview-open"]'));
    await driver.wait(until.elementLocated(By.css('[data-testid="prompt-preview"]')), WAIT_MS, "the preview opens");
    await driver.wait(
      async () => {
        const parts = await previewParts(driver);
        return parts.some(([s]) => s === "characterNote") && parts.some(([s]) => s === "authorsNote") && parts.at(-1)?.[1] === DRAFT;
      },
      WAIT_MS,
      "the notes and the draft are in the preview",
    );
    const parts = await previewParts(driver);
    const sources = parts.map(([s]) => s);
    const text = (source) => parts.filter(([s]) => s === source).map(([, t]) => t);
    // Example dialogue: two example chats with the names filled in, before the chat.
    assert.ok(text("exampleDialogue").includes("The lamp. Ships still pass, and somebody has to care."), text("exampleDialogue").join(" | "));
    assert.ok(text("exampleDialogue").includes("What keeps you out here?"));
    assert.ok(text("exampleDialogue").some((t) => t.includes("Between the second and third watch")));
    assert.ok(sources.lastIndexOf("exampleDialogue") < sources.indexOf("history"), sources.join(","));
    // The Character's note with its macro filled in, and the Author's Note, inside the chat.
    assert.deepEqual(text("characterNote"), [`${NAME} never leaves the lamp unattended, and says so when asked. Always.`]);
    assert.deepEqual(text("authorsNote"), [AUTHORS_NOTE]);
    // Depth counts the new message: the note at 1 comes after the greeting, the
    // Character's note at 2 before it.
    assert.ok(sources.indexOf("authorsNote") > sources.lastIndexOf("history"), sources.join(","));
    assert.ok(sources.indexOf("characterNote") < sources.indexOf("history"), sources.join(","));
    // Both notes sit in the chat part of the prompt: after the example chats, before the new message.
    for (const note of ["characterNote", "authorsNote"]) {
      assert.ok(sources.indexOf(note) > sources.indexOf("chatStart"), sources.join(","));
      assert.ok(sources.indexOf(note) < sources.indexOf("newMessage"), sources.join(","));
    }
    assert.equal(sources.at(-1), "newMessage");
    // getText() reads "" until the preview has faded in: wait for the figure.
    const totalsEl = await driver.findElement(By.css('[data-testid="prompt-total-tokens"]'));
    await driver.wait(async () => (await totalsEl.getText()) !== "", WAIT_MS, "the token total shows");
    assert.match(await totalsEl.getText(), /^[\d,]+ tokens$/);
    const target = await driver.findElement(By.css('[data-testid="prompt-target"]')).getText();
    assert.ok(target.length > 0, "who the prompt goes to");

    // Scroll so the example chats and the notes are on screen together.
    await driver.executeScript(
      `document.querySelector('[data-testid="prompt-preview"] [data-testid="prompt-part"][data-source="exampleDialogue"]')
         .closest('[data-testid="prompt-message"]').scrollIntoView({block: 'start'});`,
    );
    await screenshot(driver, "notes-prompt-preview");
    await driver.executeScript(
      `document.querySelector('[data-testid="prompt-preview"] [data-testid="prompt-part"][data-source="characterNote"]')
         .closest('[data-testid="prompt-message"]').scrollIntoView({block: 'center'});`,
    );
    await screenshot(driver, "notes-prompt-preview-notes");
  });

  test("the request body it previews is what the provider gets when the message is sent", async () => {
    await clickFresh(driver, By.css('[data-testid="prompt-tab-request"]'));
    const body = await driver.wait(until.elementLocated(By.css('[data-testid="prompt-request-body"]')), WAIT_MS, "the body");
    const previewed = JSON.parse(await body.getAttribute("textContent"));
    const json = JSON.stringify(previewed.messages);
    assert.ok(json.includes("[Example Chat]"), "example chats in the body");
    assert.ok(json.includes(AUTHORS_NOTE), "the Author's Note in the body");
    assert.ok(json.includes("never leaves the lamp unattended"), "the Character's note in the body");
    await screenshot(driver, "notes-prompt-request");

    const before = (await providerStats()).chatRequests;
    const input = await driver.findElement(By.css('[data-testid="composer-input"]'));
    await input.sendKeys("\uE007"); // Enter sends the draft the preview was built from
    await driver.wait(async () => (await providerStats()).chatRequests > before, WAIT_MS, "the provider gets the request");
    const sent = (await providerStats()).lastBody;
    assert.deepEqual(sent.messages, previewed.messages, "the messages sent are the ones previewed");
    assert.equal(sent.model, previewed.model);
  });

  test("Settings → Example dialogue: “Never send” leaves the example chats out of the prompt", async () => {
    await driver.wait(until.elementLocated(By.css('[data-testid="composer-send"]')), WAIT_MS, "the reply is done");
    await clickFresh(driver, By.css('[data-testid="nav-settings"]'));
    await onScreen(driver, "settings");
    const setting = await driver.wait(until.elementLocated(By.css('[data-testid="example-dialogue-setting"]')), WAIT_MS);
    // Scroll the settings pane only (scrollIntoView would nudge the window too).
    await driver.executeScript(
      "const pane = arguments[0].closest('.content'); const section = arguments[0].closest('section');" +
        "pane.scrollTop += section.getBoundingClientRect().top - pane.getBoundingClientRect().top - 12;",
      setting,
    );
    assert.equal(await setting.findElement(By.css('[data-testid="example-dialogue-gradual"]')).isSelected(), true, "gradual is the default");
    await clickFresh(driver, By.css('[data-testid="example-dialogue-never"]'));
    await driver.wait(
      async () => (await driver.findElement(By.css('[data-testid="example-dialogue-never"]')).isSelected()),
      WAIT_MS,
    );
    await screenshot(driver, "notes-settings-example-dialogue");

    await clickFresh(driver, By.css('[data-testid="nav-chats"]'));
    await onScreen(driver, "chats");
    if ((await driver.findElements(By.css('[data-testid="prompt-preview"]'))).length === 0) {
      await clickFresh(driver, By.css('[data-testid="prompt-preview-open"]'));
    } else {
      await clickFresh(driver, By.css('[data-testid="prompt-refresh"]'));
    }
    await clickFresh(driver, By.css('[data-testid="prompt-tab-messages"]'));
    await driver.wait(
      async () => {
        const parts = await previewParts(driver);
        return parts.some(([s]) => s === "history") && !parts.some(([s]) => s === "exampleDialogue" || s === "chatStart");
      },
      WAIT_MS,
      "no example chats in the prompt",
    );
    const sources = (await previewParts(driver)).map(([s]) => s);
    assert.ok(sources.includes("characterNote") && sources.includes("authorsNote"), sources.join(","));

    // Back to the default for whatever runs next.
    await clickFresh(driver, By.css('[data-testid="nav-settings"]'));
    await clickFresh(driver, By.css('[data-testid="example-dialogue-gradual"]'));
    await driver.wait(
      async () => (await driver.findElement(By.css('[data-testid="example-dialogue-gradual"]')).isSelected()),
      WAIT_MS,
    );
  });

  test("the world-book Test panel scans this real chat, with a message being sent", async () => {
    await clickFresh(driver, By.css('[data-testid="nav-worldbooks"]'));
    await onScreen(driver, "worldbooks");
    const item = By.css('[data-testid="world-book-item"][data-name*="official__Eldoria"]');
    await driver.wait(until.elementLocated(item), WAIT_MS, "the Eldoria book from the world-book tests");
    await clickFresh(driver, item);
    await clickFresh(driver, By.css('[data-testid="book-tab-test"]'));
    const panel = await driver.wait(until.elementLocated(By.css('[data-testid="test-panel"]')), WAIT_MS);
    await panel.findElement(By.css('[data-testid="test-source-chat"]')).click();
    const picker = await driver.wait(until.elementLocated(By.css('[data-testid="test-session"]')), WAIT_MS);
    // Mira Vale's chat: the one this file set up.
    const options = await picker.findElements(By.css("option"));
    let chosen = false;
    for (const option of options) {
      if ((await option.getText()).includes("Mira Vale")) {
        await option.click();
        chosen = true;
        break;
      }
    }
    assert.ok(chosen, "Mira Vale's chat is offered");
    const draft = await panel.findElement(By.css('[data-testid="test-draft"]'));
    await draft.clear();
    await draft.sendKeys("Is the glade safe tonight?");
    await panel.findElement(By.css('[data-testid="test-run"]')).click();
    await driver.wait(
      async () => (await driver.findElements(By.css('[data-testid="test-activation"]'))).length >= 1,
      WAIT_MS,
      "the glade entry fires on the message being sent",
    );
    await screenshot(driver, "notes-world-book-test-real-chat");
  });
});
