//! What a card and a chat ask for reaches the prompt of a real session: example
//! dialogue from real cards, the Character's note from a card file, the
//! Author's Note from a SillyTavern chat file and back, its interval over the
//! stored user-message counts, and token counts stored once per message.

use std::path::{Path, PathBuf};

use confab_core::card::Limits;
use confab_core::library::{self, ExportFormat, ImportStatus};
use confab_core::prompt::{AuthorsNote, CharacterNote, NotePosition, PromptSource};
use confab_core::session::notes;
use confab_core::session::service::{self, ChatExportFormat};
use confab_core::session::turn::PromptCaches;
use confab_core::session::turn::{preview_turn, PromptPreview, TurnRequest};
use confab_core::session::Role;
use confab_core::sink::Discard;
use confab_core::store::{NewMessage, Store};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

async fn import(store: &Store, file: &Path) -> String {
    let summary =
        library::import_paths(store, &[file.to_owned()], &Limits::default(), &Discard).await;
    let outcome = &summary.outcomes[0];
    assert_eq!(outcome.status, ImportStatus::Imported, "{outcome:?}");
    outcome.character_id.clone().unwrap()
}

async fn preview(store: &Store, session: &str, message: &str) -> PromptPreview {
    let request = TurnRequest {
        new_message: Some(message.into()),
        ..TurnRequest::default()
    };
    preview_turn(store, &PromptCaches::default(), session, &request, false)
        .await
        .unwrap()
}

fn turns(p: &PromptPreview, source: PromptSource) -> Vec<(Role, String)> {
    p.prompt
        .parts
        .iter()
        .filter(|x| x.source == source)
        .map(|x| {
            let m = &p.prompt.messages[x.message_index as usize];
            (m.role, m.content.clone())
        })
        .collect()
}

#[tokio::test]
async fn a_real_cards_example_dialogue_becomes_example_turns() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let megumin = import(&store, &fixture("cards/v1_png__st_Megumin.png")).await;
    let session = service::create_session(&store, &megumin).await.unwrap();
    let p = preview(&store, &session.id, "Ready?").await;
    let examples = turns(&p, PromptSource::ExampleDialogue);
    assert_eq!(examples[0], (Role::System, "[Example Chat]".to_owned()));
    assert_eq!(
        examples[1],
        (
            Role::User,
            "Hi, I heard you're the best mage in town.".to_owned()
        )
    );
    assert_eq!(
        examples[2],
        (
            Role::Assistant,
            "nods Indeed. I am the greatest user of Explosion magic in all the land. And you are?"
                .to_owned()
        )
    );
    assert_eq!(examples.len(), 7, "one block, six turns: {examples:#?}");
    // They come before the chat, which the chat-start line opens.
    let start = turns(&p, PromptSource::ChatStart);
    assert_eq!(start, [(Role::System, "[Start a new Chat]".to_owned())]);

    // A Chinese V1 card: three example chats, the character named by {{char}}.
    let roxy = import(
        &store,
        &fixture("cards/v1_json_zh__mushoku_Roxy_stage1.json"),
    )
    .await;
    let session = service::create_session(&store, &roxy).await.unwrap();
    let p = preview(&store, &session.id, "老师好").await;
    let examples = turns(&p, PromptSource::ExampleDialogue);
    let blocks = examples.iter().filter(|t| t.1 == "[Example Chat]").count();
    assert!(blocks >= 3, "{examples:#?}");
    assert_eq!(examples[1].0, Role::User);
    assert!(
        examples[1].1.starts_with('"'),
        "the user's name is gone: {}",
        examples[1].1
    );
    assert_eq!(examples[2].0, Role::Assistant);
    assert!(!examples[2].1.contains("洛琪希·米格路迪亚:"));
}

/// A V2 card as SillyTavern writes it, with a Character's note (its depth prompt).
const NOTED_CARD: &str = r#"{
  "spec": "chara_card_v2", "spec_version": "2.0",
  "data": {
    "name": "Mira", "description": "A navigator.", "personality": "", "scenario": "",
    "first_mes": "Ahoy.", "mes_example": "", "creator_notes": "", "system_prompt": "",
    "post_history_instructions": "", "alternate_greetings": [], "tags": [], "creator": "",
    "character_version": "",
    "extensions": {
      "talkativeness": "0.5", "fav": false, "world": "",
      "depth_prompt": {"prompt": "{{char}} never admits being lost.", "depth": 1, "role": "assistant"},
      "someone_elses": {"kept": true}
    }
  }
}"#;

#[tokio::test]
async fn the_characters_note_comes_from_the_card_and_goes_back_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).await.unwrap();
    let file = dir.path().join("Mira.json");
    std::fs::write(&file, NOTED_CARD).unwrap();
    let mira = import(&store, &file).await;
    let session = service::create_session(&store, &mira).await.unwrap();
    store
        .add_message(
            &session.id,
            NewMessage {
                role: Role::User,
                name: "User",
                content: "Where are we?",
                status: Default::default(),
                image_ids: &[],
                speaker: None,
            },
        )
        .await
        .unwrap();
    let p = preview(&store, &session.id, "Are we lost?").await;
    // Depth 1 with the new message counted: just before it (after the post-history, if any).
    let note = turns(&p, PromptSource::CharacterNote);
    assert_eq!(
        note,
        [(Role::Assistant, "Mira never admits being lost.".to_owned())]
    );
    let at = p
        .prompt
        .parts
        .iter()
        .find(|x| x.source == PromptSource::CharacterNote)
        .unwrap()
        .message_index as usize;
    assert_eq!(p.prompt.messages[at + 1].content, "Are we lost?");

    // Edited in Confab, it is saved in the card and exported with it.
    notes::set_card_note(
        &store,
        &mira,
        Some(CharacterNote {
            text: "{{char}} hums when nervous.".into(),
            depth: 3,
            role: Role::System,
        }),
    )
    .await
    .unwrap();
    let stored = store.stored_character(&mira).await.unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&library::export_bytes(&stored, ExportFormat::JsonV2).unwrap())
            .unwrap();
    let ext = &json["data"]["extensions"];
    assert_eq!(
        ext["depth_prompt"],
        serde_json::json!({"prompt": "{{char}} hums when nervous.", "depth": 3, "role": "system"})
    );
    assert_eq!(
        ext["someone_elses"]["kept"], true,
        "other extensions survive"
    );
    // Removing it removes it from the card.
    notes::set_card_note(&store, &mira, None).await.unwrap();
    let p = preview(&store, &session.id, "Are we lost?").await;
    assert!(turns(&p, PromptSource::CharacterNote).is_empty());
}

/// The fixture chat with an Author's Note set as SillyTavern stores it.
fn chat_with_note() -> Vec<u8> {
    let text =
        std::fs::read_to_string(fixture("chats/st_chat_swipes__seraphina_backup.jsonl")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    let meta = header["chat_metadata"].as_object_mut().unwrap();
    meta.insert(
        "note_prompt".into(),
        "[{{char}} is wary of strangers]".into(),
    );
    meta.insert("note_interval".into(), 2.into());
    meta.insert("note_position".into(), 1.into());
    meta.insert("note_depth".into(), 2.into());
    meta.insert("note_role".into(), 1.into());
    lines[0] = header.to_string();
    lines.join("\n").into_bytes()
}

#[tokio::test]
async fn the_authors_note_travels_with_sillytavern_chats_and_keeps_its_interval() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let seraphina = import(
        &store,
        &fixture("cards/v2_png__st_default_Seraphina_2024.png"),
    )
    .await;
    let session = service::import_chat(&store, &seraphina, "backup.jsonl", chat_with_note())
        .await
        .unwrap();
    let stored = notes::chat_notes(&store, &session.id).await.unwrap();
    let expected = AuthorsNote {
        text: "[{{char}} is wary of strangers]".into(),
        position: NotePosition::InChat,
        depth: 2,
        role: Role::User,
        interval: 2,
    };
    assert_eq!(stored.chat.as_ref(), Some(&expected));

    // The chat has three user messages on its path: with the new one, four, a multiple of 2.
    let p = preview(&store, &session.id, "hello again").await;
    let note = turns(&p, PromptSource::AuthorsNote);
    assert_eq!(
        note,
        [(Role::User, "[Seraphina is wary of strangers]".to_owned())]
    );
    // Without a new message (an impersonation, say) it is three: not this turn.
    let request = TurnRequest::default();
    let p = preview_turn(
        &store,
        &PromptCaches::default(),
        &session.id,
        &request,
        false,
    )
    .await
    .unwrap();
    assert!(turns(&p, PromptSource::AuthorsNote).is_empty());

    // Exported, it is where SillyTavern reads it.
    let (_, bytes, _) =
        service::export_session_bytes(&store, &session.id, ChatExportFormat::SillyTavern)
            .await
            .unwrap();
    let first = String::from_utf8(bytes).unwrap();
    let header: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    let meta = &header["chat_metadata"];
    assert_eq!(meta["note_prompt"], "[{{char}} is wary of strangers]");
    assert_eq!(
        (
            &meta["note_interval"],
            &meta["note_position"],
            &meta["note_depth"],
            &meta["note_role"]
        ),
        (&2.into(), &1.into(), &2.into(), &1.into())
    );

    // A character's default applies to its chats without a note of their own.
    let plain = service::create_session(&store, &seraphina).await.unwrap();
    let default = AuthorsNote {
        text: "[Default note]".into(),
        position: NotePosition::AfterSystem,
        ..AuthorsNote::default()
    };
    notes::set_default_note(&store, &seraphina, Some(default.clone()))
        .await
        .unwrap();
    let p = preview(&store, &plain.id, "hi").await;
    assert_eq!(
        turns(&p, PromptSource::AuthorsNote),
        [(Role::System, "[Default note]".to_owned())]
    );
    assert_eq!(
        p.prompt.messages[1].content, "[Default note]",
        "after the system prompt"
    );
    let p = preview(&store, &session.id, "hello again").await;
    assert_eq!(
        turns(&p, PromptSource::AuthorsNote)[0].1,
        "[Seraphina is wary of strangers]",
        "the chat's own note wins"
    );
    // Clearing the chat's own note falls back to the default.
    let after = notes::set_chat_note(&store, &session.id, None)
        .await
        .unwrap();
    assert_eq!(after.in_force(), Some(&default));

    // A hostile note is refused and changes nothing.
    let err = notes::set_chat_note(
        &store,
        &plain.id,
        Some(AuthorsNote {
            depth: u32::MAX,
            ..AuthorsNote::default()
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), confab_core::ErrorCode::InvalidInput);
    assert_eq!(
        notes::chat_notes(&store, &plain.id).await.unwrap().chat,
        None
    );
}

#[tokio::test]
async fn user_turns_follow_the_path_through_swipes_branches_and_imports() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let seraphina = import(
        &store,
        &fixture("cards/v2_png__st_default_Seraphina_2024.png"),
    )
    .await;
    let session = service::create_session(&store, &seraphina).await.unwrap();
    notes::set_chat_note(
        &store,
        &session.id,
        Some(AuthorsNote {
            text: "[every third]".into(),
            interval: 3,
            ..AuthorsNote::default()
        }),
    )
    .await
    .unwrap();
    let say = |role: Role, text: &'static str| {
        let store = store.clone();
        let id = session.id.clone();
        async move {
            store
                .add_message(
                    &id,
                    NewMessage {
                        role,
                        name: "x",
                        content: text,
                        status: Default::default(),
                        image_ids: &[],
                        speaker: None,
                    },
                )
                .await
                .unwrap()
        }
    };
    let due = |p: &PromptPreview| !turns(p, PromptSource::AuthorsNote).is_empty();
    say(Role::User, "one").await;
    say(Role::Assistant, "a").await;
    let second = say(Role::User, "two").await;
    let reply = say(Role::Assistant, "b").await;
    // Two user messages, the new one the third: due.
    assert!(due(&preview(&store, &session.id, "three").await));
    // A swipe of the reply keeps the count; deleting the second user message's branch lowers it.
    store
        .add_swipe(
            &reply.id,
            NewMessage {
                role: Role::Assistant,
                name: "x",
                content: "b2",
                status: Default::default(),
                image_ids: &[],
                speaker: None,
            },
        )
        .await
        .unwrap();
    assert!(due(&preview(&store, &session.id, "three").await));
    // A branch ending at the second user message copies its counts: its next is the third.
    let branch = store.branch_session(&second.id).await.unwrap();
    let note = notes::chat_notes(&store, &session.id).await.unwrap().chat;
    notes::set_chat_note(&store, &branch, note).await.unwrap();
    assert!(due(&preview(&store, &branch, "three").await));
    store.delete_message(&second.id).await.unwrap();
    assert!(!due(&preview(&store, &session.id, "two again").await));
}

#[tokio::test]
async fn token_counts_are_stored_once_and_forgotten_when_a_text_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let seraphina = import(
        &store,
        &fixture("cards/v2_png__st_default_Seraphina_2024.png"),
    )
    .await;
    let session = service::create_session(&store, &seraphina).await.unwrap();
    let said = store
        .add_message(
            &session.id,
            NewMessage {
                role: Role::User,
                name: "User",
                content: "The river runs north tonight.",
                status: Default::default(),
                image_ids: &[],
                speaker: None,
            },
        )
        .await
        .unwrap();
    let counter = confab_core::tokens::default_counter();
    async fn stored(store: &Store, session: &str) -> Vec<Option<u32>> {
        let name = confab_core::tokens::default_counter().name();
        store
            .recent_history(session, None, 1 << 20, name)
            .await
            .unwrap()
            .messages
            .into_iter()
            .map(|m| m.tokens)
            .collect()
    }
    assert_eq!(
        stored(&store, &session.id).await,
        [None, None],
        "nothing counted yet"
    );
    preview(&store, &session.id, "hi").await;
    // Written beside the prompt: wait (bounded) for it.
    let mut counts = Vec::new();
    for _ in 0..200 {
        counts = stored(&store, &session.id).await;
        if counts.iter().all(Option::is_some) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        counts[1],
        Some(counter.count("The river runs north tonight."))
    );
    // Another tokenizer's count does not count.
    let other = store
        .recent_history(&session.id, None, 1 << 20, "some-other-tokenizer")
        .await
        .unwrap();
    assert!(other.messages.iter().all(|m| m.tokens.is_none()));
    // An edit forgets it; so does a reply's checkpoint.
    store.edit_message(&said.id, "Changed.").await.unwrap();
    assert_eq!(stored(&store, &session.id).await[1], None);
}

#[tokio::test]
async fn the_test_panel_scans_a_real_session_with_its_trigger_character_and_sources() {
    use confab_core::lore::{books, DropReason, TestActivationRequest, Trigger};
    use confab_core::session::turn::{test_activation, PromptCaches};

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).await.unwrap();
    let file = dir.path().join("Mira.json");
    std::fs::write(&file, NOTED_CARD).unwrap();
    let mira = import(&store, &file).await;
    let session = service::create_session(&store, &mira).await.unwrap();
    let book = books::import_book_bytes(
        &store,
        "book.json",
        br#"{"entries": {
            "0": {"uid": 0, "key": ["ahoy"], "content": "Greetings are loud here.", "comment": "greeting"},
            "1": {"uid": 1, "key": ["lost"], "content": "Nobody is lost at sea.", "comment": "note",
                  "matchCharacterDepthPrompt": true},
            "2": {"uid": 2, "key": ["ahoy"], "content": "Only when continuing.", "comment": "cont",
                  "triggers": ["continue"]},
            "3": {"uid": 3, "key": ["ahoy"], "content": "Not for Mira.", "comment": "others",
                  "characterFilter": {"isExclude": true, "names": ["Mira.png"], "tags": []}}
        }}"#
        .to_vec(),
    )
    .await
    .unwrap();
    let caches = PromptCaches::default();
    let request = |trigger| TestActivationRequest {
        book_ids: vec![book.id.clone()],
        messages: Vec::new(),
        settings: None,
        seed: Some(1),
        context_tokens: 0,
        trigger,
        character: None,
        session_id: Some(session.id.clone()),
        message: None,
    };
    // The greeting ("Ahoy.") is the chat; the Character's note is a match source.
    let report = test_activation(&store, &caches, request(Trigger::Normal))
        .await
        .unwrap();
    let fired: Vec<u32> = report.activated.iter().map(|a| a.uid).collect();
    assert_eq!(fired, [0, 1], "{report:#?}");
    let dropped: Vec<(u32, &DropReason)> =
        report.dropped.iter().map(|d| (d.uid, &d.reason)).collect();
    assert!(
        dropped
            .iter()
            .any(|(uid, r)| *uid == 2 && matches!(r, DropReason::Trigger { .. })),
        "{dropped:?}"
    );
    assert!(
        dropped
            .iter()
            .any(|(uid, r)| *uid == 3 && matches!(r, DropReason::CharacterFilter { .. })),
        "{dropped:?}"
    );
    let report = test_activation(&store, &caches, request(Trigger::Continue))
        .await
        .unwrap();
    let fired: Vec<u32> = report.activated.iter().map(|a| a.uid).collect();
    assert_eq!(fired, [0, 1, 2]);
    // A session that is not there is a typed error.
    let mut missing = request(Trigger::Normal);
    missing.session_id = Some("no-such-chat".into());
    let err = test_activation(&store, &caches, missing).await.unwrap_err();
    assert_eq!(err.code(), confab_core::ErrorCode::NotFound);
}
