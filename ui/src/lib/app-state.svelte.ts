// Everything the shell knows at run time, in one object owned by App.svelte:
// which screen is open, settings, app info, and errors to show.

import {
  loadAppInfo,
  loadSettings,
  saveSettings,
  type ApiError,
  type AppInfo,
  type Settings,
} from "./api";
import type { TextKey } from "./i18n/types";
import type { Screen } from "./navigation";
import { DEFAULT_SETTINGS, readCachedSettings, writeCachedSettings } from "./settings";

/** Errors after which the app cannot run: the database can't be opened safely. */
export type FatalCode = "database_corrupt" | "database_too_new";
export type FatalError = ApiError & { code: FatalCode };

export function isFatal(error: ApiError): error is FatalError {
  return error.code === "database_corrupt" || error.code === "database_too_new";
}

/** A dismissible error shown in the banner; `context` says what was being done. */
export type Notice = { id: number; error: ApiError; context?: TextKey };

const LOAD_CONTEXTS: readonly (TextKey | undefined)[] = ["error.context.loadSettings", "error.context.appInfo"];

export class AppState {
  screen = $state<Screen>("library");
  /** Replaced as a whole (never mutated), so identity tells whether it changed. */
  settings = $state.raw<Settings>(readCachedSettings() ?? DEFAULT_SETTINGS);
  info = $state.raw<AppInfo | null>(null);
  loading = $state(true);
  fatal = $state.raw<FatalError | null>(null);
  notices = $state.raw<readonly Notice[]>([]);
  /** True once the first settings + app info load has finished, either way. */
  ready = $state(false);

  #nextNoticeId = 1;
  #userChangedSettings = false;

  navigate(screen: Screen): void {
    this.screen = screen;
  }

  report(error: ApiError, context?: TextKey): void {
    const notice: Notice = context
      ? { id: this.#nextNoticeId++, error, context }
      : { id: this.#nextNoticeId++, error };
    this.notices = [...this.notices, notice];
  }

  dismiss(id: number): void {
    this.notices = this.notices.filter((n) => n.id !== id);
  }

  /** Loads settings and app info together; safe to call again (Retry). */
  async load(): Promise<void> {
    this.loading = true;
    // A retry replaces, rather than repeats, the previous attempt's errors.
    this.notices = this.notices.filter((n) => !LOAD_CONTEXTS.includes(n.context));
    const [settings, info] = await Promise.all([loadSettings(), loadAppInfo()]);
    let fatal: FatalError | null = null;

    if (settings.ok) {
      // A choice the user made while we waited wins over the stored one.
      if (!this.#userChangedSettings) {
        this.settings = settings.data;
        writeCachedSettings(settings.data);
      }
    } else if (isFatal(settings.error)) {
      fatal = settings.error;
    } else {
      this.report(settings.error, "error.context.loadSettings");
    }

    if (info.ok) {
      this.info = info.data;
    } else if (isFatal(info.error)) {
      fatal = info.error; // app_info names the database path; prefer its report.
    } else {
      this.report(info.error, "error.context.appInfo");
    }

    this.fatal = fatal;
    this.loading = false;
    this.ready = true;
  }

  /** Applies at once (optimistic), then persists; reverts if saving fails. */
  async updateSettings(change: Partial<Settings>): Promise<void> {
    const previous = this.settings;
    const next: Settings = { ...previous, ...change };
    this.#userChangedSettings = true;
    this.settings = next;
    writeCachedSettings(next);

    const saved = await saveSettings(next);
    const stillCurrent = this.settings === next; // a later change supersedes this one
    if (saved.ok) {
      if (stillCurrent) {
        this.settings = saved.data;
        writeCachedSettings(saved.data);
      }
    } else {
      if (stillCurrent) {
        this.settings = previous;
        writeCachedSettings(previous);
      }
      this.report(saved.error, "error.context.saveSettings");
    }
  }
}
