// Russian messages, in ./ru/, one file per area of the app as in ./en/. Each
// area file has exactly the keys of its English area, and the Dictionary type
// checks that the whole has every English key.

import type { Dictionary, RussianPlural } from "./types";
import { app } from "./ru/app";
import { errors } from "./ru/errors";
import { library } from "./ru/library";
import { worldbooks } from "./ru/worldbooks";
import { chats } from "./ru/chats";
import { prompts } from "./ru/prompts";
import { providers } from "./ru/providers";
import { backups } from "./ru/backups";
import { onboarding } from "./ru/onboarding";
import { help } from "./ru/help";
import { groups } from "./ru/groups";
import { connections } from "./ru/connections";
import { memory } from "./ru/memory";

export const ru: Dictionary<RussianPlural> = {
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
};
