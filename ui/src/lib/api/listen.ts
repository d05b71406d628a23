// Listening to the backend's events without ever throwing: a window that
// cannot listen (a test without Tauri, a closing window) goes on without.

import type { UnlistenFn } from "@tauri-apps/api/event";

/**
 * Starts `listen` (a binding's event listener) and resolves to a function
 * that stops it; a listener that fails to start resolves to one that does
 * nothing.
 */
export async function listenSoftly(listen: () => Promise<UnlistenFn>): Promise<() => void> {
  try {
    const unlisten = await listen();
    return () => {
      try {
        void Promise.resolve(unlisten()).catch(() => {});
      } catch {
        // The window is going away anyway.
      }
    };
  } catch {
    return () => {};
  }
}

/**
 * For a component's cleanup: stops the listener `started` resolves to, even
 * when the cleanup runs before it has started.
 */
export function untilCleanup(started: Promise<() => void>): () => void {
  let stop: (() => void) | null = null;
  let closed = false;
  void started.then((unlisten) => {
    if (closed) unlisten();
    else stop = unlisten;
  });
  return () => {
    closed = true;
    stop?.();
  };
}
