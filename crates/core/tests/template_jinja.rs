//! Real Jinja chat templates (llama.cpp's copies, see fixtures/chat_templates/PROVENANCE.md)
//! render the text written out by hand from each template, and hostile
//! templates end with a typed error.

use confab_core::prompt::PromptMessage;
use confab_core::session::Role;
use confab_core::template::{
    context_preset, instruct_preset, jinja_stop_strings, render_chat_template,
    render_chat_template_with, render_text_prompt, ChatTemplateOptions, TextPromptInput, Turn,
    MAX_CHAT_TEMPLATE_BYTES,
};
use confab_core::ErrorCode;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/chat_templates/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

fn msg(role: Role, content: &str) -> PromptMessage {
    PromptMessage {
        role,
        content: content.into(),
    }
}

/// A system prompt, then user and assistant in turn, ending with the user.
fn conversation() -> Vec<PromptMessage> {
    vec![
        msg(Role::System, "You are Alice."),
        msg(Role::User, "Hi!"),
        msg(Role::Assistant, "Hello, Bob."),
        msg(Role::User, "How are you?"),
        msg(Role::Assistant, "Fine."),
        msg(Role::User, "Tell me more."),
    ]
}

fn options(bos: &str, eos: &str) -> ChatTemplateOptions {
    ChatTemplateOptions {
        bos_token: bos.into(),
        eos_token: eos.into(),
        add_generation_prompt: true,
        today: Some((2024, 7, 26)),
    }
}

#[test]
fn llama_3_2() {
    let out = render_chat_template_with(
        &fixture("meta-llama-Llama-3.2-3B-Instruct.jinja"),
        &conversation(),
        &options("<|begin_of_text|>", "<|eot_id|>"),
    )
    .unwrap();
    assert_eq!(
        out,
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n\
         Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n\
         You are Alice.<|eot_id|>\
         <|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>\
         <|start_header_id|>assistant<|end_header_id|>\n\nHello, Bob.<|eot_id|>\
         <|start_header_id|>user<|end_header_id|>\n\nHow are you?<|eot_id|>\
         <|start_header_id|>assistant<|end_header_id|>\n\nFine.<|eot_id|>\
         <|start_header_id|>user<|end_header_id|>\n\nTell me more.<|eot_id|>\
         <|start_header_id|>assistant<|end_header_id|>\n\n"
    );
}

#[test]
fn mistral_nemo_puts_the_system_prompt_in_the_last_user_turn() {
    let out = render_chat_template(
        &fixture("mistralai-Mistral-Nemo-Instruct-2407.jinja"),
        &conversation(),
        "<s>",
        "</s>",
        true,
    )
    .unwrap();
    assert_eq!(
        out,
        "<s>[INST]Hi![/INST]Hello, Bob.</s>[INST]How are you?[/INST]Fine.</s>\
         [INST]You are Alice.\n\nTell me more.[/INST]"
    );
}

#[test]
fn mistral_nemo_refuses_a_chat_that_does_not_alternate() {
    let messages = vec![
        msg(Role::System, "You are Alice."),
        msg(Role::Assistant, "Hello, Bob."),
        msg(Role::User, "Hi!"),
    ];
    let err = render_chat_template(
        &fixture("mistralai-Mistral-Nemo-Instruct-2407.jinja"),
        &messages,
        "<s>",
        "</s>",
        true,
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(
        err.to_string()
            .contains("conversation roles must alternate user/assistant/user/assistant/..."),
        "{err}"
    );
}

#[test]
fn mistral_small_3_1() {
    let source = fixture("mistralai-Mistral-Small-3.1-24B-Instruct-2503.jinja");
    let out = render_chat_template_with(&source, &conversation(), &options("<s>", "</s>")).unwrap();
    assert_eq!(
        out,
        "<s>[SYSTEM_PROMPT]You are Alice.[/SYSTEM_PROMPT][INST]Hi![/INST]Hello, Bob.</s>\
         [INST]How are you?[/INST]Fine.</s>[INST]Tell me more.[/INST]"
    );
    // Without a system message the template writes its own, dated by strftime_now.
    let out =
        render_chat_template_with(&source, &conversation()[1..], &options("<s>", "</s>")).unwrap();
    assert!(
        out.starts_with("<s>[SYSTEM_PROMPT]You are Mistral Small 3,"),
        "{out}"
    );
    assert!(out.contains("The current date is 2024-07-26."), "{out}");
    assert!(out.ends_with("[/SYSTEM_PROMPT][INST]Hi![/INST]Hello, Bob.</s>[INST]How are you?[/INST]Fine.</s>[INST]Tell me more.[/INST]"));
}

#[test]
fn phi_3_5_matches_the_phi_preset() {
    let source = fixture("microsoft-Phi-3.5-mini-instruct.jinja");
    let out = render_chat_template(&source, &conversation(), "<s>", "<|endoftext|>", true).unwrap();
    let expected = "<|system|>\nYou are Alice.<|end|>\n<|user|>\nHi!<|end|>\n\
         <|assistant|>\nHello, Bob.<|end|>\n<|user|>\nHow are you?<|end|>\n\
         <|assistant|>\nFine.<|end|>\n<|user|>\nTell me more.<|end|>\n<|assistant|>\n";
    assert_eq!(out, expected);
    // Without the generation prompt the template closes with its EOS token.
    let closed =
        render_chat_template(&source, &conversation(), "<s>", "<|endoftext|>", false).unwrap();
    assert!(
        closed.ends_with("Tell me more.<|end|>\n<|endoftext|>"),
        "{closed}"
    );

    // The built-in Phi preset writes the same text from the same conversation.
    let mut input = TextPromptInput {
        char_name: "Alice".into(),
        user_name: "Bob".into(),
        ..TextPromptInput::default()
    };
    input.story.system = "You are Alice.".into();
    for m in &conversation()[1..] {
        input.history.push(Turn::new(m.role, "", m.content.clone()));
    }
    let preset = render_text_prompt(
        instruct_preset("Phi").unwrap(),
        context_preset("Plain").unwrap(),
        &input,
    )
    .unwrap();
    assert_eq!(preset.text, expected);
    assert_eq!(
        jinja_stop_strings(&source, "<|endoftext|>"),
        ["<|endoftext|>", "<|end|>"]
    );
}

fn hostile(source: &str) -> confab_core::Error {
    render_chat_template(source, &conversation(), "<s>", "</s>", true).unwrap_err()
}

#[test]
fn a_template_that_raises_gives_its_message() {
    let err = hostile("{{ raise_exception('no system role, please') }}");
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("no system role, please"), "{err}");
}

#[test]
fn endless_work_runs_out_of_fuel() {
    let nested = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}";
    assert_eq!(hostile(nested).code(), ErrorCode::TooLarge);
    let exponential = "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(20) }}";
    let err = hostile(exponential);
    assert_eq!(err.code(), ErrorCode::TooLarge, "{err}");
}

#[test]
fn deep_recursion_is_refused() {
    let err = hostile("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
    assert!(
        matches!(err.code(), ErrorCode::InvalidInput | ErrorCode::TooLarge),
        "{err}"
    );
}

#[test]
fn huge_output_is_cut_off() {
    let err = hostile("{% for i in range(20) %}{{ 'x' * 1000000 }}{% endfor %}");
    assert_eq!(err.code(), ErrorCode::TooLarge);
    assert!(err.to_string().contains("output"), "{err}");
}

#[test]
fn broken_and_oversized_templates_are_refused() {
    assert_eq!(hostile("{% for %}").code(), ErrorCode::InvalidInput);
    assert_eq!(
        hostile("{{ messages[0].content | nosuchfilter }}").code(),
        ErrorCode::InvalidInput
    );
    let big = "x".repeat(MAX_CHAT_TEMPLATE_BYTES + 1);
    assert_eq!(hostile(&big).code(), ErrorCode::TooLarge);
}

#[test]
fn python_string_methods_and_loop_controls_work() {
    let source = "{% for m in messages %}{% if loop.index > 2 %}{% break %}{% endif %}\
        {{ m.content.strip().upper() }}{% if m.content.startswith('Hi') %}!{% endif %}|{% endfor %}\
        {{ messages[0] | tojson }}";
    let out = render_chat_template(source, &conversation(), "", "", false).unwrap();
    assert_eq!(
        out,
        "YOU ARE ALICE.|HI!!|{\"role\": \"system\", \"content\": \"You are Alice.\"}"
    );
}

/// The presets write what the plain family templates write, turn for turn
/// (inline templates in the shape of Qwen2.5's ChatML and Llama 3's, without tools).
#[test]
fn presets_match_the_family_templates() {
    let chatml = "{%- for message in messages %}\
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\
        {%- endfor %}\
        {%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";
    let llama3 = "{% for message in messages %}\
        {% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' %}\
        {% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}\
        {% endfor %}\
        {% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
    let mut input = TextPromptInput {
        char_name: "Alice".into(),
        user_name: "Bob".into(),
        ..TextPromptInput::default()
    };
    input.story.system = "You are Alice.".into();
    for m in &conversation()[1..] {
        input.history.push(Turn::new(m.role, "", m.content.clone()));
    }
    for (source, preset, bos) in [
        (chatml, "ChatML", ""),
        (llama3, "Llama 3 Instruct", "<|begin_of_text|>"),
    ] {
        let jinja = render_chat_template(source, &conversation(), bos, "", true).unwrap();
        let text = render_text_prompt(
            instruct_preset(preset).unwrap(),
            context_preset("Plain").unwrap(),
            &input,
        )
        .unwrap()
        .text;
        // The server adds the BOS token to a text prompt itself.
        assert_eq!(format!("{bos}{text}"), jinja, "{preset}");
    }
}

#[test]
fn an_instruct_template_is_derived_from_a_jinja_template() {
    use confab_core::template::derive_instruct;
    let mut input = TextPromptInput {
        char_name: "Alice".into(),
        user_name: "Bob".into(),
        ..TextPromptInput::default()
    };
    input.story.system = "You are Alice.".into();
    for m in &conversation()[1..] {
        input.history.push(Turn::new(m.role, "", m.content.clone()));
    }
    // Where the template keeps the system text in a turn of its own, the
    // derived template writes exactly what the Jinja template writes.
    for (file, bos, eos) in [
        (
            "meta-llama-Llama-3.2-3B-Instruct.jinja",
            "<|begin_of_text|>",
            "<|eot_id|>",
        ),
        ("microsoft-Phi-3.5-mini-instruct.jinja", "", "<|endoftext|>"),
        (
            "mistralai-Mistral-Small-3.1-24B-Instruct-2503.jinja",
            "<s>",
            "</s>",
        ),
    ] {
        let source = fixture(file);
        let opts = options(bos, eos);
        let derived = derive_instruct(&source, &opts).unwrap_or_else(|| panic!("{file}"));
        let jinja = render_chat_template_with(&source, &conversation(), &opts).unwrap();
        let text = render_text_prompt(&derived, context_preset("Plain").unwrap(), &input)
            .unwrap()
            .text;
        assert_eq!(format!("{bos}{text}"), jinja, "{file}");
        assert_eq!(derived.stop_sequence, eos, "{file}");
    }
    let nemo = derive_instruct(
        &fixture("mistralai-Mistral-Nemo-Instruct-2407.jinja"),
        &options("<s>", "</s>"),
    )
    .unwrap();
    assert_eq!(
        (
            nemo.input_sequence.as_str(),
            nemo.input_suffix.as_str(),
            nemo.output_sequence.as_str(),
            nemo.output_suffix.as_str(),
            nemo.system_same_as_user,
        ),
        ("[INST]", "[/INST]", "", "</s>", true)
    );
    assert!(derive_instruct("{{ raise_exception('no') }}", &options("", "")).is_none());
    assert!(derive_instruct("static text", &options("", "")).is_none());
}
