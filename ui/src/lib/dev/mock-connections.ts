// A fake of the core's connections (crates/core/src/connection/): profiles,
// what characters are pinned to, the chat's own profile, the template library
// (a few presets, saved SillyTavern imports that shadow them), and the text
// prompt a text-completion backend would get, rendered through the template
// in force. Owned by ./mock-providers, which answers the session model.

import type {
  ApiError,
  CharacterPins,
  ConnectionProfile,
  InstructChoice,
  JsonValue,
  PromptMessage,
  ProviderConfig,
  TemplateKind,
  TemplateOrigin,
  TemplateSummary,
  TextTurn,
} from "../api";

/** The instruct presets the mock ships (a few of the core's). */
export const INSTRUCT_PRESETS = ["Alpaca", "ChatML", "Gemma 2", "Llama 3 Instruct", "Mistral V7"] as const;
/** The context presets. */
export const CONTEXT_PRESETS = ["Default", "Plain"] as const;

const MAX_NAME_CHARS = 80;

function reject(code: ApiError["code"], message: string): Promise<never> {
  const error: ApiError = { code, message };
  return Promise.reject(error);
}

/** The core's name check, in its words; the trimmed name or a problem. */
function checkName(name: string, what: string): string | { problem: string } {
  const trimmed = name.trim();
  if (trimmed === "") return { problem: `${what} is empty` };
  if ([...trimmed].length > MAX_NAME_CHARS) return { problem: `${what} is longer than ${MAX_NAME_CHARS} characters` };
  return trimmed;
}

type Wrap = { system: (text: string) => string; user: (text: string) => string; assistant: (text: string) => string; open: string; start: string; stop: string[] };

/** How each preset wraps turns (close enough to the core's presets to read like them). */
const WRAPS: Record<string, Wrap> = {
  ChatML: {
    start: "",
    system: (t) => `<|im_start|>system\n${t}<|im_end|>\n`,
    user: (t) => `<|im_start|>user\n${t}<|im_end|>\n`,
    assistant: (t) => `<|im_start|>assistant\n${t}<|im_end|>\n`,
    open: "<|im_start|>assistant\n",
    stop: ["<|im_end|>"],
  },
  "Llama 3 Instruct": {
    start: "<|begin_of_text|>",
    system: (t) => `<|start_header_id|>system<|end_header_id|>\n\n${t}<|eot_id|>`,
    user: (t) => `<|start_header_id|>user<|end_header_id|>\n\n${t}<|eot_id|>`,
    assistant: (t) => `<|start_header_id|>assistant<|end_header_id|>\n\n${t}<|eot_id|>`,
    open: "<|start_header_id|>assistant<|end_header_id|>\n\n",
    stop: ["<|eot_id|>"],
  },
  Alpaca: {
    start: "",
    system: (t) => `${t}\n\n`,
    user: (t) => `### Instruction:\n${t}\n\n`,
    assistant: (t) => `### Response:\n${t}\n\n`,
    open: "### Response:\n",
    stop: ["### Instruction:"],
  },
};

/** The preset an "auto" choice matches by the model's name, if any. */
function byModelName(model: string): string | null {
  const m = model.toLowerCase();
  if (/llama-?3/.test(m)) return "Llama 3 Instruct";
  if (/alpaca/.test(m)) return "Alpaca";
  if (/qwen|chatml|hermes/.test(m)) return "ChatML";
  return null;
}

export class MockConnections {
  profiles = new Map<string, ConnectionProfile>();
  pins = new Map<string, CharacterPins>();
  /** Chats' own profiles, by session id. */
  sessionProfiles = new Map<string, string>();
  /** Saved templates by `${kind}:${name}`: their JSON. */
  saved = new Map<string, string>();
  #next = 1;

  /** A profile as if saved (tests and the dev mock). */
  addProfile(fields: Partial<ConnectionProfile> & { name: string; providerId: string }): ConnectionProfile {
    const profile: ConnectionProfile = { id: `profile-${this.#next++}`, model: null, instruct: null, contextTemplate: null, generation: {}, ...fields };
    this.profiles.set(profile.id, profile);
    return profile;
  }

  pinsOf(characterId: string | null): CharacterPins {
    return (characterId !== null ? this.pins.get(characterId) : undefined) ?? { profileId: null, instruct: null };
  }

  catalog(): TemplateSummary[] {
    const out: TemplateSummary[] = [];
    for (const [kind, presets] of [["instruct", INSTRUCT_PRESETS], ["context", CONTEXT_PRESETS]] as const) {
      const saved = [...this.saved.keys()].filter((k) => k.startsWith(`${kind}:`)).map((k) => k.slice(kind.length + 1));
      const names = [...new Set<string>([...presets, ...saved])].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
      for (const name of names) out.push({ kind, name, builtin: (presets as readonly string[]).includes(name), saved: saved.includes(name) });
    }
    return out;
  }

  /**
   * The text prompt for `messages` through the instruct template in force:
   * the character's pin, the profile's, the provider's, else auto (the
   * model's own template on llama.cpp, else by the model's name, else ChatML).
   */
  textTurn(
    config: ProviderConfig,
    model: string,
    profile: ConnectionProfile | null,
    characterId: string | null,
    messages: readonly PromptMessage[],
    names: { user: string; character: string },
  ): TextTurn {
    const pinned = this.pinsOf(characterId).instruct;
    let name: string;
    let origin: TemplateOrigin;
    const named = (choice: InstructChoice | null | undefined): string | null => (choice?.type === "named" ? choice.name : null);
    if (pinned) [name, origin] = [pinned, "character"];
    else if (named(profile?.instruct)) [name, origin] = [named(profile?.instruct)!, "profile"];
    else if (named(config.instruct)) [name, origin] = [named(config.instruct)!, "provider"];
    else if (config.kind === "llamaCpp") [name, origin] = [byModelName(model) ?? "ChatML", "modelsOwn"];
    else if (byModelName(model)) [name, origin] = [byModelName(model)!, "modelName"];
    else [name, origin] = ["ChatML", "fallback"];
    const wrap = WRAPS[name] ?? WRAPS["ChatML"]!;
    let text = wrap.start;
    for (const message of messages) text += wrap[message.role](message.content);
    text += wrap.open;
    // The servers with a tokenizer count it; the others get an estimate.
    const tokensByServer = config.kind === "koboldCpp" || config.kind === "llamaCpp";
    const tokens = Math.ceil(text.length / (tokensByServer ? 3.6 : 4));
    return { text, stop: [...wrap.stop, `\n${names.user}:`], template: { name, origin }, thinkPrefilled: /think/i.test(model), tokens, tokensByServer };
  }

  /** The body a text backend would get. */
  static textBody(config: ProviderConfig, model: string, turn: TextTurn, maxTokens: number): JsonValue {
    if (config.kind === "koboldCpp") return { prompt: turn.text, max_length: maxTokens, stop_sequence: turn.stop, genkey: "KCPP1234" };
    if (config.kind === "llamaCpp") return { prompt: turn.text, n_predict: maxTokens, stop: turn.stop, stream: true, cache_prompt: true };
    return { model, prompt: turn.text, max_tokens: maxTokens, stop: turn.stop, stream: true };
  }

  /** Answers a connections command, or undefined when `cmd` is not one; `providerKnown` checks a provider id. */
  handle(cmd: string, a: Record<string, unknown>, providerKnown: (id: string) => boolean): unknown {
    switch (cmd) {
      case "list_profiles":
        return [...this.profiles.values()].map((p) => structuredClone(p));
      case "save_profile": {
        const profile = structuredClone(a["profile"] as ConnectionProfile);
        const name = checkName(profile.name, "the profile's name");
        if (typeof name !== "string") return reject("invalid_input", name.problem);
        if (!providerKnown(profile.providerId)) return reject("not_found", `provider ${profile.providerId} was not found`);
        const model = profile.model?.trim() ?? "";
        if (/\s/.test(model)) return reject("invalid_input", `the profile's model "${model}" has spaces in it`);
        if (profile.generation?.temperature != null && (profile.generation.temperature < 0 || profile.generation.temperature > 2)) {
          return reject("invalid_input", "the temperature must be between 0 and 2");
        }
        // The store keeps names unique (checked last, as the core's insert fails last).
        if ([...this.profiles.values()].some((p) => p.id !== profile.id && p.name.toLowerCase() === name.toLowerCase())) {
          return reject("invalid_input", `a profile named "${name}" already exists`);
        }
        const saved: ConnectionProfile = { ...profile, name, model: model === "" ? null : model, id: profile.id.trim() === "" ? `profile-${this.#next++}` : profile.id };
        this.profiles.set(saved.id, saved);
        return structuredClone(saved);
      }
      case "delete_profile": {
        const id = a["profileId"] as string;
        if (!this.profiles.delete(id)) return reject("not_found", "profile not found");
        for (const [session, profileId] of this.sessionProfiles) if (profileId === id) this.sessionProfiles.delete(session);
        for (const [character, pins] of this.pins) if (pins.profileId === id) this.pins.set(character, { ...pins, profileId: null });
        return null;
      }
      case "character_pins":
        return { ...this.pinsOf(a["characterId"] as string) };
      case "pin_character": {
        const pins = a["pins"] as CharacterPins;
        const profileId = pins.profileId?.trim() ? pins.profileId : null;
        if (profileId !== null && !this.profiles.has(profileId)) return reject("not_found", "profile not found");
        const instruct = pins.instruct === null ? null : checkName(pins.instruct, "the pinned instruct template");
        if (instruct !== null && typeof instruct !== "string") return reject("invalid_input", instruct.problem);
        const next: CharacterPins = { profileId, instruct };
        this.pins.set(a["characterId"] as string, next);
        return { ...next };
      }
      case "list_templates":
        return this.catalog();
      case "import_template":
        return this.#import(a["json"] as string);
      case "export_template": {
        const kind = a["kind"] as TemplateKind;
        const name = a["name"] as string;
        const saved = this.saved.get(`${kind}:${name}`);
        if (saved !== undefined) return saved;
        const presets: readonly string[] = kind === "instruct" ? INSTRUCT_PRESETS : CONTEXT_PRESETS;
        if (!presets.includes(name)) return reject("not_found", `${kind} template "${name}" was not found`);
        return JSON.stringify(kind === "instruct" ? instructJson(name) : { name, story_string: "{{#if system}}{{system}}\n{{/if}}{{#if description}}{{description}}\n{{/if}}", example_separator: "", chat_start: "" }, null, 4);
      }
      case "delete_template": {
        const key = `${a["kind"] as string}:${a["name"] as string}`;
        if (!this.saved.delete(key)) return reject("not_found", `saved ${a["kind"] as string} template "${a["name"] as string}" was not found`);
        return null;
      }
      default:
        return undefined;
    }
  }

  #import(json: string): TemplateSummary[] | Promise<never> {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch (error) {
      return reject("invalid_input", `the template file is not JSON: ${(error as Error).message}`);
    }
    if (typeof value !== "object" || value === null) return reject("invalid_input", "this is not a SillyTavern instruct or context template (no input_sequence or story_string)");
    const record = value as Record<string, unknown>;
    const found: [TemplateKind, Record<string, unknown>][] = [];
    if ("instruct" in record || "context" in record) {
      if (typeof record["instruct"] === "object" && record["instruct"] !== null) found.push(["instruct", record["instruct"] as Record<string, unknown>]);
      if (typeof record["context"] === "object" && record["context"] !== null) found.push(["context", record["context"] as Record<string, unknown>]);
    } else if ("story_string" in record) found.push(["context", record]);
    else if ("input_sequence" in record || "output_sequence" in record) found.push(["instruct", record]);
    else return reject("invalid_input", "this is not a SillyTavern instruct or context template (no input_sequence or story_string)");
    if (found.length === 0) return reject("invalid_input", "the file holds no instruct or context template");
    const keys: string[] = [];
    for (const [kind, template] of found) {
      const name = checkName(typeof template["name"] === "string" ? template["name"] : "", `the ${kind} template's name`);
      if (typeof name !== "string") return reject("invalid_input", name.problem);
      this.saved.set(`${kind}:${name}`, JSON.stringify({ ...template, name }, null, 4));
      keys.push(`${kind}:${name}`);
    }
    return this.catalog().filter((t) => keys.includes(`${t.kind}:${t.name}`));
  }
}

function instructJson(name: string): Record<string, unknown> {
  const wrap = WRAPS[name];
  return {
    name,
    input_sequence: wrap ? wrap.user("").replace(/\n*$/, "") : "",
    output_sequence: wrap ? wrap.open : "",
    system_sequence: wrap ? wrap.system("").replace(/\n*$/, "") : "",
    stop_sequence: wrap?.stop[0] ?? "",
    wrap: false,
    macro: true,
  };
}
