// The first-run walk-through over the mock IPC: shown on a new library only,
// language, replies (the provider section, and what to do when no local server
// answers), characters (the demo character's chat, or importing cards);
// skippable at every step, remembered through finish_first_run, and reachable
// again from Settings and the Help menu. Also Help itself.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test, vi } from "vitest";
import App from "../src/App.svelte";
import { installBackend, MockProviders, model, type BackendOptions, type Call } from "./helpers/backend";

async function start(options: BackendOptions = {}): Promise<Call[]> {
  const calls = installBackend(options);
  render(App);
  await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
  return calls;
}

const count = (calls: Call[], cmd: string): number => calls.filter((c) => c.cmd === cmd).length;

function step(): string | null {
  return screen.getByTestId("first-run-body").getAttribute("data-step");
}

describe("the first run", () => {
  test("a new library opens the walk-through on the language step", async () => {
    const calls = await start({ onboarding: "new" });
    const dialog = await screen.findByTestId("first-run");
    expect(dialog.getAttribute("role")).toBe("dialog");
    expect(step()).toBe("language");
    expect(dialog.textContent).toContain("Welcome to Confab");
    expect(dialog.textContent).toContain("Step 1 of 3");
    expect(count(calls, "first_run_status")).toBe(1);
  });

  test("a library that is done does not show it", async () => {
    const calls = await start();
    await waitFor(() => expect(count(calls, "first_run_status")).toBe(1));
    expect(screen.queryByTestId("first-run")).toBeNull();
  });

  test("choosing Russian switches the window and saves the setting at once", async () => {
    const calls = await start({ onboarding: "new" });
    await screen.findByTestId("first-run");
    await fireEvent.click(screen.getByTestId("first-run-language-ru"));
    await waitFor(() => expect(screen.getByTestId("first-run").textContent).toContain("Добро пожаловать в Confab"));
    expect(screen.getByTestId("first-run-language-ru").getAttribute("aria-checked")).toBe("true");
    const saved = calls.filter((c) => c.cmd === "set_settings").pop()?.args as { settings: { language: string } };
    expect(saved.settings.language).toBe("ru");
    expect(screen.getByTestId("nav-library").textContent).toContain("Библиотека");
  });

  test("replies: no local server found shows what to install and run, and Look again searches again", async () => {
    const calls = await start({ onboarding: "new" });
    await screen.findByTestId("first-run");
    await fireEvent.click(screen.getByTestId("first-run-next"));
    expect(step()).toBe("replies");
    // The Settings provider section itself, inside the walk-through.
    const body = screen.getByTestId("first-run-body");
    expect(within(body).getByTestId("provider-add")).toBeTruthy();
    expect(screen.getByTestId("first-run-next").textContent).toContain("Skip for now");
    await fireEvent.click(within(body).getByTestId("find-local-servers"));
    const help = await screen.findByTestId("local-server-help");
    for (const server of ["Ollama", "LM Studio", "KoboldCpp", "llama.cpp", ":11434", ":1234", ":5001", ":8080"]) {
      expect(help.textContent).toContain(server);
    }
    expect(help.textContent).toContain("ollama pull");
    await fireEvent.click(within(help).getByTestId("local-server-help-retry"));
    await waitFor(() => expect(count(calls, "find_local_servers")).toBe(2));
  });

  test("replies: a local server found is added from the walk-through, and it says so", async () => {
    const providers = new MockProviders({
      localServers: [{ port: 11434, kindGuess: "ollama", kind: "openAiCompatible", baseUrl: "http://127.0.0.1:11434/v1", kindBaseUrl: "http://127.0.0.1:11434/v1", models: [model("llama3.2")] }],
    });
    const calls = await start({ onboarding: "new", providers });
    await screen.findByTestId("first-run");
    await fireEvent.click(screen.getByTestId("first-run-next"));
    await fireEvent.click(within(screen.getByTestId("first-run-body")).getByTestId("find-local-servers"));
    await fireEvent.click(await screen.findByTestId("local-server-add"));
    await screen.findByTestId("first-run-provider-ready");
    expect(count(calls, "save_provider")).toBeGreaterThan(0);
    expect(screen.queryByTestId("local-server-help")).toBeNull();
    expect(screen.getByTestId("first-run-next").textContent).toContain("Next");
  });

  test("replies: a KoboldCpp server found is named so and added as a KoboldCpp provider at its own base URL", async () => {
    const providers = new MockProviders({
      localServers: [{ port: 5001, kindGuess: "koboldcpp", kind: "koboldCpp", baseUrl: "http://127.0.0.1:5001/v1", kindBaseUrl: "http://127.0.0.1:5001", models: [model("koboldcpp/Mistral-Nemo")] }],
    });
    const calls = await start({ onboarding: "new", providers });
    await screen.findByTestId("first-run");
    await fireEvent.click(screen.getByTestId("first-run-next"));
    const body = screen.getByTestId("first-run-body");
    await fireEvent.click(within(body).getByTestId("find-local-servers"));
    expect((await within(body).findByTestId("local-server-kind")).textContent).toBe("KoboldCpp");
    await fireEvent.click(within(body).getByTestId("local-server-add"));
    await screen.findByTestId("first-run-provider-ready");
    const created = calls.filter((c) => c.cmd === "new_provider").pop()?.args;
    expect(created).toEqual({ kind: "koboldCpp", name: "KoboldCpp :5001" });
    const saved = calls.filter((c) => c.cmd === "save_provider").pop()?.args as { config: { kind: string; baseUrl: string; defaultModel: string } };
    expect(saved.config).toMatchObject({ kind: "koboldCpp", baseUrl: "http://127.0.0.1:5001", defaultModel: "koboldcpp/Mistral-Nemo" });
  });

  test("the demo button imports the demo character and opens a chat with her", async () => {
    const calls = await start({ onboarding: "new" });
    await screen.findByTestId("first-run");
    await fireEvent.click(screen.getByTestId("first-run-next"));
    await fireEvent.click(screen.getByTestId("first-run-next"));
    expect(step()).toBe("characters");
    expect(screen.getByTestId("first-run").textContent).toContain("Mira Vell");
    await fireEvent.click(screen.getByTestId("first-run-demo"));
    await waitFor(() => expect(screen.queryByTestId("first-run")).toBeNull());
    expect(count(calls, "import_demo_character")).toBe(1);
    expect(count(calls, "finish_first_run")).toBe(1);
    await waitFor(() => expect(count(calls, "open_or_create_session")).toBe(1));
    const opened = calls.find((c) => c.cmd === "open_or_create_session")?.args as { characterId: string };
    expect(opened.characterId).toBe("demo-mira");
    await screen.findByTestId("screen-chats");
    await waitFor(() => expect(screen.getAllByTestId("message-content").some((m) => m.textContent?.includes("I'm Mira"))).toBe(true));
  });

  test("Import cards opens the file picker and ends the walk-through", async () => {
    const calls = await start({ onboarding: "new" });
    await screen.findByTestId("first-run");
    const picker = screen.getByTestId("import-input") as HTMLInputElement;
    const click = vi.spyOn(picker, "click");
    await fireEvent.click(screen.getByTestId("first-run-next"));
    await fireEvent.click(screen.getByTestId("first-run-next"));
    await fireEvent.click(screen.getByTestId("first-run-import"));
    expect(click).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(screen.queryByTestId("first-run")).toBeNull());
    expect(count(calls, "finish_first_run")).toBe(1);
  });

  test("every step can be skipped: Back, Next, Finish, Skip set-up and Escape all end it as done", async () => {
    let calls = await start({ onboarding: "new" });
    await screen.findByTestId("first-run");
    await fireEvent.click(screen.getByTestId("first-run-next"));
    await fireEvent.click(screen.getByTestId("first-run-back"));
    expect(step()).toBe("language");
    await fireEvent.click(screen.getByTestId("first-run-next"));
    await fireEvent.click(screen.getByTestId("first-run-next"));
    expect(screen.getByTestId("first-run-next").textContent).toContain("Finish");
    await fireEvent.click(screen.getByTestId("first-run-next"));
    await waitFor(() => expect(screen.queryByTestId("first-run")).toBeNull());
    expect(count(calls, "finish_first_run")).toBe(1);
    expect(count(calls, "import_demo_character")).toBe(0);
    document.body.innerHTML = "";

    calls = await start({ onboarding: "new" });
    await screen.findByTestId("first-run");
    await fireEvent.click(screen.getByTestId("first-run-skip-all"));
    await waitFor(() => expect(screen.queryByTestId("first-run")).toBeNull());
    expect(count(calls, "finish_first_run")).toBe(1);
    document.body.innerHTML = "";

    calls = await start({ onboarding: "new" });
    const dialog = await screen.findByTestId("first-run");
    await fireEvent.keyDown(dialog, { key: "Escape" });
    await waitFor(() => expect(screen.queryByTestId("first-run")).toBeNull());
    expect(count(calls, "finish_first_run")).toBe(1);
  });

  test("it opens again from Settings and from the Help menu", async () => {
    await start();
    await fireEvent.click(screen.getByTestId("nav-settings"));
    await fireEvent.click(await screen.findByTestId("settings-open-first-run"));
    expect(step()).toBe("language");
    await fireEvent.click(screen.getByTestId("first-run-skip-all"));
    await waitFor(() => expect(screen.queryByTestId("first-run")).toBeNull());

    await fireEvent.click(screen.getByTestId("help-button"));
    await fireEvent.click(within(screen.getByTestId("help-menu")).getByTestId("help-firstRun"));
    expect(step()).toBe("language");
  });
});

describe("Help", () => {
  test("the Help menu opens the user guide, with its contents, bundled in the app", async () => {
    await start();
    const button = screen.getByTestId("help-button");
    expect(button.getAttribute("aria-haspopup")).toBe("menu");
    await fireEvent.click(button);
    expect(button.getAttribute("aria-expanded")).toBe("true");
    await fireEvent.click(screen.getByTestId("help-guide"));
    const doc = await screen.findByTestId("help-doc");
    expect(doc.getAttribute("data-doc")).toBe("guide");
    expect(doc.querySelector("h1")?.textContent).toBe("Confab user guide");
    const sections = [...doc.querySelectorAll("h2")].map((h) => h.textContent);
    for (const section of ["Importing characters", "World books", "Example dialogue and notes", "Preferences", "Providers and keys", "Backups", "Moving to another machine"]) {
      expect(sections).toContain(section);
    }
    const toc = within(screen.getByRole("navigation", { name: "Contents" }));
    expect(toc.getByText("Backups")).toBeTruthy();
  });

  test("troubleshooting covers its four problems, and links between the pages stay in the app", async () => {
    await start();
    await fireEvent.click(screen.getByTestId("help-button"));
    await fireEvent.click(screen.getByTestId("help-troubleshooting"));
    const doc = await screen.findByTestId("help-doc");
    expect(doc.getAttribute("data-doc")).toBe("troubleshooting");
    const ids = [...doc.querySelectorAll("h2")].map((h) => h.id);
    for (const id of ["no-keyring", "local-server-not-found", "provider-errors", "a-damaged-database", "a-newer-database"]) {
      expect(ids).toContain(id);
    }
    await fireEvent.click(screen.getByTestId("help-tab-guide"));
    const guide = screen.getByTestId("help-doc");
    const link = [...guide.querySelectorAll("a")].find((a) => a.getAttribute("href") === "troubleshooting.md#no-keyring");
    expect(link).toBeTruthy();
    await fireEvent.click(link!);
    expect(screen.getByTestId("help-doc").getAttribute("data-doc")).toBe("troubleshooting");
  });

  test("F1 opens the guide, and in Russian the Russian pages show", async () => {
    await start({ settings: { language: "ru", theme: "system" } });
    await fireEvent.keyDown(window, { key: "F1" });
    const doc = await screen.findByTestId("help-doc");
    expect(doc.querySelector("h1")?.textContent).toBe("Руководство Confab");
    expect(screen.getByTestId("help-tab-troubleshooting").textContent).toContain("Решение проблем");
  });

  test("no page of Help carries anything that runs", async () => {
    await start();
    for (const tab of ["guide", "troubleshooting"]) {
      await fireEvent.keyDown(window, { key: "F1" });
      await fireEvent.click(await screen.findByTestId(`help-tab-${tab}`));
      const doc = screen.getByTestId("help-doc");
      expect(doc.querySelectorAll("script, iframe, style, img, form").length).toBe(0);
      expect(doc.innerHTML).not.toMatch(/\son\w+=/i);
    }
  });
});
