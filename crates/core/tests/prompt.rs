//! Prompt assembly: the fixed frame and its order, `{{original}}`, preferences,
//! macros, how the prompt ends, the chat dictionary's rewriting, hostile input.
//! Placement (world info, examples, notes) is in prompt_placement.rs, token
//! accounting and trimming in prompt_budget.rs.

mod prompt_support;

use confab_core::card::CardData;
use confab_core::lore::{EntryPosition, EntryRole};
use confab_core::prompt::{
    assemble, assemble_with, substitute_macros, ExampleDialogue, HistoryMessage, MacroContext,
    PromptEnding, PromptInput, PromptSource, Rewrite, DEFAULT_PRIMARY_CONTEXT,
};
use confab_core::session::{BehaviourModifier, CharacterPreferences, RelationshipMode, Role};
use confab_core::tokens::default_counter;
use confab_core::Error;
use prompt_support::{
    check_accounting, contents, input, m, msg, note, run, wi, with_examples, Words,
};

#[test]
fn every_part_in_the_contract_order() {
    let p = run(&input());
    assert_eq!(
        p.messages,
        vec![
            m(
                Role::System,
                "Write Mira's reply to Ann.\n---\n\
                 You are Mira.\n---\n\
                 Mira is a sailor.\nPersonality: bold\nScenario: A storm at sea.\n---\n\
                 Ann is a cartographer.\n---\n\
                 USER PREFERENCE MODIFIERS\n- Mira and Ann are friends.\n- Keep replies short."
            ),
            m(Role::User, "Hello Mira."),
            m(Role::Assistant, "Ahoy, Ann!"),
            m(Role::System, "Stay in character.\n---\nReply in English."),
            m(Role::User, "Where are we?"),
        ]
    );
    let sources: Vec<PromptSource> = p.parts.iter().map(|x| x.source).collect();
    assert_eq!(
        sources,
        vec![
            PromptSource::PrimaryContext,
            PromptSource::CharacterSystemPrompt,
            PromptSource::CharacterDescription,
            PromptSource::PersonaDescription,
            PromptSource::Preferences,
            PromptSource::History,
            PromptSource::History,
            PromptSource::PostHistoryInstructions,
            PromptSource::GlobalPostHistory,
            PromptSource::NewMessage,
        ]
    );
    assert_eq!(p.dropped_history, 0);
}

#[test]
fn each_missing_part_takes_its_separator_with_it() {
    let full = run(&input()).messages[0].content.clone();
    let sections: Vec<&str> = full.split("\n---\n").collect();
    assert_eq!(sections.len(), 5);
    type Blank = fn(&mut PromptInput);
    let blanks: [Blank; 5] = [
        |i| i.primary_context = "  ".into(),
        |i| i.character.system_prompt = String::new(),
        |i| {
            i.character.description = String::new();
            i.character.personality = String::new();
            i.character.scenario = String::new();
        },
        |i| i.persona_description = String::new(),
        |i| i.preferences = None,
    ];
    for (n, blank) in blanks.iter().enumerate() {
        let mut inp = input();
        blank(&mut inp);
        let mut want = sections.clone();
        want.remove(n);
        assert_eq!(
            run(&inp).messages[0].content,
            want.join("\n---\n"),
            "part {n}"
        );
    }
    // Description lines are each optional too.
    let mut inp = input();
    inp.character.personality = String::new();
    assert!(run(&inp).messages[0]
        .content
        .contains("Mira is a sailor.\nScenario: A storm at sea.\n---\n"));
    inp.character.description = String::new();
    assert!(run(&inp).messages[0]
        .content
        .contains("\n---\nScenario: A storm at sea.\n---\n"));

    // Nothing at all: no system message, no post-history, no new message.
    let mut empty = input();
    empty.primary_context.clear();
    empty.character = CardData::default();
    empty.persona_description.clear();
    empty.preferences = Some(CharacterPreferences::default());
    empty.global_post_history.clear();
    empty.new_message = Some("   ".into());
    let p = run(&empty);
    assert_eq!(contents(&p), vec!["Hello .", "Ahoy, Ann!"]);
    empty.history.clear();
    let p = run(&empty);
    assert!(p.messages.is_empty() && p.parts.is_empty());
    assert_eq!(p.total_tokens, 0);

    // Post-history: each half alone.
    let mut inp = input();
    inp.global_post_history.clear();
    assert_eq!(run(&inp).messages[3].content, "Stay in character.");
    let mut inp = input();
    inp.character.post_history_instructions.clear();
    assert_eq!(run(&inp).messages[3].content, "Reply in English.");
}

#[test]
fn original_wraps_the_global_texts_once() {
    let mut inp = input();
    inp.character.system_prompt = "[{{original}}] Also: you are {{char}}.".into();
    inp.character.post_history_instructions = "{{ORIGINAL}} And stay in character.".into();
    let p = run(&inp);
    assert!(p.messages[0]
        .content
        .starts_with("[Write Mira's reply to Ann.] Also: you are Mira.\n---\nMira is a sailor."));
    assert_eq!(
        p.messages[3].content,
        "Reply in English. And stay in character."
    );
    let sources: Vec<PromptSource> = p.parts.iter().map(|x| x.source).collect();
    assert!(!sources.contains(&PromptSource::PrimaryContext));
    assert!(!sources.contains(&PromptSource::GlobalPostHistory));
    assert_eq!(
        p.parts[0].label,
        "character system prompt (with the primary context)"
    );
    // Without the card's prompt, {{original}} elsewhere is empty.
    let mut inp = input();
    inp.persona_description = "x{{original}}y".into();
    assert!(run(&inp).messages[0].content.contains("\n---\nxy\n---\n"));
}

#[test]
fn preferences_in_the_prompt() {
    let mut inp = input();
    inp.preferences = Some(CharacterPreferences {
        relationship: RelationshipMode::Custom,
        custom_relationship: "{{char}} owes {{user}} a favour".into(),
        behaviour: vec![BehaviourModifier::BeProtective],
        ..Default::default()
    });
    let p = run(&inp);
    assert!(p.messages[0].content.ends_with(
        "\n---\nUSER PREFERENCE MODIFIERS\n\
         - Relationship between Mira and Ann: Mira owes Ann a favour\n\
         - Be protective of Ann."
    ));
    inp.preferences.as_mut().unwrap().summary = "Only this.".into();
    assert!(run(&inp).messages[0]
        .content
        .ends_with("\n---\nUSER PREFERENCE MODIFIERS\nOnly this."));
    inp.preferences = Some(CharacterPreferences {
        behaviour: vec![BehaviourModifier::BeWarm, BehaviourModifier::BeCold],
        ..Default::default()
    });
    let err = assemble(&inp, &Words).unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)));
    assert!(err.to_string().contains("be_warm and be_cold"), "{err}");
}

#[test]
fn macros_reach_every_part() {
    let mut inp = input();
    inp.character.scenario = "On {{weekday}}, {{isodate}}.".into();
    inp.history = vec![msg(Role::User, "<USER> meets <BOT> at {{time}}")];
    inp.global_post_history = "Roll {{roll:d6}}".into();
    inp.new_message = Some("{{user}} asks {{CHAR}} about {{unknown}}".into());
    inp.world_info = vec![wi(
        1,
        EntryPosition::AtDepth,
        0,
        EntryRole::System,
        "{{char}} knows",
    )];
    let p = run(&inp);
    assert!(p.messages[0]
        .content
        .contains("Scenario: On Wednesday, 2024-06-05."));
    assert_eq!(p.messages[1].content, "Ann meets Mira at 3:45 PM");
    assert_eq!(p.messages[4].content, "Mira knows");
    let roll: u32 = p.messages[2]
        .content
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=6).contains(&roll));
    assert_eq!(p.messages[3].content, "Ann asks Mira about {{unknown}}");
    // The nickname is what {{char}} means.
    inp.character.nickname = Some("Mimi".into());
    assert!(run(&inp).messages[0].content.starts_with("Write Mimi's"));
    // Same seed, same prompt.
    assert_eq!(run(&inp), run(&inp));
}

#[test]
fn default_primary_context_reads_well() {
    let ctx = MacroContext {
        char_name: "Mira".into(),
        user_name: "Ann".into(),
        ..Default::default()
    };
    let text = substitute_macros(DEFAULT_PRIMARY_CONTEXT, &ctx);
    assert!(text.starts_with("Write Mira's next reply in a fictional chat between Mira and Ann."));
    assert!(!text.contains("{{"));
}

#[test]
fn hostile_input_never_panics() {
    let mut inp = input();
    inp.context_window = 0;
    inp.reply_reserve = 0;
    assert!(assemble(&inp, &Words).is_err());
    inp.primary_context = "{{".into();
    inp.character = CardData {
        name: "{{user}}".into(),
        system_prompt: "{{original}}{{original}}{{trim}}".into(),
        description: "<US".into(),
        personality: "{{roll:99999999999999999999d6}} {{random}} {{pick:}} {{roll:d0}}".into(),
        scenario: "}}{{}}{{ }}{{random::}}é{{".into(),
        post_history_instructions: "\u{0}{{// }}".into(),
        ..CardData::default()
    };
    inp.persona_description = "\n{{newline}}\n".into();
    inp.preferences = None;
    inp.now = "2024-02-30T25:61:00Z".into();
    inp.new_message = Some("{{date}}".into());
    inp.context_window = u32::MAX;
    inp.world_info = vec![wi(
        u32::MAX,
        EntryPosition::AtDepth,
        u32::MAX,
        EntryRole::User,
        "x",
    )];
    let p = assemble(&inp, default_counter()).unwrap();
    assert_eq!(p.messages.last().unwrap().content, "{{date}}");
}

#[test]
fn continue_and_impersonate_end_the_prompt() {
    let mut inp = input();
    inp.world_info = vec![wi(
        1,
        EntryPosition::AtDepth,
        0,
        EntryRole::System,
        "late lore",
    )];
    inp.new_message = None;
    inp.ending = PromptEnding::Continue("The wind {{char}} ".into());
    let p = run(&inp);
    // The reply so far goes last, exactly as written (no macros, no trimming).
    assert_eq!(
        p.messages.last().unwrap(),
        &m(Role::Assistant, "The wind {{char}} ")
    );
    assert_eq!(
        p.parts.last().unwrap().source,
        PromptSource::ContinuePrefill
    );
    // With no new message, depth 0 is the end of the history, before the post-history.
    let n = p.messages.len();
    assert_eq!(p.messages[n - 3].content, "late lore");
    assert_eq!(
        p.messages[n - 2].content,
        "Stay in character.\n---\nReply in English."
    );
    check_accounting(&p);
    inp.ending = PromptEnding::Impersonate("[Write as {{user}}.]".into());
    let p = run(&inp);
    assert_eq!(
        p.messages.last().unwrap(),
        &m(Role::System, "[Write as Ann.]")
    );
    assert_eq!(
        p.parts.last().unwrap().source,
        PromptSource::ImpersonationInstruction
    );
}

#[test]
fn a_blank_message_with_images_still_goes() {
    let mut inp = input();
    inp.new_message = Some(String::new());
    assert_ne!(
        run(&inp).parts.last().unwrap().source,
        PromptSource::NewMessage
    );
    inp.new_message_images = 1;
    let p = run(&inp);
    assert_eq!(p.parts.last().unwrap().source, PromptSource::NewMessage);
    assert_eq!(p.messages.last().unwrap(), &m(Role::User, ""));
}

/// Rewrites "colour" to "color", as a prompt-scope dictionary rule would.
struct Colour;

impl Rewrite for Colour {
    fn rewrite<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        if text.contains("colour") {
            std::borrow::Cow::Owned(text.replace("colour", "color"))
        } else {
            std::borrow::Cow::Borrowed(text)
        }
    }
}

#[test]
fn the_dictionary_rewrites_every_part_before_it_is_counted() {
    let mut inp = with_examples(ExampleDialogue::Keep);
    inp.character.description = "A colour-blind sailor.".into();
    inp.history = vec![HistoryMessage {
        tokens: Some(99),
        ..msg(Role::User, "What colour is the sea?")
    }];
    inp.authors_note = Some(note("colour", 1, Role::System));
    inp.new_message = Some("colour me surprised".into());
    let p = assemble_with(&inp, &Words, &Colour).unwrap();
    for message in &p.messages {
        assert!(!message.content.contains("colour"), "{}", message.content);
    }
    for part in &p.parts {
        assert!(!part.text.contains("colour"), "{}", part.label);
    }
    // The stored count was for the unrewritten text: the sent text is counted instead.
    let history = p.parts.iter().find(|x| x.label == "message 1").unwrap();
    assert_eq!(history.tokens, 5);
    check_accounting(&p);
}
