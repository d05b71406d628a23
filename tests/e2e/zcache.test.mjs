// Prompt caching, end to end: an Anthropic provider (the fake provider speaks
// Anthropic's Messages API under /anthropic/v1) with its Prompt caching switch
// on marks the stable start of a long card's prompt with cache_control; the
// fake's usage says the first reply wrote the cache and the next read it, and
// Settings → Usage shows both. With the switch turned off in the provider
// editor, the next request carries no marks. Self-contained: its own card,
// provider and key (kept for this run: no keyring runs under the suite).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { By, until } from "selenium-webdriver";
import { chooseModel, clickFresh, fakeStats, importCard, launch, onScreen, screenshot, sendAndWait, startChat, typeInto, waitReady } from "./driver.mjs";

const WAIT_MS = 30_000;
const PROVIDER = process.env.CONFAB_FAKE_PROVIDER;
const PROVIDER_NAME = "Fake Claude";
const MODEL = "claude-fake-4";
const NAME = "Archivist Vell";
/** What the fake's usage reports as written to and read from the cache (fake-provider.mjs). */
const CACHED_TOKENS = 1500;

const stats = () => fakeStats(PROVIDER);
const marked = (body) => JSON.stringify(body ?? {}).includes('"cache_control"');

/** A card whose description alone passes the 1,024 tokens a cached prefix needs. */
function card() {
  const rooms = Array.from(
    { length: 70 },
    (_, i) =>
      `Room ${i + 1} of the archive keeps ledgers of the river trade, bound in grey cloth, and {{char}} knows the shelf of every one by heart.`,
  );
  const data = {
    name: NAME,
    description: `{{char}} keeps the sunken archive under the river city.\n\n${rooms.join(" ")}`,
    personality: "precise, dry, kind to the careful",
    scenario: "",
    first_mes: "*Vell sets down a lamp.* You have come about the ledgers.",
    mes_example: "",
    creator_notes: "An end-to-end test card for the prompt cache.",
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

describe("prompt caching marks the stable prefix and Settings shows what it saved", () => {
  let driver;
  before(async () => {
    assert.ok(PROVIDER, "run the suite through tests/e2e/run.sh (it starts the fake provider)");
    driver = await launch(process.env.CONFAB_WEBDRIVER_LIBRARY);
    await waitReady(driver);
  });
  after(async () => {
    await driver?.quit();
  });

  test("an Anthropic provider shows its Prompt caching switch, on by default", async () => {
    await clickFresh(driver, By.css('[data-testid="nav-settings"]'));
    await onScreen(driver, "settings");
    await clickFresh(driver, By.css('[data-testid="provider-add"]'));
    await clickFresh(driver, By.css('[data-testid="provider-kind-anthropic"]'));
    const cache = await driver.wait(until.elementLocated(By.css('[data-testid="provider-prompt-cache"]')), WAIT_MS);
    assert.equal(await cache.isSelected(), true, "caching is on for a new provider");
    await typeInto(driver, "provider-name", PROVIDER_NAME);
    await typeInto(driver, "provider-base-url", PROVIDER.replace(/\/v1$/, "/anthropic/v1"));
    await typeInto(driver, "provider-default-model", MODEL);
    await clickFresh(driver, By.css('[data-testid="provider-save"]'));
    await driver.wait(until.elementLocated(By.css('[data-testid="provider-saved"]')), WAIT_MS, "the provider is saved");

    await typeInto(driver, "api-key-input", "sk-ant-e2e-cache-0123456789");
    await clickFresh(driver, By.css('[data-testid="api-key-set"]'));
    const fallback = await driver.wait(until.elementLocated(By.css('[data-testid="key-fallback"]')), WAIT_MS, "the fallback choice");
    await driver.executeScript("arguments[0].scrollIntoView({block: 'center'})", fallback);
    await clickFresh(driver, By.css('[data-testid="key-fallback-session"]'));
    await driver.wait(until.elementLocated(By.css('[data-testid="api-key-status"][data-storage="session"]')), WAIT_MS, "the key is kept for this run");

    await clickFresh(driver, By.css('[data-testid="models-refresh"]'));
    await driver.wait(
      async () => (await driver.findElement(By.css('[data-testid="provider-models"]')).getAttribute("textContent")).includes("Claude Fake 4"),
      WAIT_MS,
      "the fake Anthropic API's models are listed",
    );
    const toggle = await driver.findElement(By.css('[data-testid="provider-prompt-cache"]'));
    await driver.executeScript("arguments[0].scrollIntoView({block: 'center'})", toggle);
    await screenshot(driver, "settings-provider-prompt-cache");
  });

  test("a chat with a long card marks the prefix; the first reply writes the cache, the next reads it", async () => {
    await importCard(driver, card(), "Archivist_Vell.json");
    await startChat(driver, NAME);
    await chooseModel(driver, PROVIDER_NAME, MODEL);

    const before = (await stats()).anthropicRequests;
    await sendAndWait(driver, "Which room keeps the ledgers of the salt barges?");
    let seen = await stats();
    assert.equal(seen.anthropicRequests, before + 1, "the reply came from the fake Anthropic API");
    assert.ok(marked(seen.lastAnthropicBody), `the request marks its prefix: ${JSON.stringify(seen.lastAnthropicBody).slice(0, 400)}`);
    const system = seen.lastAnthropicBody.system;
    assert.ok(Array.isArray(system) && system.some((block) => block.cache_control?.type === "ephemeral"), "the system prompt's end is a breakpoint");
    await driver.wait(
      until.elementLocated(By.xpath('//*[@data-testid="message"][@data-role="assistant"][contains(., "answers from behind its cache")]')),
      WAIT_MS,
      "the reply shows",
    );

    await sendAndWait(driver, "And the ledgers of the ferrymen?");
    seen = await stats();
    assert.equal(seen.anthropicRequests, before + 2);
    assert.ok(marked(seen.lastAnthropicBody), "the next request marks its prefix too");
  });

  test("Settings → Usage shows the tokens written to and read from the cache", async () => {
    await clickFresh(driver, By.css('[data-testid="nav-settings"]'));
    await onScreen(driver, "settings");
    const savings = await driver.wait(until.elementLocated(By.css('[data-testid="usage-cache-savings"]')), WAIT_MS, "the cache summary");
    const text = await savings.getText();
    const n = CACHED_TOKENS.toLocaleString("en-US");
    assert.ok(text.includes(`${n} tokens read from the cache, ${n} written to it`), text);
    // Anthropic publishes no price list through its API, so the saving is named unknown rather than guessed.
    assert.match(text, /saving is unknown/, text);
    const row = await driver.findElement(By.xpath(`//*[@data-testid="usage-row"][contains(., "${PROVIDER_NAME}")]`));
    assert.equal(await row.findElement(By.css('[data-testid="usage-cached"]')).getText(), n, "the row counts the cache reads");
    await driver.executeScript("arguments[0].scrollIntoView({block: 'center'})", savings);
    await screenshot(driver, "settings-usage-cache");
  });

  test("with Prompt caching off in the provider editor, the next request carries no marks", async () => {
    // Settings keeps the editor it had open; otherwise open this provider's.
    await clickFresh(driver, By.css('[data-testid="nav-settings"]'));
    await onScreen(driver, "settings");
    await driver.sleep(300);
    if ((await driver.findElements(By.css('[data-testid="provider-editor"][data-new="false"]'))).length === 0) {
      await clickFresh(driver, By.css(`[data-testid="provider-item"][data-name="${PROVIDER_NAME}"] [data-testid="provider-edit"]`));
    }
    assert.equal(await driver.findElement(By.css('[data-testid="provider-name"]')).getAttribute("value"), PROVIDER_NAME);
    const toggle = await driver.wait(until.elementLocated(By.css('[data-testid="provider-prompt-cache"]')), WAIT_MS);
    assert.equal(await toggle.isSelected(), true);
    await driver.executeScript("arguments[0].scrollIntoView({block: 'center'})", toggle);
    // The checkbox sits under the switch's drawn track: click what a person clicks.
    await toggle.findElement(By.xpath("./ancestor::label[1]")).click();
    await clickFresh(driver, By.css('[data-testid="provider-save"]'));
    await driver.wait(until.elementLocated(By.css('[data-testid="provider-saved"]')), WAIT_MS, "the provider is saved");
    assert.equal(await driver.findElement(By.css('[data-testid="provider-prompt-cache"]')).isSelected(), false, "saved off");
    await screenshot(driver, "settings-provider-prompt-cache-off");

    await clickFresh(driver, By.css('[data-testid="nav-chats"]'));
    await onScreen(driver, "chats");
    const before = (await stats()).anthropicRequests;
    await sendAndWait(driver, "One more: the ledgers of the lamplighters?");
    const seen = await stats();
    assert.equal(seen.anthropicRequests, before + 1);
    assert.ok(!marked(seen.lastAnthropicBody), "no cache_control anywhere in the request");
  });
});
