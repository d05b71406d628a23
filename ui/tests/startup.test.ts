// The cold-start mark `make figures` times: set once the library's list has loaded
// and been painted, and only once per page.

import { waitFor } from "@testing-library/svelte";
import { beforeEach, expect, test } from "vitest";
import { LIBRARY_INTERACTIVE, LIBRARY_LOADED, markLibraryInteractive } from "../src/lib/startup";
import { start } from "./helpers/library";

const marks = (): PerformanceEntryList => performance.getEntriesByName(LIBRARY_INTERACTIVE, "mark");

beforeEach(() => {
  performance.clearMarks();
});

test("the library marks itself interactive after its list has loaded and been painted", async () => {
  expect(marks()).toHaveLength(0);
  await start();
  await waitFor(() => expect(marks()).toHaveLength(1));
  // The mark comes after the grid is in the document.
  expect(document.querySelector('[data-testid="library-grid"]')).not.toBeNull();
  // The timeline's step before it: the list arrived (marked once, before it was painted).
  const loaded = performance.getEntriesByName(LIBRARY_LOADED, "mark");
  expect(loaded).toHaveLength(1);
  expect(loaded[0]?.startTime).toBeLessThanOrEqual(marks()[0]?.startTime ?? -1);
});

test("the mark is set once, however often the library loads", async () => {
  markLibraryInteractive();
  markLibraryInteractive();
  await waitFor(() => expect(marks()).toHaveLength(1));
  markLibraryInteractive();
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  expect(marks()).toHaveLength(1);
});
