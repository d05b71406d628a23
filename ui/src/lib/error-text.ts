import type { ErrorCode } from "./api";
import type { TextKey } from "./i18n/types";

/** The localized title for each code; a code without an "error.*" message fails to compile. */
export function errorTitleKey(code: ErrorCode): TextKey {
  return `error.${code}`;
}
