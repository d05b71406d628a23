// Which sessions have a reply streaming right now, in any window: fetched
// once at start, then kept current by the backend's live-sessions-changed
// event. The open conversation follows a stream it did not start (attach),
// and the chat list marks busy sessions.

import { liveSessions, onLiveSessionsChanged } from "../api";

export class LiveSessions {
  ids = $state.raw<ReadonlySet<string>>(new Set());
  #listeners = new Set<(ids: ReadonlySet<string>) => void>();
  #events = 0;

  has(sessionId: string | null): boolean {
    return sessionId !== null && this.ids.has(sessionId);
  }

  /** Calls `listener` on every change; returns a function that stops. */
  onChange(listener: (ids: ReadonlySet<string>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Replaces the set (from the event or the first fetch). */
  set(sessionIds: readonly string[]): void {
    const next = new Set(sessionIds);
    const same = next.size === this.ids.size && [...next].every((id) => this.ids.has(id));
    if (same) return;
    this.ids = next;
    for (const listener of [...this.#listeners]) listener(next);
  }

  /** Starts listening, then fetches the current set; resolves to a function that stops. */
  async start(): Promise<() => void> {
    const stop = await onLiveSessionsChanged((ids) => {
      this.#events++;
      this.set(ids);
    });
    const seen = this.#events;
    const result = await liveSessions();
    // An event that arrived meanwhile is newer than this answer.
    if (result.ok && this.#events === seen) this.set(result.data.sessionIds);
    return stop;
  }
}
