// English messages: the reference dictionary. Every other language must have
// exactly these keys (enforced by the Dictionary type in ./types).
// "{name}" is a placeholder filled by t()/tn(); plural entries pick a form
// by Intl.PluralRules and get {count} filled with the formatted number.
// The messages live in ./en/, one file per area of the app, by key prefix;
// a key belongs to exactly one area (a test checks it).

import { app } from "./en/app";
import { errors } from "./en/errors";
import { library } from "./en/library";
import { worldbooks } from "./en/worldbooks";
import { chats } from "./en/chats";
import { prompts } from "./en/prompts";
import { providers } from "./en/providers";
import { backups } from "./en/backups";
import { onboarding } from "./en/onboarding";
import { help } from "./en/help";
import { groups } from "./en/groups";
import { connections } from "./en/connections";
import { memory } from "./en/memory";

export const en = {
  ...app,
  ...errors,
  ...library,
  ...worldbooks,
  ...chats,
  ...prompts,
  ...providers,
  ...backups,
  ...onboarding,
  ...help,
  ...groups,
  ...connections,
  ...memory,
} as const;
