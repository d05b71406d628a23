// The dev mock's scripted interactions (`&demo=` in the page URL), so
// headless screenshots can show every state: dragging and dropping files,
// the character page and its edits, world books and the Test panel, chats
// with the prompt preview, notes, personas and streaming, and Settings.

import { emit } from "@tauri-apps/api/event";

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function element<T extends HTMLElement>(selector: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const found = document.querySelector<T>(selector);
    if (found) return found;
    await delay(25);
  }
  throw new Error(`demo: ${selector} never appeared`);
}

function type(input: HTMLInputElement | HTMLTextAreaElement, value: string): void {
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

/** book-list | book-entry | book-atlas | book-search | book-settings | book-test | book-character | book-dictionary */
async function runBookDemo(demo: string): Promise<void> {
  if (demo === "book-character" || demo === "book-dictionary") {
    (await element<HTMLElement>('[data-testid="character-card"][data-name="Ember"]')).click();
    const section = await element(demo === "book-character" ? '[data-testid="character-world-books"]' : '[data-testid="dictionary-editor"]');
    await delay(200);
    section.closest("section")?.scrollIntoView({ block: "start" });
    return;
  }
  if (demo === "book-dictionary-global") return;
  (await element('[data-testid="nav-worldbooks"]')).click();
  if (demo === "book-list") return;
  const name = demo === "book-atlas" || demo === "book-search" ? "Atlas of the Ten Thousand Isles" : "Emberfall";
  (await element<HTMLElement>(`[data-testid="world-book-item"][data-name="${name}"]`)).click();
  await element('[data-testid="entry-list"]');
  if (demo === "book-entry") {
    (await element<HTMLElement>('[data-testid="entry-row"][data-uid="1"] [data-testid="entry-expand"]')).click();
    const content = await element<HTMLTextAreaElement>('[data-testid="entry-content"]');
    type(content, `${content.value} He dreams of the sea.`);
    (await element<HTMLInputElement>('[data-testid="entry-row"][data-uid="4"] [data-testid="entry-select"]')).click();
  } else if (demo === "book-search") {
    type(await element<HTMLInputElement>('[data-testid="entry-search"]'), "comet thornwick");
  } else if (demo === "book-settings") {
    (await element('[data-testid="book-tab-settings"]')).click();
  } else if (demo === "book-test") {
    (await element('[data-testid="book-tab-test"]')).click();
    type(
      await element<HTMLTextAreaElement>('[data-testid="test-messages"]'),
      "User: What's that rumbling under the mountain?\nEmber: Cinderjaw, probably. The old dragon snores when an ash storm is coming.\nUser: Should we ring the bell?",
    );
    await delay(50);
    (await element('[data-testid="test-run"]')).click();
  }
}

/** chat | chat-long | chat-prompt[-wi|-body] | chat-note | character-note | settings-examples | chat-prefs | chat-personas | chat-search | chat-edit | chat-stream | chat-models | context | providers | provider-edit | key-fallback | usage */
async function runChatDemo(demo: string): Promise<void> {
  if (demo === "providers" || demo === "provider-edit" || demo === "usage" || demo === "key-fallback") {
    (await element('[data-testid="nav-settings"]')).click();
    const section = await element(demo === "usage" ? '[data-testid="usage"]' : '[data-testid="providers"]');
    await delay(150);
    if (demo === "provider-edit" || demo === "key-fallback") {
      (await element<HTMLElement>('[data-testid="provider-item"] [data-testid="provider-edit"]')).click();
      await element('[data-testid="provider-editor"]');
    }
    if (demo === "key-fallback") {
      // With &keyring=off the keyring refuses and the choice appears.
      type(await element<HTMLInputElement>('[data-testid="api-key-input"]'), "sk-or-v1-demo");
      await delay(50);
      (await element('[data-testid="api-key-set"]')).click();
      (await element('[data-testid="key-fallback"]')).scrollIntoView({ block: "center" });
      return;
    }
    section.closest("section")?.scrollIntoView({ block: "start" });
    return;
  }
  if (demo === "settings-examples") {
    (await element('[data-testid="nav-settings"]')).click();
    const setting = await element('[data-testid="example-dialogue-setting"]');
    await delay(150);
    setting.closest("section")?.scrollIntoView({ block: "start" });
    return;
  }
  if (demo === "character-note") {
    (await element<HTMLElement>('[data-testid="character-card"][data-name="Ember"]')).click();
    const note = await element('[data-testid="character-note"]');
    await delay(200);
    note.closest("section")?.scrollIntoView({ block: "start" });
    return;
  }
  if (demo === "context") {
    (await element('[data-testid="nav-settings"]')).click();
    const editor = await element<HTMLTextAreaElement>('[data-testid="primary-context-editor"]');
    await delay(150);
    editor.closest("section")?.scrollIntoView({ block: "start" });
    type(editor, `${editor.value}\nKeep replies under 200 words.`);
    (await element('[data-testid="context-version-view"]')).click();
    return;
  }
  (await element('[data-testid="nav-chats"]')).click();
  if (demo === "chat-search") {
    type(await element<HTMLInputElement>('[data-testid="message-search"]'), "lighthouse");
    return;
  }
  const title = demo === "chat-long" ? "The long haul" : "Ember's library";
  (await element<HTMLElement>(`[data-testid="session-item"][data-title="${title}"] button`)).click();
  await element('[data-testid="message"]');
  if (demo.startsWith("chat-prompt")) {
    type(await element<HTMLTextAreaElement>('[data-testid="composer-input"]'), "Ring the bell again?");
    (await element('[data-testid="prompt-preview-open"]')).click();
    if (demo === "chat-prompt-wi") (await element('[data-testid="prompt-tab-world-info"]')).click();
    if (demo === "chat-prompt-body") (await element('[data-testid="prompt-tab-request"]')).click();
  } else if (demo === "chat-note") {
    (await element('[data-testid="authors-note-open"]')).click();
  } else if (demo === "chat-prefs") {
    (await element('[data-testid="preferences-open"]')).click();
  } else if (demo === "chat-personas") {
    (await element('[data-testid="persona-manage"]')).click();
  } else if (demo === "chat-stream") {
    type(await element<HTMLTextAreaElement>('[data-testid="composer-input"]'), "Tell me about the bells.");
    (await element('[data-testid="composer-send"]')).click();
  } else if (demo === "chat-models") {
    (await element('[data-testid="model-picker"]')).click();
  } else if (demo === "chat-edit") {
    const messages = document.querySelectorAll<HTMLElement>('[data-testid="message"][data-role="assistant"]');
    messages[messages.length - 1]?.querySelector<HTMLElement>('[data-testid="message-edit"]')?.click();
  }
}

/** Scripted interactions, so headless screenshots can show every state. */
export async function runDemo(demo: string): Promise<void> {
  await element('[data-ready="true"]');
  const drag = (type: string, paths: string[] = []): Promise<void> =>
    emit(`tauri://drag-${type}`, { paths, position: { x: 400, y: 300 } });
  if (demo === "drag") {
    await delay(100);
    await drag("enter", ["/home/alex/cards/Aria_Voss.png"]);
    return;
  }
  if (demo === "drop") {
    await delay(100);
    await drag("enter");
    await delay(150);
    await drag("drop", [
      "/home/alex/cards/Wren_the_Cartographer.png",
      "/home/alex/cards/Nova-7.png",
      "/home/alex/cards/dup/Ember.png",
      "/home/alex/cards/holiday_photo.jpg",
      "/home/alex/cards/broken_export.json",
      "/home/alex/cards/notes.txt",
    ]);
    return;
  }
  if (demo.startsWith("book")) {
    await runBookDemo(demo);
    return;
  }
  if (demo === "card-dictionary") {
    // Brother Ignatius's card brought dictionary rules that wait for review.
    (await element<HTMLElement>('[data-testid="character-card"][data-name="Brother Ignatius"]')).click();
    const review = await element('[data-testid="dictionary-review"]');
    await delay(200);
    review.closest("section")?.scrollIntoView({ block: "start" });
    return;
  }
  if (demo === "provider-insecure" || demo === "provider-insecure-confirm") {
    (await element('[data-testid="nav-settings"]')).click();
    await element('[data-testid="providers"]');
    await delay(150);
    (await element<HTMLElement>('[data-testid="provider-item"] [data-testid="provider-edit"]')).click();
    type(await element<HTMLInputElement>('[data-testid="provider-base-url"]'), "http://api.example.com/v1");
    await delay(50);
    if (demo === "provider-insecure-confirm") (await element('[data-testid="provider-save"]')).click();
    return;
  }
  if (demo.startsWith("chat") || demo === "character-note" || demo === "settings-examples" || demo === "context" || demo === "providers" || demo === "provider-edit" || demo === "usage" || demo === "key-fallback") {
    await runChatDemo(demo);
    return;
  }
  const card = await element('[data-testid="character-card"]');
  card.click();
  const name = await element<HTMLInputElement>('[data-testid="field-name"]');
  if (demo === "dirty") {
    name.value = `${name.value} (edited)`;
    name.dispatchEvent(new Event("input", { bubbles: true }));
    await delay(50);
    (await element('[data-testid="nav-chats"]')).click();
  } else if (demo === "delete") {
    (await element('[data-testid="detail-delete"]')).click();
  } else if (demo === "export") {
    (await element('[data-testid="export-png"]')).click();
  }
}
