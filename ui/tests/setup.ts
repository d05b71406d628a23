// Shared test environment: jsdom lacks matchMedia, and module-level state
// (localStorage, the IPC mock, <html> attributes) must not leak between tests.

import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach } from "vitest";
import { setPrefersDark } from "./helpers/media";

beforeEach(() => {
  setPrefersDark(false);
});

afterEach(() => {
  clearMocks();
  localStorage.clear();
  document.documentElement.removeAttribute("data-theme");
  document.documentElement.removeAttribute("lang");
  document.documentElement.style.colorScheme = "";
});
