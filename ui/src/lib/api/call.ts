// How a command's answer reaches the UI: an ApiResult, never a throw, with
// every kind of failure (our AppError, Tauri's plain strings, JS errors) as
// an ApiError with a known code.

import type { ErrorCode } from "../bindings";

/**
 * An error as the UI shows it; `path` only when the backend named a file,
 * `retryAfterSecs` only when a provider said how long to wait.
 */
export type ApiError = { code: ErrorCode; message: string; path?: string; retryAfterSecs?: number };

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
  no_card_data: true,
  invalid_card: true,
  too_large: true,
  unsupported_format: true,
  invalid_world_book: true,
  overloaded: true,
  context_too_long: true,
  bad_request: true,
  truncated: true,
  protocol: true,
  backup_too_new: true,
  backup_damaged: true,
  reply_streaming: true,
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

function withPath(code: ErrorCode, message: string, path: unknown, retryAfterSecs?: unknown): ApiError {
  const error: ApiError = typeof path === "string" && path !== "" ? { code, message, path } : { code, message };
  if (typeof retryAfterSecs === "number" && Number.isFinite(retryAfterSecs) && retryAfterSecs >= 0) {
    error.retryAfterSecs = retryAfterSecs;
  }
  return error;
}

/**
 * Turns anything a command can reject with into an ApiError. Besides our own
 * AppError, Tauri itself rejects with plain strings (ACL denials, unknown
 * commands) and the bindings rethrow JS Errors; those become "internal".
 */
export function toApiError(raw: unknown): ApiError {
  if (isRecord(raw) && !(raw instanceof Error)) {
    const message = typeof raw["message"] === "string" ? raw["message"] : describe(raw);
    if (isErrorCode(raw["code"])) return withPath(raw["code"], message, raw["path"], raw["retryAfterSecs"]);
    // An AppError from a newer backend with a code we do not know yet.
    const code = typeof raw["code"] === "string" ? `${raw["code"]}: ` : "";
    return withPath("internal", `${code}${message}`, raw["path"]);
  }
  if (raw instanceof Error) return { code: "internal", message: raw.message || raw.name };
  return { code: "internal", message: describe(raw) };
}

/** What a generated command resolves to. */
export type CommandResult<T> = { status: "ok"; data: T } | { status: "error"; error: unknown };

/** Runs a command; any rejection or error becomes an ApiError. */
export async function call<T>(run: () => Promise<CommandResult<T>>): Promise<ApiResult<T>> {
  try {
    const result = await run();
    return result.status === "ok"
      ? { ok: true, data: result.data }
      : { ok: false, error: toApiError(result.error) };
  } catch (thrown) {
    return { ok: false, error: toApiError(thrown) };
  }
}
