// English messages of Help (`help.` keys): the menu and the screen that shows
// the user guide and troubleshooting pages.

export const help = {
  "help.menu": "Help",
  "help.title": "Help",
  "help.subtitle": "The user guide and troubleshooting come with Confab and work offline.",
  "help.doc.guide": "User guide",
  "help.doc.troubleshooting": "Troubleshooting",
  "help.contents": "Contents",
  "help.settings.hint": "How to import, use world books and notes, set up providers and keys, and keep backups.",
} as const satisfies Record<string, string>;
