// Asking before the window closes with unsaved edits. Tauri reports the close
// request natively; the source is injectable so tests can drive it.

import { getCurrentWindow } from "@tauri-apps/api/window";

/** Calls `mayClose` on each close request; resolves to a function that stops. */
export type CloseRequestSource = (mayClose: () => Promise<boolean>) => Promise<() => void>;

/**
 * Tauri's close-requested event (needs `core:event:allow-listen` and, because
 * the API destroys the window itself when the handler lets it close,
 * `core:window:allow-destroy`).
 */
export const windowCloseRequests: CloseRequestSource = async (mayClose) => {
  const unlisten = await getCurrentWindow().onCloseRequested(async (event) => {
    if (!(await mayClose())) event.preventDefault();
  });
  return () => unlisten();
};

/**
 * Guards the window until the returned function is called. Fails soft: without
 * a Tauri window (tests, a plain browser) closing is simply not guarded here.
 */
export function guardWindowClose(source: CloseRequestSource, mayClose: () => Promise<boolean>): () => void {
  let stopped = false;
  let stop: (() => void) | null = null;
  try {
    source(() => (stopped ? Promise.resolve(true) : mayClose())).then(
      (s) => {
        if (stopped) s();
        else stop = s;
      },
      () => {},
    );
  } catch {
    // No window API here.
  }
  return () => {
    stopped = true;
    stop?.();
  };
}
