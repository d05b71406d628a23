// An instruct template choice as a select's value, and back: "" (the
// provider's choice, in a profile), "auto", or "named:<name>".

import type { InstructChoice } from "../api";

export function instructValue(choice: InstructChoice | null | undefined): string {
  if (!choice) return "";
  return choice.type === "auto" ? "auto" : `named:${choice.name}`;
}

export function instructOf(value: string): InstructChoice | null {
  if (value === "auto") return { type: "auto" };
  if (value.startsWith("named:")) return { type: "named", name: value.slice("named:".length) };
  return null;
}
