// Files and folders dropped anywhere on the window. The webview reports
// drags natively (with real paths); the source is injectable so tests can
// drive it and a plain browser just has none.

import { getCurrentWebview } from "@tauri-apps/api/webview";

export type DragDropPayload =
  | { type: "enter"; paths?: string[] }
  | { type: "over" }
  | { type: "drop"; paths: string[] }
  | { type: "leave" };

/** Starts delivering drag events; resolves to a function that stops. */
export type DragDropSource = (handler: (payload: DragDropPayload) => void) => Promise<() => void>;

/** Tauri's own drag-and-drop events (needs `core:event:default` to listen). */
export const webviewDragDrop: DragDropSource = async (handler) => {
  const unlisten = await getCurrentWebview().onDragDropEvent((event) => {
    const payload = event.payload;
    handler(payload.type === "drop" ? { type: "drop", paths: payload.paths } : payload);
  });
  return () => void unlisten();
};

export type DropHandlers = {
  /** True while files are dragged over the window. */
  onHover: (hovering: boolean) => void;
  onDrop: (paths: string[]) => void;
};

/**
 * Listens until the returned function is called. Fails soft: without a
 * webview (tests, a plain browser) or without permission, drops do nothing.
 */
export function listenForDrops(source: DragDropSource, handlers: DropHandlers): () => void {
  let stopped = false;
  let stop: (() => void) | null = null;
  const deliver = (payload: DragDropPayload): void => {
    if (stopped) return;
    if (payload.type === "enter" || payload.type === "over") {
      handlers.onHover(true);
    } else if (payload.type === "leave") {
      handlers.onHover(false);
    } else {
      handlers.onHover(false);
      if (payload.paths.length > 0) handlers.onDrop(payload.paths);
    }
  };
  try {
    source(deliver).then(
      (unlisten) => {
        if (stopped) unlisten();
        else stop = unlisten;
      },
      () => {},
    );
  } catch {
    // getCurrentWebview() throws outside Tauri.
  }
  return () => {
    stopped = true;
    stop?.();
  };
}
