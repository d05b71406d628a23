// The world-book Test panel: typed sample chats or a real chat, the options
// it sends, and every result explained.

import { fireEvent, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import type { ScanReport, TestActivationRequest } from "../src/lib/api";
import { chatCharacter, MockChats } from "./helpers/backend";
import { ANN, common, count, emberfall, openBook, start } from "./helpers/worldbooks";

describe("test activation", () => {
  const REPORT: ScanReport = {
    activated: [
      { book: "ember", uid: 0, comment: "The city", position: "beforeCharacter", depth: 4, role: "system", order: 100, tokens: 12, reason: { kind: "constant" }, groupWon: null, content: "A walled city." },
      { book: "ember", uid: 1, comment: "The old wyrm", position: "atDepth", depth: 2, role: "system", order: 120, tokens: 30, reason: { kind: "key", key: "dragon", secondary: null, matchedIn: { kind: "message", index: 1 } }, groupWon: "creatures", content: "Cinderjaw sleeps." },
      { book: "ember", uid: 5, comment: "Bells", position: "afterCharacter", depth: 4, role: "system", order: 100, tokens: 9, reason: { kind: "key", key: "bell", secondary: null, matchedIn: { kind: "recursion", level: 1 } }, groupWon: null, content: "" },
      { book: "ember", uid: 6, comment: "Ship", position: "afterCharacter", depth: 4, role: "system", order: 100, tokens: 9, reason: { kind: "sticky", remaining: 2 }, groupWon: null, content: "" },
    ],
    dropped: [
      { book: "ember", uid: 2, comment: "Ash storms", reason: { kind: "probability", probability: 30, roll: 71 } },
      { book: "ember", uid: 3, comment: "Clear skies", reason: { kind: "group", group: "weather", winner: 12 } },
      { book: "ember", uid: 7, comment: "Long", reason: { kind: "budget", budget: 2048 } },
      { book: "ember", uid: 8, comment: "Comet", reason: { kind: "cooldown", remaining: 3 } },
      { book: "ember", uid: 9, comment: "Pair", reason: { kind: "secondaryKeys" } },
      { book: "ember", uid: 10, comment: "Bad", reason: { kind: "invalidKey", key: "/(x/", error: "unclosed group" } },
    ],
    tokensUsed: 60,
    budget: 2048,
    recursionLevels: 1,
    keyErrors: [],
  };

  test("sends the parsed messages, books, context and seed; explains every result", async () => {
    const requests: TestActivationRequest[] = [];
    const { calls } = await start([emberfall(), common()], {
      hooks: {
        testActivation: (request) => {
          requests.push(request);
          return REPORT;
        },
      },
    });
    await openBook("ember");
    await fireEvent.click(screen.getByTestId("book-tab-test"));
    const panel = screen.getByTestId("test-panel");
    await fireEvent.input(within(panel).getByTestId("test-messages"), {
      target: { value: "User: Hello there.\nEmber: Did you hear the dragon?\nIt snores.\nUser: Ring the bell!" },
    });
    const roles = within(panel).getAllByTestId("test-role");
    expect(roles.map((r) => r.textContent?.trim())).toEqual(["User", "Character", "User"]);
    await fireEvent.click(roles[2]!); // the third speaks as the character instead
    await fireEvent.input(within(panel).getByTestId("test-context"), { target: { value: "4096" } });
    await fireEvent.change(within(panel).getByTestId("test-seed"), { target: { value: "42" } });
    await fireEvent.click(within(panel).getByTestId("test-run"));

    await waitFor(() => expect(count(calls, "test_activation")).toBe(1));
    expect(requests[0]).toEqual({
      bookIds: ["ember"],
      messages: [
        { role: "user", name: "User", content: "Hello there." },
        { role: "assistant", name: "Ember", content: "Did you hear the dragon?\nIt snores." },
        { role: "assistant", name: "User", content: "Ring the bell!" },
      ],
      settings: null,
      seed: 42,
      contextTokens: 4096,
      trigger: "normal",
      character: null,
      sessionId: null,
      message: null,
    });

    const activated = await within(panel).findByTestId("test-activated");
    const items = within(activated).getAllByTestId("test-activation");
    expect(items.map((i) => i.getAttribute("data-uid"))).toEqual(["0", "1", "5", "6"]);
    expect(items[0]!.textContent).toContain("constant");
    expect(items[1]!.textContent).toContain('key "dragon" in message 2');
    expect(items[1]!.textContent).toContain('won group "creatures"');
    expect(items[1]!.textContent).toContain("depth 2");
    expect(items[1]!.textContent).toContain("30 tokens");
    expect(items[2]!.textContent).toContain('recursion level 1 via key "bell"');
    expect(items[3]!.textContent).toContain("sticky, 2 messages left");

    const drops = within(within(panel).getByTestId("test-dropped")).getAllByTestId("test-drop");
    expect(drops.map((d) => d.getAttribute("data-reason"))).toEqual(["probability", "group", "budget", "cooldown", "secondaryKeys", "invalidKey"]);
    expect(drops[0]!.textContent).toContain("probability 30%: rolled 71");
    expect(drops[1]!.textContent).toContain('lost group "weather" to #12');
    expect(drops[2]!.textContent).toContain("over the budget of 2048 tokens");
    expect(drops[3]!.textContent).toContain("cooling down, 3 messages left");
    expect(drops[4]!.textContent).toContain("secondary keys not satisfied");
    expect(drops[5]!.textContent).toContain('invalid key "/(x/"');
    expect(within(panel).getByTestId("test-budget").textContent).toContain("60 / 2048 tokens");
  });

  test("other books can be added, a seed is shown by default, and unsaved settings are tried", async () => {
    const requests: TestActivationRequest[] = [];
    await start([emberfall(), common()], {
      hooks: { testActivation: (request) => (requests.push(request), REPORT) },
    });
    await openBook("ember");
    await fireEvent.click(screen.getByTestId("book-tab-settings"));
    await fireEvent.change(screen.getByTestId("setting-scanDepth"), { target: { value: "9" } });
    await fireEvent.click(screen.getByTestId("book-tab-test"));
    const panel = screen.getByTestId("test-panel");
    const seed = within(panel).getByTestId("test-seed") as HTMLInputElement;
    expect(seed.value).toMatch(/^\d+$/);
    await fireEvent.click(within(panel).getByText("Common knowledge"));
    await fireEvent.input(within(panel).getByTestId("test-messages"), { target: { value: "User: coin" } });
    await fireEvent.click(within(panel).getByTestId("test-run"));
    await waitFor(() => expect(requests).toHaveLength(1));
    expect(requests[0]!.bookIds).toEqual(["ember", "common"]);
    expect(requests[0]!.seed).toBe(Number(seed.value));
    expect(requests[0]!.contextTokens).toBe(8192);
    expect(requests[0]!.settings?.scanDepth).toBe(9);
  });
});

describe("test activation for a generation type and a character", () => {
  const FILTERED: ScanReport = {
    activated: [
      { book: "ember", uid: 4, comment: "Red moon", position: "beforeCharacter", depth: 4, role: "system", order: 100, tokens: 6, reason: { kind: "decorator" }, groupWon: null, content: "The moon is red." },
    ],
    dropped: [
      { book: "ember", uid: 2, comment: "Only on continue", reason: { kind: "trigger", trigger: "impersonate", triggers: ["continue", "swipe"] } },
      { book: "ember", uid: 3, comment: "Not for Ann", reason: { kind: "characterFilter", character: "Ann Archer", exclude: true, byTag: false } },
      { book: "ember", uid: 5, comment: "Sci-fi only", reason: { kind: "characterFilter", character: "Ann Archer", exclude: false, byTag: true } },
      { book: "ember", uid: 6, comment: "Hidden", reason: { kind: "dontActivate" } },
    ],
    tokensUsed: 6,
    budget: 2048,
    recursionLevels: 0,
    keyErrors: [{ uid: 7, key: "/(?:a(?=a)|a)*b/", kind: "failed", error: "the search stopped: backtrack limit exceeded" }],
  };

  test("sends the chosen trigger and character; explains filters, triggers and decorators", async () => {
    const requests: TestActivationRequest[] = [];
    const { calls } = await start([emberfall()], {
      hooks: { testActivation: (request) => (requests.push(request), FILTERED) },
    });
    await openBook("ember");
    await fireEvent.click(screen.getByTestId("book-tab-test"));
    const panel = screen.getByTestId("test-panel");
    await waitFor(() => expect(count(calls, "list_characters")).toBeGreaterThan(0));
    const triggers = within(panel).getByTestId("test-trigger") as HTMLSelectElement;
    expect([...triggers.options].map((o) => o.textContent)).toEqual(["Normal", "Continue", "Impersonate", "Swipe", "Regenerate", "Quiet"]);
    await fireEvent.change(triggers, { target: { value: "impersonate" } });
    const who = within(panel).getByTestId("test-character") as HTMLSelectElement;
    await waitFor(() => expect([...who.options].map((o) => o.textContent)).toEqual(["None (filters off)", "Ann Archer"]));
    who.value = "ann";
    await fireEvent.change(who);
    await fireEvent.input(within(panel).getByTestId("test-messages"), { target: { value: "User: the tower" } });
    await fireEvent.click(within(panel).getByTestId("test-run"));
    await waitFor(() => expect(requests).toHaveLength(1));
    expect(requests[0]!.trigger).toBe("impersonate");
    expect(requests[0]!.character).toEqual({ name: "Ann Archer", tags: ["Fantasy", "elf"] });

    const activated = await within(panel).findByTestId("test-activated");
    expect(activated.textContent).toContain("@@activate decorator");
    const drops = within(within(panel).getByTestId("test-dropped")).getAllByTestId("test-drop");
    expect(drops.map((d) => d.getAttribute("data-reason"))).toEqual(["trigger", "characterFilter", "characterFilter", "dontActivate"]);
    expect(drops[0]!.textContent).toContain("only for Continue, Swipe, not Impersonate");
    expect(drops[1]!.textContent).toContain("the entry excludes Ann Archer");
    expect(drops[2]!.textContent).toContain("Ann Archer has none of the entry's tags");
    expect(drops[3]!.textContent).toContain("@@dont_activate decorator");
    const failed = within(panel).getByTestId("test-key-errors");
    expect(failed.textContent).toContain("This regex key stopped at its search limit: /(?:a(?=a)|a)*b/");
    expect(failed.textContent).toContain("backtrack limit exceeded");

    // Back to no character: filters are off again.
    who.value = "";
    await fireEvent.change(who);
    await fireEvent.click(within(panel).getByTestId("test-run"));
    await waitFor(() => expect(requests).toHaveLength(2));
    expect(requests[1]!.character).toBeNull();
  });
});

describe("the Test panel on a real chat", () => {
  test("scans a chat from the library with a message being sent; the chat brings its own character", async () => {
    const requests: TestActivationRequest[] = [];
    const report: ScanReport = { activated: [], dropped: [], tokensUsed: 0, budget: 2048, recursionLevels: 0, keyErrors: [] };
    const chats = new MockChats({ character: (id) => chatCharacter(id === "ann" ? ANN : undefined) });
    const older = chats.addSession("ann", [{ role: "assistant", content: "Welcome to the tower." }], { title: "The tower" });
    const newer = chats.addSession("ann", [{ role: "assistant", content: "The dragon stirs." }], { title: "Dragon watch" });
    const { calls } = await start([emberfall()], {
      chats,
      hooks: { testActivation: (request) => (requests.push(request), report) },
    });
    await openBook("ember");
    await fireEvent.click(screen.getByTestId("book-tab-test"));
    const panel = screen.getByTestId("test-panel");
    await fireEvent.click(within(panel).getByTestId("test-source-chat"));
    await waitFor(() => expect(count(calls, "list_sessions")).toBeGreaterThan(0));
    const picker = (await within(panel).findByTestId("test-session")) as HTMLSelectElement;
    expect([...picker.options].map((o) => o.value).sort()).toEqual([older.id, newer.id].sort());
    picker.value = older.id;
    await fireEvent.change(picker);
    expect((within(panel).getByTestId("test-character") as HTMLSelectElement).disabled).toBe(true);
    await fireEvent.input(within(panel).getByTestId("test-draft"), { target: { value: "  Where is the dragon?  " } });
    await fireEvent.click(within(panel).getByTestId("test-run"));
    await waitFor(() => expect(requests).toHaveLength(1));
    expect(requests[0]).toMatchObject({ sessionId: older.id, message: "Where is the dragon?", messages: [], character: null });

    // Back to typed messages: no chat is sent.
    await fireEvent.click(within(panel).getByTestId("test-source-typed"));
    await fireEvent.input(within(panel).getByTestId("test-messages"), { target: { value: "User: the tower" } });
    await fireEvent.click(within(panel).getByTestId("test-run"));
    await waitFor(() => expect(requests).toHaveLength(2));
    expect(requests[1]).toMatchObject({ sessionId: null, message: null });
    expect(requests[1]!.messages).toHaveLength(1);
  });
});
