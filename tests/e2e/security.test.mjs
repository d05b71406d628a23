// Security in the real webview: a card whose every field (and every world-book
// entry and tag) carries script, event handlers, frames, javascript: links,
// styles, stylesheets, CSS url() and meta refresh, and a model reply that
// carries the same, are shown everywhere the app shows them. Inside the
// webview the test proves that no script ran (the payloads would set
// window.__pwned or the document's title), that nothing was fetched (every
// remote URL points at a canary server on 127.0.0.1 that records each request),
// that none of it is live in the DOM, and that the window still works.
// It runs on a library of its own (CONFAB_WEBDRIVER_SECURITY).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { By, until } from "selenium-webdriver";
import { addFakeProvider, clickFresh, launch, onScreen, screenshot, typeInto, waitReady } from "./driver.mjs";
import { hostileCard } from "./hostile.mjs";
import { checkPage, markBaseline } from "./inspect.mjs";

const WAIT_MS = 30_000;
const PROVIDER = process.env.CONFAB_FAKE_PROVIDER;

/** A server on 127.0.0.1 that records every request made to it (none should be). */
function startCanary() {
  const hits = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { "Content-Type": "text/css", "Access-Control-Allow-Origin": "*" });
    res.end("body{display:none}");
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({ server, hits, port: server.address().port }));
  });
}

describe("a hostile card and a hostile reply stay inert in the real webview", () => {
  let driver;
  let canary;
  /** Every place checked, so a failure says where it happened. */
  const checked = [];

  /** Checks the live page and that the canary saw nothing, naming `where`. */
  async function inert(where) {
    checked.push(where);
    const problems = await checkPage(driver, canary.port);
    assert.deepEqual(problems, [], `${where}: the page is clean`);
    assert.deepEqual(canary.hits, [], `${where}: nothing reached the canary server`);
  }

  before(async () => {
    assert.ok(PROVIDER, "run the suite through tests/e2e/run.sh (it starts the fake provider)");
    canary = await startCanary();
    driver = await launch(process.env.CONFAB_WEBDRIVER_SECURITY);
    await waitReady(driver);
    await markBaseline(driver);
  });
  after(async () => {
    await driver?.quit();
    canary?.server.close();
  });

  test("the card imports, and the library shows it as text", async () => {
    await addFakeProvider(driver, PROVIDER);
    const dir = mkdtempSync(join(tmpdir(), "confab-hostile-"));
    const file = join(dir, "hostile.json");
    writeFileSync(file, JSON.stringify(hostileCard(`http://127.0.0.1:${canary.port}`), null, 2));

    await clickFresh(driver, By.css('[data-testid="nav-library"]'));
    await onScreen(driver, "library");
    await driver.findElement(By.css('[data-testid="import-input"]')).sendKeys(file);
    const row = await driver.wait(
      until.elementLocated(By.css('[data-testid="import-row"]')),
      WAIT_MS,
      "the import summary lists the card",
    );
    await driver.wait(async () => (await row.getAttribute("data-status")) !== "pending", WAIT_MS);
    assert.equal(await row.getAttribute("data-status"), "imported", await row.getAttribute("textContent"));
    await inert("the import summary");
    await clickFresh(driver, By.css('[data-testid="import-summary-close"]'));

    const card = await driver.wait(until.elementLocated(By.css('[data-testid="character-card"]')), WAIT_MS);
    // The name is shown as the text it is, tags and all.
    assert.match(await card.getAttribute("data-name"), /^Hostile name <img src=x onerror=/);
    assert.match(await card.getAttribute("textContent"), /Hostile name <img/);
    await inert("the library grid");
    await screenshot(driver, "security-library");
  });

  test("the character screen shows every field as text", async () => {
    await clickFresh(driver, By.css('[data-testid="character-card"]'));
    const detail = await driver.wait(until.elementLocated(By.css('[data-testid="character-detail"]')), WAIT_MS);
    const card = hostileCard(`http://127.0.0.1:${canary.port}`).data;
    for (const field of ["name", "description", "personality", "scenario", "first_mes", "mes_example", "creator_notes", "system_prompt", "post_history_instructions"]) {
      const input = await detail.findElement(By.css(`[data-testid="field-${field}"]`));
      assert.equal(await input.getAttribute("value"), card[field], `${field} is shown as written`);
    }
    const greetings = await detail.findElement(By.css('[data-testid="field-alternate_greetings"]')).getAttribute("textContent");
    const values = await driver.executeScript(
      "return [...document.querySelectorAll('[data-testid=\"field-alternate_greetings\"] textarea')].map((t) => t.value);",
    );
    assert.deepEqual(values, card.alternate_greetings, `the alternate greetings: ${greetings.slice(0, 80)}`);
    const tags = await detail.findElement(By.css('[data-testid="field-tags"]')).getAttribute("textContent");
    assert.ok(tags.includes("<script>"), "tags are shown as text");
    // Scroll through the whole form, so every section (books, dictionary, file) renders.
    await driver.executeScript(
      "for (const s of document.querySelectorAll('[data-testid=\"character-detail\"] section')) s.scrollIntoView();",
    );
    await driver.wait(until.elementLocated(By.css('[data-testid="character-world-book"]')), WAIT_MS, "its book is listed");
    await inert("the character screen");
    await driver.executeScript("document.querySelector('[data-testid=\"field-description\"]').scrollIntoView({block: 'center'})");
    await screenshot(driver, "security-character");
  });

  test("the chat shows the greeting and every alternate greeting inert", async () => {
    await clickFresh(driver, By.css('[data-testid="character-chat"]'));
    await onScreen(driver, "chats");
    const greeting = await driver.wait(
      until.elementLocated(By.css('[data-testid="message"][data-role="assistant"] [data-testid="message-content"]')),
      WAIT_MS,
      "the greeting is shown",
    );
    assert.match(await greeting.getAttribute("textContent"), /HOSTILE first_mes begins/);
    await inert("the greeting");
    for (const n of [1, 2]) {
      await clickFresh(driver, By.css('[data-testid="message-swipe-next"]'));
      await driver.wait(
        async () =>
          (
            await driver.executeScript(
              "return document.querySelector('[data-testid=\"message\"][data-role=\"assistant\"] [data-testid=\"message-content\"]')?.textContent ?? ''",
            )
          ).includes(`HOSTILE alternate_greeting_${n} begins`),
        WAIT_MS,
        `alternate greeting ${n} is shown`,
      );
      await inert(`alternate greeting ${n}`);
    }
  });

  test("a hostile reply streams in inert, and its links do nothing when clicked", async () => {
    const input = await driver.wait(until.elementLocated(By.css('[data-testid="composer-input"]')), WAIT_MS);
    await driver.wait(until.elementIsEnabled(input), WAIT_MS, "the composer is free");
    await input.sendKeys(`hostile canary ${canary.port} <img src=x onerror="window.__pwned='user'">`);
    await input.sendKeys("\uE007"); // Enter
    // Checked while it streams too: a payload cut in half must not run either.
    await driver.wait(
      async () => {
        const problems = await checkPage(driver, canary.port);
        assert.deepEqual(problems, [], "the page is clean while the reply streams");
        const done = await driver.executeScript(
          `const all = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
           const last = all[all.length - 1];
           const text = last?.querySelector('[data-testid="message-content"]')?.textContent ?? '';
           return text.includes('HOSTILE reply begins') && !last.querySelector('[data-streaming]') &&
             document.querySelector('[data-testid="composer-send"]') !== null;`,
        );
        return done;
      },
      WAIT_MS,
      "the whole reply arrives",
    );
    await inert("the streamed reply");

    const reasoning = await driver.wait(until.elementLocated(By.css('[data-testid="message-reasoning"]')), WAIT_MS);
    await reasoning.findElement(By.css("summary")).click();
    assert.match(await reasoning.getAttribute("textContent"), /<script>/, "reasoning is shown as text");
    await inert("the reply's reasoning");

    // Every link in every message: clicked, they neither run script nor navigate.
    const links = await driver.findElements(By.css('[data-testid="message-content"] a'));
    assert.ok(links.length >= 3, `links are shown (${links.length})`);
    for (const link of links) {
      await driver.executeScript("arguments[0].scrollIntoView({block: 'center'})", link);
      await link.click();
    }
    await inert("after clicking every link");
    // The empty composer stays one line high, however long the name in its placeholder.
    const box = await driver.findElement(By.css('[data-testid="composer-input"]'));
    assert.equal(await box.getAttribute("value"), "");
    const { height } = await box.getRect();
    assert.ok(height < 60, `the empty composer is one line high (${height}px)`);
    await screenshot(driver, "security-chat");
  });

  test("the prompt preview shows every part as text", async () => {
    await clickFresh(driver, By.css('[data-testid="prompt-preview-open"]'));
    const preview = await driver.wait(until.elementLocated(By.css('[data-testid="prompt-preview"]')), WAIT_MS);
    await driver.wait(
      async () => (await preview.findElements(By.css('[data-testid="prompt-message"]'))).length >= 3,
      WAIT_MS,
      "the preview lists the messages",
    );
    const text = await preview.getAttribute("textContent");
    const shown = [...text.matchAll(/HOSTILE (\w+) begins/g)].map((m) => m[1]);
    for (const part of ["system_prompt", "description", "personality", "scenario", "post_history_instructions", "depth_prompt", "entry_content"]) {
      assert.ok(shown.includes(part), `${part} is in the preview: ${shown.join(", ")}`);
    }
    await inert("the prompt preview (messages)");
    for (const tab of ["world-info", "request"]) {
      await clickFresh(driver, By.css(`[data-testid="prompt-tab-${tab}"]`));
      await driver.sleep(200);
      await inert(`the prompt preview (${tab})`);
    }
    await screenshot(driver, "security-prompt-preview");
    await clickFresh(driver, By.css('[data-testid="prompt-close"]'));
  });

  test("the world book editor shows every entry as text", async () => {
    await clickFresh(driver, By.css('[data-testid="nav-worldbooks"]'));
    await onScreen(driver, "worldbooks");
    const item = await driver.wait(until.elementLocated(By.css('[data-testid="world-book-item"]')), WAIT_MS);
    assert.match(await item.getAttribute("textContent"), /Hostile book/);
    await inert("the world book list");
    await item.click();
    await driver.wait(
      async () => (await driver.findElements(By.css('[data-testid="entry-row"]'))).length === 2,
      WAIT_MS,
      "both entries",
    );
    await screenshot(driver, "security-world-book-rows");
    // However long the book's description, it scrolls in a box of its own and the
    // entries keep the room to be opened with the pointer; one at a time (the list is windowed).
    const description = await driver.findElement(By.css('[data-testid="book-description"]'));
    assert.ok((await description.getRect()).height <= 140, "the description box stays small");
    const uids = await driver.executeScript(
      "return [...document.querySelectorAll('[data-testid=\"entry-row\"]')].map((r) => r.dataset.uid)",
    );
    const contents = [];
    for (const uid of uids) {
      const expand = By.css(`[data-testid="entry-row"][data-uid="${uid}"] [data-testid="entry-expand"]`);
      await clickFresh(driver, expand);
      const content = await driver.wait(
        until.elementLocated(By.css(`[data-testid="entry-row"][data-uid="${uid}"] [data-testid="entry-content"]`)),
        WAIT_MS,
        `entry ${uid} opens`,
      );
      contents.push(await content.getAttribute("value"));
      await inert(`the world book's entry ${uid}`);
      if (uid === uids[0]) await screenshot(driver, "security-world-book");
      await clickFresh(driver, expand);
      await driver.wait(
        async () => (await driver.findElements(By.css(`[data-testid="entry-row"][data-uid="${uid}"] [data-testid="entry-content"]`))).length === 0,
        WAIT_MS,
        `entry ${uid} closes`,
      );
    }
    assert.ok(contents.some((c) => c.includes("HOSTILE entry_content begins")), "the entry's content is shown as written");

    await clickFresh(driver, By.css('[data-testid="book-tab-test"]'));
    const panel = await driver.wait(until.elementLocated(By.css('[data-testid="test-panel"]')), WAIT_MS);
    const messages = await panel.findElement(By.css('[data-testid="test-messages"]'));
    await messages.clear();
    await messages.sendKeys("Traveller: something hostile this way comes");
    await panel.findElement(By.css('[data-testid="test-run"]')).click();
    await driver.wait(
      async () => (await driver.findElements(By.css('[data-testid="test-activation"]'))).length >= 1,
      WAIT_MS,
      "the keyed entry activates",
    );
    await inert("the world book's test results");
  });

  test("the window still works: its buttons click and its body shows", async () => {
    await clickFresh(driver, By.css('[data-testid="nav-library"]'));
    await onScreen(driver, "library");
    await clickFresh(driver, By.css('[data-testid="nav-settings"]'));
    await onScreen(driver, "settings");
    await clickFresh(driver, By.css('[data-testid="nav-chats"]'));
    await onScreen(driver, "chats");
    await inert("the chats screen at the end");
    assert.ok(checked.length >= 15, `checked in ${checked.length} places`);
  });

  test("the window's CSP stops what a sanitiser might miss", async () => {
    // Put hostile elements into the page directly, as a sanitiser bug would:
    // the Content-Security-Policy must still stop every load and inline script.
    const outcome = await driver.executeAsyncScript(
      `const done = arguments[arguments.length - 1];
       const base = 'http://127.0.0.1:' + arguments[0] + '/csp/';
       const host = document.createElement('div');
       host.id = 'csp-probe';
       document.body.append(host);
       const settled = [];
       const watch = (el) => settled.push(new Promise((resolve) => {
         el.addEventListener('load', () => resolve('load'));
         el.addEventListener('error', () => resolve('error'));
         setTimeout(() => resolve('timeout'), 3000);
       }));
       const img = document.createElement('img'); img.src = base + 'img'; watch(img); host.append(img);
       const link = document.createElement('link'); link.rel = 'stylesheet'; link.href = base + 'link'; watch(link); host.append(link);
       const frame = document.createElement('iframe'); frame.src = base + 'iframe'; host.append(frame);
       const styled = document.createElement('div'); styled.textContent = 'x';
       styled.setAttribute('style', 'background-image:url(' + base + 'css-url)'); host.append(styled);
       const style = document.createElement('style'); style.textContent = '#csp-probe{background:url(' + base + 'style-url)}'; host.append(style);
       const script = document.createElement('script'); script.textContent = "window.__pwned = ['csp:inline-script']"; host.append(script);
       const remote = document.createElement('script'); remote.src = base + 'script'; watch(remote); host.append(remote);
       let fetched = 'blocked';
       settled.push(fetch(base + 'fetch').then(() => { fetched = 'sent'; }, () => {}));
       Promise.all(settled).then(() => {
         getComputedStyle(styled).backgroundImage; getComputedStyle(host).backgroundImage;
         setTimeout(() => done({ fetched, pwned: window.__pwned ?? null }), 500);
       });`,
      canary.port,
    );
    assert.deepEqual(outcome, { fetched: "blocked", pwned: null }, "no inline script ran and fetch was refused");
    assert.deepEqual(canary.hits, [], "nothing reached the canary server");
    // The page check itself sees such elements (so its silence elsewhere means something).
    const seen = (await checkPage(driver, canary.port)).join("\n");
    for (const what of ["element: <iframe", "element: <script", "element: <style", "element: <link", "src to the canary", "style to the canary"]) {
      assert.ok(seen.includes(what), `the page check reports ${what}: ${seen}`);
    }
    await driver.executeScript("document.getElementById('csp-probe').remove()");
    await inert("after the CSP probe");
  });
});
