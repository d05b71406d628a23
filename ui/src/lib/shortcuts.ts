// The app's keyboard shortcuts: which key press means which action, and the
// list the shortcuts dialog and Help show. Pure, so the mapping is unit-tested;
// App.svelte listens on the window and carries the actions out.

export type ShortcutAction = "search" | "newChat" | "stop" | "swipePrev" | "swipeNext" | "editLast" | "help";

/** The parts of a KeyboardEvent the mapping reads. */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
}

/** Where the key press happened. */
export interface KeyContext {
  /** macOS: Cmd is the modifier, not Ctrl. */
  mac: boolean;
  /** Focus is in a text field (input, textarea, select, contenteditable). */
  inText: boolean;
  /** Focus is in the chat composer and it is empty. */
  composerEmpty: boolean;
  /** A reply is streaming in the open chat. */
  streaming: boolean;
}

/** Whether this platform string (navigator.platform / userAgent) is a Mac's. */
export function isMac(platform: string): boolean {
  return /mac|iphone|ipad/i.test(platform);
}

/** The action this key press asks for, or null when it is not a shortcut here. */
export function shortcutFor(press: KeyPress, context: KeyContext): ShortcutAction | null {
  const mod = context.mac ? press.metaKey : press.ctrlKey;
  const otherMod = context.mac ? press.ctrlKey : press.metaKey;
  const key = press.key.length === 1 ? press.key.toLowerCase() : press.key;
  // The modifier shortcuts are not typing, so they work in text fields too.
  if (mod && !otherMod && !press.altKey && !press.shiftKey) {
    if (key === "k") return "search";
    if (key === "n") return "newChat";
    return null;
  }
  if (press.ctrlKey || press.metaKey) return null;
  if (key === "Escape" && !press.altKey && !press.shiftKey) return context.streaming ? "stop" : null;
  if (press.altKey) {
    // Alt+arrows move by word in a text field: leave them to it.
    if (context.inText || press.shiftKey) return null;
    if (key === "ArrowLeft") return "swipePrev";
    if (key === "ArrowRight") return "swipeNext";
    return null;
  }
  if (key === "ArrowUp" && !press.shiftKey) return context.composerEmpty ? "editLast" : null;
  if (key === "?" && !context.inText) return "help";
  return null;
}

/** Whether this element takes typed text (so plain keys belong to it). */
export function isTextField(element: Element | null): boolean {
  if (!element) return false;
  if (element instanceof HTMLTextAreaElement || element instanceof HTMLSelectElement) return true;
  if (element instanceof HTMLInputElement) {
    return !["button", "checkbox", "radio", "submit", "reset", "file", "range", "color"].includes(element.type);
  }
  // jsdom leaves isContentEditable undefined: read the attribute too.
  return element instanceof HTMLElement && (element.isContentEditable === true || element.getAttribute("contenteditable") === "true");
}

/** One row of the shortcuts list: the keys to show and what they do (an i18n key). */
export interface ShortcutRow {
  keys: string[];
  label: `shortcuts.${ShortcutAction}`;
}

/** The shortcuts as the dialog and Help list them, with this platform's modifier. */
export function shortcutRows(mac: boolean): ShortcutRow[] {
  const mod = mac ? "⌘" : "Ctrl";
  const alt = mac ? "⌥" : "Alt";
  return [
    { keys: [mod, "K"], label: "shortcuts.search" },
    { keys: [mod, "N"], label: "shortcuts.newChat" },
    { keys: ["Esc"], label: "shortcuts.stop" },
    { keys: [alt, "←"], label: "shortcuts.swipePrev" },
    { keys: [alt, "→"], label: "shortcuts.swipeNext" },
    { keys: ["↑"], label: "shortcuts.editLast" },
    { keys: ["?"], label: "shortcuts.help" },
  ];
}
