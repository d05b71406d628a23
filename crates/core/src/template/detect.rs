//! Which built-in preset a Jinja chat template writes, judged from its special tokens.
//!
//! The UI shows the match next to the model ("this model's template is
//! ChatML"), and the engine can borrow the preset's stop strings when a
//! server reports only a template. A guess from markers, not a proof: a
//! template that mixes families matches the first rule below.

use super::instruct::InstructTemplate;
use super::presets::instruct_preset;

/// Markers to preset names, first match wins; every marker of a rule must occur.
const MARKERS: &[(&[&str], &str)] = &[
    (&["<|im_start|>"], "ChatML"),
    (&["<|start_header_id|>"], "Llama 3 Instruct"),
    (&["<start_of_turn>"], "Gemma 2"),
    (&["<|START_OF_TURN_TOKEN|>"], "Command R"),
    (&["<｜Assistant｜>"], "DeepSeek-V2.5"),
    (&["[SYSTEM_PROMPT] "], "Mistral V7"),
    (&["[SYSTEM_PROMPT]"], "Mistral V7-Tekken"),
    (&["<<SYS>>"], "Llama 2 Chat"),
    (&["[INST] "], "Mistral V2 & V3"),
    (&["[INST]"], "Mistral V3-Tekken"),
    (&["<|assistant|>", "<|end|>"], "Phi"),
    (&["<|model|>"], "Metharme"),
    (&["### Instruction"], "Alpaca"),
    (&["USER:", "ASSISTANT:"], "Vicuna 1.1"),
];

/// The built-in preset whose format a Jinja chat template writes, if one is recognised.
pub fn detect_preset(jinja_source: &str) -> Option<&'static InstructTemplate> {
    MARKERS
        .iter()
        .find(|(needles, _)| needles.iter().all(|n| jinja_source.contains(n)))
        .and_then(|(_, name)| instruct_preset(name))
}

/// Stop strings for a model known only by its Jinja template: its EOS token and the matched preset's stop sequence.
pub fn jinja_stop_strings(jinja_source: &str, eos_token: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |s: &str| {
        if !s.trim().is_empty() && !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    };
    add(eos_token);
    if let Some(preset) = detect_preset(jinja_source) {
        for line in preset.stop_sequence.split('\n') {
            add(line);
        }
    }
    out
}
