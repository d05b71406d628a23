// A fake Rust side for looking at the UI in a plain browser (screenshots,
// design work). Loaded only when VITE_MOCK_IPC is set at build/dev time.

import { mockIPC } from "@tauri-apps/api/mocks";
import type { ApiError, AppInfo, Settings } from "../api";

const SAMPLE_INFO: AppInfo = {
  version: "0.1.0",
  dataDir: "/home/alex/.local/share/app.confab.desktop",
  databasePath: "/home/alex/.local/share/app.confab.desktop/confab.sqlite3",
  schemaVersion: 1,
  counts: { characters: 0, worldBooks: 0, sessions: 0, messages: 0, personas: 0 },
};

/**
 * Scenarios: "1" (empty library), "full" (some counts), "corrupt",
 * "too-new", "error" (app_info fails with a non-fatal error).
 * The page URL may override: ?mock=full&lang=ru&theme=dark
 */
export function installMockIpc(defaultScenario: string): void {
  // Inside the real app the real backend is there; never shadow it.
  if ("__TAURI_INTERNALS__" in window) return;

  const query = new URLSearchParams(window.location.search);
  const scenario = query.get("mock") ?? defaultScenario;
  const lang = query.get("lang");
  const theme = query.get("theme");
  let settings: Settings = {
    language: lang === "en" || lang === "ru" ? lang : null,
    theme: theme === "light" || theme === "dark" ? theme : "system",
  };
  const info: AppInfo =
    scenario === "full"
      ? { ...SAMPLE_INFO, counts: { characters: 3, worldBooks: 1, sessions: 12, messages: 240, personas: 1 } }
      : SAMPLE_INFO;

  mockIPC((cmd, args) => {
    switch (cmd) {
      case "get_settings":
        return settings;
      case "set_settings":
        settings = (args as { settings: Settings }).settings;
        return settings;
      case "app_info": {
        if (scenario === "corrupt" || scenario === "too-new") {
          const error: ApiError = {
            code: scenario === "corrupt" ? "database_corrupt" : "database_too_new",
            message:
              scenario === "corrupt"
                ? "file is not a database"
                : "schema version 7 is newer than the supported version 1",
            path: SAMPLE_INFO.databasePath,
          };
          return Promise.reject(error);
        }
        if (scenario === "error") {
          const error: ApiError = { code: "storage", message: "disk I/O error" };
          return Promise.reject(error);
        }
        return info;
      }
      default:
        return Promise.reject(`command ${cmd} not found`);
    }
  });
}
