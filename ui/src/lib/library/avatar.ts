// The placeholder drawn for a character without an avatar: its initial on a
// colour that always comes out the same for the same name.

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

export function initialOf(name: string): string {
  const trimmed = name.trim();
  const first = trimmed ? String.fromCodePoint(trimmed.codePointAt(0) ?? 63) : "?";
  return first.toLocaleUpperCase();
}

/** A hue in degrees (0–359), stable for a name. */
export function hueOf(name: string): number {
  return hash(name.trim().toLowerCase()) % 360;
}
