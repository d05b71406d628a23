// The one place that talks to the generated bindings. Components import from
// here, so a change in the generated shapes is absorbed in this file.

import { commands } from "./bindings";
import type { AppInfo, ErrorCode, Language, LibraryCounts, Settings, ThemePreference } from "./bindings";

/** `Settings.language` null means "follow the OS language". */
export type { AppInfo, ErrorCode, Language, LibraryCounts, Settings, ThemePreference };

/** An error as the UI shows it; `path` only when the backend named a file. */
export type ApiError = { code: ErrorCode; message: string; path?: string };

export type ApiResult<T> = { ok: true; data: T } | { ok: false; error: ApiError };

// `satisfies` makes a new backend ErrorCode a compile error here until it is listed.
const KNOWN_CODES = {
  not_found: true,
  invalid_input: true,
  busy: true,
  unauthorized: true,
  rate_limited: true,
  upstream: true,
  network: true,
  timeout: true,
  storage: true,
  disk_full: true,
  keyring_unavailable: true,
  database_corrupt: true,
  database_too_new: true,
  io: true,
  internal: true,
} as const satisfies Record<ErrorCode, true>;

export const ERROR_CODES = Object.keys(KNOWN_CODES) as readonly ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(KNOWN_CODES, value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function describe(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined || value === null) return "";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function withPath(code: ErrorCode, message: string, path: unknown): ApiError {
  return typeof path === "string" && path !== "" ? { code, message, path } : { code, message };
}

/**
 * Turns anything a command can reject with into an ApiError. Besides our own
 * AppError, Tauri itself rejects with plain strings (ACL denials, unknown
 * commands) and the bindings rethrow JS Errors; those become "internal".
 */
export function toApiError(raw: unknown): ApiError {
  if (isRecord(raw) && !(raw instanceof Error)) {
    const message = typeof raw["message"] === "string" ? raw["message"] : describe(raw);
    if (isErrorCode(raw["code"])) return withPath(raw["code"], message, raw["path"]);
    // An AppError from a newer backend with a code we do not know yet.
    const code = typeof raw["code"] === "string" ? `${raw["code"]}: ` : "";
    return withPath("internal", `${code}${message}`, raw["path"]);
  }
  if (raw instanceof Error) return { code: "internal", message: raw.message || raw.name };
  return { code: "internal", message: describe(raw) };
}

type CommandResult<T> = { status: "ok"; data: T } | { status: "error"; error: unknown };

async function call<T>(run: () => Promise<CommandResult<T>>): Promise<ApiResult<T>> {
  try {
    const result = await run();
    return result.status === "ok"
      ? { ok: true, data: result.data }
      : { ok: false, error: toApiError(result.error) };
  } catch (thrown) {
    return { ok: false, error: toApiError(thrown) };
  }
}

/** Version, data locations and library counts. */
export function loadAppInfo(): Promise<ApiResult<AppInfo>> {
  return call(() => commands.appInfo());
}

/** Settings as stored in the database (the source of truth). */
export function loadSettings(): Promise<ApiResult<Settings>> {
  return call(() => commands.getSettings());
}

/** Persists settings; answers with what was actually stored. */
export function saveSettings(settings: Settings): Promise<ApiResult<Settings>> {
  return call(() => commands.setSettings(settings));
}
