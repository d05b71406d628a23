//! Group chats on a real SQLite file: who speaks next in each turn order
//! (seeded), greetings as swipes, turning a 1:1 chat into a group and back,
//! presence, and the prompt each member gets.

use confab_core::card::{CardData, CardFormat, CardSpec};
use confab_core::library::content_hash;
use confab_core::lore::{Book, BookSettings, Entry};
use confab_core::prompt::PromptSource;
use confab_core::session::group::{
    group_state, next_speaker, speaker_for, CardMode, GroupMember, GroupSettings, LastMessage,
    MemberChange, Presence, TurnOrder,
};
use confab_core::session::turn::{preview_turn, PromptCaches, TurnRequest};
use confab_core::session::{MessageStatus, Role};
use confab_core::store::BookOrigin;
use confab_core::store::{Inserted, NewCharacter, NewMessage, Store};

fn member(id: &str, name: &str, presence: Presence, talk: f64) -> GroupMember {
    GroupMember {
        character_id: id.into(),
        name: name.into(),
        avatar_key: None,
        presence,
        talkativeness: talk,
    }
}

fn trio() -> Vec<GroupMember> {
    vec![
        member("a", "Ann Marie", Presence::Present, 0.5),
        member("b", "Bo", Presence::Present, 0.5),
        member("c", "Cy", Presence::Present, 0.5),
    ]
}

fn last<'a>(text: &'a str, speaker: Option<&'a str>) -> LastMessage<'a> {
    LastMessage {
        text,
        speaker,
        last_member: speaker,
        from_user: false,
    }
}

#[test]
fn natural_order_answers_the_member_named_first() {
    let members = trio();
    for seed in 0..50 {
        // A word of a name calls that member, in the order the words come.
        assert_eq!(
            next_speaker(
                TurnOrder::Natural,
                &members,
                last("Hey cy, and bo?", None),
                seed
            ),
            Some("c".into())
        );
        assert_eq!(
            next_speaker(
                TurnOrder::Natural,
                &members,
                last("What do you say, MARIE?", None),
                seed
            ),
            Some("a".into())
        );
        // The member who wrote the message is not called by their own name.
        assert_eq!(
            next_speaker(
                TurnOrder::Natural,
                &members,
                last("I am Cy. Bo?", Some("c")),
                seed
            ),
            Some("b".into())
        );
    }
}

#[test]
fn natural_order_without_names_follows_talkativeness_and_never_repeats_the_speaker() {
    let members = vec![
        member("a", "Ann", Presence::Present, 1.0),
        member("b", "Bo", Presence::Present, 0.0),
        member("c", "Cy", Presence::Present, 0.0),
        member("m", "Mute", Presence::Muted, 1.0),
    ];
    let mut picked = std::collections::BTreeMap::new();
    for seed in 0..200 {
        let who = next_speaker(TurnOrder::Natural, &members, last("hello", None), seed).unwrap();
        *picked.entry(who).or_insert(0) += 1;
    }
    // Always-talkative Ann speaks; the silent ones and the muted one never do.
    assert_eq!(picked, [("a".to_owned(), 200)].into());
    // After Ann spoke, someone else: with nobody talkative left, any of the others.
    let mut others = std::collections::BTreeSet::new();
    for seed in 0..200 {
        let who = next_speaker(TurnOrder::Natural, &members, last("so", Some("a")), seed).unwrap();
        assert_ne!(who, "a");
        assert_ne!(who, "m");
        others.insert(who);
    }
    assert_eq!(others, ["b".to_owned(), "c".to_owned()].into());
}

#[test]
fn natural_order_draws_are_seeded() {
    let members = trio();
    let draw = |seed| next_speaker(TurnOrder::Natural, &members, last("hm", None), seed);
    let first: Vec<_> = (0..64).map(draw).collect();
    let again: Vec<_> = (0..64).map(draw).collect();
    assert_eq!(first, again, "the same seed, the same speaker");
    let distinct: std::collections::BTreeSet<_> = first.into_iter().flatten().collect();
    assert_eq!(
        distinct.len(),
        3,
        "every member gets a turn over many seeds"
    );
}

#[test]
fn list_order_takes_turns_skipping_muted_and_absent_members() {
    let mut members = trio();
    members.push(member("d", "Di", Presence::Present, 0.5));
    members[1].presence = Presence::Muted;
    members[2].presence = Presence::Absent;
    let next = |after: Option<&str>| {
        next_speaker(
            TurnOrder::List,
            &members,
            LastMessage {
                text: "",
                speaker: None,
                last_member: after,
                from_user: false,
            },
            9,
        )
    };
    assert_eq!(next(None), Some("a".into()));
    assert_eq!(next(Some("a")), Some("d".into()));
    assert_eq!(next(Some("d")), Some("a".into()), "wraps around");
    assert_eq!(
        next(Some("b")),
        Some("d".into()),
        "after a muted member too"
    );
}

#[test]
fn random_order_never_repeats_the_last_speaker_and_reaches_everyone() {
    let members = trio();
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..100 {
        let who = next_speaker(TurnOrder::Random, &members, last("", Some("b")), seed).unwrap();
        assert_ne!(who, "b");
        seen.insert(who);
    }
    assert_eq!(seen, ["a".to_owned(), "c".to_owned()].into());
    // Alone in the scene, the last speaker speaks again.
    let alone = [member("b", "Bo", Presence::Present, 0.5)];
    assert_eq!(
        next_speaker(TurnOrder::Random, &alone, last("", Some("b")), 3),
        Some("b".into())
    );
}

#[test]
fn manual_order_keeps_the_last_member_until_the_user_picks() {
    let members = trio();
    assert_eq!(
        next_speaker(TurnOrder::Manual, &members, last("Bo!", Some("c")), 1),
        Some("c".into())
    );
    assert_eq!(
        next_speaker(TurnOrder::Manual, &members, LastMessage::default(), 1),
        Some("a".into())
    );
}

async fn add_card(store: &Store, card: CardData) -> String {
    let hash = content_hash(&card);
    let Inserted::New { id } = store
        .insert_character(NewCharacter {
            card: &card,
            original: &serde_json::json!({}),
            spec: CardSpec::V3,
            format: CardFormat::Json,
            source_file: "c.json",
            content_hash: &hash,
            avatar: None,
            assets: &[],
            collections: &[],
        })
        .await
        .unwrap()
    else {
        panic!("a new character")
    };
    id
}

fn card(name: &str, description: &str) -> CardData {
    CardData {
        name: name.into(),
        description: description.into(),
        first_mes: format!("{name} waves at {{{{user}}}}."),
        ..Default::default()
    }
}

/// A book attached to `character` with one entry that fires on `key`.
async fn book_for(store: &Store, character: &str, key: &str, content: &str) {
    let mut entry = Entry::new(1);
    entry.keys = vec![key.into()];
    entry.content = content.into();
    let book = Book {
        name: format!("{key} lore"),
        description: String::new(),
        settings: BookSettings::default(),
        entries: vec![entry],
        extensions: serde_json::Map::new(),
    };
    let id = store
        .insert_world_book(&book, BookOrigin::default())
        .await
        .unwrap();
    store.attach_world_book(&id, character).await.unwrap();
}

struct Scene {
    _dir: tempfile::TempDir,
    store: Store,
    ann: String,
    bo: String,
    cy: String,
}

async fn scene() -> Scene {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let mut ann = card("Ann", "Ann is a {{char}}-shaped healer.");
    ann.alternate_greetings = vec!["Ann again.".into()];
    ann.personality = "kind".into();
    let mut bo = card("Bo", "Bo guards the bridge.");
    bo.group_only_greetings = vec!["Bo, in a crowd.".into(), "Bo nods to {{user}}.".into()];
    bo.extensions
        .insert("talkativeness".into(), serde_json::json!("0.9"));
    let cy = card("Cy", "Cy sells maps.");
    let (ann, bo, cy) = (
        add_card(&store, ann).await,
        add_card(&store, bo).await,
        add_card(&store, cy).await,
    );
    book_for(&store, &ann, "herbs", "Herbs grow by the well.").await;
    book_for(&store, &cy, "maps", "The maps are forged.").await;
    Scene {
        _dir: dir,
        store,
        ann,
        bo,
        cy,
    }
}

fn user(text: &str) -> NewMessage<'_> {
    NewMessage {
        role: Role::User,
        name: "Traveller",
        content: text,
        status: MessageStatus::Complete,
        image_ids: &[],
        speaker: None,
    }
}

#[tokio::test]
async fn a_new_group_greets_with_every_member_and_swipes_keep_the_others() {
    let s = scene().await;
    let ids = vec![s.ann.clone(), s.bo.clone(), s.cy.clone()];
    let session = s
        .store
        .create_group_session(&ids, None, "Traveller")
        .await
        .unwrap();
    let page = s.store.messages_page(&session, None, 50).await.unwrap();
    let path: Vec<(&str, &str, u32)> = page
        .messages
        .iter()
        .map(|m| (m.name.as_str(), m.content.as_str(), m.swipe_count))
        .collect();
    // Bo's group-only greetings replace his own; names are filled in.
    assert_eq!(
        path,
        [
            ("Ann", "Ann waves at Traveller.", 2),
            ("Bo", "Bo, in a crowd.", 2),
            ("Cy", "Cy waves at Traveller.", 1)
        ]
    );
    let speakers: Vec<_> = page.messages.iter().map(|m| m.speaker_id.clone()).collect();
    assert_eq!(
        speakers,
        [Some(s.ann.clone()), Some(s.bo.clone()), Some(s.cy.clone())]
    );
    // Ann's other greeting still leads to Bo's and Cy's.
    let swiped = s.store.select_swipe(&page.messages[0].id, 1).await.unwrap();
    assert_eq!(swiped.content, "Ann again.");
    let page = s.store.messages_page(&session, None, 50).await.unwrap();
    let texts: Vec<&str> = page.messages.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        texts,
        ["Ann again.", "Bo, in a crowd.", "Cy waves at Traveller."]
    );
    // And Bo's second greeting, under it.
    s.store.select_swipe(&page.messages[1].id, 1).await.unwrap();
    let page = s.store.messages_page(&session, None, 50).await.unwrap();
    let texts: Vec<&str> = page.messages.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Ann again.",
            "Bo nods to Traveller.",
            "Cy waves at Traveller."
        ]
    );
    let summary = s.store.session_summary(&session).await.unwrap();
    assert_eq!(summary.title, "Ann, Bo, Cy");
}

#[tokio::test]
async fn groups_refuse_too_few_repeated_or_unknown_members() {
    let s = scene().await;
    for ids in [
        vec![s.ann.clone()],
        vec![s.ann.clone(), s.ann.clone()],
        vec![s.ann.clone(), "nobody".into()],
    ] {
        assert!(s.store.create_group_session(&ids, None, "T").await.is_err());
    }
    let before = s
        .store
        .session_summaries(&Default::default())
        .await
        .unwrap();
    assert!(before.is_empty(), "nothing half-made");
}

#[tokio::test]
async fn a_one_to_one_chat_becomes_a_group_and_back_without_losing_anything() {
    let s = scene().await;
    let session = s
        .store
        .create_session(&s.ann, None, "Traveller")
        .await
        .unwrap();
    s.store.add_message(&session, user("Hello?")).await.unwrap();
    let before = s.store.messages_page(&session, None, 50).await.unwrap();
    assert!(!group_state(&s.store, &session).await.unwrap().is_group);

    s.store.add_group_member(&session, &s.bo).await.unwrap();
    let state = group_state(&s.store, &session).await.unwrap();
    assert!(state.is_group);
    let names: Vec<&str> = state.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Ann", "Bo"]);
    assert_eq!(state.members[1].talkativeness, 0.9);
    assert_eq!(
        s.store.messages_page(&session, None, 50).await.unwrap(),
        before
    );
    assert!(
        s.store.add_group_member(&session, &s.bo).await.is_err(),
        "once only"
    );

    // Undo: remove Bo again; a 1:1 chat with Ann, every message kept.
    s.store.remove_group_member(&session, &s.bo).await.unwrap();
    let state = group_state(&s.store, &session).await.unwrap();
    assert!(!state.is_group);
    assert_eq!(state.members[0].character_id, s.ann);
    assert_eq!(
        s.store.messages_page(&session, None, 50).await.unwrap(),
        before
    );
    let changes: Vec<(MemberChange, &str)> = state
        .events
        .iter()
        .map(|e| (e.change, e.character_name.as_str()))
        .collect();
    assert_eq!(
        changes,
        [(MemberChange::Joined, "Bo"), (MemberChange::Left, "Bo")]
    );
    assert_eq!(
        state.events[0].after_message_id.as_deref(),
        before.messages.last().map(|m| m.id.as_str())
    );

    // Removing the first member of a group makes the next one the chat's character.
    s.store.add_group_member(&session, &s.bo).await.unwrap();
    s.store.add_group_member(&session, &s.cy).await.unwrap();
    s.store.remove_group_member(&session, &s.ann).await.unwrap();
    assert_eq!(
        s.store.session_cast(&session).await.unwrap().character_id,
        s.bo
    );
}

#[tokio::test]
async fn presence_is_recorded_and_decides_who_may_speak() {
    let s = scene().await;
    let ids = vec![s.ann.clone(), s.bo.clone(), s.cy.clone()];
    let session = s.store.create_group_session(&ids, None, "T").await.unwrap();
    s.store
        .set_member_presence(&session, &s.bo, Presence::Muted)
        .await
        .unwrap();
    s.store
        .set_member_presence(&session, &s.cy, Presence::Absent)
        .await
        .unwrap();
    // Naming them calls nobody but Ann.
    for text in ["Bo? Cy?", "anyone"] {
        let next = speaker_for(&s.store, &session, None, Some(text))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(next.character_id, s.ann);
    }
    // The user may still ask a muted member, never an absent one.
    let bo = speaker_for(&s.store, &session, Some(&s.bo), None)
        .await
        .unwrap();
    assert_eq!(bo.unwrap().name, "Bo");
    let cy = speaker_for(&s.store, &session, Some(&s.cy), None).await;
    assert!(cy.unwrap_err().to_string().contains("out of the scene"));
    s.store
        .set_member_presence(&session, &s.ann, Presence::Muted)
        .await
        .unwrap();
    assert_eq!(
        speaker_for(&s.store, &session, None, Some("hi"))
            .await
            .unwrap(),
        None
    );
    let state = group_state(&s.store, &session).await.unwrap();
    let changes: Vec<MemberChange> = state.events.iter().map(|e| e.change).collect();
    assert_eq!(
        changes,
        [
            MemberChange::Muted,
            MemberChange::Absent,
            MemberChange::Muted
        ]
    );
    assert_eq!(state.next_speaker, None);
}

async fn prompt_for(store: &Store, session: &str, speaker: Option<&str>, message: &str) -> String {
    let request = TurnRequest {
        new_message: Some(message.into()),
        speaker: speaker.map(str::to_owned),
        ..TurnRequest::default()
    };
    let preview = preview_turn(store, &PromptCaches::default(), session, &request, false)
        .await
        .unwrap();
    preview
        .prompt
        .messages
        .iter()
        .map(|m| format!("[{}] {}", m.role.as_str(), m.content))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn each_member_gets_its_own_card_the_others_descriptions_and_the_scenes_books() {
    let s = scene().await;
    let ids = vec![s.ann.clone(), s.bo.clone(), s.cy.clone()];
    let session = s
        .store
        .create_group_session(&ids, None, "Traveller")
        .await
        .unwrap();

    let for_bo = prompt_for(&s.store, &session, Some(&s.bo), "herbs and maps?").await;
    // Bo's own card, then the others by their descriptions, `{{char}}` each one's own name.
    assert!(for_bo.contains("Bo guards the bridge."), "{for_bo}");
    assert!(
        for_bo.contains("Ann: Ann is a Ann-shaped healer."),
        "{for_bo}"
    );
    assert!(for_bo.contains("Ann's personality: kind"), "{for_bo}");
    assert!(for_bo.contains("Cy: Cy sells maps."), "{for_bo}");
    // The books of every member in the scene.
    assert!(for_bo.contains("Herbs grow by the well."), "{for_bo}");
    assert!(for_bo.contains("The maps are forged."), "{for_bo}");
    // Every chat message by its speaker's name, the new one too, and the nudge last.
    assert!(
        for_bo.contains("[assistant] Ann: Ann waves at Traveller."),
        "{for_bo}"
    );
    assert!(for_bo.contains("[user] User: herbs and maps?"), "{for_bo}");
    assert!(
        for_bo.ends_with("[system] [Write the next reply only as Bo.]"),
        "{for_bo}"
    );

    // Cy steps out: his card and his book leave the prompt; a muted Ann stays in it.
    s.store
        .set_member_presence(&session, &s.cy, Presence::Absent)
        .await
        .unwrap();
    s.store
        .set_member_presence(&session, &s.ann, Presence::Muted)
        .await
        .unwrap();
    let for_bo = prompt_for(&s.store, &session, None, "herbs and maps?").await;
    assert!(!for_bo.contains("Cy sells maps."), "{for_bo}");
    assert!(!for_bo.contains("The maps are forged."), "{for_bo}");
    assert!(
        for_bo.contains("Ann: Ann is a Ann-shaped healer."),
        "{for_bo}"
    );
    assert!(for_bo.contains("Herbs grow by the well."), "{for_bo}");
    assert!(
        for_bo.ends_with("only as Bo.]"),
        "the only one who may speak"
    );

    // Only the speaker's card.
    s.store
        .set_group_settings(
            &session,
            &GroupSettings {
                turn_order: TurnOrder::Natural,
                auto_turns: 0,
                card_mode: CardMode::Speaker,
            },
        )
        .await
        .unwrap();
    let for_bo = prompt_for(&s.store, &session, None, "hi").await;
    assert!(!for_bo.contains("Ann is a"), "{for_bo}");
    assert!(for_bo.contains("Bo guards the bridge."), "{for_bo}");
}

#[tokio::test]
async fn the_preview_is_for_the_member_who_would_speak_and_says_so() {
    let s = scene().await;
    let ids = vec![s.ann.clone(), s.bo.clone(), s.cy.clone()];
    let session = s
        .store
        .create_group_session(&ids, None, "Traveller")
        .await
        .unwrap();
    let request = TurnRequest {
        new_message: Some("Cy, what do you sell? {{group}}".into()),
        ..TurnRequest::default()
    };
    let preview = preview_turn(
        &s.store,
        &PromptCaches::default(),
        &session,
        &request,
        false,
    )
    .await
    .unwrap();
    assert_eq!(preview.speaker_id.as_deref(), Some(s.cy.as_str()));
    let nudge = preview
        .prompt
        .parts
        .iter()
        .find(|p| p.source == PromptSource::GroupNudge)
        .unwrap();
    assert_eq!(nudge.text, "[Write the next reply only as Cy.]");
    let new = preview
        .prompt
        .parts
        .iter()
        .find(|p| p.source == PromptSource::NewMessage)
        .unwrap();
    assert_eq!(new.text, "User: Cy, what do you sell? Ann, Bo, Cy");
    let members: Vec<&str> = preview
        .prompt
        .parts
        .iter()
        .filter(|p| p.source == PromptSource::GroupMember)
        .map(|p| p.label.as_str())
        .collect();
    assert_eq!(members, ["group member Ann", "group member Bo"]);
    // A member who is not in the chat cannot be asked for.
    let outsider = s.store.create_session(&s.ann, None, "T").await.unwrap();
    let request = TurnRequest {
        speaker: Some(s.bo.clone()),
        ..TurnRequest::default()
    };
    let err = preview_turn(
        &s.store,
        &PromptCaches::default(),
        &outsider,
        &request,
        false,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), confab_core::error::ErrorCode::InvalidInput);
}

#[tokio::test]
async fn a_one_to_one_prompt_is_unchanged_by_groups() {
    let s = scene().await;
    let session = s
        .store
        .create_session(&s.ann, None, "Traveller")
        .await
        .unwrap();
    let prompt = prompt_for(&s.store, &session, None, "hi").await;
    assert!(prompt.contains("[user] hi"), "{prompt}");
    assert!(!prompt.contains("Write the next reply only"), "{prompt}");
    assert!(
        prompt.contains("[assistant] Ann waves at Traveller."),
        "{prompt}"
    );
}

#[tokio::test]
async fn the_v8_fixture_reads_through_the_group_api() {
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema/v8.db");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture, dir.path().join(confab_core::store::DATABASE_FILE)).unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let state = group_state(&store, "9a8b7c6d-0000-4000-8000-0000000000b1")
        .await
        .unwrap();
    assert!(state.is_group);
    let members: Vec<(&str, Presence)> = state
        .members
        .iter()
        .map(|m| (m.name.as_str(), m.presence))
        .collect();
    assert_eq!(
        members,
        [
            ("Seraphina", Presence::Present),
            ("Рокси Мигурдия", Presence::Muted),
            ("洛琪希 🐉", Presence::Absent)
        ]
    );
    assert_eq!(
        state.settings,
        GroupSettings {
            turn_order: TurnOrder::List,
            auto_turns: 2,
            card_mode: CardMode::Speaker
        }
    );
    assert_eq!(state.events.len(), 2);
    // List order after Roxy: the absent one is skipped, Seraphina speaks.
    assert_eq!(
        state.next_speaker.as_deref(),
        Some("6f1c2a4e-0b3d-4c59-9a57-2f0f3b8d1e01")
    );
    // Messages from before groups have no speaker; the group's replies do.
    let page = store
        .messages_page("f0b4a5e6-7d8c-4b9a-9f2e-3d4e5f6a7b07", None, 10)
        .await
        .unwrap();
    assert!(page.messages.iter().all(|m| m.speaker_id.is_none()));
}

#[tokio::test]
async fn a_branch_of_a_group_is_the_same_group_with_its_speakers() {
    let s = scene().await;
    let ids = vec![s.ann.clone(), s.bo.clone(), s.cy.clone()];
    let session = s.store.create_group_session(&ids, None, "T").await.unwrap();
    s.store
        .set_member_presence(&session, &s.cy, Presence::Muted)
        .await
        .unwrap();
    let page = s.store.messages_page(&session, None, 10).await.unwrap();
    let branch = s.store.branch_session(&page.messages[1].id).await.unwrap();
    let copied = s.store.messages_page(&branch, None, 10).await.unwrap();
    let speakers: Vec<_> = copied
        .messages
        .iter()
        .map(|m| m.speaker_id.clone())
        .collect();
    assert_eq!(speakers, [Some(s.ann.clone()), Some(s.bo.clone())]);
    let state = group_state(&s.store, &branch).await.unwrap();
    assert!(state.is_group);
    assert_eq!(state.members.len(), 3);
    assert_eq!(state.members[2].presence, Presence::Muted);
}

#[tokio::test]
async fn the_next_speaker_shown_is_the_one_a_send_gets_unless_the_text_names_another() {
    let s = scene().await;
    let ids = vec![s.ann.clone(), s.bo.clone(), s.cy.clone()];
    let session = s.store.create_group_session(&ids, None, "T").await.unwrap();
    for order in [TurnOrder::Natural, TurnOrder::Random, TurnOrder::List] {
        s.store
            .set_group_settings(
                &session,
                &GroupSettings {
                    turn_order: order,
                    ..GroupSettings::default()
                },
            )
            .await
            .unwrap();
        for turn in 0..12 {
            let shown = group_state(&s.store, &session).await.unwrap().next_speaker;
            let sent = speaker_for(&s.store, &session, None, Some("And then?"))
                .await
                .unwrap()
                .map(|m| m.character_id);
            assert_eq!(shown, sent, "{order:?}, turn {turn}");
            // The reply is written by that member, and the chat moves on.
            let speaker = sent.unwrap();
            s.store
                .add_message(&session, user("And then?"))
                .await
                .unwrap();
            s.store
                .add_message(
                    &session,
                    NewMessage {
                        role: Role::Assistant,
                        name: "someone",
                        content: "Then this.",
                        status: MessageStatus::Complete,
                        image_ids: &[],
                        speaker: Some(&speaker),
                    },
                )
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn deleting_a_member_keeps_the_group_chat_and_its_messages() {
    let s = scene().await;
    let ids = vec![s.ann.clone(), s.bo.clone(), s.cy.clone()];
    let session = s.store.create_group_session(&ids, None, "T").await.unwrap();
    let before = s.store.messages_page(&session, None, 10).await.unwrap();
    // Ann led the group: the chat goes on with Bo and Cy.
    s.store.delete_character(&s.ann).await.unwrap();
    let state = group_state(&s.store, &session).await.unwrap();
    assert!(state.is_group);
    let names: Vec<&str> = state.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["Bo", "Cy"]);
    assert_eq!(state.events.last().unwrap().change, MemberChange::Left);
    let after = s.store.messages_page(&session, None, 10).await.unwrap();
    assert_eq!(
        after.messages.len(),
        before.messages.len(),
        "Ann's greeting stays"
    );
    assert_eq!(after.messages[0].speaker_id, None, "its speaker is gone");
    // With one member left the chat is 1:1 again, with Cy.
    s.store.delete_character(&s.bo).await.unwrap();
    let state = group_state(&s.store, &session).await.unwrap();
    assert!(!state.is_group);
    assert_eq!(state.members[0].character_id, s.cy);
    // A 1:1 chat still goes with its character.
    s.store.delete_character(&s.cy).await.unwrap();
    assert!(s.store.session_summary(&session).await.is_err());
}

#[tokio::test]
async fn the_chat_list_shows_a_groups_members_in_order_and_who_wrote_the_last_message() {
    let s = scene().await;
    let ids = vec![s.ann.clone(), s.bo.clone(), s.cy.clone()];
    let group = s.store.create_group_session(&ids, None, "T").await.unwrap();
    let single = s.store.create_session(&s.bo, None, "T").await.unwrap();
    s.store
        .set_member_presence(&group, &s.cy, Presence::Absent)
        .await
        .unwrap();
    s.store
        .add_message(&group, user("Hello all"))
        .await
        .unwrap();

    let summary = s.store.session_summary(&group).await.unwrap();
    let members: Vec<(&str, Presence)> = summary
        .members
        .iter()
        .map(|m| (m.name.as_str(), m.presence))
        .collect();
    assert_eq!(
        members,
        [
            ("Ann", Presence::Present),
            ("Bo", Presence::Present),
            ("Cy", Presence::Absent)
        ]
    );
    assert_eq!(summary.members[1].character_id, s.bo);
    assert_eq!(
        (summary.preview.as_str(), summary.preview_name.as_str()),
        ("Hello all", "Traveller")
    );

    let one = s.store.session_summary(&single).await.unwrap();
    assert!(one.members.is_empty(), "a 1:1 chat lists no members");
    assert_eq!(one.preview_name, "Bo", "the greeting is Bo's");
    // The list carries the same as the single read.
    let listed = s
        .store
        .session_summaries(&Default::default())
        .await
        .unwrap();
    let listed = listed.iter().find(|x| x.id == group).unwrap();
    assert_eq!(listed.members, summary.members);
}
