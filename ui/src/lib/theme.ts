// Applies the theme preference to <html data-theme>. CSS custom properties in
// app.css key off that attribute; "system" tracks the OS setting live.

import type { ThemePreference } from "./api";

export type ResolvedTheme = "light" | "dark";

const DARK_QUERY = "(prefers-color-scheme: dark)";

function darkQuery(): MediaQueryList | null {
  // Absent in some test environments; treat as "light".
  return typeof window !== "undefined" && typeof window.matchMedia === "function"
    ? window.matchMedia(DARK_QUERY)
    : null;
}

export function resolveTheme(preference: ThemePreference, systemIsDark: boolean): ResolvedTheme {
  if (preference === "light" || preference === "dark") return preference;
  return systemIsDark ? "dark" : "light";
}

function paint(theme: ResolvedTheme): void {
  const root = document.documentElement;
  root.dataset["theme"] = theme;
  // Native controls and scrollbars follow too.
  root.style.colorScheme = theme;
}

/**
 * Applies `preference` now and, for "system", keeps following the OS.
 * Returns a function that stops following (use as an $effect teardown).
 */
export function applyTheme(preference: ThemePreference): () => void {
  const query = darkQuery();
  paint(resolveTheme(preference, query?.matches ?? false));
  if (preference !== "system" || !query) return () => {};

  const onChange = (event: MediaQueryListEvent): void => paint(event.matches ? "dark" : "light");
  query.addEventListener("change", onChange);
  return () => query.removeEventListener("change", onChange);
}
