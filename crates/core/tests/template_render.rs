//! Text prompts through instruct and context templates: the story string,
//! names, examples, endings, stop strings, SillyTavern JSON, and the
//! conversion from an assembled prompt. Expected texts are written by hand.

use confab_core::prompt::{AssembledPrompt, PromptMessage, PromptPart, PromptSource};
use confab_core::session::Role;
use confab_core::template::{
    context_preset, instruct_preset, instruct_presets, render_story_string, render_text_prompt,
    ContextTemplate, InstructTemplate, NamesBehavior, StoryFields, StoryStringPosition, TextEnding,
    TextPromptInput, Turn, MAX_STORY_DEPTH,
};
use confab_core::ErrorCode;

fn chatml() -> InstructTemplate {
    instruct_preset("ChatML").unwrap().clone()
}

fn plain() -> ContextTemplate {
    context_preset("Plain").unwrap().clone()
}

fn input(history: Vec<Turn>) -> TextPromptInput {
    TextPromptInput {
        char_name: "Alice".into(),
        user_name: "Bob".into(),
        history,
        ..TextPromptInput::default()
    }
}

fn u(text: &str) -> Turn {
    Turn::new(Role::User, "Bob", text)
}

fn a(text: &str) -> Turn {
    Turn::new(Role::Assistant, "Alice", text)
}

fn story(source: &str, fields: &StoryFields) -> String {
    render_story_string(source, fields, "Alice", "Bob", "").unwrap()
}

fn story_err(source: &str) -> ErrorCode {
    render_story_string(source, &StoryFields::default(), "Alice", "Bob", "")
        .unwrap_err()
        .code()
}

#[test]
fn story_string_blocks_fields_and_trim() {
    let fields = StoryFields {
        description: "x".into(),
        ..StoryFields::default()
    };
    assert_eq!(
        story(
            "{{#if description}}D: {{description}}\n{{else}}none\n{{/if}}{{#unless scenario}}no scenario{{/unless}}",
            &fields
        ),
        "D: x\nno scenario"
    );
    assert_eq!(
        story("{{#if scenario}}S{{else}}no S{{/if}}", &fields),
        "no S"
    );
    assert_eq!(story("A\n\n{{trim}}\n\nB", &fields), "AB");
    let llama = "<|start_header_id|>system<|end_header_id|>\n\n{{#if description}}{{description}}\n{{/if}}{{trim}}<|eot_id|>";
    assert_eq!(
        story(llama, &fields),
        "<|start_header_id|>system<|end_header_id|>\n\nx<|eot_id|>"
    );
    assert_eq!(
        story("\n\n{{char}} and {{ user }}", &fields),
        "Alice and Bob"
    );
    assert_eq!(story("a{{random}}b{{{description}}}", &fields), "abx");
    assert_eq!(story("a{{! note }}b{{!-- {{x}} --}}c", &fields), "abc");
    assert_eq!(story("a  {{~description~}}  b", &fields), "axb");
    assert_eq!(
        story("{{#if description}}{{#if scenario}}both{{else}}{{#unless persona}}only d{{/unless}}{{/if}}{{/if}}", &fields),
        "only d"
    );
}

#[test]
fn broken_or_oversized_story_strings_are_refused() {
    assert_eq!(story_err("{{#if description}}x"), ErrorCode::InvalidInput);
    assert_eq!(story_err("x{{/if}}"), ErrorCode::InvalidInput);
    assert_eq!(story_err("{{#if a}}x{{/unless}}"), ErrorCode::InvalidInput);
    assert_eq!(
        story_err("{{#if a}}x{{else}}y{{else}}z{{/if}}"),
        ErrorCode::InvalidInput
    );
    assert_eq!(story_err("{{#each a}}x{{/each}}"), ErrorCode::InvalidInput);
    assert_eq!(story_err("{{#if}}x{{/if}}"), ErrorCode::InvalidInput);
    assert_eq!(story_err("{{description"), ErrorCode::InvalidInput);
    let deep = "{{#if a}}".repeat(MAX_STORY_DEPTH + 1) + &"{{/if}}".repeat(MAX_STORY_DEPTH + 1);
    assert_eq!(story_err(&deep), ErrorCode::TooLarge);
    assert_eq!(story_err(&"x".repeat(70 * 1024)), ErrorCode::TooLarge);
    let fields = StoryFields {
        description: "d".repeat(1024 * 1024),
        ..StoryFields::default()
    };
    let err =
        render_story_string(&"{{description}}".repeat(10), &fields, "A", "B", "").unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooLarge);
}

#[test]
fn examples_separators_and_chat_start() {
    let mut inp = input(vec![u("Hi!")]);
    inp.story.system = "Sys.".into();
    inp.story.description = "Desc.".into();
    inp.examples = vec![vec![u("Hey"), a("Yo")]];
    let mut context = context_preset("Default").unwrap().clone();
    let out = render_text_prompt(&chatml(), &context, &inp).unwrap();
    assert_eq!(
        out.text,
        "<|im_start|>system\nSys.\nDesc.<|im_end|>\n***\n\
         <|im_start|>user\nBob: Hey<|im_end|>\n<|im_start|>assistant\nYo<|im_end|>\n\
         ***\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n"
    );
    assert_eq!(
        out.story_string,
        "<|im_start|>system\nSys.\nDesc.<|im_end|>\n"
    );
    assert_eq!(
        out.stop,
        [
            "\nBob:",
            "<|im_end|>",
            "\n<|im_start|>user",
            "\n<|im_start|>assistant",
            "\n<|im_start|>system"
        ]
    );
    context.use_stop_strings = true;
    let out = render_text_prompt(&chatml(), &context, &inp).unwrap();
    assert_eq!(out.stop.last().map(String::as_str), Some("\n***"));
    assert_eq!(out.stop.iter().filter(|s| *s == "\n***").count(), 1);

    // skip_examples: plain lines; a story string that reads them gets them instead.
    let mut skip = chatml();
    skip.skip_examples = true;
    context.story_string = "{{#if mesExamples}}Examples:\n{{mesExamples}}{{/if}}".into();
    let out = render_text_prompt(&skip, &context, &inp).unwrap();
    assert_eq!(
        out.text,
        "<|im_start|>system\nExamples:\n***\nBob: Hey\nAlice: Yo<|im_end|>\n\
         ***\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n"
    );
}

#[test]
fn group_chats_name_the_characters_but_not_the_user() {
    let mut inp = input(vec![
        u("Hi all"),
        Turn::new(Role::Assistant, "Carol", "Carol: Hey Bob"),
        a("Hello"),
    ]);
    inp.group_members = vec!["Carol".into()];
    let out = render_text_prompt(&chatml(), &plain(), &inp).unwrap();
    assert_eq!(
        out.text,
        "<|im_start|>user\nHi all<|im_end|>\n<|im_start|>assistant\nCarol: Hey Bob<|im_end|>\n\
         <|im_start|>assistant\nAlice: Hello<|im_end|>\n<|im_start|>assistant\nAlice:"
    );
    assert_eq!(out.prefill, "<|im_start|>assistant\nAlice:");
    assert_eq!(&out.stop[..2], ["\nBob:", "\nCarol:"]);
}

#[test]
fn names_always_none_and_system_turns() {
    let mut llama = instruct_preset("Llama 3 Instruct").unwrap().clone();
    llama.names_behavior = NamesBehavior::Always;
    let inp = input(vec![u("Hi"), Turn::new(Role::System, "", "[Note]")]);
    let out = render_text_prompt(&llama, &plain(), &inp).unwrap();
    assert_eq!(
        out.text,
        "<|start_header_id|>user<|end_header_id|>\n\nBob: Hi<|eot_id|>\
         <|start_header_id|>system<|end_header_id|>\n\n[Note]<|eot_id|>\
         <|start_header_id|>assistant<|end_header_id|>\n\nAlice:"
    );
    llama.names_behavior = NamesBehavior::None;
    let mut group = input(vec![a("Hello")]);
    group.group_members = vec!["Carol".into()];
    let out = render_text_prompt(&llama, &plain(), &group).unwrap();
    assert_eq!(
        out.text,
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|>\
         <|start_header_id|>assistant<|end_header_id|>\n\n"
    );
}

#[test]
fn continue_and_impersonate() {
    let mut inp = input(vec![u("Hi"), a("Once upon")]);
    inp.ending = TextEnding::Continue;
    let out = render_text_prompt(&chatml(), &plain(), &inp).unwrap();
    assert_eq!(
        out.text,
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nOnce upon"
    );
    assert_eq!(out.prefill, "<|im_start|>assistant\nOnce upon");

    inp.ending = TextEnding::Impersonate;
    inp.history = vec![u("Hi"), a("Hello")];
    let out = render_text_prompt(&chatml(), &plain(), &inp).unwrap();
    assert_eq!(
        out.text,
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n<|im_start|>user\n"
    );
    assert_eq!(&out.stop[..2], ["\nAlice:", "\nBob:"]);
}

#[test]
fn alignment_message_and_first_and_last_sequences() {
    let t = InstructTemplate {
        input_sequence: "[U]".into(),
        input_suffix: "\n".into(),
        output_sequence: "[A]".into(),
        output_suffix: "\n".into(),
        first_output_sequence: "[A1]".into(),
        last_input_sequence: "[UL]".into(),
        user_alignment_message: "Begin.".into(),
        names_behavior: NamesBehavior::None,
        wrap: false,
        ..InstructTemplate::default()
    };
    let inp = input(vec![a("Hello"), u("Hi"), a("Yo"), u("Bye")]);
    let out = render_text_prompt(&t, &plain(), &inp).unwrap();
    assert_eq!(out.text, "[U]Begin.\n[A1]Hello\n[U]Hi\n[A]Yo\n[UL]Bye\n[A]");
    // A chat that opens with the user needs no alignment.
    let out = render_text_prompt(&t, &plain(), &input(vec![u("Hi")])).unwrap();
    assert_eq!(out.text, "[UL]Hi\n[A]");
}

#[test]
fn a_spaced_turn_opening_keeps_its_space_before_the_name() {
    let t = InstructTemplate {
        input_sequence: "USER: ".into(),
        output_sequence: "ASSISTANT: ".into(),
        last_output_sequence: "ASSISTANT:".into(),
        names_behavior: NamesBehavior::Always,
        wrap: false,
        ..InstructTemplate::default()
    };
    let out = render_text_prompt(&t, &plain(), &input(vec![u("Hi")])).unwrap();
    assert_eq!(out.text, "USER: Bob: HiASSISTANT: Alice:");
}

#[test]
fn the_story_string_can_sit_in_the_chat() {
    let context = ContextTemplate {
        story_string: "{{description}}".into(),
        story_string_position: StoryStringPosition::InChat,
        story_string_depth: 1,
        ..ContextTemplate::default()
    };
    let mut inp = input(vec![u("Hi"), a("Yo"), u("Go")]);
    inp.story.description = "Desc.".into();
    let out = render_text_prompt(&chatml(), &context, &inp).unwrap();
    assert_eq!(
        out.text,
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nYo<|im_end|>\n\
         <|im_start|>system\nDesc.<|im_end|>\n<|im_start|>user\nGo<|im_end|>\n<|im_start|>assistant\n"
    );
    assert_eq!(out.story_string, "");
}

#[test]
fn an_assembled_group_prompt_keeps_each_speakers_name() {
    let texts = [
        (Role::System, "SYS", PromptSource::PrimaryContext),
        (Role::User, "Bob: Hi all", PromptSource::History),
        (Role::Assistant, "Carol: Hey Bob", PromptSource::History),
        (Role::Assistant, "Alice: Hello", PromptSource::History),
        (Role::User, "Bob: What now?", PromptSource::NewMessage),
    ];
    let prompt = AssembledPrompt {
        messages: texts
            .iter()
            .map(|(role, content, _)| PromptMessage {
                role: *role,
                content: (*content).into(),
            })
            .collect(),
        parts: texts
            .iter()
            .enumerate()
            .map(|(i, (_, _, source))| part(*source, i as u32))
            .collect(),
        ..AssembledPrompt::default()
    };
    let members = ["Carol".to_owned()];
    let got = TextPromptInput::from_assembled(&prompt, "Alice", "Bob", &members);
    let names: Vec<&str> = got.history.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Bob", "Carol", "Alice", "Bob"]);
    let out = render_text_prompt(&chatml(), &plain(), &got).unwrap();
    assert_eq!(
        out.text,
        "<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\nBob: Hi all<|im_end|>\n\
         <|im_start|>assistant\nCarol: Hey Bob<|im_end|>\n<|im_start|>assistant\nAlice: Hello<|im_end|>\n\
         <|im_start|>user\nBob: What now?<|im_end|>\n<|im_start|>assistant\nAlice:"
    );
}

fn part(source: PromptSource, index: u32) -> PromptPart {
    PromptPart {
        source,
        label: String::new(),
        message_index: index,
        text: String::new(),
        tokens: 0,
    }
}

#[test]
fn an_assembled_prompt_becomes_text_input() {
    let texts = [
        (Role::System, "SYS BLOCK", PromptSource::PrimaryContext),
        (
            Role::System,
            "[Example Chat]",
            PromptSource::ExampleDialogue,
        ),
        (Role::User, "Hey", PromptSource::ExampleDialogue),
        (Role::Assistant, "Yo", PromptSource::ExampleDialogue),
        (Role::System, "[Start a new Chat]", PromptSource::ChatStart),
        (Role::User, "Hi", PromptSource::History),
        (Role::System, "Note", PromptSource::AuthorsNote),
        (Role::Assistant, "partial", PromptSource::ContinuePrefill),
    ];
    let prompt = AssembledPrompt {
        messages: texts
            .iter()
            .map(|(role, content, _)| PromptMessage {
                role: *role,
                content: (*content).into(),
            })
            .collect(),
        parts: texts
            .iter()
            .enumerate()
            .map(|(i, (_, _, source))| part(*source, i as u32))
            .collect(),
        ..AssembledPrompt::default()
    };
    let got = TextPromptInput::from_assembled(&prompt, "Alice", "Bob", &[]);
    assert_eq!(got.story.system, "SYS BLOCK");
    assert_eq!(got.examples, vec![vec![u("Hey"), a("Yo")]]);
    assert_eq!(
        got.history,
        vec![u("Hi"), Turn::new(Role::System, "", "Note"), a("partial")]
    );
    assert_eq!(got.ending, TextEnding::Continue);
    let out = render_text_prompt(&chatml(), &plain(), &got).unwrap();
    assert!(out
        .text
        .starts_with("<|im_start|>system\nSYS BLOCK<|im_end|>\n<|im_start|>user\nBob: Hey"));
    assert!(out
        .text
        .ends_with("<|im_start|>system\nNote<|im_end|>\n<|im_start|>assistant\npartial"));
}

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/st_templates/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

fn as_value(json: &str) -> serde_json::Value {
    serde_json::from_str(json).unwrap()
}

#[test]
fn sillytavern_instruct_json_round_trips() {
    let source = fixture("instruct-chatml-current.json");
    let t = InstructTemplate::from_st_json(&source).unwrap();
    assert_eq!(t.name, "My ChatML");
    assert_eq!(t.story_string_prefix, "<|im_start|>system");
    assert_eq!(t.names_behavior, NamesBehavior::Force);
    assert!(t.extra.contains_key("a_future_field"));
    let exported = t.to_st_json().unwrap();
    assert_eq!(as_value(&exported), as_value(&source));
    assert_eq!(InstructTemplate::from_st_json(&exported).unwrap(), t);
}

#[test]
fn older_sillytavern_instruct_files_are_read_and_keep_their_keys() {
    let source = fixture("instruct-metharme-legacy.json");
    let t = InstructTemplate::from_st_json(&source).unwrap();
    assert_eq!(t.story_string_prefix, "<|system|>");
    assert_eq!(t.names_behavior, NamesBehavior::Always);
    assert!(t.sequences_as_stop_strings);
    let exported = as_value(&t.to_st_json().unwrap());
    for (key, value) in as_value(&source).as_object().unwrap() {
        assert_eq!(exported.get(key), Some(value), "{key}");
    }
}

#[test]
fn sillytavern_context_json_round_trips() {
    let source = fixture("context-llama3-in-chat.json");
    let c = ContextTemplate::from_st_json(&source).unwrap();
    assert_eq!(c.story_string_position, StoryStringPosition::InChat);
    assert_eq!(c.story_string_depth, 2);
    assert_eq!(
        c.extra.get("always_force_name2"),
        Some(&serde_json::json!(true))
    );
    assert_eq!(as_value(&c.to_st_json().unwrap()), as_value(&source));
}

#[test]
fn built_in_presets_survive_export_and_import() {
    for p in instruct_presets() {
        let back = InstructTemplate::from_st_json(&p.to_st_json().unwrap()).unwrap();
        assert_eq!(&back, p, "{}", p.name);
    }
}

#[test]
fn hostile_template_files_get_typed_errors() {
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(300 * 1024));
    assert_eq!(
        InstructTemplate::from_st_json(&big).unwrap_err().code(),
        ErrorCode::TooLarge
    );
    let deep = format!("{{\"x\": {}{}}}", "[".repeat(5000), "]".repeat(5000));
    assert_eq!(
        InstructTemplate::from_st_json(&deep).unwrap_err().code(),
        ErrorCode::InvalidInput
    );
    assert_eq!(
        InstructTemplate::from_st_json("[1, 2]").unwrap_err().code(),
        ErrorCode::InvalidInput
    );
    assert_eq!(
        InstructTemplate::from_st_json("{").unwrap_err().code(),
        ErrorCode::InvalidInput
    );
    let wrong = r#"{"input_sequence": 42}"#;
    assert_eq!(
        InstructTemplate::from_st_json(wrong).unwrap_err().code(),
        ErrorCode::InvalidInput
    );
    let odd = r#"{"names_behavior": "sometimes"}"#;
    assert_eq!(
        InstructTemplate::from_st_json(odd).unwrap().names_behavior,
        NamesBehavior::Force
    );
    let broken = r#"{"story_string": "{{#if description}}unclosed"}"#;
    assert_eq!(
        ContextTemplate::from_st_json(broken).unwrap_err().code(),
        ErrorCode::InvalidInput
    );
}

#[test]
fn a_master_export_and_a_listed_stop_sequence_are_read() {
    use confab_core::template::templates_from_st_master_json;
    let master = format!(
        r#"{{"instruct": {}, "context": {}, "sysprompt": {{"name": "x", "content": "y"}}}}"#,
        fixture("instruct-chatml-current.json"),
        fixture("context-llama3-in-chat.json")
    );
    let (instruct, context) = templates_from_st_master_json(&master).unwrap();
    assert_eq!(instruct.map(|t| t.name), Some("My ChatML".into()));
    assert_eq!(context.map(|c| c.name), Some("Story In Chat".into()));
    let (none, _) = templates_from_st_master_json(r#"{"context": {"story_string": "x"}}"#).unwrap();
    assert!(none.is_none());
    let listed =
        InstructTemplate::from_st_json(r#"{"stop_sequence": ["</s>", "<|eot_id|>"]}"#).unwrap();
    assert_eq!(listed.stop_sequence, "</s>\n<|eot_id|>");
}

#[test]
fn arbitrary_story_strings_and_sequences_never_panic() {
    const PIECES: &[&str] = &[
        "{{",
        "}}",
        "{{{",
        "}}}",
        "#if ",
        "#unless ",
        "/if",
        "/unless",
        "else",
        "~",
        "!",
        "--",
        "description",
        "trim",
        "{{trim}}",
        "\n",
        "\r\n",
        " ",
        "é",
        "名",
        "{{#if description}}",
        "{{/if}}",
        "{{else}}",
        "{{name}}",
        "{{char}}",
        ":",
        "<|im_end|>",
    ];
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let fields = StoryFields {
        description: "d".into(),
        ..StoryFields::default()
    };
    for _ in 0..3000 {
        let len = (next() % 24) as usize;
        let s: String = (0..len)
            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
            .collect();
        if let Err(e) = render_story_string(&s, &fields, "A", "B", "") {
            assert!(matches!(
                e.code(),
                ErrorCode::InvalidInput | ErrorCode::TooLarge
            ));
        }
        let t = InstructTemplate {
            input_sequence: s.clone(),
            output_sequence: s.chars().rev().collect(),
            stop_sequence: s.clone(),
            last_output_sequence: s.replace('{', ""),
            wrap: next() % 2 == 0,
            names_behavior: NamesBehavior::Always,
            ..InstructTemplate::default()
        };
        let mut inp = input(vec![u(&s), a("x")]);
        inp.ending = [
            TextEnding::Reply,
            TextEnding::Continue,
            TextEnding::Impersonate,
        ][(next() % 3) as usize];
        let out = render_text_prompt(&t, &plain(), &inp).unwrap();
        assert!(out.text.ends_with(&out.prefill));
        assert!(out.stop.iter().all(|s| !s.is_empty()));
    }
}
