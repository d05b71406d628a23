import type { TextKey } from "./i18n/types";

/** "help" is opened from the Help menu, not listed with the others. */
export type Screen = "library" | "chats" | "worldbooks" | "settings" | "help";

export type IconName = "library" | "chats" | "worldbooks" | "settings";

export type NavItem = { screen: Screen; label: TextKey; icon: IconName };

/** Sidebar order; also the source of the nav-* test ids. */
export const NAV_ITEMS: readonly NavItem[] = [
  { screen: "library", label: "nav.library", icon: "library" },
  { screen: "chats", label: "nav.chats", icon: "chats" },
  { screen: "worldbooks", label: "nav.worldbooks", icon: "worldbooks" },
  { screen: "settings", label: "nav.settings", icon: "settings" },
];
