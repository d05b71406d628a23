//! Prompt assembly: what a card, book or chat asks for, placed where SillyTavern
//! places it: world info at every position, example dialogue, the Character's
//! note and the Author's Note.

mod prompt_support;

use confab_core::lore::{EntryPosition, EntryRole};
use confab_core::prompt::{CharacterNote, ExampleDialogue, NotePosition, PromptSource, NOT_PLACED};
use confab_core::session::Role;
use prompt_support::{check_accounting, contents, input, m, msg, note, run, wi, with_examples};

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
