// The library grid: cards, search, sort, filters, keyboard, plurals; and a
// character deleted elsewhere.

import { fireEvent, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import type { CharacterDetail } from "../src/lib/api";
import { character } from "./helpers/backend";
import { ANN, BOB, names, start } from "./helpers/library";

describe("library grid", () => {
  test("shows every character with avatar URLs, and placeholders where there is no avatar", async () => {
    await start();
    expect(names()).toEqual(["Ann Archer", "Bob", "Cid"]);
    const ann = screen.getAllByTestId("character-card")[0]!;
    expect(ann.getAttribute("data-character-id")).toBe("ann");
    expect(ann.textContent).toContain("alice");
    expect(ann.textContent).toContain("fantasy");
    expect(ann.querySelector("img")?.getAttribute("src")).toBe("avatar://localhost/thumb%2Fann?v=k1");

    const bob = screen.getAllByTestId("character-card")[1]!;
    expect(bob.querySelector("img")).toBeNull();
    expect(within(bob).getByTestId("avatar").getAttribute("data-placeholder")).toBe("true");
    expect(within(bob).getByTestId("avatar").textContent?.trim()).toBe("B");
    expect(screen.getByTestId("library-count").textContent).toBe("3 characters");
  });

  test("shows at most three tags per card", async () => {
    await start({ characters: [character("Dee", { tags: ["a", "b", "c", "d"] })] });
    const card = screen.getByTestId("character-card");
    expect([...card.querySelectorAll(".tag")].map((t) => t.textContent)).toEqual(["a", "b", "c"]);
  });

  test("search filters as you type, by name, creator or tag, ignoring case", async () => {
    const calls = await start();
    const listed = calls.filter((c) => c.cmd === "list_characters").length;
    const search = screen.getByTestId("library-search");
    await fireEvent.input(search, { target: { value: "BO" } });
    expect(names()).toEqual(["Bob"]);
    expect(screen.getByTestId("library-count").textContent).toBe("1 of 3");
    await fireEvent.input(search, { target: { value: "carol" } });
    expect(names()).toEqual(["Cid"]);
    await fireEvent.input(search, { target: { value: "fantasy" } });
    expect(names()).toEqual(["Ann Archer", "Cid"]);
    await fireEvent.input(search, { target: { value: "fantasy arch" } });
    expect(names()).toEqual(["Ann Archer"]);
    await fireEvent.input(search, { target: { value: "nobody" } });
    expect(names()).toEqual([]);
    expect(screen.getByTestId("library-no-match").textContent).toContain("No characters match");
    // Instant: typing never waits on the backend.
    expect(calls.filter((c) => c.cmd === "list_characters").length).toBe(listed);
  });

  test("the sort select asks the backend for the new order", async () => {
    const calls = await start();
    await fireEvent.change(screen.getByTestId("library-sort"), { target: { value: "recentlyAdded" } });
    await waitFor(() => expect(names()).toEqual(["Ann Archer", "Cid", "Bob"]));
    expect(calls).toContainEqual({
      cmd: "list_characters",
      args: { query: { search: "", tag: null, collection: null, sort: "recentlyAdded" } },
    });
    await fireEvent.change(screen.getByTestId("library-sort"), { target: { value: "recentlyUsed" } });
    await waitFor(() => expect(names()).toEqual(["Bob", "Ann Archer", "Cid"]));
  });

  test("tag and collection filters narrow the list; a filter without options is hidden", async () => {
    await start();
    await fireEvent.change(screen.getByTestId("library-tag"), { target: { value: "fantasy" } });
    expect(names()).toEqual(["Ann Archer", "Cid"]);
    expect(screen.getByTestId("library-count").textContent).toBe("2 of 3");
    await fireEvent.change(screen.getByTestId("library-collection"), { target: { value: "Old Kingdoms" } });
    expect(names()).toEqual(["Cid"]);
    await fireEvent.change(screen.getByTestId("library-tag"), { target: { value: "" } });
    await fireEvent.change(screen.getByTestId("library-collection"), { target: { value: "" } });
    expect(names()).toHaveLength(3);
  });

  test("hides the collection filter when no character is in a collection", async () => {
    await start({ characters: [ANN, BOB] });
    expect(screen.getByTestId("library-tag")).toBeTruthy();
    expect(screen.queryByTestId("library-collection")).toBeNull();
  });

  test("arrow keys move between cards", async () => {
    await start();
    const cards = screen.getAllByTestId("character-card");
    expect(cards.map((c) => c.tabIndex)).toEqual([0, -1, -1]);
    cards[0]!.focus();
    await fireEvent.keyDown(cards[0]!, { key: "ArrowRight" });
    await waitFor(() => expect(document.activeElement).toBe(cards[1]));
    await fireEvent.keyDown(cards[1]!, { key: "End" });
    await waitFor(() => expect(document.activeElement).toBe(cards[2]));
  });

  test("counts are Russian plurals in Russian", async () => {
    await start({ settings: { language: "ru", theme: "system" } });
    expect(screen.getByTestId("library-count").textContent).toBe("3 персонажа");
    await fireEvent.input(screen.getByTestId("library-search"), { target: { value: "bob" } });
    expect(screen.getByTestId("library-count").textContent).toBe("1 из 3");
  });
});

describe("a character that is not there", () => {
  test("opening one that was deleted elsewhere reports it and stays on the grid", async () => {
    const ghost: CharacterDetail = character("Ghost", { id: "ghost" });
    await start({
      characters: [BOB],
      listCharacters: () => [BOB.summary, ghost.summary],
    });
    await fireEvent.click(document.querySelector('[data-character-id="ghost"]')!);
    const banner = await screen.findByTestId("error-banner");
    expect(banner.textContent).toContain("The character couldn't be opened.");
    expect(screen.getByTestId("library-grid")).toBeTruthy();
  });
});
