// A controllable prefers-color-scheme for jsdom, which has no matchMedia.

type Listener = (event: MediaQueryListEvent) => void;

let prefersDark = false;
const listeners = new Set<Listener>();

const DARK = "(prefers-color-scheme: dark)";

function makeList(query: string): MediaQueryList {
  const list = {
    media: query,
    get matches(): boolean {
      return query === DARK && prefersDark;
    },
    onchange: null,
    addEventListener: (_type: string, listener: Listener) => {
      if (query === DARK) listeners.add(listener);
    },
    removeEventListener: (_type: string, listener: Listener) => {
      listeners.delete(listener);
    },
    addListener: (listener: Listener) => listeners.add(listener),
    removeListener: (listener: Listener) => listeners.delete(listener),
    dispatchEvent: () => true,
  };
  return list as unknown as MediaQueryList;
}

Object.defineProperty(window, "matchMedia", {
  configurable: true,
  writable: true,
  value: makeList,
});

/** Flips the simulated OS theme and notifies listeners, like a real change. */
export function setPrefersDark(dark: boolean): void {
  if (prefersDark === dark) return;
  prefersDark = dark;
  for (const listener of [...listeners]) {
    listener({ matches: dark, media: DARK } as MediaQueryListEvent);
  }
}

export function mediaListenerCount(): number {
  return listeners.size;
}
