//! Which built-in preset a Jinja chat template writes, judged from its
//! special tokens; and an instruct template derived from one by rendering.
//!
//! The UI shows the match next to the model ("this model's template is
//! ChatML"), and the engine can borrow the preset's stop strings when a
//! server reports only a template. A guess from markers, not a proof: a
//! template that mixes families matches the first rule below.

use super::instruct::InstructTemplate;
use super::jinja::ChatTemplateOptions;
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

/// Sentinel contents for the probe conversations: private-use characters no
/// template trims or escapes.
const P_SYS: &str = "\u{E000}s\u{E000}";
const P_U1: &str = "\u{E000}u1\u{E000}";
const P_A1: &str = "\u{E000}a1\u{E000}";
const P_U2: &str = "\u{E000}u2\u{E000}";

/// An instruct template read off a Jinja chat template by rendering probe conversations.
///
/// Three small conversations with sentinel texts are rendered and the text
/// around the sentinels becomes the sequences: between a user turn and the
/// next assistant turn lies `input_suffix + output_sequence`, and so on;
/// where a suffix ends and the next prefix begins is where the render of a
/// conversation that ends there stops (an EOS the template adds after the
/// last turn is left out). A template that puts the system text inside a
/// user turn (Gemma, Mistral Nemo) gives `system_same_as_user`. The
/// result has `wrap` off (the sequences carry their own line breaks), no
/// names, and the EOS token as its stop sequence. `None` when a probe fails
/// to render or the sentinels are not found in order.
pub fn derive_instruct(source: &str, options: &ChatTemplateOptions) -> Option<InstructTemplate> {
    let (bos_token, eos_token) = (options.bos_token.as_str(), options.eos_token.as_str());
    use crate::prompt::PromptMessage;
    use crate::session::Role;
    let msg = |role, content: &str| PromptMessage {
        role,
        content: content.to_owned(),
    };
    let render = |messages: &[PromptMessage], generation: bool| {
        let options = ChatTemplateOptions {
            add_generation_prompt: generation,
            ..options.clone()
        };
        super::render_chat_template_with(source, messages, &options).ok()
    };
    let chat = [
        msg(Role::User, P_U1),
        msg(Role::Assistant, P_A1),
        msg(Role::User, P_U2),
    ];
    let open = render(&chat, true)?;
    let closed = render(&chat, false)?;
    let (u1, a1, u2) = (open.find(P_U1)?, open.find(P_A1)?, open.find(P_U2)?);
    if !(u1 < a1 && a1 < u2) {
        return None;
    }
    let mid1 = &open[u1 + P_U1.len()..a1];
    let mid2 = &open[a1 + P_A1.len()..u2];
    let tail = &open[u2 + P_U2.len()..];
    let closed_tail = &closed[closed.find(P_U2)? + P_U2.len()..];
    let input_suffix = common_prefix(strip_eos(closed_tail, eos_token), mid1);
    let output_sequence = &mid1[input_suffix.len()..];
    let reply = tail.strip_prefix(input_suffix).unwrap_or(tail);

    let pair = render(&chat[..2], false)?;
    let pair_tail = &pair[pair.find(P_A1)? + P_A1.len()..];
    let output_suffix = common_prefix(pair_tail, mid2);
    let input_sequence = &mid2[output_suffix.len()..];

    let mut t = InstructTemplate {
        name: "Derived from the model's template".into(),
        input_sequence: input_sequence.into(),
        input_suffix: input_suffix.into(),
        output_sequence: output_sequence.into(),
        output_suffix: output_suffix.into(),
        stop_sequence: if eos_token.trim().is_empty() {
            output_suffix.trim().to_owned()
        } else {
            eos_token.to_owned()
        },
        wrap: false,
        names_behavior: super::NamesBehavior::None,
        ..InstructTemplate::default()
    };
    if reply != output_sequence {
        t.last_output_sequence = reply.into();
    }
    let system =
        render(&[msg(Role::System, P_SYS), msg(Role::User, P_U1)], false).and_then(|text| {
            let (s, u) = (text.find(P_SYS)?, text.find(P_U1)?);
            (s < u).then(|| {
                let before = text[..s]
                    .strip_prefix(bos_token)
                    .unwrap_or(&text[..s])
                    .to_owned();
                (before, text[s + P_SYS.len()..u].to_owned())
            })
        });
    match system {
        Some((before, between))
            if !input_sequence.is_empty() && between.ends_with(input_sequence) =>
        {
            let suffix = &between[..between.len() - input_sequence.len()];
            t.system_sequence = before.clone();
            t.system_suffix = suffix.into();
            t.story_string_prefix = before;
            t.story_string_suffix = suffix.into();
        }
        _ => {
            t.system_same_as_user = true;
            t.story_string_prefix = t.input_sequence.clone();
            t.story_string_suffix = t.input_suffix.clone();
        }
    }
    Some(t)
}

fn strip_eos<'a>(text: &'a str, eos: &str) -> &'a str {
    if eos.is_empty() {
        text
    } else {
        text.strip_suffix(eos).unwrap_or(text)
    }
}

/// The longest common prefix of `a` and `b`, on a character boundary.
fn common_prefix<'a>(a: &'a str, b: &str) -> &'a str {
    let end = a
        .char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map(|((i, _), _)| i)
        .unwrap_or_else(|| a.len().min(b.len()));
    &a[..end]
}
