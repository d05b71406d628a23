// English messages of the window itself: the app's name, navigation, loading
// states, shared buttons, confirmations, file sizes, and the Settings
// screen's own settings (`app.`, `nav.`, `status.`, `common.`, `confirm.`,
// `size.`, `settings.` keys).

export const app = {
  "app.name": "Confab",
  "app.tagline": "Characters, chats, worlds",

  "nav.label": "Main",
  "nav.library": "Library",
  "nav.chats": "Chats",
  "nav.worldbooks": "World books",
  "nav.settings": "Settings",

  "status.loading": "Loading…",
  "status.unavailable": "Couldn't load this.",
  "status.retry": "Try again",

  "size.bytes": "{n} B",
  "size.kb": "{n} KB",
  "size.mb": "{n} MB",

  "confirm.cancel": "Cancel",
  "confirm.discard.title": "Discard unsaved changes?",
  "confirm.discard.body": "Your edits to {name} will be lost.",
  "confirm.discard.ok": "Discard",
  "confirm.discard.cancel": "Keep editing",
  "confirm.delete.title": "Delete {name}?",
  "confirm.delete.body": "{name} and every chat with this character will be deleted. This can't be undone.",
  "confirm.delete.ok": "Delete",
  "confirm.deleteBook.title": "Delete {name}?",
  "confirm.deleteBook.body": {
    one: "{name} and its {count} entry will be deleted, and characters that use it will lose it. This can't be undone.",
    other: "{name} and its {count} entries will be deleted, and characters that use it will lose it. This can't be undone.",
  },
  "confirm.deleteEntries.title": {
    one: "Delete {count} entry?",
    other: "Delete {count} entries?",
  },
  "confirm.deleteEntries.body": "They are removed from this world book at once. This can't be undone.",

  "settings.title": "Settings",
  "settings.subtitle": "Changes apply right away and are saved automatically.",
  "settings.appearance": "Appearance",
  "settings.language.label": "Language",
  "settings.language.hint": "Menus and messages. System default follows your computer.",
  "settings.language.system": "System default",
  "settings.language.en": "English",
  "settings.language.ru": "Русский",
  "settings.theme.label": "Theme",
  "settings.theme.hint": "System switches between light and dark with your computer.",
  "settings.theme.system": "System",
  "settings.theme.light": "Light",
  "settings.theme.dark": "Dark",
  "settings.about": "About",
  "settings.about.version": "Version",
  "settings.about.dataDir": "Data folder",
  "settings.about.database": "Database",
  "settings.about.schema": "Schema version",
  "settings.dictionary": "Global chat dictionary",
  "settings.providers": "Providers",
  "settings.usage": "Usage",

  "common.cancel": "Cancel",
  "common.close": "Close",
  "common.save": "Save",

  "settings.examples": "Example dialogue",
  "settings.stablePrompt": "Prompt caching",

  "settings.context": "Primary context",
} as const satisfies Record<string, string | { readonly one: string; readonly other: string }>;
