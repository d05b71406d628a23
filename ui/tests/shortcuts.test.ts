// The shortcut mapping: which key press is which action, where it may fire,
// and the platform's modifier.

import { expect, test } from "vitest";
import { isMac, isTextField, shortcutFor, shortcutRows, type KeyContext, type KeyPress } from "../src/lib/shortcuts";

const press = (key: string, mods: Partial<KeyPress> = {}): KeyPress => ({
  key,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  ...mods,
});
const linux: KeyContext = { mac: false, inText: false, composerEmpty: false, streaming: false };
const mac: KeyContext = { ...linux, mac: true };

test("Ctrl+K and Ctrl+N off the Mac, Cmd+K and Cmd+N on it, even in a text field", () => {
  expect(shortcutFor(press("k", { ctrlKey: true }), linux)).toBe("search");
  expect(shortcutFor(press("K", { ctrlKey: true }), { ...linux, inText: true })).toBe("search");
  expect(shortcutFor(press("n", { ctrlKey: true }), linux)).toBe("newChat");
  expect(shortcutFor(press("k", { metaKey: true }), mac)).toBe("search");
  expect(shortcutFor(press("n", { metaKey: true }), mac)).toBe("newChat");
  // The other platform's modifier does nothing.
  expect(shortcutFor(press("k", { metaKey: true }), linux)).toBeNull();
  expect(shortcutFor(press("k", { ctrlKey: true }), mac)).toBeNull();
  // Extra modifiers are another shortcut (the webview's or none).
  expect(shortcutFor(press("k", { ctrlKey: true, shiftKey: true }), linux)).toBeNull();
  expect(shortcutFor(press("x", { ctrlKey: true }), linux)).toBeNull();
});

test("Escape stops a reply only while one streams, from anywhere", () => {
  expect(shortcutFor(press("Escape"), { ...linux, streaming: true })).toBe("stop");
  expect(shortcutFor(press("Escape"), { ...linux, streaming: true, inText: true })).toBe("stop");
  expect(shortcutFor(press("Escape"), linux)).toBeNull();
});

test("Alt+arrows swipe, but not in a text field where they move by word", () => {
  expect(shortcutFor(press("ArrowLeft", { altKey: true }), linux)).toBe("swipePrev");
  expect(shortcutFor(press("ArrowRight", { altKey: true }), mac)).toBe("swipeNext");
  expect(shortcutFor(press("ArrowRight", { altKey: true }), { ...linux, inText: true })).toBeNull();
  expect(shortcutFor(press("ArrowRight"), linux)).toBeNull();
});

test("Up edits the last message only from an empty composer", () => {
  expect(shortcutFor(press("ArrowUp"), { ...linux, inText: true, composerEmpty: true })).toBe("editLast");
  expect(shortcutFor(press("ArrowUp"), { ...linux, inText: true })).toBeNull();
  expect(shortcutFor(press("ArrowUp", { shiftKey: true }), { ...linux, inText: true, composerEmpty: true })).toBeNull();
});

test("? shows the shortcuts unless typing", () => {
  expect(shortcutFor(press("?", { shiftKey: true }), linux)).toBe("help");
  expect(shortcutFor(press("?", { shiftKey: true }), { ...linux, inText: true })).toBeNull();
  expect(shortcutFor(press("a"), linux)).toBeNull();
});

test("text fields are inputs that take text, textareas, selects and editable elements", () => {
  const text = document.createElement("input");
  const box = document.createElement("input");
  box.type = "checkbox";
  const editable = document.createElement("div");
  editable.setAttribute("contenteditable", "true");
  expect(isTextField(text)).toBe(true);
  expect(isTextField(document.createElement("textarea"))).toBe(true);
  expect(isTextField(box)).toBe(false);
  expect(isTextField(document.createElement("button"))).toBe(false);
  expect(isTextField(editable)).toBe(true);
  expect(isTextField(null)).toBe(false);
});

test("the list shows the platform's modifier", () => {
  expect(isMac("MacIntel")).toBe(true);
  expect(isMac("Linux x86_64")).toBe(false);
  expect(shortcutRows(true)[0]?.keys).toEqual(["⌘", "K"]);
  expect(shortcutRows(false)[0]?.keys).toEqual(["Ctrl", "K"]);
  expect(shortcutRows(false).map((row) => row.label)).toHaveLength(7);
});
