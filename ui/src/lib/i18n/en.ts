// English messages: the reference dictionary. Every other language must have
// exactly these keys (enforced by the Dictionary type in ./types).
// "{name}" is a placeholder filled by t()/tn(); plural entries pick a form
// by Intl.PluralRules and get {count} filled with the formatted number.

export const en = {
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

  "library.title": "Library",
  "library.subtitle": "The characters you can chat with.",
  "library.empty.title": "No characters yet",
  "library.empty.hint":
    "Drag character cards (PNG, JSON, CHARX, YAML) anywhere on this window to import them.",
  "library.count": {
    one: "{count} character in your library",
    other: "{count} characters in your library",
  },

  "chats.title": "Chats",
  "chats.subtitle": "Your conversations, most recent first.",
  "chats.empty.title": "No chats yet",
  "chats.empty.hint": "Pick a character in the Library to start one.",
  "chats.empty.action": "Go to Library",
  "chats.count": {
    one: "{count} chat",
    other: "{count} chats",
  },

  "worldbooks.title": "World books",
  "worldbooks.subtitle": "Lore and facts your characters can recall during a chat.",
  "worldbooks.empty.title": "No world books yet",
  "worldbooks.empty.hint":
    "Drop a SillyTavern world info JSON file anywhere on this window to import it as a world book.",
  "worldbooks.count": {
    one: "{count} world book",
    other: "{count} world books",
  },

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

  "error.not_found": "Not found",
  "error.invalid_input": "Something in the request isn't valid",
  "error.busy": "Confab is busy, try again in a moment",
  "error.unauthorized": "Access was denied",
  "error.rate_limited": "Too many requests, slow down a little",
  "error.upstream": "The AI service returned an error",
  "error.network": "Couldn't connect to the network",
  "error.timeout": "The request took too long",
  "error.storage": "Couldn't read or save your data",
  "error.disk_full": "The disk is full",
  "error.keyring_unavailable": "The system keychain isn't available",
  "error.database_corrupt": "Your library file is damaged",
  "error.database_too_new": "Your library was made by a newer Confab",
  "error.io": "Couldn't read or write a file",
  "error.internal": "Something went wrong",
  "error.file": "File",
  "error.dismiss": "Dismiss",
  "error.region": "Errors",
  "error.context.loadSettings": "Your saved settings couldn't be loaded.",
  "error.context.saveSettings": "Your settings change wasn't saved.",
  "error.context.appInfo": "Library details couldn't be loaded.",

  "fatal.database_corrupt.title": "Your library file is damaged",
  "fatal.database_corrupt.body":
    "Confab couldn't read its database, so it stopped without changing the file.",
  "fatal.database_corrupt.advice":
    "Restore the file from a backup, or move it somewhere else to start fresh with an empty library. Then press Retry.",
  "fatal.database_too_new.title": "This library was made by a newer version of Confab",
  "fatal.database_too_new.body":
    "This version of Confab can't open it safely. Confab did not change the file.",
  "fatal.database_too_new.advice":
    "Update Confab to the latest version, then open it again. Your characters and chats are still in the file.",
  "fatal.path": "Database file",
  "fatal.details": "Details",
  "fatal.retry": "Retry",
  "fatal.retrying": "Retrying…",
} as const satisfies Record<string, string | { readonly one: string; readonly other: string }>;
