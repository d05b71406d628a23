// Shared set-up of the chat tests: two characters, a chat store with a
// steady clock, starting the app on the Chats screen, finding a chat in the
// list, its messages, the calls the backend got, and the confirm dialog.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { expect } from "vitest";
import App from "../../src/App.svelte";
import { character, chatCharacter, installBackend, MockChats, type Call } from "./backend";

export const ANN = character(
  "Ann Archer",
  { id: "ann" },
  { first_mes: "Hello, traveller.", alternate_greetings: ["Oh. You again.", "*waves*"], description: "An archer." },
);
export const BO = character("Bo", { id: "bo" }, { first_mes: "Yo." });

export type Started = { calls: Call[]; chats: MockChats };

export function store(): MockChats {
  const details = new Map([ANN, BO].map((d) => [d.summary.id, d]));
  let clock = Date.UTC(2026, 0, 1);
  return new MockChats({ character: (id) => chatCharacter(details.get(id)), now: () => (clock += 1000) });
}

export async function start(chats: MockChats = store()): Promise<Started> {
  const calls = installBackend({ characters: [ANN, BO], chats });
  render(App);
  await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
  await screen.findByTestId("library-grid");
  await fireEvent.click(screen.getByTestId("nav-chats"));
  return { calls, chats };
}

export function item(title: string): HTMLElement {
  const found = document.querySelector<HTMLElement>(`[data-testid="session-item"][data-title="${title}"]`);
  if (!found) throw new Error(`no session ${title}`);
  return found;
}

export async function openSession(title: string): Promise<HTMLElement> {
  await waitFor(() => item(title));
  await fireEvent.click(within(item(title)).getAllByRole("button")[0]!);
  const view = await screen.findByTestId("conversation");
  await waitFor(() => expect(document.querySelector('[data-testid="message"]')).not.toBeNull());
  return view;
}

export function messages(): HTMLElement[] {
  return [...document.querySelectorAll<HTMLElement>('[data-testid="message"]')];
}

export function message(text: string): HTMLElement {
  const found = messages().find((m) => within(m).getByTestId("message-content").textContent?.includes(text));
  if (!found) throw new Error(`no message with ${text}`);
  return found;
}

export function last<T>(calls: Call[], cmd: string): T {
  const found = calls.filter((c) => c.cmd === cmd).pop();
  if (!found) throw new Error(`${cmd} was never called`);
  return found.args as T;
}

export async function confirm(): Promise<HTMLElement> {
  const dialog = await screen.findByTestId("confirm-dialog");
  return dialog;
}
