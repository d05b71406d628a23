// Long chats that remember, end to end: a chat on a model with a small window
// (the fake provider's fake-tiny, 1536 tokens) fills past it with long replies;
// the messages that leave the window are summarised in the background (the
// fake answers Confab's summary prompt), the summary shows in the Memory panel,
// is edited there, and the prompt preview sends the edited text. Then retrieval
// is switched on with the fake's /v1/embeddings, a note is added, and a search
// finds it with its score. Self-contained: its own card, its own provider.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { By, until } from "selenium-webdriver";
import { addFakeProvider, chooseModel, clickFresh, fakeStats, importCard, launch, onScreen, pickByText, screenshot, sendAndWait, startChat, waitReady } from "./driver.mjs";

const WAIT_MS = 30_000;
/** Summaries are written after a reply, in the background: give them time on a busy machine. */
const SUMMARY_WAIT_MS = 120_000;
const PROVIDER = process.env.CONFAB_FAKE_PROVIDER;
const NAME = "Wren Hollow";
const PROVIDER_NAME = "Fake memory";
const EDITED = "EDITED: Wren told the traveller about the drowned bell, and the brass key still hangs under the lamp.";
const NOTE = "The brass key opens the crypt of the chapel under the old oak.";

/** A small V2 card, so the window is filled by the chat rather than the card. */
function card() {
  const data = {
    name: NAME,
    description: "{{char}} keeps the bell tower on Gull Point and tells long tales.",
    personality: "patient",
    scenario: "",
    first_mes: "*Wren looks up from the ledger.* A storm brought you, then.",
    mes_example: "",
    creator_notes: "An end-to-end test card.",
    system_prompt: "",
    post_history_instructions: "",
    alternate_greetings: [],
    tags: ["e2e"],
    creator: "confab-e2e",
    character_version: "1.0",
    extensions: {},
  };
  return { ...data, spec: "chara_card_v2", spec_version: "2.0", data };
}

const providerStats = () => fakeStats(PROVIDER);

/** The summaries the Memory panel shows, as [range, text], read in one step. */
async function panelSummaries(driver) {
  return driver.executeScript(
    `return [...document.querySelectorAll('[data-testid="memory-panel"] [data-testid="memory-summary"]')]
       .map((s) => [s.querySelector('[data-testid="memory-summary-range"]')?.textContent ?? '',
                    s.querySelector('[data-testid="memory-summary-text"]')?.textContent ?? '']);`,
  );
}

/** The parts the preview lists, as [source, text, label] in order. */
async function previewParts(driver) {
  return driver.executeScript(
    `return [...document.querySelectorAll('[data-testid="prompt-preview"] [data-testid="prompt-part"]')]
       .map((p) => [p.dataset.source, p.querySelector('pre')?.textContent ?? '', p.querySelector('.label')?.textContent ?? '']);`,
  );
}

describe("a long chat remembers what left the window", () => {
  let driver;
  before(async () => {
    assert.ok(PROVIDER, "run the suite through tests/e2e/run.sh (it starts the fake provider)");
    driver = await launch(process.env.CONFAB_WEBDRIVER_LIBRARY);
    await waitReady(driver);
  });
  after(async () => {
    await driver?.quit();
  });

  test("a provider whose fake-tiny model has a 1536-token window", async () => {
    await addFakeProvider(driver, PROVIDER, { name: PROVIDER_NAME, onlyIfNone: false });
    await clickFresh(driver, By.css('[data-testid="models-refresh"]'));
    await driver.wait(
      async () => (await driver.findElement(By.css('[data-testid="provider-models"]')).getAttribute("textContent")).includes("fake-tiny"),
      WAIT_MS,
      "the fake server's models are listed",
    );
  });

  test("a chat on fake-tiny fills past its window with long replies", async () => {
    await importCard(driver, card(), "Wren_Hollow.json");
    await startChat(driver, NAME);
    await chooseModel(driver, PROVIDER_NAME, "fake-tiny");

    const before = (await providerStats()).summaryRequests;
    for (let part = 1; part <= 7; part++) {
      await sendAndWait(driver, `Tell me a tale, part ${part}.`);
      if ((await providerStats()).summaryRequests > before && part >= 4) break;
    }
    await driver.wait(async () => (await providerStats()).summaryRequests > before, SUMMARY_WAIT_MS, "a summary is asked for");
  });

  test("the summary shows in the Memory panel and is edited there", async () => {
    const open = await driver.findElement(By.css('[data-testid="memory-open"]'));
    assert.equal(await open.getAttribute("aria-label"), "Memory");
    await open.click();
    await driver.wait(until.elementLocated(By.css('[data-testid="memory-panel"]')), WAIT_MS, "the panel opens");
    // It reloads on the engine's notice; refresh too in case the notice came before it opened.
    await driver.wait(
      async () => {
        const summaries = await panelSummaries(driver);
        if (summaries.some(([, text]) => text.startsWith("SUMMARY:"))) return true;
        await driver.findElement(By.css('[data-testid="memory-refresh"]')).click();
        await driver.sleep(500);
        return false;
      },
      SUMMARY_WAIT_MS,
      "a summary is in the panel",
    );
    const [range, text] = (await panelSummaries(driver))[0];
    assert.match(range, /^Messages 1–\d+$/, range);
    assert.ok(text.startsWith("SUMMARY: The traveller reached Gull Point"), text);
    const first = await driver.findElement(By.css('[data-testid="memory-summary"]'));
    assert.match(await first.getAttribute("textContent"), /\d+ tokens/);
    // WebKitGTK under Xvfb repaints the chat column late after the panel's
    // reloads (the DOM is complete: the capture alone showed it blank).
    await driver.sleep(1500);
    await screenshot(driver, "memory-panel");

    await first.findElement(By.css('[data-testid="memory-summary-edit"]')).click();
    const editor = await driver.wait(until.elementLocated(By.css('[data-testid="memory-summary-editor"]')), WAIT_MS);
    await editor.clear();
    await editor.sendKeys(EDITED);
    await driver.sleep(1000);
    await screenshot(driver, "memory-panel-editing");
    await clickFresh(driver, By.css('[data-testid="memory-summary-save"]'));
    await driver.wait(until.elementLocated(By.css('[data-testid="memory-summary"][data-edited="true"] [data-testid="memory-badge-edited"]')), WAIT_MS, "saved as edited");
    assert.equal((await panelSummaries(driver))[0][1], EDITED);
  });

  test("a summary is pinned, written again, deleted, and Summarize now brings it back", async () => {
    const idle = By.css('[data-testid="memory-status"][data-summarizing="false"]');
    const cards = () => driver.findElements(By.css('[data-testid="memory-summary"]'));
    await driver.wait(until.elementLocated(idle), SUMMARY_WAIT_MS, "no summary being written");
    const count = (await cards()).length;
    assert.ok(count >= 2, `two summaries to work with: ${count}`);

    // Pin the edited one: it is kept as written from now on.
    await (await cards())[0].findElement(By.css('[data-testid="memory-summary-pin"]')).click();
    await driver.wait(until.elementLocated(By.css('[data-testid="memory-summary"][data-pinned="true"]')), WAIT_MS, "pinned");

    // Write the last one again: the summarizer is asked anew.
    let before = (await providerStats()).summaryRequests;
    const last = (await cards())[count - 1];
    await last.findElement(By.css('[data-testid="memory-summary-regenerate"]')).click();
    await driver.wait(async () => (await providerStats()).summaryRequests > before, SUMMARY_WAIT_MS, "the summary is written again");
    await driver.wait(until.elementLocated(idle), SUMMARY_WAIT_MS);

    // Delete it, once the panel has the rewritten summary back (its card is busy until then).
    await driver.wait(
      async () => (await driver.findElements(By.css('[data-testid="memory-summary"][aria-busy="true"]'))).length === 0,
      SUMMARY_WAIT_MS,
      "the rewrite has returned",
    );
    await clickFresh(driver, By.css(`[data-testid="memory-summary"]:nth-child(${count}) [data-testid="memory-summary-delete"]`));
    await driver.wait(async () => (await cards()).length === count - 1, WAIT_MS, "the summary is gone");

    // With summaries off, a reply pushes messages out of the window and nothing summarises them on its own…
    const setSummaries = async (on) => {
      await clickFresh(driver, By.css('[data-testid="memory-tab-settings"]'));
      const box = await driver.wait(until.elementLocated(By.css('[data-testid="memory-summaries-on"]')), WAIT_MS);
      if ((await box.isSelected()) !== on) await box.click();
      await clickFresh(driver, By.css('[data-testid="memory-settings-save"]'));
      await driver.wait(until.elementLocated(By.css('[data-testid="memory-settings-saved"]')), WAIT_MS, "the settings are saved");
      await clickFresh(driver, By.css('[data-testid="memory-tab-summaries"]'));
    };
    await setSummaries(false);
    before = (await providerStats()).summaryRequests;
    await sendAndWait(driver, "Tell me a tale, part 9.");
    await sendAndWait(driver, "Tell me a tale, part 10.");
    await clickFresh(driver, By.css('[data-testid="memory-refresh"]'));
    await driver.wait(
      async () => Number(await driver.findElement(By.css('[data-testid="memory-status"]')).getAttribute("data-unsummarized")) > 0,
      WAIT_MS,
      "messages wait to be summarised",
    );
    assert.equal((await providerStats()).summaryRequests, before, "nothing was summarised in the background");
    // …until they are switched on again and Summarize now is pressed (no reply comes between).
    await setSummaries(true);
    await driver.wait(until.elementLocated(idle), SUMMARY_WAIT_MS);
    await clickFresh(driver, By.css('[data-testid="memory-summarize-now"]'));
    await driver.wait(async () => (await cards()).length >= count, SUMMARY_WAIT_MS, "Summarize now writes the summaries");
    assert.ok((await providerStats()).summaryRequests > before);
    const [first] = await panelSummaries(driver);
    assert.equal(first[1], EDITED, "the pinned summary kept its text");
  });

  test("the prompt preview sends the edited summary in place of the messages it covers", async () => {
    await clickFresh(driver, By.css('[data-testid="prompt-preview-open"]'));
    await driver.wait(until.elementLocated(By.css('[data-testid="prompt-preview"]')), WAIT_MS, "the preview opens");
    assert.equal((await driver.findElements(By.css('[data-testid="memory-panel"]'))).length, 0, "the preview takes the panel's place");
    await driver.wait(
      async () => (await previewParts(driver)).some(([source, text]) => source === "summary" && text.includes(EDITED)),
      WAIT_MS,
      "the edited summary is in the prompt",
    );
    const parts = await previewParts(driver);
    const sources = parts.map(([s]) => s);
    assert.ok(sources.indexOf("summary") < sources.lastIndexOf("history"), sources.join(","));
    const [, , label] = parts.find(([s]) => s === "summary");
    assert.match(label, /^(messages \d+–\d+( · pinned)?)?$/, label);
    assert.ok(!parts.some(([s, t]) => s === "history" && t.includes("Tell me a tale, part 1.")), "the first messages left the window");
    await driver.executeScript(
      `document.querySelector('[data-testid="prompt-preview"] [data-testid="prompt-part"][data-source="summary"]')
         .closest('[data-testid="prompt-message"]').scrollIntoView({block: 'start'});`,
    );
    await screenshot(driver, "memory-prompt-preview");
  });

  test("with retrieval on, a note is found by a search, with its score", async () => {
    await clickFresh(driver, By.css('[data-testid="memory-open"]'));
    await driver.wait(until.elementLocated(By.css('[data-testid="memory-panel"]')), WAIT_MS);
    await clickFresh(driver, By.css('[data-testid="memory-tab-settings"]'));
    await driver.wait(until.elementLocated(By.css('[data-testid="memory-settings"]')), WAIT_MS);
    await clickFresh(driver, By.css('[data-testid="memory-retrieval-on"]'));
    await pickByText(driver, "memory-embeddings", PROVIDER_NAME);
    const model = await driver.findElement(By.css('[data-testid="memory-embeddings-model"]'));
    await model.sendKeys("fake-embed");
    await clickFresh(driver, By.css('[data-testid="memory-settings-save"]'));
    await driver.wait(until.elementLocated(By.css('[data-testid="memory-settings-saved"]')), WAIT_MS, "the settings are saved");
    await screenshot(driver, "memory-settings");

    await clickFresh(driver, By.css('[data-testid="memory-tab-notes"]'));
    const text = await driver.wait(until.elementLocated(By.css('[data-testid="memory-note-text"]')), WAIT_MS);
    await text.sendKeys(NOTE);
    await clickFresh(driver, By.css('[data-testid="memory-note-add"]'));
    const note = await driver.wait(until.elementLocated(By.css('[data-testid="memory-note"]')), WAIT_MS, "the note is listed");
    assert.ok((await note.getAttribute("textContent")).includes(NOTE));

    const before = (await providerStats()).embeddingRequests;
    const search = await driver.findElement(By.css('[data-testid="memory-search"]'));
    await search.sendKeys("Where is the crypt of the chapel?");
    await clickFresh(driver, By.css('[data-testid="memory-search-run"]'));
    const hit = await driver.wait(until.elementLocated(By.css('[data-testid="memory-hit"]')), WAIT_MS, "the search finds something");
    assert.ok((await providerStats()).embeddingRequests > before, "the search embedded through the provider");
    const hits = await driver.executeScript(
      `return [...document.querySelectorAll('[data-testid="memory-hit"]')]
         .map((h) => [h.querySelector('.hit-text')?.textContent ?? '', h.querySelector('[data-testid="memory-hit-score"]')?.textContent ?? '']);`,
    );
    const found = hits.find(([t]) => t === NOTE);
    assert.ok(found, `the note is among the hits: ${JSON.stringify(hits)}`);
    assert.match(found[1], /^score 0\.\d\d$/, found[1]);
    assert.equal(hits[0][0], NOTE, "the note is the best hit");
    // The search embedded what was missing: the note is no longer marked as waiting.
    await driver.wait(until.elementLocated(By.css('[data-testid="memory-note"][data-embedded="true"]')), WAIT_MS, "the note is embedded");
    await driver.executeScript("arguments[0].scrollIntoView({block: 'center'})", hit);
    await screenshot(driver, "memory-search");
  });

  test("the preview places the note for a message about it, and says why (its score)", async () => {
    await clickFresh(driver, By.css('[data-testid="memory-close"]'));
    const input = await driver.findElement(By.css('[data-testid="composer-input"]'));
    await input.clear();
    await input.sendKeys("Where is the crypt of the chapel?");
    await clickFresh(driver, By.css('[data-testid="prompt-preview-open"]'));
    await driver.wait(until.elementLocated(By.css('[data-testid="prompt-preview"]')), WAIT_MS, "the preview opens");
    await driver.wait(
      async () => (await previewParts(driver)).some(([source, text]) => source === "retrievedMemory" && text.includes(NOTE)),
      WAIT_MS,
      "the note is in the prompt",
    );
    const [, , label] = (await previewParts(driver)).find(([source, text]) => source === "retrievedMemory" && text.includes(NOTE));
    assert.match(label, /^score -?\d\.\d\d · note$/, label);
    const report = await driver.wait(until.elementLocated(By.css('[data-testid="prompt-retrieval"]')), WAIT_MS, "the retrieval report");
    const rows = await driver.executeScript(
      `return [...document.querySelectorAll('[data-testid="prompt-retrieved"]')].map((r) => r.textContent);`,
    );
    assert.ok(rows.some((r) => r.includes(NOTE) && /score 0\.\d\d/.test(r)), JSON.stringify(rows));
    // The report heads the Messages tab: scroll the preview (not the window) to its top.
    await driver.executeScript("arguments[0].closest('#prompt-panel').scrollTop = 0", report);
    await screenshot(driver, "memory-prompt-retrieved");
    // The activation explain (the World info tab) names the same passage and its score.
    await clickFresh(driver, By.css('[data-testid="prompt-tab-world-info"]'));
    const budget = await driver.wait(until.elementLocated(By.css('[data-testid="prompt-wi-budget"]')), WAIT_MS, "the World info tab");
    // This character has no book: the tab says so rather than showing a 0-token budget.
    assert.equal(await budget.getAttribute("data-books"), "none");
    assert.match(await driver.executeScript("return arguments[0].textContent", budget), /No world book is active/);
    const explained = await driver.executeScript(
      `return [...document.querySelectorAll('#prompt-panel [data-testid="prompt-retrieved"]')].map((r) => r.textContent);`,
    );
    assert.ok(explained.some((r) => r.includes(NOTE) && /score 0\.\d\d/.test(r)), JSON.stringify(explained));
    await driver.executeScript("document.querySelector('#prompt-panel [data-testid=\"prompt-retrieval\"]').scrollIntoView({block: 'center'})");
    await screenshot(driver, "memory-world-info-retrieved");
  });
});
