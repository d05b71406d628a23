//! Shared by the prompt assembly tests: a word-counting token counter, a card,
//! a chat and a whole prompt input, small builders of world info, messages and
//! notes, example chats, and the check that a prompt's token accounting adds up.
#![allow(dead_code)] // each test binary uses its own part of this

use confab_core::card::CardData;
use confab_core::lore::{Activation, ActivationReason, EntryPosition, EntryRole};
use confab_core::prompt::{
    assemble, AssembledPrompt, AuthorsNote, ExampleDialogue, HistoryMessage, PromptEnding,
    PromptInput, PromptMessage,
};
use confab_core::session::{CharacterPreferences, RelationshipMode, Role, SpeechModifier};
use confab_core::tokens::TokenCounter;

/// One token per whitespace-separated word: exact arithmetic in tests.
pub struct Words;

impl TokenCounter for Words {
    fn count(&self, text: &str) -> u32 {
        text.split_whitespace().count() as u32
    }
}

pub fn card() -> CardData {
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

pub fn msg(role: Role, content: &str) -> HistoryMessage {
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

pub fn input() -> PromptInput {
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
        group: None,
        memory: Default::default(),
    }
}

pub fn wi(
    uid: u32,
    position: EntryPosition,
    depth: u32,
    role: EntryRole,
    content: &str,
) -> Activation {
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
        moved_from: None,
    }
}

pub fn m(role: Role, content: &str) -> PromptMessage {
    PromptMessage {
        role,
        content: content.into(),
    }
}

pub fn run(input: &PromptInput) -> AssembledPrompt {
    assemble(input, &Words).unwrap()
}

pub fn contents(p: &AssembledPrompt) -> Vec<&str> {
    p.messages.iter().map(|m| m.content.as_str()).collect()
}

/// Every message and part counted with `Words`; the total is their sum.
pub fn check_accounting(p: &AssembledPrompt) {
    let total: u32 = p.messages.iter().map(|x| Words.count(&x.content)).sum();
    assert_eq!(p.total_tokens, total);
    for part in &p.parts {
        assert_eq!(part.tokens, Words.count(&part.text), "{}", part.label);
    }
}

/// Three example chats as a card writes them, with macros and a narration-only block.
pub const EXAMPLES: &str = "<START>\n{{user}}: Where to?\n{{char}}: South.\n*She points.*\n\
<START>\n{{char}}: Reefs don't move, {{user}}.\n<start>\n{{char}} speaks in short, salty sentences.";

pub fn with_examples(mode: ExampleDialogue) -> PromptInput {
    let mut inp = input();
    inp.character.mes_example = EXAMPLES.into();
    inp.example_dialogue = mode;
    inp
}

pub fn note(text: &str, depth: u32, role: Role) -> AuthorsNote {
    AuthorsNote {
        text: text.into(),
        depth,
        role,
        ..AuthorsNote::default()
    }
}
