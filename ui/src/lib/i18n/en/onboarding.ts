// English messages of the first-run walk-through (`firstRun.` keys): the
// language, where replies come from, the demo character or importing cards.

export const onboarding = {
  "firstRun.title": "Welcome to Confab",
  "firstRun.lead": "Three quick steps to your first chat. Skip anything: it all stays in Settings.",
  "firstRun.skipAll": "Skip set-up",
  "firstRun.progress": "Set-up steps",
  "firstRun.step.language": "Language",
  "firstRun.step.replies": "Replies",
  "firstRun.step.characters": "Characters",
  "firstRun.count": "Step {n} of {total}",
  "firstRun.back": "Back",
  "firstRun.next": "Next",
  "firstRun.skipStep": "Skip for now",
  "firstRun.finish": "Finish",

  "firstRun.language.title": "Choose your language",
  "firstRun.language.hint": "Menus, buttons and messages. Your characters speak whatever language their cards and your model use.",
  "firstRun.language.later": "You can change it any time in Settings → Appearance.",

  "firstRun.replies.title": "Where do replies come from?",
  "firstRun.replies.hint": "Characters answer through a model: an online provider with an API key (OpenRouter, OpenAI, Anthropic), or a model server running on this computer, which needs no key and keeps everything offline.",
  "firstRun.replies.ready": "Ready: your characters can answer.",
  "firstRun.replies.later": "No provider yet? That's fine: you can read cards and greetings now and add one later in Settings → Providers.",

  "firstRun.local.title": "No model server answered on this computer",
  "firstRun.local.lead": "Confab looks on the usual ports. To chat without an online provider, install one of these, load a model, start its server, then look again:",
  "firstRun.local.ollama": "Install from ollama.com, then run “ollama pull llama3.2”. It serves in the background.",
  "firstRun.local.lmStudio": "Download a model, then in the Developer tab press “Start Server”.",
  "firstRun.local.kobold": "Open a .gguf model in KoboldCpp and press Launch.",
  "firstRun.local.llamaCpp": "Run “llama-server -m model.gguf --port 8080”.",
  "firstRun.local.online": "Or add an online provider above with its API key, or skip this step.",
  "firstRun.local.again": "Look again",

  "firstRun.characters.title": "Meet a character",
  "firstRun.characters.hint": "Start with the demo character that comes with Confab, or bring your own cards.",
  "firstRun.demo.title": "Mira Vell, the demo character",
  "firstRun.demo.body": "The night keeper of a library of lanterns. Her card has everything to try at once: alternate greetings, example dialogue, a world book, a character's note and a chat dictionary.",
  "firstRun.demo.noProvider": "She needs a provider to answer; her greeting is there either way.",
  "firstRun.demo.avatarAlt": "Mira Vell holding a lantern at night",
  "firstRun.demo.start": "Chat with Mira",
  "firstRun.demo.busy": "Opening…",
  "firstRun.import.title": "Import character cards",
  "firstRun.import.body": "PNG, JSON, CHARX or YAML cards from SillyTavern, RisuAI, Chub and others. You can also drop files on the window at any time.",
  "firstRun.import.start": "Import cards…",

  "firstRun.settings.title": "Getting started",
  "firstRun.settings.label": "Set-up guide",
  "firstRun.settings.hint": "Language, a provider or local model server, and the demo character, step by step.",
  "firstRun.settings.open": "Open the set-up guide",
} as const satisfies Record<string, string>;
