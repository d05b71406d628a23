//! Every built-in instruct preset renders a fixed conversation to the text
//! its model family expects (written out by hand from each format), and
//! model names and Jinja templates find their preset.

use confab_core::session::Role;
use confab_core::template::{
    context_preset, detect_preset, instruct_preset, instruct_presets, preset_for_model,
    render_text_prompt, TextPromptInput, Turn,
};

/// A system prompt, the character's greeting, and two user and one more character turn.
fn conversation() -> TextPromptInput {
    let mut input = TextPromptInput {
        char_name: "Alice".into(),
        user_name: "Bob".into(),
        history: vec![
            Turn::new(Role::Assistant, "Alice", "Hello, Bob."),
            Turn::new(Role::User, "Bob", "Hi!"),
            Turn::new(Role::Assistant, "Alice", "How are you?"),
            Turn::new(Role::User, "Bob", "Fine."),
        ],
        ..TextPromptInput::default()
    };
    input.story.system = "You are Alice.".into();
    input
}

fn render(preset: &str) -> (String, String) {
    let instruct = instruct_preset(preset).unwrap_or_else(|| panic!("no preset {preset}"));
    let context = context_preset("Plain").unwrap();
    let out = render_text_prompt(instruct, context, &conversation()).unwrap();
    assert!(
        out.text.ends_with(&out.prefill),
        "{preset}: prefill is the end of the text"
    );
    (out.text, out.prefill)
}

#[test]
fn chatml() {
    let (text, prefill) = render("ChatML");
    assert_eq!(
        text,
        "<|im_start|>system\nYou are Alice.<|im_end|>\n\
         <|im_start|>assistant\nHello, Bob.<|im_end|>\n\
         <|im_start|>user\nHi!<|im_end|>\n\
         <|im_start|>assistant\nHow are you?<|im_end|>\n\
         <|im_start|>user\nFine.<|im_end|>\n\
         <|im_start|>assistant\n"
    );
    assert_eq!(prefill, "<|im_start|>assistant\n");
}

#[test]
fn llama_3_instruct() {
    let (text, prefill) = render("Llama 3 Instruct");
    assert_eq!(
        text,
        "<|start_header_id|>system<|end_header_id|>\n\nYou are Alice.<|eot_id|>\
         <|start_header_id|>assistant<|end_header_id|>\n\nHello, Bob.<|eot_id|>\
         <|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>\
         <|start_header_id|>assistant<|end_header_id|>\n\nHow are you?<|eot_id|>\
         <|start_header_id|>user<|end_header_id|>\n\nFine.<|eot_id|>\
         <|start_header_id|>assistant<|end_header_id|>\n\n"
    );
    assert_eq!(prefill, "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

#[test]
fn mistral_v3_tekken() {
    let (text, prefill) = render("Mistral V3-Tekken");
    assert_eq!(
        text,
        "[INST]You are Alice.[/INST]Hello, Bob.</s>[INST]Hi![/INST]How are you?</s>[INST]Fine.[/INST]"
    );
    assert_eq!(prefill, "");
}

#[test]
fn mistral_v7_tekken_and_v7() {
    let (text, _) = render("Mistral V7-Tekken");
    assert_eq!(
        text,
        "[SYSTEM_PROMPT]You are Alice.[/SYSTEM_PROMPT]Hello, Bob.</s>[INST]Hi![/INST]How are you?</s>[INST]Fine.[/INST]"
    );
    let (text, prefill) = render("Mistral V7");
    assert_eq!(
        text,
        "[SYSTEM_PROMPT] You are Alice.[/SYSTEM_PROMPT] Hello, Bob.</s>[INST] Hi![/INST] How are you?</s>[INST] Fine.[/INST] "
    );
    assert_eq!(prefill, " ");
}

#[test]
fn mistral_v2_v3() {
    let (text, _) = render("Mistral V2 & V3");
    assert_eq!(
        text,
        "[INST] You are Alice.[/INST] Hello, Bob.</s>[INST] Hi![/INST] How are you?</s>[INST] Fine.[/INST] "
    );
}

#[test]
fn gemma() {
    let (text, prefill) = render("Gemma 2");
    assert_eq!(
        text,
        "<start_of_turn>user\nYou are Alice.<end_of_turn>\n\
         <start_of_turn>model\nHello, Bob.<end_of_turn>\n\
         <start_of_turn>user\nHi!<end_of_turn>\n\
         <start_of_turn>model\nHow are you?<end_of_turn>\n\
         <start_of_turn>user\nFine.<end_of_turn>\n\
         <start_of_turn>model\n"
    );
    assert_eq!(prefill, "<start_of_turn>model\n");
}

#[test]
fn phi() {
    let (text, _) = render("Phi");
    assert_eq!(
        text,
        "<|system|>\nYou are Alice.<|end|>\n<|assistant|>\nHello, Bob.<|end|>\n<|user|>\nHi!<|end|>\n\
         <|assistant|>\nHow are you?<|end|>\n<|user|>\nFine.<|end|>\n<|assistant|>\n"
    );
}

#[test]
fn command_r() {
    let (text, _) = render("Command R");
    assert_eq!(
        text,
        "<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>You are Alice.<|END_OF_TURN_TOKEN|>\
         <|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>Hello, Bob.<|END_OF_TURN_TOKEN|>\
         <|START_OF_TURN_TOKEN|><|USER_TOKEN|>Hi!<|END_OF_TURN_TOKEN|>\
         <|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>How are you?<|END_OF_TURN_TOKEN|>\
         <|START_OF_TURN_TOKEN|><|USER_TOKEN|>Fine.<|END_OF_TURN_TOKEN|>\
         <|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>"
    );
}

#[test]
fn deepseek() {
    let (text, _) = render("DeepSeek-V2.5");
    assert_eq!(
        text,
        "You are Alice.\n<｜Assistant｜>Hello, Bob.<｜end▁of▁sentence｜><｜User｜>Hi!\
         <｜Assistant｜>How are you?<｜end▁of▁sentence｜><｜User｜>Fine.<｜Assistant｜>"
    );
}

#[test]
fn alpaca() {
    let (text, prefill) = render("Alpaca");
    assert_eq!(
        text,
        "You are Alice.\n### Response:\nHello, Bob.\n\n### Instruction:\nHi!\n\n\
         ### Response:\nHow are you?\n\n### Instruction:\nFine.\n\n### Response:\n"
    );
    assert_eq!(prefill, "### Response:\n");
}

#[test]
fn vicuna() {
    let (text, prefill) = render("Vicuna 1.1");
    assert_eq!(
        text,
        "You are Alice.\nASSISTANT: Hello, Bob.</s>\nUSER: Hi!\nASSISTANT: How are you?</s>\nUSER: Fine.\nASSISTANT: "
    );
    assert_eq!(prefill, "ASSISTANT: ");
}

#[test]
fn llama_2_chat() {
    let (text, _) = render("Llama 2 Chat");
    assert_eq!(
        text,
        "[INST] <<SYS>>\nYou are Alice.\n<</SYS>> [/INST] Hello, Bob. </s><s>[INST] Hi! [/INST] How are you? </s><s>[INST] Fine. [/INST] "
    );
}

#[test]
fn metharme_names_every_turn() {
    let (text, prefill) = render("Metharme");
    assert_eq!(
        text,
        "<|system|>You are Alice.\n<|model|>Alice: Hello, Bob.<|user|>Bob: Hi!<|model|>Alice: How are you?<|user|>Bob: Fine.<|model|>Alice:"
    );
    assert_eq!(prefill, "<|model|>Alice:");
}

#[test]
fn every_preset_renders_and_has_a_stop_string() {
    let context = context_preset("Default").unwrap();
    for preset in instruct_presets() {
        let out = render_text_prompt(preset, context, &conversation()).unwrap();
        assert!(out.text.contains("Fine."), "{}", preset.name);
        assert!(!out.stop.is_empty(), "{}", preset.name);
        assert!(out.stop.iter().all(|s| !s.is_empty()), "{}", preset.name);
    }
}

#[test]
fn model_names_pick_their_preset() {
    let cases = [
        ("Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", "Llama 3 Instruct"),
        ("llama3.2:3b", "Llama 3 Instruct"),
        ("L3-8B-Stheno-v3.2", "Llama 3 Instruct"),
        ("mistral-nemo", "Mistral V3-Tekken"),
        ("MN-12B-Lyra-v4", "Mistral V3-Tekken"),
        ("Mistral-Small-24B-Instruct-2501", "Mistral V7-Tekken"),
        (
            "mistralai/Mistral-Small-3.1-24B-Instruct-2503",
            "Mistral V7-Tekken",
        ),
        ("Mistral-Small-Instruct-2409-Q5_K_M", "Mistral V2 & V3"),
        ("Mistral-Large-Instruct-2411", "Mistral V7"),
        ("mistral-7b-instruct-v0.3", "Mistral V2 & V3"),
        ("gemma-2-9b-it", "Gemma 2"),
        ("gemma3:27b", "Gemma 2"),
        ("qwen2.5", "ChatML"),
        ("Qwen2.5-14B-Instruct-Q6_K.gguf", "ChatML"),
        ("Hermes-3-Llama-3.1-8B", "ChatML"),
        ("Phi-3.5-mini-instruct", "Phi"),
        ("c4ai-command-r-08-2024", "Command R"),
        ("DeepSeek-R1-Distill-Llama-8B", "DeepSeek-V2.5"),
        ("deepseek-v3", "DeepSeek-V2.5"),
        ("Llama-2-13b-chat", "Llama 2 Chat"),
        ("vicuna-13b-v1.5", "Vicuna 1.1"),
        ("pygmalion-2-13b", "Metharme"),
    ];
    for (model, preset) in cases {
        let found = preset_for_model(model).map(|p| p.name.as_str());
        assert_eq!(found, Some(preset), "{model}");
    }
    assert!(preset_for_model("gpt-4o").is_none());
    assert!(preset_for_model("").is_none());
}

#[test]
fn jinja_templates_are_recognised() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/chat_templates/"
    );
    let cases = [
        ("meta-llama-Llama-3.2-3B-Instruct.jinja", "Llama 3 Instruct"),
        (
            "mistralai-Mistral-Nemo-Instruct-2407.jinja",
            "Mistral V3-Tekken",
        ),
        (
            "mistralai-Mistral-Small-3.1-24B-Instruct-2503.jinja",
            "Mistral V7-Tekken",
        ),
        ("microsoft-Phi-3.5-mini-instruct.jinja", "Phi"),
    ];
    for (file, preset) in cases {
        let source = std::fs::read_to_string(format!("{dir}{file}")).unwrap();
        assert_eq!(
            detect_preset(&source).map(|p| p.name.as_str()),
            Some(preset),
            "{file}"
        );
    }
    let chatml =
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}";
    assert_eq!(
        detect_preset(chatml).map(|p| p.name.as_str()),
        Some("ChatML")
    );
    assert!(detect_preset("{{ messages }}").is_none());
}

#[test]
fn a_users_activation_regex_wins_over_the_built_in_rules() {
    use confab_core::template::{template_for_model, InstructTemplate};
    let mine = InstructTemplate {
        name: "My Stheno".into(),
        activation_regex: "/stheno/i".into(),
        ..InstructTemplate::default()
    };
    let plain = InstructTemplate {
        name: "Exact".into(),
        activation_regex: "^my-model$".into(),
        ..InstructTemplate::default()
    };
    let broken = InstructTemplate {
        name: "Broken".into(),
        activation_regex: "(unclosed".into(),
        ..InstructTemplate::default()
    };
    let own = [broken, mine, plain];
    let pick = |m: &str| template_for_model(&own, m).map(|t| t.name.clone());
    assert_eq!(pick("L3-8B-Stheno-v3.2").as_deref(), Some("My Stheno"));
    assert_eq!(pick("my-model").as_deref(), Some("Exact"));
    assert_eq!(pick("MY-MODEL").as_deref(), None);
    assert_eq!(pick("qwen2.5-7b").as_deref(), Some("ChatML"));
    assert!(!own[0].matches_model("(unclosed"));
}
