import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import App from "../src/App.svelte";
import { SETTINGS_STORAGE_KEY } from "../src/lib/settings";
import { character, installBackend, MockChats, rejectWith, SAMPLE_INFO, withCounts } from "./helpers/backend";
import { setPrefersDark } from "./helpers/media";

/** Renders the app and waits until the startup load has settled. */
async function start(): Promise<HTMLElement> {
  const { container } = render(App);
  await waitFor(() => {
    expect(container.querySelector('[data-ready="true"]')).not.toBeNull();
  });
  return container;
}

function heading(testid: string): string {
  return within(screen.getByTestId(testid)).getByRole("heading", { level: 1 }).textContent ?? "";
}

function select(testid: string): HTMLSelectElement {
  return screen.getByTestId(testid) as HTMLSelectElement;
}

describe("startup", () => {
  test("marks the root ready only after settings and app info answered", async () => {
    let answerInfo: (info: typeof SAMPLE_INFO) => void = () => {};
    installBackend({ appInfo: () => new Promise((resolve) => (answerInfo = resolve)) });
    const { container } = render(App);
    const root = container.querySelector(".app");
    expect(root?.getAttribute("data-ready")).toBe("false");
    answerInfo(SAMPLE_INFO);
    await waitFor(() => expect(root?.getAttribute("data-ready")).toBe("true"));
  });

  test("Library shows the empty state when there are no characters", async () => {
    installBackend();
    await start();
    const library = screen.getByTestId("screen-library");
    expect(heading("screen-library")).toBe("Library");
    await waitFor(() => expect(library.textContent).toContain("No characters yet"));
    expect(library.textContent).toContain(
      "Drag character cards (PNG, JSON, CHARX, YAML) anywhere on this window to import them",
    );
    // ...or pick them: the empty state offers the file pickers too.
    expect(within(library).getByTestId("import-button").textContent).toContain("Import…");
    expect(screen.queryByTestId("library-grid")).toBeNull();
  });

  test("Library shows the grid and a count instead when characters exist", async () => {
    installBackend({
      appInfo: withCounts({ characters: 3 }),
      characters: [character("Ann"), character("Bob"), character("Cid")],
    });
    await start();
    const library = screen.getByTestId("screen-library");
    await waitFor(() => expect(screen.getByTestId("library-count").textContent).toBe("3 characters"));
    expect(library.textContent).not.toContain("No characters yet");
  });

  test("settings from get_settings apply on start", async () => {
    installBackend({ settings: { language: "ru", theme: "dark" } });
    await start();
    expect(heading("screen-library")).toBe("Библиотека");
    expect(screen.getByTestId("nav-settings").textContent).toContain("Настройки");
    expect(document.documentElement.lang).toBe("ru");
    expect(document.documentElement.dataset["theme"]).toBe("dark");
    // ...and are mirrored for the next first paint.
    expect(JSON.parse(localStorage.getItem(SETTINGS_STORAGE_KEY) ?? "null")).toEqual({
      language: "ru",
      theme: "dark",
    });
  });

  test("the localStorage mirror drives the first paint before IPC answers", async () => {
    localStorage.setItem(SETTINGS_STORAGE_KEY, JSON.stringify({ language: "ru", theme: "dark" }));
    installBackend({
      settings: () => new Promise(() => {}), // never answers
      appInfo: () => new Promise(() => {}),
    });
    render(App);
    expect(heading("screen-library")).toBe("Библиотека");
    expect(document.documentElement.lang).toBe("ru");
    await waitFor(() => expect(document.documentElement.dataset["theme"]).toBe("dark"));
  });

  test("the database wins over a stale localStorage mirror", async () => {
    localStorage.setItem(SETTINGS_STORAGE_KEY, JSON.stringify({ language: "ru", theme: "dark" }));
    installBackend({ settings: { language: "en", theme: "light" } });
    await start();
    expect(heading("screen-library")).toBe("Library");
    expect(document.documentElement.dataset["theme"]).toBe("light");
    expect(JSON.parse(localStorage.getItem(SETTINGS_STORAGE_KEY) ?? "null")).toEqual({
      language: "en",
      theme: "light",
    });
  });

  test("a language of null follows the system language", async () => {
    installBackend({ settings: { language: null, theme: "system" } });
    const spy = Object.getOwnPropertyDescriptor(window.navigator, "language");
    Object.defineProperty(window.navigator, "language", { value: "ru-RU", configurable: true });
    try {
      await start();
      expect(heading("screen-library")).toBe("Библиотека");
      await fireEvent.click(screen.getByTestId("nav-settings"));
      expect(select("language-select").value).toBe("system");
    } finally {
      if (spy) Object.defineProperty(window.navigator, "language", spy);
      else delete (window.navigator as { language?: string }).language;
    }
  });
});

describe("navigation", () => {
  test("sidebar buttons switch screens and mark the current one", async () => {
    installBackend();
    await start();
    const cases = [
      ["nav-chats", "screen-chats", "Chats"],
      ["nav-worldbooks", "screen-worldbooks", "World books"],
      ["nav-settings", "screen-settings", "Settings"],
      ["nav-library", "screen-library", "Library"],
    ] as const;
    for (const [nav, screenId, title] of cases) {
      await fireEvent.click(screen.getByTestId(nav));
      expect(heading(screenId)).toBe(title);
      expect(screen.getByTestId(nav).getAttribute("aria-current")).toBe("page");
      for (const other of cases) {
        if (other[0] !== nav) {
          expect(screen.getByTestId(other[0]).hasAttribute("aria-current")).toBe(false);
          expect(screen.queryByTestId(other[1])).toBeNull();
        }
      }
    }
  });

  test("arrow keys move focus along the sidebar", async () => {
    installBackend();
    await start();
    screen.getByTestId("nav-library").focus();
    await fireEvent.keyDown(screen.getByTestId("nav-library"), { key: "ArrowDown" });
    expect(document.activeElement).toBe(screen.getByTestId("nav-chats"));
    await fireEvent.keyDown(screen.getByTestId("nav-chats"), { key: "End" });
    expect(document.activeElement).toBe(screen.getByTestId("nav-settings"));
    await fireEvent.keyDown(screen.getByTestId("nav-settings"), { key: "ArrowDown" });
    expect(document.activeElement).toBe(screen.getByTestId("nav-library"));
  });

  test("empty Chats explains what to do and links to the Library", async () => {
    installBackend();
    await start();
    await fireEvent.click(screen.getByTestId("nav-chats"));
    const chats = screen.getByTestId("screen-chats");
    expect(chats.textContent).toContain("No chats yet");
    expect(chats.textContent).toContain("Pick a character in the Library to start one");
    await fireEvent.click(within(chats).getByRole("button", { name: "Go to Library" }));
    expect(heading("screen-library")).toBe("Library");
    expect(screen.getByTestId("nav-library").getAttribute("aria-current")).toBe("page");
  });

  test("Chats use their own count; World books without books explain what to do", async () => {
    const chats = new MockChats();
    chats.addSession("ann", [{ role: "assistant", content: "Hello there" }], { title: "First chat" });
    installBackend({ appInfo: withCounts({ sessions: 1, worldBooks: 0 }), chats });
    await start();
    await fireEvent.click(screen.getByTestId("nav-chats"));
    await waitFor(() => expect(screen.getByTestId("session-list").textContent).toContain("First chat"));
    await fireEvent.click(screen.getByTestId("nav-worldbooks"));
    const books = screen.getByTestId("screen-worldbooks");
    await waitFor(() => expect(books.textContent).toContain("No world books yet"));
    expect(books.textContent).toContain("SillyTavern world info JSON");
  });
});

describe("settings screen", () => {
  test("switching to Russian changes the text at once and saves it", async () => {
    const calls = installBackend();
    await start();
    await fireEvent.click(screen.getByTestId("nav-settings"));
    await fireEvent.change(select("language-select"), { target: { value: "ru" } });

    expect(heading("screen-settings")).toBe("Настройки");
    expect(screen.getByTestId("nav-library").textContent).toContain("Библиотека");
    expect(document.documentElement.lang).toBe("ru");
    await waitFor(() =>
      expect(calls).toContainEqual({
        cmd: "set_settings",
        args: { settings: { language: "ru", theme: "system" } },
      }),
    );
    expect(JSON.parse(localStorage.getItem(SETTINGS_STORAGE_KEY) ?? "null")).toEqual({
      language: "ru",
      theme: "system",
    });
  });

  test("the language select offers system, en and ru", async () => {
    installBackend();
    await start();
    await fireEvent.click(screen.getByTestId("nav-settings"));
    const options = [...select("language-select").options].map((o) => [o.value, o.textContent]);
    expect(options).toEqual([
      ["system", "System default"],
      ["en", "English"],
      ["ru", "Русский"],
    ]);
    expect([...select("theme-select").options].map((o) => o.value)).toEqual(["system", "light", "dark"]);
  });

  test("choosing System default saves a null language", async () => {
    const calls = installBackend({ settings: { language: "ru", theme: "light" } });
    await start();
    await fireEvent.click(screen.getByTestId("nav-settings"));
    await fireEvent.change(select("language-select"), { target: { value: "system" } });
    await waitFor(() =>
      expect(calls).toContainEqual({
        cmd: "set_settings",
        args: { settings: { language: null, theme: "light" } },
      }),
    );
  });

  test("changing the theme applies and saves it", async () => {
    const calls = installBackend();
    await start();
    await fireEvent.click(screen.getByTestId("nav-settings"));
    await fireEvent.change(select("theme-select"), { target: { value: "dark" } });
    await waitFor(() => expect(document.documentElement.dataset["theme"]).toBe("dark"));
    await waitFor(() =>
      expect(calls).toContainEqual({
        cmd: "set_settings",
        args: { settings: { language: null, theme: "dark" } },
      }),
    );
  });

  test("the System theme follows the OS live", async () => {
    installBackend({ settings: { language: null, theme: "system" } });
    await start();
    expect(document.documentElement.dataset["theme"]).toBe("light");
    setPrefersDark(true);
    expect(document.documentElement.dataset["theme"]).toBe("dark");
    setPrefersDark(false);
    expect(document.documentElement.dataset["theme"]).toBe("light");
  });

  test("an explicit theme ignores OS changes", async () => {
    installBackend({ settings: { language: null, theme: "light" } });
    await start();
    setPrefersDark(true);
    expect(document.documentElement.dataset["theme"]).toBe("light");
  });

  test("a failed save reverts the choice and says so", async () => {
    installBackend({ setSettings: rejectWith({ code: "storage", message: "database is locked" }) });
    await start();
    await fireEvent.click(screen.getByTestId("nav-settings"));
    await fireEvent.change(select("theme-select"), { target: { value: "dark" } });
    const banner = await screen.findByTestId("error-banner");
    expect(banner.textContent).toContain("Couldn't read or save your data");
    expect(banner.textContent).toContain("database is locked");
    expect(select("theme-select").value).toBe("system");
    expect(document.documentElement.dataset["theme"]).toBe("light");
  });

  test("About shows version, data folder, database path and schema version", async () => {
    installBackend({ appInfo: { ...SAMPLE_INFO, version: "1.2.3", schemaVersion: 4 } });
    await start();
    await fireEvent.click(screen.getByTestId("nav-settings"));
    const about = screen.getByTestId("about");
    expect(about.textContent).toContain("1.2.3");
    expect(about.textContent).toContain(SAMPLE_INFO.dataDir);
    expect(about.textContent).toContain(SAMPLE_INFO.databasePath);
    expect(screen.getByTestId("about-schema-version").textContent).toBe("4");
  });
});

describe("errors", () => {
  const path = "/home/test/.local/share/app.confab.desktop/confab.sqlite3";

  test("a damaged database blocks the app with a plain explanation and the path", async () => {
    installBackend({
      appInfo: rejectWith({ code: "database_corrupt", message: "file is not a database", path }),
    });
    await start();
    const fatal = screen.getByTestId("fatal-error");
    expect(fatal.textContent).toContain("Your library file is damaged");
    expect(fatal.textContent).toContain("stopped without changing the file");
    expect(fatal.textContent).toContain("backup");
    expect(fatal.textContent).toContain(path);
    expect(screen.queryByTestId("nav-library")).toBeNull();
    expect(screen.queryByTestId("screen-library")).toBeNull();
  });

  test("a database from a newer Confab asks to update", async () => {
    installBackend({
      appInfo: rejectWith({ code: "database_too_new", message: "schema 9 > 1", path }),
    });
    await start();
    const fatal = screen.getByTestId("fatal-error");
    expect(fatal.textContent).toContain("newer version of Confab");
    expect(fatal.textContent).toContain("Update Confab");
    expect(fatal.textContent).toContain("Confab did not change the file");
    expect(fatal.textContent).toContain(path);
  });

  test("Retry loads again and opens the app once the file is fixed", async () => {
    let broken = true;
    installBackend({
      appInfo: () =>
        broken
          ? Promise.reject({ code: "database_corrupt", message: "file is not a database", path })
          : SAMPLE_INFO,
    });
    await start();
    expect(screen.getByTestId("fatal-error")).toBeTruthy();
    broken = false;
    await fireEvent.click(within(screen.getByTestId("fatal-error")).getByRole("button", { name: "Retry" }));
    await waitFor(() => expect(screen.queryByTestId("fatal-error")).toBeNull());
    expect(heading("screen-library")).toBe("Library");
  });

  test("the fatal screen is localized too", async () => {
    installBackend({
      settings: { language: "ru", theme: "system" },
      appInfo: rejectWith({ code: "database_corrupt", message: "x", path }),
    });
    await start();
    expect(screen.getByTestId("fatal-error").textContent).toContain("Файл библиотеки повреждён");
  });

  test("other errors show in a dismissible banner, and the app keeps working", async () => {
    installBackend({ appInfo: rejectWith({ code: "io", message: "permission denied", path: "/x/y" }) });
    await start();
    const banner = screen.getByTestId("error-banner");
    expect(banner.textContent).toContain("Couldn't read or write a file");
    expect(banner.textContent).toContain("permission denied");
    expect(banner.textContent).toContain("/x/y");
    expect(screen.queryByTestId("fatal-error")).toBeNull();
    // The library does not depend on app_info: it still loads.
    await waitFor(() => expect(screen.getByTestId("screen-library").textContent).toContain("No characters yet"));

    await fireEvent.click(within(banner).getByRole("button", { name: "Dismiss" }));
    expect(screen.queryByTestId("error-banner")).toBeNull();
  });

  test("after a non-fatal load error, Try again reloads and clears the old error", async () => {
    let failing = true;
    installBackend({
      appInfo: () => (failing ? Promise.reject({ code: "storage", message: "disk I/O error" }) : SAMPLE_INFO),
    });
    await start();
    expect(screen.getByTestId("error-banner").textContent).toContain("disk I/O error");
    await fireEvent.click(screen.getByTestId("nav-settings"));
    failing = false;
    await fireEvent.click(screen.getByTestId("status-retry"));
    await waitFor(() => expect(screen.getByTestId("about-version").textContent).toBe("0.1.0"));
    expect(screen.queryByTestId("error-banner")).toBeNull();
  });

  test("a plain-string rejection (e.g. Tauri's ACL) becomes a readable error", async () => {
    installBackend({
      appInfo: () => Promise.reject("app_info not allowed. Command not found"),
    });
    await start();
    const banner = screen.getByTestId("error-banner");
    expect(banner.textContent).toContain("Something went wrong");
    expect(banner.textContent).toContain("app_info not allowed. Command not found");
  });
});
