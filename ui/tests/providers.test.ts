// Settings → Providers and Usage: the list, adding and editing a provider,
// its API key (never shown back; the keyring fallback), its models, local
// servers, and the usage report.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import App from "../src/App.svelte";
import type { ProviderConfig, UsageReport } from "../src/lib/api";
import { insecureHost } from "../src/lib/providers/transport";
import { installBackend, MockProviders, model, type Call } from "./helpers/backend";

async function start(providers: MockProviders = new MockProviders()): Promise<Call[]> {
  const calls = installBackend({ providers });
  render(App);
  await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
  await fireEvent.click(screen.getByTestId("nav-settings"));
  await screen.findByTestId("providers");
  return calls;
}

function last<T>(calls: Call[], cmd: string): T {
  const found = calls.filter((c) => c.cmd === cmd).pop();
  if (!found) throw new Error(`${cmd} was never called`);
  return found.args as T;
}

function count(calls: Call[], cmd: string): number {
  return calls.filter((c) => c.cmd === cmd).length;
}

function item(name: string): HTMLElement {
  const found = document.querySelector<HTMLElement>(`[data-testid="provider-item"][data-name="${name}"]`);
  if (!found) throw new Error(`no provider ${name}`);
  return found;
}

function field(testid: string): HTMLInputElement {
  return screen.getByTestId(testid) as HTMLInputElement;
}

/** True when `secret` is nowhere in the page: not in text, attributes, or any field's value. */
function nowhere(secret: string): boolean {
  if (document.documentElement.outerHTML.includes(secret)) return false;
  return [...document.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>("input, textarea")].every((el) => !el.value.includes(secret));
}

function sample(): MockProviders {
  const providers = new MockProviders({ catalog: () => [model("gpt-4o", 131072, [2.5, 10]), model("gpt-4o-mini", 131072, [0.15, 0.6]), model("o3", 200000)] });
  providers.add({ name: "OpenRouter", kind: "openRouter", defaultModel: "openai/gpt-4o" }, { key: "keyring" });
  providers.add({ name: "Claude", kind: "anthropic" }, { key: "session" });
  providers.add({ name: "Vault", kind: "openAi" }, { key: "encrypted" });
  providers.add({ name: "Kobold", kind: "openAiCompatible", baseUrl: "http://127.0.0.1:5001/v1" });
  return providers;
}

describe("the provider list", () => {
  test("shows name, kind, base URL, where the key is kept, and the default; another can become the default", async () => {
    const calls = await start(sample());
    await waitFor(() => expect(screen.getAllByTestId("provider-item")).toHaveLength(4));
    const status = (name: string): string => within(item(name)).getByTestId("provider-key-status").textContent!.trim();
    expect(status("OpenRouter")).toBe("Set in keyring");
    expect(status("Claude")).toBe("This run only");
    expect(status("Vault")).toBe("Encrypted in database");
    expect(status("Kobold")).toBe("Not set");
    expect(item("OpenRouter").textContent).toContain("OpenRouter");
    expect(item("OpenRouter").textContent).toContain("https://openrouter.ai/api/v1");
    expect(item("Claude").textContent).toContain("Anthropic");
    expect(item("Kobold").textContent).toContain("OpenAI-compatible");
    expect(item("Kobold").textContent).toContain("http://127.0.0.1:5001/v1");
    expect(within(item("OpenRouter")).getByTestId("provider-default-badge").textContent).toBe("Default");
    expect(screen.getAllByTestId("provider-default-badge")).toHaveLength(1);

    await fireEvent.click(within(item("Kobold")).getByTestId("provider-make-default"));
    await waitFor(() => expect(item("Kobold").dataset["default"]).toBe("true"));
    expect(last(calls, "set_default_provider")).toEqual({ providerId: item("Kobold").dataset["providerId"] });
    expect(item("OpenRouter").dataset["default"]).toBe("false");
  });

  test("delete asks first, with the app's confirm dialog", async () => {
    const calls = await start(sample());
    await waitFor(() => item("Vault"));
    await fireEvent.click(within(item("Vault")).getByTestId("provider-delete"));
    const dialog = await screen.findByTestId("confirm-dialog");
    expect(dialog.textContent).toContain("Delete Vault?");
    await fireEvent.click(within(dialog).getByTestId("confirm-cancel"));
    expect(count(calls, "delete_provider")).toBe(0);

    await fireEvent.click(within(item("Vault")).getByTestId("provider-delete"));
    await fireEvent.click(within(await screen.findByTestId("confirm-dialog")).getByTestId("confirm-ok"));
    await waitFor(() => expect(document.querySelector('[data-name="Vault"]')).toBeNull());
    expect(count(calls, "delete_provider")).toBe(1);
  });
});

describe("adding and editing", () => {
  test("kind → defaults from new_provider → edited form; save sends exactly the config, and a typed key after it", async () => {
    const providers = new MockProviders();
    const calls = await start(providers);
    await fireEvent.click(screen.getByTestId("provider-add"));
    await fireEvent.click(screen.getByTestId("provider-kind-openRouter"));
    await screen.findByTestId("provider-editor");
    expect(last(calls, "new_provider")).toEqual({ kind: "openRouter", name: "OpenRouter" });
    expect(field("provider-name").value).toBe("OpenRouter");
    expect(field("provider-base-url").value).toBe("https://openrouter.ai/api/v1");
    const headerNames = (): string[] => screen.getAllByTestId("provider-header-name").map((el) => (el as HTMLInputElement).value);
    expect(headerNames()).toEqual(["HTTP-Referer", "X-Title"]);

    await fireEvent.input(field("provider-name"), { target: { value: "My router" } });
    await fireEvent.input(field("provider-default-model"), { target: { value: "openai/gpt-4o" } });
    await fireEvent.click(screen.getAllByTestId("provider-header-remove")[1]!);
    await fireEvent.click(screen.getByTestId("provider-header-add"));
    await fireEvent.input(screen.getAllByTestId("provider-header-name")[1]!, { target: { value: "X-Team" } });
    await fireEvent.input(screen.getAllByTestId("provider-header-value")[1]!, { target: { value: "red" } });

    // Out of range: the field says so and Save waits.
    await fireEvent.input(field("provider-temperature"), { target: { value: "3" } });
    expect(screen.getByTestId("provider-editor").textContent).toContain("Between 0 and 2.");
    expect((screen.getByTestId("provider-save") as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.input(field("provider-temperature"), { target: { value: "0.8" } });
    await fireEvent.input(field("provider-top-p"), { target: { value: "0.95" } });
    await fireEvent.input(field("provider-max-tokens"), { target: { value: "512" } });
    await fireEvent.input(screen.getByTestId("provider-stop"), { target: { value: "###\n\nEND" } });
    await fireEvent.click(screen.getByTestId("provider-streaming"));
    // Prompt caching starts on for OpenRouter; turned off here.
    expect((screen.getByTestId("provider-prompt-cache") as HTMLInputElement).checked).toBe(true);
    await fireEvent.click(screen.getByTestId("provider-prompt-cache"));
    await fireEvent.input(screen.getByTestId("api-key-input"), { target: { value: "sk-or-new-key" } });
    await fireEvent.click(screen.getByTestId("provider-save"));

    await waitFor(() => expect(count(calls, "save_provider")).toBe(1));
    const { config } = last<{ config: ProviderConfig }>(calls, "save_provider");
    expect(config).toEqual({
      id: config.id,
      name: "My router",
      kind: "openRouter",
      baseUrl: "https://openrouter.ai/api/v1",
      defaultModel: "openai/gpt-4o",
      extraHeaders: { "HTTP-Referer": "https://github.com/confab-app/confab", "X-Team": "red" },
      generation: { temperature: 0.8, topP: 0.95, maxTokens: 512, stop: ["###", "END"] },
      streaming: false,
      promptCache: false,
    });
    await waitFor(() => expect(last(calls, "set_api_key")).toEqual({ providerId: config.id, key: "sk-or-new-key", storage: "keyring" }));
    await waitFor(() => expect(screen.getByTestId("api-key-status").textContent?.trim()).toBe("Set in keyring"));
    expect(nowhere("sk-or-new-key")).toBe(true);
    expect(screen.getByTestId("provider-saved")).toBeTruthy();

    await fireEvent.click(screen.getByTestId("provider-editor-close"));
    await waitFor(() => item("My router"));
    expect(within(item("My router")).getByTestId("provider-default-badge")).toBeTruthy();
  });

  test("an edited provider keeps what the form does not show", async () => {
    const providers = sample();
    const calls = await start(providers);
    await waitFor(() => item("Kobold"));
    await fireEvent.click(within(item("Kobold")).getByTestId("provider-edit"));
    await fireEvent.input(field("provider-base-url"), { target: { value: "not a url" } });
    expect(screen.getByTestId("provider-editor").textContent).toContain("Enter an http:// or https:// address.");
    await fireEvent.input(field("provider-base-url"), { target: { value: "http://127.0.0.1:5002/v1" } });
    await fireEvent.click(screen.getByTestId("provider-save"));
    await waitFor(() => expect(count(calls, "save_provider")).toBe(1));
    const { config } = last<{ config: ProviderConfig }>(calls, "save_provider");
    expect(config).toMatchObject({ name: "Kobold", kind: "openAiCompatible", baseUrl: "http://127.0.0.1:5002/v1", streaming: true });
    expect(config.generation).toEqual({ temperature: null, topP: null, maxTokens: null, stop: [] });
  });
});

describe("plain http://", () => {
  async function editKobold(calls: Promise<Call[]>): Promise<Call[]> {
    const recorded = await calls;
    await waitFor(() => item("Kobold"));
    await fireEvent.click(within(item("Kobold")).getByTestId("provider-edit"));
    await screen.findByTestId("provider-editor");
    return recorded;
  }

  test("to a public host: a warning, a confirmation before saving, kept for that host only", async () => {
    const calls = await editKobold(start(sample()));
    // 127.0.0.1: nothing to warn about.
    expect(screen.queryByTestId("provider-insecure-warning")).toBeNull();
    await fireEvent.input(field("provider-base-url"), { target: { value: "http://api.example.com/v1" } });
    const warning = screen.getByTestId("provider-insecure-warning");
    expect(warning.textContent).toContain("api.example.com");
    expect(warning.textContent).toContain("unencrypted");

    // Cancel: nothing is saved.
    await fireEvent.click(screen.getByTestId("provider-save"));
    let dialog = await screen.findByTestId("confirm-dialog");
    expect(dialog.textContent).toContain("Send your key unencrypted?");
    expect(dialog.textContent).toContain("api.example.com is not on this computer or your private network");
    await fireEvent.click(within(dialog).getByTestId("confirm-cancel"));
    await waitFor(() => expect(screen.queryByTestId("confirm-dialog")).toBeNull());
    expect(count(calls, "save_provider")).toBe(0);

    // Confirmed: saved with the flag, and the warning says it is allowed.
    await fireEvent.click(screen.getByTestId("provider-save"));
    dialog = await screen.findByTestId("confirm-dialog");
    await fireEvent.click(within(dialog).getByTestId("confirm-ok"));
    await waitFor(() => expect(count(calls, "save_provider")).toBe(1));
    expect(last<{ config: ProviderConfig }>(calls, "save_provider").config).toMatchObject({
      baseUrl: "http://api.example.com/v1",
      allowInsecureHttp: true,
    });
    await waitFor(() => expect(screen.getByTestId("provider-insecure-warning").getAttribute("data-allowed")).toBe("true"));
    expect(screen.getByTestId("provider-insecure-warning").textContent).toContain("is allowed");

    // Saving again asks nothing; another public host asks again.
    await fireEvent.input(field("provider-name"), { target: { value: "Kobold remote" } });
    await fireEvent.click(screen.getByTestId("provider-save"));
    await waitFor(() => expect(count(calls, "save_provider")).toBe(2));
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
    await fireEvent.input(field("provider-base-url"), { target: { value: "http://other.example.net/v1" } });
    expect(screen.getByTestId("provider-insecure-warning").getAttribute("data-allowed")).toBe("false");
    await fireEvent.click(screen.getByTestId("provider-save"));
    await screen.findByTestId("confirm-dialog");
    expect(count(calls, "save_provider")).toBe(2);
  });

  test("this computer, private networks and https need no confirmation", async () => {
    const calls = await editKobold(start(sample()));
    const urls = [
      "http://192.168.1.20:5001/v1",
      "http://10.0.0.7/v1",
      "http://gpu-box.local:11434/v1",
      "http://[::1]:8080/v1",
      "http://localhost:1234/v1",
      "https://api.example.com/v1",
    ];
    for (const [index, url] of urls.entries()) {
      await fireEvent.input(field("provider-base-url"), { target: { value: url } });
      expect(screen.queryByTestId("provider-insecure-warning"), url).toBeNull();
      await fireEvent.click(screen.getByTestId("provider-save"));
      await waitFor(() => expect(count(calls, "save_provider")).toBe(index + 1));
      expect(screen.queryByTestId("confirm-dialog")).toBeNull();
      expect(last<{ config: ProviderConfig }>(calls, "save_provider").config.allowInsecureHttp ?? false).toBe(false);
    }
  });

  test("the warning and the question are in Russian too", async () => {
    const providers = sample();
    installBackend({ providers, settings: { language: "ru", theme: "system" } });
    render(App);
    await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
    await fireEvent.click(screen.getByTestId("nav-settings"));
    await screen.findByTestId("providers");
    await editKobold(Promise.resolve([]));
    await fireEvent.input(field("provider-base-url"), { target: { value: "http://api.example.com/v1" } });
    expect(screen.getByTestId("provider-insecure-warning").textContent).toContain("незашифрованный http://");
    await fireEvent.click(screen.getByTestId("provider-save"));
    expect((await screen.findByTestId("confirm-dialog")).textContent).toContain("Отправлять ключ без шифрования?");
  });

  test("which hosts count as local: the same rule as the core's", () => {
    for (const url of [
      "http://127.0.0.1:8080/v1",
      "http://127.5.6.7/v1",
      "http://2130706433/v1",
      "http://LocalHost/v1",
      "http://ollama.localhost/v1",
      "http://[::1]/v1",
      "http://10.1.2.3/v1",
      "http://172.16.0.1/v1",
      "http://172.31.255.254/v1",
      "http://192.168.1.20/v1",
      "http://169.254.10.1/v1",
      "http://[fd12:3456::1]/v1",
      "http://[fe80::1]/v1",
      "http://[::ffff:192.168.0.9]/v1",
      "http://gpu-box.local:11434/v1",
      "http://gpu-box.local.:11434/v1",
      "https://api.openai.com/v1",
      "not a url",
    ]) {
      expect(insecureHost(url), url).toBeNull();
    }
    for (const [url, host] of [
      ["http://api.openai.com/v1", "api.openai.com"],
      ["HTTP://API.OPENAI.COM/v1", "api.openai.com"],
      ["http://8.8.8.8/v1", "8.8.8.8"],
      ["http://[2001:db8::1]:8080/v1", "[2001:db8::1]"],
      ["http://172.32.0.1/v1", "172.32.0.1"],
      ["http://100.64.0.1/v1", "100.64.0.1"],
      ["http://localhost.example.com/v1", "localhost.example.com"],
      ["http://printer.local.example.com/v1", "printer.local.example.com"],
      ["http://0.0.0.0:8080/v1", "0.0.0.0"],
      ["http://[::ffff:8.8.8.8]/v1", "[::ffff:808:808]"],
    ] as const) {
      expect(insecureHost(url), url).toBe(host);
    }
  });
});

describe("the API key", () => {
  test("set goes to the keyring and is never shown back; test and delete", async () => {
    const providers = sample();
    const calls = await start(providers);
    await waitFor(() => item("Kobold"));
    const id = item("Kobold").dataset["providerId"];
    await fireEvent.click(within(item("Kobold")).getByTestId("provider-edit"));
    const key = (await screen.findByTestId("api-key-input")) as HTMLInputElement;
    expect(key.type).toBe("password");
    expect(screen.getByTestId("api-key-status").textContent?.trim()).toBe("Not set");
    expect((screen.getByTestId("api-key-delete") as HTMLButtonElement).disabled).toBe(true);

    await fireEvent.input(key, { target: { value: "sk-local-secret-42" } });
    await fireEvent.click(screen.getByTestId("api-key-set"));
    await waitFor(() => expect(last(calls, "set_api_key")).toEqual({ providerId: id, key: "sk-local-secret-42", storage: "keyring" }));
    await waitFor(() => expect(screen.getByTestId("api-key-status").textContent?.trim()).toBe("Set in keyring"));
    expect(key.value).toBe("");
    expect(screen.getByTestId("api-key-result").textContent).toContain("Key saved in the system keychain.");
    expect(screen.getByTestId("api-key-set").textContent).toContain("Replace key");
    expect(nowhere("sk-local-secret-42")).toBe(true);

    await fireEvent.click(screen.getByTestId("api-key-test"));
    await waitFor(() => expect(screen.getByTestId("api-key-result").textContent).toContain("The key works: 3 models available."));
    expect(last(calls, "test_api_key")).toEqual({ providerId: id });

    await fireEvent.click(screen.getByTestId("api-key-delete"));
    await waitFor(() => expect(screen.getByTestId("api-key-status").textContent?.trim()).toBe("Not set"));
    expect(last(calls, "delete_api_key")).toEqual({ providerId: id });
    expect(nowhere("sk-local-secret-42")).toBe(true);
  });

  test("a rejected key test says why", async () => {
    const providers = sample();
    await start(providers);
    await waitFor(() => item("Claude"));
    await fireEvent.click(within(item("Claude")).getByTestId("provider-edit"));
    await fireEvent.click(await screen.findByTestId("api-key-delete"));
    await waitFor(() => expect(screen.getByTestId("api-key-status").textContent?.trim()).toBe("Not set"));
    await fireEvent.click(screen.getByTestId("api-key-test"));
    await waitFor(() => expect(screen.getByTestId("api-key-result").textContent).toContain("Access was denied"));
  });

  test("keyring unavailable: a visible choice; 'this run only' retries with storage session", async () => {
    const providers = sample();
    providers.keyring = false;
    const calls = await start(providers);
    await waitFor(() => item("Kobold"));
    const id = item("Kobold").dataset["providerId"];
    await fireEvent.click(within(item("Kobold")).getByTestId("provider-edit"));
    await fireEvent.input(await screen.findByTestId("api-key-input"), { target: { value: "sk-fallback-7" } });
    await fireEvent.click(screen.getByTestId("api-key-set"));

    const choice = await screen.findByTestId("key-fallback");
    expect(choice.textContent).toContain("The system keychain isn't available");
    const encrypted = within(choice).getByTestId("key-fallback-encrypted") as HTMLButtonElement;
    expect(encrypted.disabled).toBe(true);
    expect(within(choice).getByTestId("key-fallback-encrypted-hint").textContent).toContain("CONFAB_ENCRYPTION_KEY");
    expect(nowhere("sk-fallback-7")).toBe(true);
    expect(calls.filter((c) => c.cmd === "set_api_key").map((c) => (c.args as { storage: string }).storage)).toEqual(["keyring"]);

    expect(screen.getByTestId("api-key-where").textContent).toContain("system's keychain");
    await fireEvent.click(within(choice).getByTestId("key-fallback-session"));
    await waitFor(() => expect(last(calls, "set_api_key")).toEqual({ providerId: id, key: "sk-fallback-7", storage: "session" }));
    await waitFor(() => expect(screen.getByTestId("api-key-status").textContent?.trim()).toBe("This run only"));
    // The line under the field says where the key is now, not where it would have gone.
    expect(screen.getByTestId("api-key-where").textContent).toContain("Held in memory until Confab quits");
    expect(screen.queryByTestId("key-fallback")).toBeNull();
    expect(nowhere("sk-fallback-7")).toBe(true);
  });

  test("keyring unavailable with CONFAB_ENCRYPTION_KEY set: store encrypted", async () => {
    const providers = sample();
    providers.keyring = false;
    providers.encrypted = true;
    const calls = await start(providers);
    await waitFor(() => item("Kobold"));
    await fireEvent.click(within(item("Kobold")).getByTestId("provider-edit"));
    await fireEvent.input(await screen.findByTestId("api-key-input"), { target: { value: "sk-enc-9" } });
    await fireEvent.click(screen.getByTestId("api-key-set"));
    const choice = await screen.findByTestId("key-fallback");
    const encrypted = within(choice).getByTestId("key-fallback-encrypted") as HTMLButtonElement;
    expect(encrypted.disabled).toBe(false);
    await fireEvent.click(encrypted);
    await waitFor(() => expect(last(calls, "set_api_key")).toMatchObject({ key: "sk-enc-9", storage: "encrypted" }));
    await waitFor(() => expect(screen.getByTestId("api-key-status").textContent?.trim()).toBe("Encrypted in database"));
    expect(screen.getByTestId("api-key-where").textContent).toContain("Stored encrypted in the database");
    expect(nowhere("sk-enc-9")).toBe(true);
  });
});

describe("models and local servers", () => {
  test("models refresh and take favourites; the default model field suggests them", async () => {
    const providers = sample();
    const calls = await start(providers);
    await waitFor(() => item("OpenRouter"));
    await fireEvent.click(within(item("OpenRouter")).getByTestId("provider-edit"));
    const models = await screen.findByTestId("provider-models");
    await waitFor(() => expect(within(models).getByTestId("models-empty")).toBeTruthy());
    await fireEvent.click(within(models).getByTestId("models-refresh"));
    await waitFor(() => expect(within(models).getAllByTestId("provider-model")).toHaveLength(3));
    expect(count(calls, "refresh_models")).toBe(1);
    expect(models.textContent).toContain("128K context");
    expect(models.textContent).toContain("$2.50 / $10.00 per 1M tokens");
    const options = [...screen.getByTestId("provider-model-options").querySelectorAll("option")].map((o) => o.value);
    expect(options.sort()).toEqual(["gpt-4o", "gpt-4o-mini", "o3"]);

    const o3 = within(models).getAllByTestId("provider-model").find((row) => row.dataset["modelId"] === "o3")!;
    await fireEvent.click(within(o3).getByTestId("model-favourite"));
    await waitFor(() => expect(last(calls, "set_favourite_model")).toMatchObject({ modelId: "o3", favourite: true }));
    await waitFor(() => expect(within(models).getAllByTestId("provider-model")[0]!.dataset["modelId"]).toBe("o3"));
    expect(within(models).getAllByTestId("provider-model")[0]!.dataset["favourite"]).toBe("true");
  });

  test("local servers: what answers is listed, and one click adds it as an OpenAI-compatible provider", async () => {
    const providers = new MockProviders({
      localServers: [
        { port: 11434, kindGuess: "ollama", kind: "openAiCompatible", baseUrl: "http://127.0.0.1:11434/v1", kindBaseUrl: "http://127.0.0.1:11434/v1", models: [model("llama3.2:3b"), model("qwen2.5:7b")] },
        { port: 1234, kindGuess: "lm-studio", kind: "openAiCompatible", baseUrl: "http://127.0.0.1:1234/v1", kindBaseUrl: "http://127.0.0.1:1234/v1", models: [] },
      ],
    });
    const calls = await start(providers);
    await fireEvent.click(screen.getByTestId("find-local-servers"));
    await waitFor(() => expect(screen.getAllByTestId("local-server")).toHaveLength(2));
    const ollama = screen.getAllByTestId("local-server").find((el) => el.dataset["port"] === "11434")!;
    expect(ollama.textContent).toContain("Ollama :11434");
    expect(ollama.textContent).toContain("http://127.0.0.1:11434/v1");
    expect(ollama.textContent).toContain("2 models");

    await fireEvent.click(within(ollama).getByTestId("local-server-add"));
    await waitFor(() => expect(count(calls, "save_provider")).toBe(1));
    expect(last(calls, "new_provider")).toEqual({ kind: "openAiCompatible", name: "Ollama :11434" });
    expect(last<{ config: ProviderConfig }>(calls, "save_provider").config).toMatchObject({
      kind: "openAiCompatible",
      name: "Ollama :11434",
      baseUrl: "http://127.0.0.1:11434/v1",
      defaultModel: "llama3.2:3b",
    });
    await waitFor(() => item("Ollama :11434"));
    expect(within(ollama).getByTestId("local-server-added")).toBeTruthy();
  });

  test("nothing answering says so", async () => {
    await start(new MockProviders());
    await fireEvent.click(screen.getByTestId("find-local-servers"));
    expect((await screen.findByTestId("local-servers-none")).textContent).toContain("No model server answered");
  });
});

describe("usage", () => {
  function report(days: number): UsageReport {
    return {
      rows: [
        { day: "2026-01-03", providerName: "OpenRouter", model: "openai/gpt-4o", requests: 12, promptTokens: 24000, completionTokens: 3100, costUsd: 0.0123, cacheReadTokens: 0, cacheWriteTokens: 0, cacheSavedUsd: 0 },
        { day: "2026-01-02", providerName: "Kobold", model: "tiny", requests: 5, promptTokens: 900, completionTokens: 400, costUsd: null, cacheReadTokens: 0, cacheWriteTokens: 0, cacheSavedUsd: null },
        ...(days > 7
          ? [{ day: "2025-12-20", providerName: "OpenRouter", model: "openai/gpt-4o", requests: 1, promptTokens: 100, completionTokens: 10, costUsd: 2.5, cacheReadTokens: 0, cacheWriteTokens: 0, cacheSavedUsd: null }]
          : []),
      ],
      outcomes: [
        { outcome: "failed", reason: "rate_limited", count: 3 },
        { outcome: "cancelled", reason: "user", count: 2 },
        { outcome: "interrupted", reason: "", count: 1 },
      ],
    };
  }

  test("a table per day, provider and model with cost in USD or —, the failures by reason, and 7/30/90 days", async () => {
    const calls = await start(new MockProviders({ usage: report }));
    const table = await screen.findByTestId("usage-table");
    expect(last(calls, "get_usage")).toEqual({ days: 7 });
    const rows = within(table).getAllByTestId("usage-row");
    expect(rows).toHaveLength(2);
    expect(rows[0]!.textContent).toContain("2026-01-03");
    expect(rows[0]!.textContent).toContain("openai/gpt-4o");
    expect(rows[0]!.textContent).toContain("24,000");
    expect(within(rows[0]!).getByTestId("usage-cost").textContent).toBe("$0.0123");
    expect(within(rows[1]!).getByTestId("usage-cost").textContent).toBe("—");
    expect(within(table).getByTestId("usage-total").textContent).toContain("17");

    const outcomes = within(screen.getByTestId("usage-outcomes")).getAllByTestId("usage-outcome");
    expect(outcomes.map((row) => [...row.querySelectorAll("td")].map((cell) => cell.textContent?.trim()))).toEqual([
      ["Failed", "Too many requests, slow down a little", "3"],
      ["Stopped", "Stopped by you", "2"],
      ["Interrupted", "—", "1"],
    ]);

    await fireEvent.click(within(screen.getByTestId("usage-days")).getByRole("radio", { name: "30 days" }));
    await waitFor(() => expect(within(screen.getByTestId("usage-table")).getAllByTestId("usage-row")).toHaveLength(3));
    expect(last(calls, "get_usage")).toEqual({ days: 30 });
    expect(within(screen.getByTestId("usage-table")).getAllByTestId("usage-cost")[2]!.textContent).toBe("$2.50");
    expect(within(screen.getByTestId("usage-total")).getAllByRole("cell").pop()!.textContent).toBe("$2.51");
  });

  test("without prompt-cache activity there is no cache column or summary", async () => {
    await start(new MockProviders({ usage: report }));
    const plain = await screen.findByTestId("usage-table");
    expect(within(plain).queryAllByTestId("usage-cached")).toHaveLength(0);
    expect(screen.queryByTestId("usage-cache-savings")).toBeNull();
  });

  test("the prompt cache's tokens and saving are shown when a request used it", async () => {
    const cached = (): UsageReport => ({
      rows: [
        { day: "2026-01-03", providerName: "Anthropic", model: "claude-sonnet-4-5", requests: 8, promptTokens: 80_000, completionTokens: 2_000, costUsd: 0.09, cacheReadTokens: 60_000, cacheWriteTokens: 9_000, cacheSavedUsd: 0.1282 },
        { day: "2026-01-02", providerName: "OpenRouter", model: "anthropic/claude-sonnet-4.5", requests: 2, promptTokens: 20_000, completionTokens: 300, costUsd: 0.05, cacheReadTokens: 0, cacheWriteTokens: 18_000, cacheSavedUsd: -0.0135 },
        { day: "2026-01-02", providerName: "Kobold", model: "tiny", requests: 5, promptTokens: 900, completionTokens: 400, costUsd: null, cacheReadTokens: 0, cacheWriteTokens: 0, cacheSavedUsd: null },
      ],
      outcomes: [],
    });
    await start(new MockProviders({ usage: cached }));
    const table = await screen.findByTestId("usage-table");
    const rows = within(table).getAllByTestId("usage-row");
    expect(within(rows[0]!).getByTestId("usage-cached").textContent).toBe("60,000");
    expect(within(rows[0]!).getByTestId("usage-saved").textContent).toBe("$0.1282");
    expect(within(rows[1]!).getByTestId("usage-saved").textContent).toBe("-$0.0135");
    expect(within(rows[2]!).getByTestId("usage-saved").textContent).toBe("—");
    const summary = screen.getByTestId("usage-cache-savings").textContent ?? "";
    expect(summary).toContain("Prompt caching saved $0.1147");
    expect(summary).toContain("60,000 tokens read from the cache, 27,000 written to it");
    // The total's cost stays the last cell.
    expect(within(screen.getByTestId("usage-total")).getAllByRole("cell").pop()!.textContent).toBe("$0.14");
  });

  test("an empty period says so", async () => {
    await start(new MockProviders());
    expect((await screen.findByTestId("usage-empty")).textContent).toContain("No requests in this period.");
  });
});
