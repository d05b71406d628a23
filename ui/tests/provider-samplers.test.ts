// Settings → Providers for local models: the text-completion kinds in the
// picker, the "Advanced samplers" each kind accepts (asked of the core once
// per kind), what the form saves into `generation`, errors on their fields,
// and found local servers added as their own kind.

import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, test } from "vitest";
import App from "../src/App.svelte";
import type { ApiError, ProviderConfig, ProviderKind } from "../src/lib/api";
import { SUPPORTED_SAMPLERS } from "../src/lib/dev/mock-providers";
import { installBackend, MockProviders, model, type Call } from "./helpers/backend";
import coreSamplers from "../../crates/core/src/llm/samplers.rs?raw";

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

const count = (calls: Call[], cmd: string): number => calls.filter((c) => c.cmd === cmd).length;

function field(testid: string): HTMLInputElement {
  return screen.getByTestId(testid) as HTMLInputElement;
}

async function addKind(kind: ProviderKind): Promise<void> {
  await fireEvent.click(screen.getByTestId("provider-add"));
  await fireEvent.click(screen.getByTestId(`provider-kind-${kind}`));
  await screen.findByTestId("provider-editor");
}

/** Opens "Advanced samplers" (if closed) once the kind's list has arrived. */
async function openSamplers(): Promise<HTMLElement> {
  const section = await screen.findByTestId("provider-samplers");
  if (section.dataset["open"] !== "true") await fireEvent.click(screen.getByTestId("provider-samplers-toggle"));
  await waitFor(() => expect(screen.getByTestId("provider-samplers").dataset["samplers"]).not.toBe(""));
  return screen.getByTestId("provider-samplers");
}

const shown = (section: HTMLElement): string[] => (section.dataset["samplers"] ?? "").split(" ").filter((s) => s !== "");

describe("the kind picker", () => {
  test("groups cloud, local chat and local text-completion kinds, each with a hint", async () => {
    await start();
    await fireEvent.click(screen.getByTestId("provider-add"));
    const kinds = (group: string): string[] =>
      within(screen.getByTestId(`provider-kind-group-${group}`))
        .getAllByRole("button")
        .map((b) => b.dataset["testid"]!.replace("provider-kind-", ""));
    expect(kinds("cloud")).toEqual(["openRouter", "openAi", "anthropic"]);
    expect(kinds("localChat")).toEqual(["openAiCompatible"]);
    expect(kinds("localText")).toEqual(["koboldCpp", "llamaCpp", "textCompletions"]);
    expect(screen.getByTestId("provider-kind-group-localText").textContent).toContain("Local, text completion");
    expect(screen.getByTestId("provider-kind-koboldCpp").textContent).toContain("DRY, XTC, Mirostat");
    expect(screen.getByTestId("provider-kind-textCompletions").textContent).toContain("/v1/completions");
  });

  test.each([
    ["koboldCpp", "KoboldCpp", "http://127.0.0.1:5001"],
    ["llamaCpp", "llama.cpp server", "http://127.0.0.1:8080"],
    ["textCompletions", "Text completions (/v1/completions)", "http://127.0.0.1:5000/v1"],
  ] as const)("adds a %s provider, whose key is optional", async (kind, name, baseUrl) => {
    const calls = await start();
    await addKind(kind);
    expect(last(calls, "new_provider")).toEqual({ kind, name });
    expect(field("provider-base-url").value).toBe(baseUrl);
    const editor = screen.getByTestId("provider-editor");
    expect(editor.textContent).toContain("API key (optional)");
    expect(screen.getByTestId("api-key-hint").textContent).toContain("needs no key");
    expect(field("api-key-input").placeholder).toBe("Only if the server asks for one");
    expect(field("provider-default-model").placeholder).toBe("Optional: the model the server has loaded");
    await fireEvent.click(screen.getByTestId("provider-save"));
    await waitFor(() => expect(count(calls, "save_provider")).toBe(1));
    expect(last<{ config: ProviderConfig }>(calls, "save_provider").config).toMatchObject({ kind, name, baseUrl });
    expect(count(calls, "set_api_key")).toBe(0);
    // Saved: the key field keeps saying it is optional.
    await screen.findByTestId("api-key");
    expect(screen.getByTestId("api-key").textContent).toContain("API key (optional)");
  });

  test("a cloud kind's key is not called optional", async () => {
    await start();
    await addKind("openAi");
    expect(screen.getByTestId("provider-editor").textContent).not.toContain("(optional)");
    expect(screen.getByTestId("api-key-hint").textContent).toContain("it is stored when you save");
  });
});

describe("advanced samplers", () => {
  test("the mock backend's lists are the core's (llm/samplers.rs)", () => {
    const lists: Record<string, string[]> = {};
    for (const [, name, body] of coreSamplers.matchAll(/const (\w+): &\[Sampler\] = &\[([^\]]*)\]/g)) {
      lists[name!] = body!
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "")
        .map((s) => s[0]!.toLowerCase() + s.slice(1));
    }
    const constOf: Record<ProviderKind, string> = {
      openAi: "OPENAI",
      openAiCompatible: "OPENAI",
      openRouter: "OPENROUTER",
      anthropic: "ANTHROPIC",
      koboldCpp: "KOBOLD",
      llamaCpp: "LLAMACPP",
      textCompletions: "COMPLETIONS",
    };
    for (const [kind, name] of Object.entries(constOf)) {
      expect(SUPPORTED_SAMPLERS[kind as ProviderKind], kind).toEqual(lists[name]);
    }
  });


  test("each kind shows exactly what its backend accepts beyond the basics, asked once per kind", async () => {
    const calls = await start();
    await addKind("koboldCpp");
    let section = await openSamplers();
    const kobold = shown(section);
    expect(kobold).toEqual(SUPPORTED_SAMPLERS.koboldCpp.filter((s) => !["temperature", "topP", "maxTokens", "stop"].includes(s)));
    for (const group of ["sampler-dry", "sampler-xtc", "sampler-mirostat", "sampler-grammar", "sampler-topK", "sampler-repetitionPenaltySlope"]) {
      expect(within(section).getByTestId(group)).toBeTruthy();
    }
    expect(within(section).queryByTestId("sampler-jsonSchema")).toBeNull();
    expect(within(section).queryByTestId("sampler-frequencyPenalty")).toBeNull();
    await fireEvent.click(screen.getByTestId("provider-cancel"));

    await addKind("openAi");
    section = await openSamplers();
    expect(shown(section)).toEqual(["presencePenalty", "frequencyPenalty", "seed"]);
    for (const hidden of ["sampler-topK", "sampler-minP", "sampler-dry", "sampler-mirostat", "sampler-grammar"]) {
      expect(within(section).queryByTestId(hidden)).toBeNull();
    }
    await fireEvent.click(screen.getByTestId("provider-cancel"));

    await addKind("anthropic");
    section = await openSamplers();
    expect(shown(section)).toEqual(["topK"]);
    expect(within(section).getByTestId("sampler-topK-field").textContent).toContain("Top-k");
    await fireEvent.click(screen.getByTestId("provider-cancel"));

    await addKind("llamaCpp");
    section = await openSamplers();
    expect(within(section).getByTestId("sampler-jsonSchema")).toBeTruthy();
    expect(within(section).queryByTestId("sampler-repetitionPenaltySlope")).toBeNull();
    await fireEvent.click(screen.getByTestId("provider-cancel"));

    // KoboldCpp again: its list is not asked for a second time.
    await addKind("koboldCpp");
    await openSamplers();
    const asked = calls.filter((c) => c.cmd === "provider_samplers").map((c) => (c.args as { kind: string }).kind);
    expect(asked).toEqual(["koboldCpp", "openAi", "anthropic", "llamaCpp"]);
  });

  test("collapsed at first; open or closed is remembered", async () => {
    await start();
    await addKind("koboldCpp");
    const section = await screen.findByTestId("provider-samplers");
    expect(section.dataset["open"]).toBe("false");
    expect(screen.getByTestId("provider-samplers-toggle").getAttribute("aria-expanded")).toBe("false");
    expect(screen.queryByTestId("sampler-topK")).toBeNull();
    await fireEvent.click(screen.getByTestId("provider-samplers-toggle"));
    expect(await screen.findByTestId("sampler-topK")).toBeTruthy();
    expect(localStorage.getItem("confab.providers.samplersOpen")).toBe("true");
    await fireEvent.click(screen.getByTestId("provider-cancel"));
    await addKind("llamaCpp");
    expect(screen.getByTestId("provider-samplers").dataset["open"]).toBe("true");
    await fireEvent.click(screen.getByTestId("provider-samplers-toggle"));
    expect(localStorage.getItem("confab.providers.samplersOpen")).toBe("false");
  });

  test("values are saved into generation under their names; empty fields and groups left off are not sent", async () => {
    const calls = await start();
    await addKind("koboldCpp");
    const section = await openSamplers();
    const number = within(section).getByTestId("sampler-minP") as HTMLInputElement;
    expect([number.type, number.min, number.max, number.step]).toEqual(["number", "0", "1", "0.01"]);

    await fireEvent.input(field("provider-temperature"), { target: { value: "0.9" } });
    await fireEvent.input(field("sampler-topK"), { target: { value: "40" } });
    await fireEvent.input(field("sampler-minP"), { target: { value: "0.05" } });
    await fireEvent.input(field("sampler-repetitionPenalty"), { target: { value: "1.1" } });
    await fireEvent.input(field("sampler-seed"), { target: { value: "1234" } });
    // Typed, then emptied: not sent.
    await fireEvent.input(field("sampler-typicalP"), { target: { value: "0.9" } });
    await fireEvent.input(field("sampler-typicalP"), { target: { value: "" } });

    // DRY on, with its defaults filled in; a length changed and a breaker added.
    expect(within(section).queryByTestId("sampler-dry-multiplier")).toBeNull();
    await fireEvent.click(screen.getByTestId("sampler-dry-on"));
    expect(field("sampler-dry-multiplier").value).toBe("0.8");
    const breakers = (): string[] => screen.getAllByTestId("sampler-dry-breaker").map((el) => (el as HTMLInputElement).value);
    expect(breakers()).toEqual(["\\n", ":", '"', "*"]);
    await fireEvent.input(field("sampler-dry-allowed-length"), { target: { value: "3" } });
    await fireEvent.click(screen.getAllByTestId("sampler-dry-breaker-remove")[3]!);
    await fireEvent.click(screen.getByTestId("sampler-dry-breaker-add"));
    await fireEvent.input(screen.getAllByTestId("sampler-dry-breaker")[3]!, { target: { value: "\\nUser:" } });

    // Mirostat on, version 1; XTC left off.
    await fireEvent.click(screen.getByTestId("sampler-mirostat-on"));
    await fireEvent.change(screen.getByTestId("sampler-mirostat-mode"), { target: { value: "1" } });
    await fireEvent.input(field("sampler-mirostat-tau"), { target: { value: "3" } });
    await fireEvent.input(screen.getByTestId("sampler-grammar"), { target: { value: 'root ::= "yes" | "no"' } });

    await fireEvent.click(screen.getByTestId("provider-save"));
    await waitFor(() => expect(count(calls, "save_provider")).toBe(1));
    const { generation } = last<{ config: ProviderConfig }>(calls, "save_provider").config;
    expect(generation).toEqual({
      temperature: 0.9,
      topP: null,
      maxTokens: null,
      stop: [],
      topK: 40,
      minP: 0.05,
      repetitionPenalty: 1.1,
      seed: 1234,
      dry: { multiplier: 0.8, base: 1.75, allowedLength: 3, sequenceBreakers: ["\n", ":", '"', "\nUser:"] },
      mirostat: { mode: 1, tau: 3, eta: 0.1 },
      grammar: 'root ::= "yes" | "no"',
    });
    for (const unsent of ["typicalP", "repetitionPenaltyRange", "repetitionPenaltySlope", "presencePenalty", "xtc"]) {
      expect(generation).not.toHaveProperty(unsent);
    }

    // Opened again, the form shows what was saved; turning DRY off drops it.
    await waitFor(() => expect(screen.getByTestId("provider-editor").dataset["new"]).toBe("false"));
    expect(field("sampler-topK").value).toBe("40");
    expect(screen.getByTestId("sampler-dry").dataset["on"]).toBe("true");
    await fireEvent.click(screen.getByTestId("sampler-dry-on"));
    await fireEvent.input(field("sampler-topK"), { target: { value: "" } });
    await fireEvent.click(screen.getByTestId("provider-save"));
    await waitFor(() => expect(count(calls, "save_provider")).toBe(2));
    const again = last<{ config: ProviderConfig }>(calls, "save_provider").config.generation!;
    expect(again).not.toHaveProperty("dry");
    expect(again).not.toHaveProperty("topK");
    expect(again.mirostat).toEqual({ mode: 1, tau: 3, eta: 0.1 });
  });

  test("a value out of range is shown on its field and Save waits", async () => {
    const calls = await start();
    await addKind("llamaCpp");
    await openSamplers();
    await fireEvent.input(field("sampler-minP"), { target: { value: "1.5" } });
    expect(screen.getByTestId("sampler-minP-error").textContent).toBe("Between 0 and 1.");
    expect(field("sampler-minP").getAttribute("aria-invalid")).toBe("true");
    expect((screen.getByTestId("provider-save") as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.input(field("sampler-minP"), { target: { value: "0.1" } });
    expect(screen.queryByTestId("sampler-minP-error")).toBeNull();

    await fireEvent.input(field("sampler-topK"), { target: { value: "2.5" } });
    expect(screen.getByTestId("sampler-topK-error").textContent).toBe("A whole number from 0 to 100000.");
    // Closed, the section still says something in it needs fixing.
    expect(screen.queryByTestId("provider-samplers-problem")).toBeNull();
    await fireEvent.click(screen.getByTestId("provider-samplers-toggle"));
    expect(screen.getByTestId("provider-samplers-problem").textContent).toBe("Some values need fixing.");
    await fireEvent.click(screen.getByTestId("provider-samplers-toggle"));
    await fireEvent.input(field("sampler-topK"), { target: { value: "" } });

    await fireEvent.click(screen.getByTestId("sampler-xtc-on"));
    await fireEvent.input(field("sampler-xtc-threshold"), { target: { value: "" } });
    expect(screen.getByTestId("sampler-xtc-threshold-error").textContent).toBe("Needed while this is on.");
    await fireEvent.input(field("sampler-xtc-threshold"), { target: { value: "0.2" } });

    await fireEvent.input(screen.getByTestId("sampler-jsonSchema"), { target: { value: "[1, 2]" } });
    expect(screen.getByTestId("sampler-jsonSchema-error").textContent).toContain("A JSON object");
    await fireEvent.input(screen.getByTestId("sampler-jsonSchema"), { target: { value: '{"type": "object"}' } });
    expect((screen.getByTestId("provider-save") as HTMLButtonElement).disabled).toBe(false);
    await fireEvent.click(screen.getByTestId("provider-save"));
    await waitFor(() => expect(count(calls, "save_provider")).toBe(1));
    expect(last<{ config: ProviderConfig }>(calls, "save_provider").config.generation).toMatchObject({
      minP: 0.1,
      xtc: { threshold: 0.2, probability: 0.5 },
      jsonSchema: '{"type": "object"}',
    });
  });

  test("the core's refusal shows on the field it is about", async () => {
    class Strict extends MockProviders {
      override handle(cmd: string, a: Record<string, unknown>): unknown {
        if (cmd === "save_provider") {
          const error: ApiError = { code: "invalid_input", message: "the repetition penalty must be between 0 and 10" };
          return Promise.reject(error);
        }
        return super.handle(cmd, a);
      }
    }
    const calls = await start(new Strict());
    await addKind("koboldCpp");
    await openSamplers();
    await fireEvent.input(field("sampler-repetitionPenalty"), { target: { value: "1.2" } });
    // Closed when saving: the refusal opens the section to show its field.
    await fireEvent.click(screen.getByTestId("provider-samplers-toggle"));
    await fireEvent.click(screen.getByTestId("provider-save"));
    await waitFor(() => expect(count(calls, "save_provider")).toBe(1));
    const error = await screen.findByTestId("sampler-repetitionPenalty-error");
    expect(error.textContent).toBe("the repetition penalty must be between 0 and 10");
    expect(screen.queryByTestId("error-banner")?.textContent ?? "").not.toContain("repetition penalty");
    // Typing again clears it.
    await fireEvent.input(field("sampler-repetitionPenalty"), { target: { value: "1.15" } });
    expect(screen.queryByTestId("sampler-repetitionPenalty-error")).toBeNull();
  });

  test("in Russian", async () => {
    installBackend({ providers: new MockProviders(), settings: { language: "ru", theme: "system" } });
    render(App);
    await waitFor(() => expect(document.querySelector('[data-ready="true"]')).not.toBeNull());
    await fireEvent.click(screen.getByTestId("nav-settings"));
    await screen.findByTestId("providers");
    await fireEvent.click(screen.getByTestId("provider-add"));
    expect(screen.getByTestId("provider-kind-group-localText").textContent).toContain("Локальные, текстовое дополнение");
    await fireEvent.click(screen.getByTestId("provider-kind-koboldCpp"));
    const section = await openSamplers();
    expect(section.textContent).toContain("Дополнительные сэмплеры");
    expect(section.textContent).toContain("Штраф за повторы");
    expect(screen.getByTestId("provider-editor").textContent).toContain("API-ключ (необязательно)");
  });
});

describe("local servers", () => {
  test("a KoboldCpp server is named as such and added as a KoboldCpp provider at its own base URL", async () => {
    const providers = new MockProviders({
      localServers: [
        { port: 5001, kindGuess: "koboldcpp", kind: "koboldCpp", baseUrl: "http://127.0.0.1:5001/v1", kindBaseUrl: "http://127.0.0.1:5001", models: [model("koboldcpp/Mistral-Nemo")] },
        { port: 11434, kindGuess: "ollama", kind: "openAiCompatible", baseUrl: "http://127.0.0.1:11434/v1", kindBaseUrl: "http://127.0.0.1:11434/v1", models: [] },
      ],
    });
    const calls = await start(providers);
    await fireEvent.click(screen.getByTestId("find-local-servers"));
    await waitFor(() => expect(screen.getAllByTestId("local-server")).toHaveLength(2));
    const server = (port: number): HTMLElement => screen.getAllByTestId("local-server").find((el) => el.dataset["port"] === String(port))!;
    expect(within(server(5001)).getByTestId("local-server-kind").textContent).toBe("KoboldCpp");
    expect(within(server(11434)).getByTestId("local-server-kind").textContent).toBe("OpenAI-compatible");
    expect(server(5001).textContent).toContain("http://127.0.0.1:5001");

    await fireEvent.click(within(server(5001)).getByTestId("local-server-add"));
    await waitFor(() => expect(count(calls, "save_provider")).toBe(1));
    expect(last(calls, "new_provider")).toEqual({ kind: "koboldCpp", name: "KoboldCpp :5001" });
    expect(last<{ config: ProviderConfig }>(calls, "save_provider").config).toMatchObject({
      kind: "koboldCpp",
      baseUrl: "http://127.0.0.1:5001",
      defaultModel: "koboldcpp/Mistral-Nemo",
    });
    await waitFor(() => expect(within(server(5001)).getByTestId("local-server-added")).toBeTruthy());
  });
});
