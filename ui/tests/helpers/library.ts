// Shared set-up of the library tests: a library of three characters,
// starting the app on it, a drag-and-drop source driven by hand, opening a
// character and reading its fields.

import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { expect } from "vitest";
import App from "../../src/App.svelte";
import type { DragDropPayload, DragDropSource } from "../../src/lib/drop";
import { character, installBackend, type BackendOptions, type Call } from "./backend";

export const ANN = character(
  "Ann Archer",
  { id: "ann", creator: "alice", tags: ["fantasy", "archer"], avatarKey: "k1", createdAt: 3, lastUsedAt: 10 },
  {
    description: "A ranger.",
    alternate_greetings: ["Hi there"],
    character_book: { entries: [{ keys: ["a"] }, { keys: ["b"] }] },
    extensions: { talkativeness: "0.5" },
    source: ["https://example.org/ann"],
  },
);
export const BOB = character("Bob", { id: "bob", creator: "bobby", tags: ["sci-fi"], createdAt: 1, lastUsedAt: 30 });
export const CID = character("Cid", {
  id: "cid",
  creator: "carol",
  tags: ["fantasy"],
  collections: ["Old Kingdoms"],
  avatarKey: "k3",
  createdAt: 2,
});

export const LIBRARY = [ANN, BOB, CID];

/** A drag-and-drop source the test drives by hand. */
export function fakeDragDrop(): { source: DragDropSource; send: (payload: DragDropPayload) => void } {
  let handler: ((payload: DragDropPayload) => void) | null = null;
  return {
    source: (h) => {
      handler = h;
      return Promise.resolve(() => {
        handler = null;
      });
    },
    send: (payload) => handler?.(payload),
  };
}

export async function start(options: BackendOptions = {}, dragDrop?: DragDropSource): Promise<Call[]> {
  const calls = installBackend({ characters: LIBRARY, ...options });
  render(App, dragDrop ? { props: { dragDrop } } : {});
  await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
  if ((options.characters ?? LIBRARY).length > 0) await screen.findByTestId("library-grid");
  return calls;
}

export function names(): string[] {
  return screen.queryAllByTestId("character-card").map((card) => card.getAttribute("data-name") ?? "");
}

export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export async function openCharacter(id: string): Promise<HTMLElement> {
  const card = document.querySelector<HTMLElement>(`[data-character-id="${id}"][data-testid="character-card"]`);
  if (!card) throw new Error(`no card ${id}`);
  await fireEvent.click(card);
  const detail = await screen.findByTestId("character-detail");
  await waitFor(() => expect(screen.getByTestId("field-name")).toBeTruthy());
  return detail;
}

export function field(name: string): HTMLInputElement {
  return screen.getByTestId(`field-${name}`) as HTMLInputElement;
}
