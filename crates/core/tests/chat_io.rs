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
