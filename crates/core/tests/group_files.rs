//! SillyTavern's group files in and out: a group definition (members by card
//! file, list order, swap cards, a disabled member) and a group chat with
//! several speakers, written to SillyTavern's format (`Group` in its
//! public/scripts/group-chats.js, chat lines as its chats are saved).

use confab_core::card::{CardData, CardFormat, CardSpec};
use confab_core::library::content_hash;
use confab_core::session::group::{group_state, CardMode, Presence, TurnOrder};
use confab_core::session::group_files::{
    import_sillytavern_group, sillytavern_group_definition, SillyTavernGroup,
};
use confab_core::session::service::{export_session_bytes, ChatExportFormat};
use confab_core::store::{Inserted, NewCharacter, Store};
use confab_core::ErrorCode;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/chats")
            .join(name),
    )
    .unwrap()
}

async fn add(store: &Store, name: &str, file: &str) -> String {
    let card = CardData {
        name: name.into(),
        description: format!("{name} works at the inn."),
        first_mes: format!("{name} says hello."),
        ..Default::default()
    };
    let hash = content_hash(&card);
    let Inserted::New { id } = store
        .insert_character(NewCharacter {
            card: &card,
            original: &serde_json::json!({}),
            spec: CardSpec::V2,
            format: CardFormat::Png,
            source_file: file,
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

/// Ann (found by name), Bo (found by the file he was imported from) and Cy.
async fn library() -> (tempfile::TempDir, Store, [String; 3]) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let ann = add(&store, "Ann", "ann-v2.json").await;
    let bo = add(&store, "Bo the Bridgekeeper", "BO_CARD.png").await;
    let cy = add(&store, "Cy", "Cy.png").await;
    (dir, store, [ann, bo, cy])
}

#[tokio::test]
async fn a_group_definition_becomes_a_group_chat_with_its_settings() {
    let (_dir, store, [ann, bo, cy]) = library().await;
    let made = import_sillytavern_group(
        &store,
        &fixture("st_group__tavern_trio.json"),
        "The Three Keys.json",
        Vec::new(),
    )
    .await
    .unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].title, "The Three Keys");
    let state = group_state(&store, &made[0].id).await.unwrap();
    let members: Vec<(&str, Presence)> = state
        .members
        .iter()
        .map(|m| (m.character_id.as_str(), m.presence))
        .collect();
    assert_eq!(
        members,
        [
            (ann.as_str(), Presence::Present),
            (bo.as_str(), Presence::Present),
            (cy.as_str(), Presence::Muted)
        ]
    );
    assert_eq!(state.settings.turn_order, TurnOrder::List);
    assert_eq!(state.settings.card_mode, CardMode::Speaker);
    // Each member greets.
    let page = store.messages_page(&made[0].id, None, 10).await.unwrap();
    assert_eq!(page.messages.len(), 3);
}

#[tokio::test]
async fn a_group_chat_file_keeps_each_speaker_and_its_note() {
    let (_dir, store, [ann, bo, _cy]) = library().await;
    let made = import_sillytavern_group(
        &store,
        &fixture("st_group__tavern_trio.json"),
        "group.json",
        vec![(
            "2025-06-01@20h01m02s.jsonl".into(),
            fixture("st_group_chat__tavern_trio.jsonl"),
        )],
    )
    .await
    .unwrap();
    let session = &made[0].id;
    let page = store.messages_page(session, None, 10).await.unwrap();
    let seen: Vec<(&str, Option<&str>, &str)> = page
        .messages
        .iter()
        .map(|m| (m.name.as_str(), m.speaker_id.as_deref(), m.content.as_str()))
        .collect();
    // "Bo" in the file is not the library's "Bo the Bridgekeeper": kept by name, no speaker.
    assert_eq!(
        seen,
        [
            (
                "Ann",
                Some(ann.as_str()),
                "Welcome to the Three Keys, traveller."
            ),
            ("Bo", None, "Mind the bridge toll."),
            ("User", None, "Bo, how much is the toll?"),
            ("Bo", None, "Two coppers."),
            ("Stranger", None, "*A stranger coughs.*"),
        ]
    );
    assert_eq!(page.messages[1].swipe_count, 2);
    let notes = store.authors_notes(session).await.unwrap();
    assert_eq!(notes.chat.unwrap().text, "Keep it short.");
    let state = group_state(&store, session).await.unwrap();
    assert_eq!(state.members[1].character_id, bo);

    // Out again: the chat with every speaker's name, the definition with the members' files.
    let (_, jsonl, _) = export_session_bytes(&store, session, ChatExportFormat::SillyTavern)
        .await
        .unwrap();
    let text = String::from_utf8(jsonl).unwrap();
    assert!(text.contains(r#""name":"Ann""#) && text.contains(r#""name":"Stranger""#));
    let (_, markdown, _) = export_session_bytes(&store, session, ChatExportFormat::Markdown)
        .await
        .unwrap();
    let markdown = String::from_utf8(markdown).unwrap();
    assert!(
        markdown.contains("Ann") && markdown.contains("Stranger"),
        "{markdown}"
    );
    let definition = sillytavern_group_definition(&store, session).await.unwrap();
    assert_eq!(definition.members, ["Ann.png", "BO_CARD.png", "Cy.png"]);
    assert_eq!(definition.disabled_members, ["Cy.png"]);
    assert_eq!(
        (definition.activation_strategy, definition.generation_mode),
        (1, 0)
    );
    // And that definition reads back into the same group.
    let bytes = serde_json::to_vec(&definition).unwrap();
    let again = import_sillytavern_group(&store, &bytes, "again.json", Vec::new())
        .await
        .unwrap();
    let state = group_state(&store, &again[0].id).await.unwrap();
    assert_eq!(state.members.len(), 3);
    assert_eq!(state.members[2].presence, Presence::Muted);
}

#[tokio::test]
async fn a_group_with_members_the_library_lacks_or_a_bad_file_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    add(&store, "Ann", "Ann.png").await;
    let err = import_sillytavern_group(
        &store,
        &fixture("st_group__tavern_trio.json"),
        "g.json",
        Vec::new(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("bo_card.png, Cy.png"), "{err}");
    for (bytes, code) in [
        (b"{not json".to_vec(), ErrorCode::UnsupportedFormat),
        (
            br#"{"members":["Ann.png"]}"#.to_vec(),
            ErrorCode::UnsupportedFormat,
        ),
        (vec![b' '; 2 * 1024 * 1024], ErrorCode::TooLarge),
    ] {
        let err = import_sillytavern_group(&store, &bytes, "g.json", Vec::new())
            .await
            .unwrap_err();
        assert_eq!(err.code(), code);
    }
    assert!(store
        .session_summaries(&Default::default())
        .await
        .unwrap()
        .is_empty());
    // A 1:1 chat has no group definition.
    let ann = store.character_from_file("ann.PNG").await.unwrap().unwrap();
    let solo = store.create_session(&ann, None, "T").await.unwrap();
    assert!(sillytavern_group_definition(&store, &solo).await.is_err());
    let _ = SillyTavernGroup::default();
}

#[tokio::test]
async fn a_group_definition_dropped_on_the_library_becomes_a_group_chat() {
    let (_dir, store, [ann, ..]) = library().await;
    let outcome = confab_core::library::import_bytes(
        &store,
        "The Three Keys.json",
        fixture("st_group__tavern_trio.json"),
        &confab_core::card::Limits::default(),
    )
    .await;
    assert_eq!(
        outcome.status,
        confab_core::library::ImportStatus::Imported,
        "{outcome:?}"
    );
    assert_eq!(outcome.name.as_deref(), Some("The Three Keys"));
    let session = outcome.session_id.unwrap();
    let state = group_state(&store, &session).await.unwrap();
    assert_eq!(state.members[0].character_id, ann);
    assert_eq!(outcome.character_id, None);
    // Nothing of it reads as a card or a world book.
    assert!(store.world_book_summaries().await.unwrap().is_empty());
}
