// The moment a cold start ends: the library's list has loaded and been painted.

/** The performance mark's name; `make figures` reads it through WebDriver to time a cold start. */
export const LIBRARY_INTERACTIVE = "confab:library-interactive";

/** Steps on the way, for `make figures`' cold-start timeline: the bundle runs, the list has arrived. */
export const SCRIPT_START = "confab:script-start";
export const LIBRARY_LOADED = "confab:library-loaded";

/** Marks `name` unless this page load has already marked it. */
export function markOnce(name: string): void {
  if (performance.getEntriesByName(name, "mark").length === 0) performance.mark(name);
}

/** Sets the mark after the next two painted frames, once per page load. */
export function markLibraryInteractive(): void {
  const marked = (): boolean => performance.getEntriesByName(LIBRARY_INTERACTIVE, "mark").length > 0;
  if (marked()) return;
  markOnce(LIBRARY_LOADED);
  // Two frames: the first runs before the list is painted, the second after it.
  requestAnimationFrame(() =>
    requestAnimationFrame(() => {
      if (!marked()) performance.mark(LIBRARY_INTERACTIVE);
    }),
  );
}
