// The moment a cold start ends: the library's list has loaded and been painted.

/** The performance mark's name; `make figures` reads it through WebDriver to time a cold start. */
export const LIBRARY_INTERACTIVE = "confab:library-interactive";

/** Sets the mark after the next two painted frames, once per page load. */
export function markLibraryInteractive(): void {
  const marked = (): boolean => performance.getEntriesByName(LIBRARY_INTERACTIVE, "mark").length > 0;
  if (marked()) return;
  // Two frames: the first runs before the list is painted, the second after it.
  requestAnimationFrame(() =>
    requestAnimationFrame(() => {
      if (!marked()) performance.mark(LIBRARY_INTERACTIVE);
    }),
  );
}
