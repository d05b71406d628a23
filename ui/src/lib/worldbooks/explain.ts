// Plain words for what the scanner decided: why an entry went in, why one
// was left out, where it goes.

import type { ActivationReason, DropReason, EntryPosition, KeyError, KeyErrorKind, MatchedIn, Trigger } from "../api";
import { t, tn } from "../i18n/index.svelte";
import type { TextKey } from "../i18n/types";

export const POSITIONS: readonly EntryPosition[] = [
  "beforeCharacter",
  "afterCharacter",
  "exampleMessagesTop",
  "exampleMessagesBottom",
  "authorsNoteTop",
  "authorsNoteBottom",
  "atDepth",
  "outlet",
];

/** SillyTavern's generation types, in its order; an entry's `triggers` lists some of them. */
export const TRIGGERS: readonly Trigger[] = ["normal", "continue", "impersonate", "swipe", "regenerate", "quiet"];

/** A generation type in words; an unknown one (from a newer SillyTavern) as written. */
export function triggerLabel(trigger: string): string {
  return (TRIGGERS as readonly string[]).includes(trigger) ? t(`trigger.${trigger as Trigger}`) : trigger;
}

const KEY_ERRORS: Readonly<Record<KeyErrorKind, TextKey>> = {
  invalid: "entry.keyError",
  tooLarge: "entry.keyError.tooLarge",
  bookBudget: "entry.keyError.bookBudget",
  failed: "entry.keyError.failed",
};

/** What is wrong with a key, by kind ("… too large: /x/ —"), without the details. */
export function keyErrorLead(error: KeyError): string {
  return t(KEY_ERRORS[error.kind] ?? "entry.keyError", { key: error.key });
}

export function positionLabel(position: EntryPosition): string {
  return t(`entry.position.${position}`);
}

/** Short form for the entry rows: "↑Char", "@D 4". */
export function positionShort(position: EntryPosition, depth: number): string {
  return position === "atDepth" ? t("entry.positionShort.atDepth", { depth }) : t(`entry.positionShort.${position}`);
}

const SOURCES: Readonly<Record<string, TextKey>> = {
  personaDescription: "entry.source.personaDescription",
  characterDescription: "entry.source.characterDescription",
  characterPersonality: "entry.source.characterPersonality",
  characterDepthPrompt: "entry.source.characterDepthPrompt",
  scenario: "entry.source.scenario",
  creatorNotes: "entry.source.creatorNotes",
};

export function sourceLabel(name: string): string {
  const key = SOURCES[name];
  return key ? t(key) : name;
}

function where(matched: MatchedIn): string {
  if (matched.kind === "message") return t("test.where.message", { n: matched.index + 1 });
  if (matched.kind === "recursion") return t("test.where.recursion", { level: matched.level });
  return t("test.where.source", { source: sourceLabel(matched.name) });
}

export function activationText(reason: ActivationReason, groupWon: string | null): string {
  let text: string;
  switch (reason.kind) {
    case "key":
      text =
        reason.matchedIn.kind === "recursion"
          ? t(reason.secondary === null ? "test.reason.recursion" : "test.reason.recursionSecondary", {
              level: reason.matchedIn.level,
              key: reason.key,
              secondary: reason.secondary ?? "",
            })
          : t(reason.secondary === null ? "test.reason.key" : "test.reason.keySecondary", {
              key: reason.key,
              secondary: reason.secondary ?? "",
              where: where(reason.matchedIn),
            });
      break;
    case "constant":
      text = t("test.reason.constant");
      break;
    case "sticky":
      text = tn("test.reason.sticky", reason.remaining);
      break;
    case "minActivations":
      text = t("test.reason.minActivations", { depth: reason.depth });
      break;
    case "decorator":
      text = t("test.reason.decorator");
      break;
  }
  return groupWon === null ? text : `${text} · ${t("test.reason.groupWon", { group: groupWon })}`;
}

export function dropText(reason: DropReason): string {
  switch (reason.kind) {
    case "budget":
      return t("test.drop.budget", { budget: reason.budget });
    case "probability":
      return t("test.drop.probability", { probability: reason.probability, roll: reason.roll });
    case "group":
      return t("test.drop.group", { group: reason.group, winner: reason.winner });
    case "cooldown":
      return tn("test.drop.cooldown", reason.remaining);
    case "delay":
      return tn("test.drop.delay", reason.needed);
    case "delayUntilRecursion":
      return t("test.drop.delayUntilRecursion", { level: reason.level });
    case "secondaryKeys":
      return t("test.drop.secondaryKeys");
    case "invalidKey":
      return t("test.drop.invalidKey", { key: reason.key, error: reason.error });
    case "trigger":
      return t("test.drop.trigger", {
        trigger: triggerLabel(reason.trigger),
        triggers: reason.triggers.map(triggerLabel).join(", "),
      });
    case "characterFilter": {
      const key: TextKey = reason.exclude
        ? reason.byTag
          ? "test.drop.character.excludedTag"
          : "test.drop.character.excluded"
        : reason.byTag
          ? "test.drop.character.notTagged"
          : "test.drop.character.notListed";
      return t(key, { character: reason.character });
    }
    case "dontActivate":
      return t("test.drop.dontActivate");
  }
}
