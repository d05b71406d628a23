//! Chats in and out: SillyTavern JSONL imports into the tree and exports back.

use std::path::Path;

use confab_core::card::{CardData, CardFormat, CardSpec};
use confab_core::library::content_hash;
use confab_core::session::service::{self, ChatExportFormat};
use confab_core::session::transcript::read_sillytavern_jsonl;
use confab_core::store::{Inserted, NewCharacter, SessionQuery, Store};
use confab_core::ErrorCode;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/chats")
            .join(name),
    )
    .unwrap()
}

async fn library() -> (tempfile::TempDir, Store, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let card = CardData {
        name: "Seraphina".into(),
        first_mes: "Hello".into(),
        ..Default::default()
    };
    let hash = content_hash(&card);
    let Inserted::New { id } = store
        .insert_character(NewCharacter {
            card: &card,
            original: &serde_json::json!({}),
            spec: CardSpec::V3,
            format: CardFormat::Json,
            source_file: "s.json",
            content_hash: &hash,
            avatar: None,
            assets: &[],
            collections: &[],
        })
        .await
        .unwrap()
    else {
        panic!()
    };
    (dir, store, id)
}

#[tokio::test]
async fn both_sillytavern_fixtures_import_with_their_swipes_and_export_back() {
    let (_dir, store, character) = library().await;
    for name in [
        "st_chat_swipes__seraphina_backup.jsonl",
        "st_chat_legacy__Aqua_2023.jsonl",
    ] {
        let bytes = fixture(name);
        let original = read_sillytavern_jsonl(&bytes, name).unwrap();
        let session = service::import_chat(&store, &character, name, bytes)
            .await
            .unwrap();
        assert_eq!(
            session.message_count as usize,
            original.messages.len(),
            "{name}"
        );

        let (_, exported, ext) =
            service::export_session_bytes(&store, &session.id, ChatExportFormat::SillyTavern)
                .await
                .unwrap();
        assert_eq!(ext, "jsonl");
        let back = read_sillytavern_jsonl(&exported, "back.jsonl").unwrap();
        assert_eq!(back.messages.len(), original.messages.len());
        for (a, b) in original.messages.iter().zip(&back.messages) {
            assert_eq!(
                (a.role, &a.name, &a.content),
                (b.role, &b.name, &b.content),
                "{name}"
            );
            let alternatives = |m: &confab_core::session::transcript::TranscriptMessage| {
                if m.swipes.len() > 1 {
                    m.swipes.clone()
                } else {
                    Vec::new()
                }
            };
            assert_eq!(alternatives(a), alternatives(b), "{name}: swipes survive");
        }
        // A re-import of the export is the same conversation again.
        let again = service::import_chat(&store, &character, "back.jsonl", exported)
            .await
            .unwrap();
        assert_eq!(again.message_count, session.message_count);
    }
    assert_eq!(
        store
            .session_summaries(&SessionQuery::default())
            .await
            .unwrap()
            .len(),
        4
    );
}

#[tokio::test]
async fn markdown_and_json_exports_read_like_the_chat() {
    let (_dir, store, character) = library().await;
    let session = service::import_chat(
        &store,
        &character,
        "aqua.jsonl",
        fixture("st_chat_legacy__Aqua_2023.jsonl"),
    )
    .await
    .unwrap();
    let (_, md, ext) =
        service::export_session_bytes(&store, &session.id, ChatExportFormat::Markdown)
            .await
            .unwrap();
    assert_eq!(ext, "md");
    let md = String::from_utf8(md).unwrap();
    assert!(md.starts_with("# "), "{md}");
    assert!(md.contains("**"), "speaker names in bold");
    let (_, json, _) = service::export_session_bytes(&store, &session.id, ChatExportFormat::Json)
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(json["format"], "confab-chat");
    assert_eq!(
        json["messages"].as_array().unwrap().len() as u32,
        session.message_count
    );
}

#[tokio::test]
async fn a_malformed_chat_names_the_line_and_imports_nothing() {
    let (_dir, store, character) = library().await;
    let bad = b"{\"user_name\":\"U\",\"character_name\":\"C\"}\n{\"name\":\"U\",\"is_user\":true,\"mes\":\"hi\"}\n{\"name\":\"C\",\"mes\":{}}\n".to_vec();
    let err = service::import_chat(&store, &character, "bad.jsonl", bad)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("line 3"), "{err}");
    assert!(store
        .session_summaries(&SessionQuery {
            include_archived: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .is_empty());
    let missing = service::import_chat(
        &store,
        "nobody",
        "x.jsonl",
        fixture("st_chat_legacy__Aqua_2023.jsonl"),
    )
    .await
    .unwrap_err();
    assert_eq!(missing.code(), ErrorCode::NotFound);
}

#[tokio::test]
async fn the_prompt_of_a_session_gathers_everything_in_order() {
    use confab_core::lore::{Book, BookSettings, DictionaryRule, DictionaryScope, Entry};
    use confab_core::session::turn::PromptCaches;
    use confab_core::session::turn::{preview_turn, TurnRequest};
    use confab_core::session::{CharacterPreferences, Role, SpeechModifier};
    use confab_core::store::BookOrigin;

    let (_dir, store, character) = library().await;
    store
        .create_persona("Traveller", "A tired wanderer.")
        .await
        .unwrap();
    let session = service::create_session(&store, &character).await.unwrap();
    let mut entry = Entry::new(0);
    entry.keys = vec!["glade".into()];
    entry.content = "The glade is warded against shadows.".into();
    let book = Book {
        name: "Eldoria".into(),
        description: String::new(),
        settings: BookSettings::default(),
        entries: vec![entry],
        extensions: serde_json::Map::new(),
    };
    store
        .insert_world_book(
            &book,
            BookOrigin {
                source_file: "",
                character_id: Some(&character),
            },
        )
        .await
        .unwrap();
    store
        .set_preferences(
            &character,
            &CharacterPreferences {
                speech: vec![SpeechModifier::TalkLess],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    store
        .set_dictionary(
            None,
            &[DictionaryRule {
                find: "colour".into(),
                replace: "color".into(),
                regex: false,
                case_sensitive: false,
                enabled: true,
                scope: DictionaryScope::Prompt,
            }],
        )
        .await
        .unwrap();

    let request = TurnRequest {
        new_message: Some("Is the glade safe? What colour is the sky?".into()),
        ..TurnRequest::default()
    };
    let prompt = preview_turn(
        &store,
        &PromptCaches::default(),
        &session.id,
        &request,
        false,
    )
    .await
    .unwrap()
    .prompt;
    let system = &prompt.messages[0];
    assert_eq!(system.role, Role::System);
    assert!(
        system.content.contains("Seraphina"),
        "the default primary context names {{char}}"
    );
    assert!(system.content.contains("A tired wanderer."));
    assert!(system.content.contains("USER PREFERENCE MODIFIERS"));
    assert!(
        system.content.contains("The glade is warded"),
        "world info fired on the new message"
    );
    assert_eq!(
        prompt.messages[1].content, "Hello",
        "the greeting is history"
    );
    let last = prompt.messages.last().unwrap();
    assert_eq!(last.role, Role::User);
    assert_eq!(
        last.content, "Is the glade safe? What color is the sky?",
        "dictionary applied"
    );
    assert!(prompt.total_tokens > 0);
}
