//! Prompt assembly: order, placement, trimming, preferences, macros, explanation.

use confab_core::card::CardData;
use confab_core::lore::{Activation, ActivationReason, EntryPosition, EntryRole};
use confab_core::prompt::{
    assemble, assemble_with, explain, substitute_macros, AssembledPrompt, AuthorsNote,
    CharacterNote, ExampleDialogue, HistoryMessage, MacroContext, NotePosition, PromptEnding,
    PromptInput, PromptMessage, PromptSource, Rewrite, DEFAULT_PRIMARY_CONTEXT, NOT_PLACED,
};
use confab_core::session::{
    BehaviourModifier, CharacterPreferences, RelationshipMode, Role, SpeechModifier,
};
use confab_core::tokens::{default_counter, EstimateCounter, TokenCounter};
use confab_core::Error;

/// One token per whitespace-separated word: exact arithmetic in tests.
struct Words;
impl TokenCounter for Words {
    fn count(&self, text: &str) -> u32 {
        text.split_whitespace().count() as u32
    }
}

fn card() -> CardData {
    CardData {
        name: "Mira".into(),
        description: "{{char}} is a sailor.".into(),
        personality: "bold".into(),
        scenario: "A storm at sea.".into(),
        system_prompt: "You are {{char}}.".into(),
        post_history_instructions: "Stay in character.".into(),
        ..CardData::default()
    }
}

fn msg(role: Role, content: &str) -> HistoryMessage {
    HistoryMessage {
        role,
        name: match role {
            Role::User => "Ann",
            _ => "Mira",
        }
        .into(),
        content: content.into(),
        tokens: None,
    }
}

fn input() -> PromptInput {
    PromptInput {
        primary_context: "Write {{char}}'s reply to {{user}}.".into(),
        character: card(),
        user_name: "Ann".into(),
        persona_description: "{{user}} is a cartographer.".into(),
        preferences: Some(CharacterPreferences {
            relationship: RelationshipMode::Friend,
            speech: vec![SpeechModifier::TalkLess],
            ..Default::default()
        }),
        world_info: Vec::new(),
        example_dialogue: ExampleDialogue::Gradual,
        character_note: None,
        authors_note: None,
        user_turns: 2,
        history: vec![
            msg(Role::User, "Hello {{char}}."),
            msg(Role::Assistant, "Ahoy, {{user}}!"),
        ],
        global_post_history: "Reply in English.".into(),
        new_message: Some("Where are we?".into()),
        new_message_images: 0,
        ending: PromptEnding::Reply,
        context_window: 100_000,
        reply_reserve: 1_000,
        now: "2024-06-05T15:45:00+02:00".into(),
        seed: 1,
    }
}

fn wi(uid: u32, position: EntryPosition, depth: u32, role: EntryRole, content: &str) -> Activation {
    Activation {
        book: "book".into(),
        uid,
        comment: format!("E{uid}"),
        position,
        depth,
        role,
        order: 100,
        tokens: 1,
        reason: ActivationReason::Constant,
        group_won: None,
        content: content.into(),
        outlet: String::new(),
    }
}

fn m(role: Role, content: &str) -> PromptMessage {
    PromptMessage {
        role,
        content: content.into(),
    }
}

fn run(input: &PromptInput) -> AssembledPrompt {
    assemble(input, &Words).unwrap()
}

fn contents(p: &AssembledPrompt) -> Vec<&str> {
    p.messages.iter().map(|m| m.content.as_str()).collect()
}

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
fn world_info_at_every_position() {
    let mut inp = input();
    inp.history = (1..=4)
        .map(|i| {
            msg(
                if i % 2 == 1 {
                    Role::User
                } else {
                    Role::Assistant
                },
                &format!("h{i}"),
            )
        })
        .collect();
    inp.world_info = vec![
        wi(
            1,
            EntryPosition::BeforeCharacter,
            0,
            EntryRole::System,
            "before1",
        ),
        wi(
            2,
            EntryPosition::AfterCharacter,
            0,
            EntryRole::System,
            "after2",
        ),
        wi(
            3,
            EntryPosition::ExampleMessagesTop,
            0,
            EntryRole::System,
            "before3",
        ),
        wi(
            4,
            EntryPosition::AuthorsNoteTop,
            0,
            EntryRole::System,
            "after4",
        ),
        wi(
            5,
            EntryPosition::AuthorsNoteBottom,
            0,
            EntryRole::System,
            "after5",
        ),
        wi(
            6,
            EntryPosition::ExampleMessagesBottom,
            0,
            EntryRole::System,
            "after6",
        ),
        wi(7, EntryPosition::AtDepth, 0, EntryRole::System, "depth0"),
        wi(8, EntryPosition::AtDepth, 2, EntryRole::User, "depth2 user"),
        wi(
            9,
            EntryPosition::AtDepth,
            2,
            EntryRole::System,
            "depth2 system",
        ),
        wi(
            10,
            EntryPosition::AtDepth,
            2,
            EntryRole::System,
            "depth2 system b",
        ),
        wi(11, EntryPosition::AtDepth, 99, EntryRole::Assistant, "deep"),
        wi(
            12,
            EntryPosition::Outlet,
            0,
            EntryRole::System,
            "outlet {{char}}",
        ),
        wi(
            13,
            EntryPosition::BeforeCharacter,
            0,
            EntryRole::System,
            "  {{noop}} ",
        ),
    ];
    inp.world_info[11].outlet = "Lore".into();
    inp.persona_description = "{{user}} is a cartographer. {{outlet::Lore}}".into();
    let p = run(&inp);
    assert!(p.messages[0].content.contains(
        "\n---\nbefore1\nMira is a sailor.\nPersonality: bold\nScenario: A storm at sea.\n\
         after2\n---\nAnn is a cartographer. outlet Mira\n---\n"
    ));
    // With no note and no example dialogue, entries placed there still go
    // where SillyTavern puts them: examples as an example chat, the note's
    // entries in the chat at the note's default depth (4) as system.
    assert_eq!(
        &p.messages[1..],
        &[
            m(Role::System, "[Example Chat]"),
            m(Role::System, "before3"),
            m(Role::System, "[Example Chat]"),
            m(Role::System, "after6"),
            m(Role::System, "[Start a new Chat]"),
            m(Role::Assistant, "deep"),
            m(Role::User, "h1"),
            m(Role::System, "after4\nafter5"),
            m(Role::Assistant, "h2"),
            m(Role::User, "h3"),
            m(Role::User, "depth2 user"),
            m(Role::System, "depth2 system\ndepth2 system b"),
            m(Role::Assistant, "h4"),
            m(Role::System, "Stay in character.\n---\nReply in English."),
            m(Role::User, "Where are we?"),
            m(Role::System, "depth0"),
        ]
    );
    // The outlet's entry points at the message that pulled it in; blank entries leave no trace.
    let outlet = p.parts.last().unwrap();
    assert_eq!(outlet.source, PromptSource::WorldInfo);
    assert_eq!(outlet.message_index, 0);
    assert_eq!(outlet.text, "outlet Mira");
    assert_eq!(outlet.label, "world info #12 E12 (outlet Lore)");
    assert!(!p.parts.iter().any(|x| x.label.contains("#13")));
    // Labels and indices of the placed ones.
    let find = |uid: &str| {
        p.parts
            .iter()
            .find(|x| x.label.starts_with(&format!("world info #{uid} ")))
            .unwrap()
    };
    assert_eq!(find("1").label, "world info #1 E1 (before character)");
    assert_eq!(find("1").message_index, 0);
    assert_eq!(
        find("3").label,
        "world info #3 E3 (before the example dialogue), narration"
    );
    assert_eq!(find("3").message_index, 2);
    assert_eq!(
        find("6").label,
        "world info #6 E6 (after the example dialogue), narration"
    );
    assert_eq!(
        find("4").label,
        "world info #4 E4 (top of the Author's Note)"
    );
    assert_eq!(find("4").message_index, 8);
    assert_eq!(find("8").label, "world info #8 E8 (at depth 2, user)");
    assert_eq!(find("8").message_index, 11);
    assert_eq!(find("9").message_index, 12);
    assert_eq!(find("10").message_index, 12);
    assert_eq!(find("11").message_index, 6);
    assert_eq!(find("7").message_index, 16);
    // An outlet nothing pulls in is explained, not placed.
    inp.persona_description = "{{user}} is a cartographer.".into();
    let p = run(&inp);
    let outlet = p.parts.last().unwrap();
    assert_eq!(outlet.message_index, NOT_PLACED);
    assert!(
        outlet
            .label
            .ends_with("no {{outlet::…}} in the prompt uses it"),
        "{}",
        outlet.label
    );
    assert!(!p.messages.iter().any(|x| x.content.contains("outlet")));
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

/// Every message and part counted with `Words`; the total is their sum.
fn check_accounting(p: &AssembledPrompt) {
    let total: u32 = p.messages.iter().map(|x| Words.count(&x.content)).sum();
    assert_eq!(p.total_tokens, total);
    for part in &p.parts {
        assert_eq!(part.tokens, Words.count(&part.text), "{}", part.label);
    }
}

#[test]
fn history_is_trimmed_from_the_oldest_end() {
    let mut inp = input();
    inp.history = (0..10)
        .map(|i| {
            msg(
                if i % 2 == 0 {
                    Role::User
                } else {
                    Role::Assistant
                },
                &format!("m{i} a b"),
            )
        })
        .collect();
    inp.world_info = vec![wi(
        1,
        EntryPosition::AtDepth,
        2,
        EntryRole::System,
        "note here",
    )];
    let full = run(&inp);
    check_accounting(&full);
    let history_tokens = 10 * 3;
    let fixed = full.total_tokens - history_tokens;
    // Room for exactly four history messages (and not quite five).
    inp.context_window = fixed + 4 * 3 + 2 + 50;
    inp.reply_reserve = 50;
    let p = run(&inp);
    check_accounting(&p);
    assert_eq!(p.dropped_history, 6);
    assert_eq!(p.total_tokens, fixed + 12);
    assert!(p.total_tokens <= inp.context_window - inp.reply_reserve);
    let history: Vec<&str> = p.messages[1..p.messages.len() - 2]
        .iter()
        .map(|x| x.content.as_str())
        .collect();
    // Depth 2: two chat messages after it, the new message counted (as SillyTavern counts).
    assert_eq!(
        history,
        vec!["m6 a b", "m7 a b", "m8 a b", "note here", "m9 a b"]
    );
    let labels: Vec<&str> = p.parts.iter().map(|x| x.label.as_str()).collect();
    assert!(labels.contains(&"message 7") && !labels.contains(&"message 6"));
    // One message of room: the depth entry sits at the top of what is left.
    inp.context_window = fixed + 3 + 50;
    let p = run(&inp);
    assert_eq!(p.dropped_history, 9);
    assert_eq!(p.messages[1].content, "note here");
    assert_eq!(p.messages[2].content, "m9 a b");
    // No room for history at all.
    inp.context_window = fixed + 50;
    let p = run(&inp);
    assert_eq!(p.dropped_history, 10);
    assert_eq!(p.total_tokens, fixed);
    // One token short of the fixed parts: refused.
    inp.context_window = fixed + 50 - 1;
    let err = assemble(&inp, &Words).unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)));
    assert!(
        err.to_string().contains("context window is too small"),
        "{err}"
    );
    // A reserve larger than the window is not an underflow.
    inp.reply_reserve = u32::MAX;
    assert!(assemble(&inp, &Words).is_err());
}

#[test]
fn exact_accounting_with_the_estimate_counter() {
    let mut inp = input();
    inp.world_info = vec![
        wi(1, EntryPosition::AtDepth, 1, EntryRole::User, "abc"),
        wi(2, EntryPosition::AtDepth, 1, EntryRole::User, "defgh"),
    ];
    let p = assemble(&inp, &EstimateCounter).unwrap();
    let total: u32 = p
        .messages
        .iter()
        .map(|x| EstimateCounter.count(&x.content))
        .sum();
    assert_eq!(p.total_tokens, total);
    for part in &p.parts {
        assert_eq!(part.tokens, EstimateCounter.count(&part.text));
    }
    // The grouped depth message ("abc\ndefgh", 9 bytes) counts 3, its parts 1 + 2.
    let group = p
        .messages
        .iter()
        .position(|x| x.content == "abc\ndefgh")
        .unwrap();
    let parts: Vec<u32> = p
        .parts
        .iter()
        .filter(|x| x.message_index as usize == group)
        .map(|x| x.tokens)
        .collect();
    assert_eq!(parts, vec![1, 2]);
    // The real tokenizer agrees with itself the same way.
    let p = assemble(&inp, default_counter()).unwrap();
    let total: u32 = p
        .messages
        .iter()
        .map(|x| default_counter().count(&x.content))
        .sum();
    assert_eq!(p.total_tokens, total);
}

#[test]
fn parts_are_labelled_and_point_at_their_message() {
    let p = run(&input());
    let summary: Vec<(&str, u32)> = p
        .parts
        .iter()
        .map(|x| (x.label.as_str(), x.message_index))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("primary context", 0),
            ("character system prompt", 0),
            ("character description", 0),
            ("persona", 0),
            ("preferences", 0),
            ("message 1", 1),
            ("message 2", 2),
            ("post-history instructions", 3),
            ("global post-history", 3),
            ("new message", 4),
        ]
    );
    for part in &p.parts {
        let message = &p.messages[part.message_index as usize].content;
        assert!(message.contains(&part.text), "{}", part.label);
    }
    let text = explain(&p);
    assert!(
        text.contains("primary context") && text.contains("5 messages"),
        "{text}"
    );
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

/// Three example chats as a card writes them, with macros and a narration-only block.
const EXAMPLES: &str = "<START>\n{{user}}: Where to?\n{{char}}: South.\n*She points.*\n\
<START>\n{{char}}: Reefs don't move, {{user}}.\n<start>\n{{char}} speaks in short, salty sentences.";

fn with_examples(mode: ExampleDialogue) -> PromptInput {
    let mut inp = input();
    inp.character.mes_example = EXAMPLES.into();
    inp.example_dialogue = mode;
    inp
}

#[test]
fn example_dialogue_goes_before_the_chat_as_example_chats() {
    let p = run(&with_examples(ExampleDialogue::Gradual));
    assert_eq!(
        contents(&p)[1..9],
        [
            "[Example Chat]",
            "Where to?",
            "South.\n*She points.*",
            "[Example Chat]",
            "Reefs don't move, Ann.",
            "[Example Chat]",
            "Mira speaks in short, salty sentences.",
            "[Start a new Chat]",
        ]
    );
    let roles: Vec<Role> = p.messages[1..9].iter().map(|x| x.role).collect();
    assert_eq!(
        roles,
        [
            Role::System,
            Role::User,
            Role::Assistant,
            Role::System,
            Role::Assistant,
            Role::System,
            Role::System,
            Role::System,
        ]
    );
    assert_eq!(p.messages[9].content, "Hello Mira.");
    assert_eq!(p.dropped_examples, 0);
    let labels: Vec<&str> = p
        .parts
        .iter()
        .filter(|x| x.source == PromptSource::ExampleDialogue)
        .map(|x| x.label.as_str())
        .collect();
    assert_eq!(
        labels,
        [
            "example chat 1",
            "example chat 1, user",
            "example chat 1, character",
            "example chat 2",
            "example chat 2, character",
            "example chat 3",
            "example chat 3, narration",
        ]
    );
    check_accounting(&p);

    // Never: no example chat and no chat-start line.
    let p = run(&with_examples(ExampleDialogue::Never));
    assert_eq!(contents(&p)[1], "Hello Mira.");
    assert!(!p
        .parts
        .iter()
        .any(|x| x.source == PromptSource::ExampleDialogue || x.source == PromptSource::ChatStart));
}

#[test]
fn gradual_examples_give_way_to_the_history_and_kept_ones_do_not() {
    let mut inp = with_examples(ExampleDialogue::Gradual);
    let full = run(&inp);
    let examples: u32 = full
        .parts
        .iter()
        .filter(|x| {
            matches!(
                x.source,
                PromptSource::ExampleDialogue | PromptSource::ChatStart
            )
        })
        .map(|x| x.tokens)
        .sum();
    let last_block: u32 = full
        .parts
        .iter()
        .filter(|x| x.label.starts_with("example chat 3"))
        .map(|x| x.tokens)
        .sum();
    // Room for everything but the last example chat.
    inp.context_window = full.total_tokens - last_block + inp.reply_reserve;
    let p = run(&inp);
    assert_eq!((p.dropped_examples, p.dropped_history), (1, 0));
    assert_eq!(p.total_tokens, full.total_tokens - last_block);
    // A longer history pushes the examples out first, block by block from the last.
    inp.context_window = full.total_tokens - examples + inp.reply_reserve;
    let p = run(&inp);
    assert_eq!((p.dropped_examples, p.dropped_history), (3, 0));
    assert!(!contents(&p).contains(&"[Start a new Chat]"));

    // Two tokens short: the history (two messages of two words) stays whole and the
    // last example chat goes; kept examples stay whole and the oldest message goes.
    inp.context_window = full.total_tokens - 2 + inp.reply_reserve;
    let p = run(&inp);
    assert_eq!((p.dropped_examples, p.dropped_history), (1, 0));
    inp.example_dialogue = ExampleDialogue::Keep;
    let p = run(&inp);
    assert_eq!((p.dropped_examples, p.dropped_history), (0, 1));
    check_accounting(&p);
}

fn note(text: &str, depth: u32, role: Role) -> AuthorsNote {
    AuthorsNote {
        text: text.into(),
        depth,
        role,
        ..AuthorsNote::default()
    }
}

#[test]
fn notes_go_in_the_chat_at_their_depth_with_their_role() {
    let mut inp = input();
    inp.history = (1..=4)
        .map(|i| {
            msg(
                if i % 2 == 1 {
                    Role::User
                } else {
                    Role::Assistant
                },
                &format!("h{i}"),
            )
        })
        .collect();
    inp.character_note = Some(CharacterNote {
        text: "{{char}} hides a map.".into(),
        depth: 2,
        role: Role::System,
    });
    inp.authors_note = Some(note("[Tone: {{user}} is wary]", 2, Role::System));
    inp.world_info = vec![
        wi(1, EntryPosition::AtDepth, 2, EntryRole::System, "lore at 2"),
        wi(
            2,
            EntryPosition::AtDepth,
            2,
            EntryRole::Assistant,
            "assistant at 2",
        ),
        wi(
            3,
            EntryPosition::AuthorsNoteTop,
            0,
            EntryRole::System,
            "above the note",
        ),
        wi(
            4,
            EntryPosition::AuthorsNoteBottom,
            0,
            EntryRole::System,
            "below the note",
        ),
    ];
    let p = run(&inp);
    // At one depth: assistant, user, system (the most important closest to the end);
    // within a role: the Author's Note (with its world info), the Character's note, world info.
    assert_eq!(
        &p.messages[1..],
        &[
            m(Role::User, "h1"),
            m(Role::Assistant, "h2"),
            m(Role::User, "h3"),
            m(Role::Assistant, "assistant at 2"),
            m(
                Role::System,
                "above the note\n[Tone: Ann is wary]\nbelow the note\nMira hides a map.\nlore at 2"
            ),
            m(Role::Assistant, "h4"),
            m(Role::System, "Stay in character.\n---\nReply in English."),
            m(Role::User, "Where are we?"),
        ]
    );
    let label = |source| p.parts.iter().find(|x| x.source == source).unwrap();
    assert_eq!(
        label(PromptSource::AuthorsNote).label,
        "Author's Note (at depth 2, system)"
    );
    assert_eq!(
        label(PromptSource::CharacterNote).label,
        "Character's note (at depth 2, system)"
    );
    check_accounting(&p);

    // The note's own text follows its interval; its world info goes in every turn.
    let mut every3 = inp.clone();
    every3.authors_note.as_mut().unwrap().interval = 3;
    every3.user_turns = 4;
    assert!(!contents(&run(&every3)).iter().any(|c| c.contains("[Tone")));
    assert!(contents(&run(&every3))
        .iter()
        .any(|c| c.contains("above the note")));
    every3.user_turns = 6;
    assert!(contents(&run(&every3))
        .iter()
        .any(|c| c.contains("[Tone: Ann is wary]")));
    every3.authors_note.as_mut().unwrap().interval = 0;
    assert!(!contents(&run(&every3)).iter().any(|c| c.contains("[Tone")));

    // Depth 0 is after the new message; a user-role note is a user message.
    inp.world_info.clear();
    inp.character_note = None;
    inp.authors_note = Some(note("at the end", 0, Role::User));
    let p = run(&inp);
    assert_eq!(p.messages.last().unwrap(), &m(Role::User, "at the end"));
}

#[test]
fn the_authors_note_can_sit_beside_the_system_prompt() {
    let mut inp = input();
    let mut an = note("[Genre: {{char}}'s sea story]", 4, Role::System);
    an.position = NotePosition::AfterSystem;
    inp.authors_note = Some(an.clone());
    let p = run(&inp);
    assert!(p.messages[0].content.starts_with("Write Mira's reply"));
    assert_eq!(p.messages[1], m(Role::System, "[Genre: Mira's sea story]"));
    assert_eq!(p.messages[2].content, "Hello Mira.");
    an.position = NotePosition::BeforeSystem;
    inp.authors_note = Some(an);
    let p = run(&inp);
    assert_eq!(p.messages[0], m(Role::System, "[Genre: Mira's sea story]"));
    assert!(p.messages[1].content.starts_with("Write Mira's reply"));
    assert_eq!(p.parts[0].label, "Author's Note (before the system prompt)");
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

/// Counts every call, so a test can see which texts were counted.
struct Calls(std::sync::Mutex<Vec<String>>);
impl TokenCounter for Calls {
    fn count(&self, text: &str) -> u32 {
        self.0.lock().unwrap().push(text.to_owned());
        text.split_whitespace().count() as u32
    }
}

#[test]
fn stored_token_counts_are_used_for_unchanged_messages_only() {
    let mut inp = input();
    inp.history = vec![
        HistoryMessage {
            tokens: Some(40),
            ..msg(Role::User, "plain words here")
        },
        HistoryMessage {
            tokens: Some(40),
            ..msg(Role::Assistant, "hi {{user}}")
        },
    ];
    let calls = Calls(Default::default());
    let p = assemble(&inp, &calls).unwrap();
    let counted = calls.0.lock().unwrap().clone();
    assert!(!counted.contains(&"plain words here".to_owned()));
    assert!(
        counted.contains(&"hi Ann".to_owned()),
        "a macro changed it: counted again"
    );
    let first = p.parts.iter().find(|x| x.label == "message 1").unwrap();
    assert_eq!(first.tokens, 40);
    assert_eq!(
        p.total_tokens,
        p.messages
            .iter()
            .enumerate()
            .map(|(i, x)| if i == 1 { 40 } else { Words.count(&x.content) })
            .sum::<u32>()
    );
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
