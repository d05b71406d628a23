//! Built-in instruct and context presets, and picking one from a model's name.
//!
//! Each instruct preset writes the turn format its model family was trained
//! on (as the family's own chat template writes it), with SillyTavern's
//! preset names so users find what they know. No preset writes a BOS token:
//! llama.cpp and KoboldCpp add it when they tokenize the prompt.
//!
//! Where SillyTavern's preset differs from the model's own template, the
//! model's template wins: Mistral presets close the user turn with `[/INST]`
//! (`input_suffix`) rather than opening the reply with it, so a system turn
//! or a chat that opens with the character's greeting still reads as the
//! model was trained.

use std::sync::LazyLock;

use super::context::ContextTemplate;
use super::instruct::{InstructTemplate, NamesBehavior};

/// The story string of SillyTavern's "Default" context template: each card field on its own line.
const DEFAULT_STORY_STRING: &str = "{{#if system}}{{system}}\n{{/if}}{{#if wiBefore}}{{wiBefore}}\n{{/if}}{{#if description}}{{description}}\n{{/if}}{{#if personality}}{{char}}'s personality: {{personality}}\n{{/if}}{{#if scenario}}Scenario: {{scenario}}\n{{/if}}{{#if wiAfter}}{{wiAfter}}\n{{/if}}{{#if persona}}{{persona}}\n{{/if}}";

/// The sequences of one preset, in the order the constructor takes them.
struct Seq {
    name: &'static str,
    input: (&'static str, &'static str),
    output: (&'static str, &'static str),
    system: (&'static str, &'static str),
    story: (&'static str, &'static str),
    stop: &'static str,
    wrap: bool,
    names: NamesBehavior,
    system_same_as_user: bool,
}

fn build(s: Seq) -> InstructTemplate {
    InstructTemplate {
        name: s.name.into(),
        input_sequence: s.input.0.into(),
        input_suffix: s.input.1.into(),
        output_sequence: s.output.0.into(),
        output_suffix: s.output.1.into(),
        system_sequence: s.system.0.into(),
        system_suffix: s.system.1.into(),
        story_string_prefix: s.story.0.into(),
        story_string_suffix: s.story.1.into(),
        stop_sequence: s.stop.into(),
        wrap: s.wrap,
        names_behavior: s.names,
        system_same_as_user: s.system_same_as_user,
        ..InstructTemplate::default()
    }
}

static INSTRUCT: LazyLock<Vec<InstructTemplate>> = LazyLock::new(|| {
    use NamesBehavior::{Always, Force};
    let im = "<|im_end|>\n";
    let l3 = "<|eot_id|>";
    let eot = "<end_of_turn>\n";
    let cr = "<|END_OF_TURN_TOKEN|>";
    vec![
        build(Seq {
            name: "ChatML",
            input: ("<|im_start|>user", im),
            output: ("<|im_start|>assistant", im),
            system: ("<|im_start|>system", im),
            story: ("<|im_start|>system", im),
            stop: "<|im_end|>",
            wrap: true,
            names: Force,
            system_same_as_user: false,
        }),
        build(Seq {
            name: "Llama 3 Instruct",
            input: ("<|start_header_id|>user<|end_header_id|>\n\n", l3),
            output: ("<|start_header_id|>assistant<|end_header_id|>\n\n", l3),
            system: ("<|start_header_id|>system<|end_header_id|>\n\n", l3),
            story: ("<|start_header_id|>system<|end_header_id|>\n\n", l3),
            stop: l3,
            wrap: false,
            names: Force,
            system_same_as_user: false,
        }),
        build(Seq {
            name: "Mistral V2 & V3",
            input: ("[INST] ", "[/INST]"),
            output: (" ", "</s>"),
            system: ("", ""),
            story: ("[INST] ", "[/INST]"),
            stop: "</s>",
            wrap: false,
            names: Force,
            system_same_as_user: true,
        }),
        build(Seq {
            name: "Mistral V3-Tekken",
            input: ("[INST]", "[/INST]"),
            output: ("", "</s>"),
            system: ("", ""),
            story: ("[INST]", "[/INST]"),
            stop: "</s>",
            wrap: false,
            names: Force,
            system_same_as_user: true,
        }),
        build(Seq {
            name: "Mistral V7",
            input: ("[INST] ", "[/INST]"),
            output: (" ", "</s>"),
            system: ("[SYSTEM_PROMPT] ", "[/SYSTEM_PROMPT]"),
            story: ("[SYSTEM_PROMPT] ", "[/SYSTEM_PROMPT]"),
            stop: "</s>",
            wrap: false,
            names: Force,
            system_same_as_user: false,
        }),
        build(Seq {
            name: "Mistral V7-Tekken",
            input: ("[INST]", "[/INST]"),
            output: ("", "</s>"),
            system: ("[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]"),
            story: ("[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]"),
            stop: "</s>",
            wrap: false,
            names: Force,
            system_same_as_user: false,
        }),
        build(Seq {
            // Gemma 2 and 3 have no system role: their templates put the
            // system text in the first user turn, so system turns are user turns here.
            name: "Gemma 2",
            input: ("<start_of_turn>user", eot),
            output: ("<start_of_turn>model", eot),
            system: ("", ""),
            story: ("<start_of_turn>user", eot),
            stop: "<end_of_turn>",
            wrap: true,
            names: Force,
            system_same_as_user: true,
        }),
        build(Seq {
            name: "Phi",
            input: ("<|user|>", "<|end|>\n"),
            output: ("<|assistant|>", "<|end|>\n"),
            system: ("<|system|>", "<|end|>\n"),
            story: ("<|system|>", "<|end|>\n"),
            stop: "<|end|>",
            wrap: true,
            names: Force,
            system_same_as_user: false,
        }),
        build(Seq {
            name: "Command R",
            input: ("<|START_OF_TURN_TOKEN|><|USER_TOKEN|>", cr),
            output: ("<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>", cr),
            system: ("<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>", cr),
            story: ("<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>", cr),
            stop: cr,
            wrap: false,
            names: Force,
            system_same_as_user: false,
        }),
        build(Seq {
            // DeepSeek V2.5/V3 and the R1 distills: the system text opens the prompt bare.
            name: "DeepSeek-V2.5",
            input: ("<｜User｜>", ""),
            output: ("<｜Assistant｜>", "<｜end▁of▁sentence｜>"),
            system: ("", ""),
            story: ("", ""),
            stop: "<｜end▁of▁sentence｜>",
            wrap: false,
            names: Force,
            system_same_as_user: true,
        }),
        build(Seq {
            name: "Alpaca",
            input: ("### Instruction:", "\n\n"),
            output: ("### Response:", "\n\n"),
            system: ("### Input:", "\n\n"),
            story: ("", ""),
            stop: "",
            wrap: true,
            names: Force,
            system_same_as_user: false,
        }),
        build(Seq {
            name: "Vicuna 1.1",
            input: ("USER: ", "\n"),
            output: ("ASSISTANT: ", "</s>\n"),
            system: ("", ""),
            story: ("", "\n"),
            stop: "</s>",
            wrap: false,
            names: Force,
            system_same_as_user: true,
        }),
        build(Seq {
            name: "Llama 2 Chat",
            input: ("[INST] ", " [/INST]"),
            output: (" ", " </s><s>"),
            system: ("", ""),
            story: ("[INST] <<SYS>>\n", "\n<</SYS>> [/INST]"),
            stop: "</s>",
            wrap: false,
            names: Force,
            system_same_as_user: true,
        }),
        build(Seq {
            // Pygmalion 2 / Mythalion's format; names help these role-play models.
            name: "Metharme",
            input: ("<|user|>", ""),
            output: ("<|model|>", ""),
            system: ("<|system|>", ""),
            story: ("<|system|>", ""),
            stop: "</s>",
            wrap: false,
            names: Always,
            system_same_as_user: false,
        }),
    ]
});

static CONTEXT: LazyLock<Vec<ContextTemplate>> = LazyLock::new(|| {
    vec![
        ContextTemplate {
            name: "Default".into(),
            story_string: DEFAULT_STORY_STRING.into(),
            example_separator: "***".into(),
            chat_start: "***".into(),
            ..ContextTemplate::default()
        },
        ContextTemplate {
            // For instruct models: the turn sequences already mark where the chat starts.
            name: "Plain".into(),
            story_string: DEFAULT_STORY_STRING.into(),
            ..ContextTemplate::default()
        },
    ]
});

/// Every built-in instruct preset.
pub fn instruct_presets() -> &'static [InstructTemplate] {
    &INSTRUCT
}

/// Every built-in context preset.
pub fn context_presets() -> &'static [ContextTemplate] {
    &CONTEXT
}

/// The built-in instruct preset called `name` (exact, case-insensitive).
pub fn instruct_preset(name: &str) -> Option<&'static InstructTemplate> {
    INSTRUCT.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// The built-in context preset called `name` (exact, case-insensitive).
pub fn context_preset(name: &str) -> Option<&'static ContextTemplate> {
    CONTEXT.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// The template for a model: the first of `own` (the user's templates) whose
/// `activation_regex` matches, else the built-in preset [`preset_for_model`] picks.
pub fn template_for_model<'a>(
    own: &'a [InstructTemplate],
    model_name: &str,
) -> Option<&'a InstructTemplate> {
    own.iter()
        .find(|t| t.matches_model(model_name))
        .or_else(|| preset_for_model(model_name))
}

/// Rules from a model name to a preset, first match wins: every needle of a rule must occur.
const RULES: &[(&[&str], &str)] = &[
    // Fine-tunes that switched a base model to ChatML say so in their names.
    (&["hermes"], "ChatML"),
    (&["dolphin"], "ChatML"),
    (&["chatml"], "ChatML"),
    (&["qwen"], "ChatML"),
    (&["qwq"], "ChatML"),
    (&["yi-"], "ChatML"),
    (&["deepseek"], "DeepSeek-V2.5"),
    (&["llama-3"], "Llama 3 Instruct"),
    (&["llama3"], "Llama 3 Instruct"),
    (&["l3-"], "Llama 3 Instruct"),
    (&["l3."], "Llama 3 Instruct"),
    (&["llama-2"], "Llama 2 Chat"),
    (&["llama2"], "Llama 2 Chat"),
    (&["mistral-nemo"], "Mistral V3-Tekken"),
    (&["nemo-instruct"], "Mistral V3-Tekken"),
    (&["mn-"], "Mistral V3-Tekken"),
    (&["pixtral-12b"], "Mistral V3-Tekken"),
    (&["mistral-small", "2409"], "Mistral V2 & V3"),
    (&["mistral-small"], "Mistral V7-Tekken"),
    (&["magistral"], "Mistral V7-Tekken"),
    (&["devstral"], "Mistral V7-Tekken"),
    (&["mistral-large", "2411"], "Mistral V7"),
    (&["pixtral-large"], "Mistral V7"),
    (&["mistral"], "Mistral V2 & V3"),
    (&["mixtral"], "Mistral V2 & V3"),
    (&["gemma"], "Gemma 2"),
    (&["phi-3"], "Phi"),
    (&["phi3"], "Phi"),
    (&["phi-4-mini"], "Phi"),
    (&["command-r"], "Command R"),
    (&["c4ai"], "Command R"),
    (&["aya"], "Command R"),
    (&["vicuna"], "Vicuna 1.1"),
    (&["alpaca"], "Alpaca"),
    (&["metharme"], "Metharme"),
    (&["pygmalion-2"], "Metharme"),
    (&["mythalion"], "Metharme"),
];

/// The instruct preset a model's name suggests ("Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf" → Llama 3 Instruct).
///
/// Matches on the name lowercased, with `_` and spaces read as `-` and any
/// folder part dropped; `None` when nothing matches (the UI then asks).
pub fn preset_for_model(model_name: &str) -> Option<&'static InstructTemplate> {
    let base = model_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(model_name)
        .to_lowercase()
        .replace(['_', ' '], "-");
    // "Mistral-Small-24B-Instruct-2501" and "mistral-small-3.1": both V7-Tekken.
    RULES
        .iter()
        .find(|(needles, _)| needles.iter().all(|n| base.contains(n)))
        .and_then(|(_, name)| instruct_preset(name))
}
