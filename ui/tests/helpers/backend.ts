// A fake Rust side built on @tauri-apps/api/mocks, recording every call.

import { mockIPC } from "@tauri-apps/api/mocks";
import type { ApiError, AppInfo, Settings } from "../../src/lib/api";

export type Call = { cmd: string; args: unknown };

export const SAMPLE_INFO: AppInfo = {
  version: "0.1.0",
  dataDir: "/home/test/.local/share/app.confab.desktop",
  databasePath: "/home/test/.local/share/app.confab.desktop/confab.sqlite3",
  schemaVersion: 1,
  counts: { characters: 0, worldBooks: 0, sessions: 0, messages: 0, personas: 0 },
};

type Handler<T> = T | (() => T | Promise<T>);

export type BackendOptions = {
  settings?: Handler<Settings>;
  appInfo?: Handler<AppInfo>;
  /** Overrides set_settings; by default it stores and echoes the settings. */
  setSettings?: (settings: Settings) => unknown;
};

/** Returns the list that receives each invoke, in order. */
export function installBackend(options: BackendOptions = {}): Call[] {
  const calls: Call[] = [];
  let stored: Settings | null = null;

  const resolve = <T>(handler: Handler<T>): T | Promise<T> =>
    typeof handler === "function" ? (handler as () => T | Promise<T>)() : handler;

  mockIPC((cmd, args) => {
    calls.push({ cmd, args });
    switch (cmd) {
      case "get_settings":
        return stored ?? resolve(options.settings ?? { language: null, theme: "system" });
      case "app_info":
        return resolve(options.appInfo ?? SAMPLE_INFO);
      case "set_settings": {
        const settings = (args as { settings: Settings }).settings;
        if (options.setSettings) return options.setSettings(settings);
        stored = settings;
        return settings;
      }
      default:
        return Promise.reject(`unexpected command ${cmd}`);
    }
  });
  return calls;
}

/** What a Rust command rejects with: a serialized AppError. */
export function rejectWith(error: ApiError): () => Promise<never> {
  return () => Promise.reject(error);
}

export function withCounts(counts: Partial<AppInfo["counts"]>): AppInfo {
  return { ...SAMPLE_INFO, counts: { ...SAMPLE_INFO.counts, ...counts } };
}
