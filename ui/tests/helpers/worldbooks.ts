// Shared set-up of the world-book tests: sample books, starting the app on
// the World books screen, opening a book, an entry row and its editor, the
// calls the backend got, and Ann's character page.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { expect } from "vitest";
import App from "../../src/App.svelte";
import type { Entry, WorldBookDetail } from "../../src/lib/api";
import { character, installBackend, makeBook, makeEntry, MockWorldBooks, type BackendOptions, type Call } from "./backend";

export const ANN = character("Ann Archer", { id: "ann", tags: ["Fantasy", "elf"] });

export function emberfall(): WorldBookDetail {
  return makeBook(
    "ember",
    "Emberfall",
    [
      makeEntry(0, { comment: "The city", keys: ["Emberfall"], content: "A walled city.", constant: true }),
      makeEntry(1, { comment: "The old wyrm", keys: ["dragon", "wyrm"], content: "Cinderjaw sleeps.", groups: ["creatures"] }),
      makeEntry(2, { comment: "Ash storms", keys: ["storm"], content: "Bells ring.", enabled: false, groups: ["weather"] }),
    ],
    { description: "The volcano city.", characters: [{ id: "ann", name: "Ann Archer" }] },
  );
}

export function common(): WorldBookDetail {
  return makeBook("common", "Common knowledge", [makeEntry(0, { keys: ["coin"] })], { global: true });
}

export function huge(count: number): WorldBookDetail {
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    entries.push(makeEntry(i, { comment: `Entry ${i}`, keys: [`key${i}`], content: `Lore number ${i}.` }));
  }
  return makeBook("atlas", "Atlas", entries);
}

export type Started = { calls: Call[]; store: MockWorldBooks };

export async function start(
  books: WorldBookDetail[],
  options: BackendOptions & { hooks?: ConstructorParameters<typeof MockWorldBooks>[1] } = {},
  props: Record<string, unknown> = {},
): Promise<Started> {
  const store = new MockWorldBooks(books, { characterName: (id) => (id === "ann" ? "Ann Archer" : id), ...options.hooks });
  const calls = installBackend({ characters: [ANN], worldBooks: store, ...options });
  render(App, { props });
  await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
  await screen.findByTestId("library-grid");
  await fireEvent.click(screen.getByTestId("nav-worldbooks"));
  if (books.length > 0) await screen.findByTestId("world-book-list");
  else await screen.findByText("No world books yet");
  return { calls, store };
}

export async function openBook(id: string): Promise<HTMLElement> {
  await fireEvent.click(document.querySelector<HTMLElement>(`[data-testid="world-book-item"][data-book-id="${id}"]`)!);
  const view = await screen.findByTestId("world-book-view");
  await screen.findByTestId("entry-list");
  return view;
}

export function row(uid: number): HTMLElement {
  const found = document.querySelector<HTMLElement>(`[data-testid="entry-row"][data-uid="${uid}"]`);
  if (!found) throw new Error(`no row ${uid}`);
  return found;
}

export async function expand(uid: number): Promise<HTMLElement> {
  await fireEvent.click(within(row(uid)).getByTestId("entry-expand"));
  await waitFor(() => expect(within(row(uid)).getByTestId("entry-editor")).toBeTruthy());
  return row(uid);
}

export function last(calls: Call[], cmd: string): Record<string, unknown> {
  const found = calls.filter((c) => c.cmd === cmd).pop();
  if (!found) throw new Error(`${cmd} was not called`);
  return found.args as Record<string, unknown>;
}

export function count(calls: Call[], cmd: string): number {
  return calls.filter((c) => c.cmd === cmd).length;
}

/** Ann's character page, over `store`. */
export async function openAnn(store: MockWorldBooks): Promise<Call[]> {
  const calls = installBackend({ characters: [ANN], worldBooks: store });
  render(App);
  await screen.findByTestId("library-grid");
  await fireEvent.click(document.querySelector<HTMLElement>('[data-character-id="ann"][data-testid="character-card"]')!);
  await screen.findByTestId("character-detail");
  return calls;
}
