//! Sessions on a real SQLite file: the message tree, swipes, paging, search, personas.

use confab_core::session::{CharacterPreferences, RelationshipMode, Role, SpeechModifier};
use confab_core::store::{NewMessage, SessionQuery, Store};
use confab_core::ErrorCode;

mod sessions_support;
use sessions_support::{path_of, reply, store_with_character, user};

#[tokio::test]
async fn a_new_session_opens_with_the_greeting_and_its_swipes() {
    let (_dir, store, character) = store_with_character().await;
    let session = store
        .create_session(&character, None, "Traveller")
        .await
        .unwrap();
    let page = store.messages_page(&session, None, 50).await.unwrap();
    assert_eq!(page.total, 1);
    let greeting = &page.messages[0];
    assert_eq!(
        greeting.content,
        "*Seraphina smiles at Traveller.* Welcome to my glade."
    );
    assert_eq!(
        (greeting.swipe_index, greeting.swipe_count),
        (0, 3),
        "the empty greeting is skipped"
    );
    assert_eq!(greeting.role, Role::Assistant);

    let second = store.select_swipe(&greeting.id, 1).await.unwrap();
    assert_eq!(second.content, "Hello, Traveller.");
    let page = store.messages_page(&session, None, 50).await.unwrap();
    assert_eq!(page.messages[0].id, second.id);
    assert_eq!(
        store
            .select_swipe(&greeting.id, 9)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::InvalidInput
    );
    assert_eq!(
        store.latest_session(&character).await.unwrap(),
        Some(session)
    );
}

#[tokio::test]
async fn pages_walk_back_from_the_newest_message_by_cursor() {
    let (_dir, store, character) = store_with_character().await;
    let session = store.create_session(&character, None, "T").await.unwrap();
    for i in 0..120 {
        let text = format!("message {i}");
        store
            .add_message(
                &session,
                if i % 2 == 0 {
                    user(&text)
                } else {
                    reply(&text)
                },
            )
            .await
            .unwrap();
    }
    let newest = store.messages_page(&session, None, 50).await.unwrap();
    assert_eq!(newest.total, 121);
    assert_eq!(newest.messages.len(), 50);
    assert_eq!(newest.messages.last().unwrap().content, "message 119");
    assert_eq!(newest.messages[0].content, "message 70");
    let older = store
        .messages_page(&session, newest.older_cursor.as_deref(), 50)
        .await
        .unwrap();
    assert_eq!(older.messages.last().unwrap().content, "message 69");
    let oldest = store
        .messages_page(&session, older.older_cursor.as_deref(), 50)
        .await
        .unwrap();
    assert_eq!(oldest.messages.len(), 21);
    assert!(oldest.messages[0].content.contains("Welcome"));
    assert_eq!(oldest.older_cursor, None);
}

#[tokio::test]
async fn swipes_edits_deletes_and_branches_keep_the_tree_consistent() {
    let (_dir, store, character) = store_with_character().await;
    let session = store.create_session(&character, None, "T").await.unwrap();
    store.add_message(&session, user("Hi")).await.unwrap();
    let first = store.add_message(&session, reply("Hello!")).await.unwrap();
    store
        .add_message(&session, user("How are you?"))
        .await
        .unwrap();

    // A regenerated reply is a sibling; choosing the old one brings back what followed it.
    let second = store
        .add_swipe(&first.id, reply("Greetings!"))
        .await
        .unwrap();
    assert_eq!((second.swipe_index, second.swipe_count), (1, 2));
    let page = store.messages_page(&session, None, 50).await.unwrap();
    assert_eq!(page.messages.last().unwrap().content, "Greetings!");
    store.select_swipe(&first.id, 0).await.unwrap();
    let page = store.messages_page(&session, None, 50).await.unwrap();
    assert_eq!(page.messages.last().unwrap().content, "How are you?");

    // Edits keep the old text.
    let edited = store.edit_message(&first.id, "Hello there!").await.unwrap();
    assert_eq!(edited.edit_count, 1);
    assert_eq!(store.message_versions(&first.id).await.unwrap(), ["Hello!"]);

    // Branch from the first reply: a new session with the path up to it.
    let branch = store.branch_session(&first.id).await.unwrap();
    let branched = store.messages_page(&branch, None, 50).await.unwrap();
    assert_eq!(branched.total, 3);
    assert_eq!(branched.messages.last().unwrap().content, "Hello there!");

    // Deleting the reply removes what follows it; its remaining swipe takes its place.
    store.delete_message(&first.id).await.unwrap();
    let page = store.messages_page(&session, None, 50).await.unwrap();
    assert_eq!(page.messages.last().unwrap().content, "Greetings!");
    assert_eq!(page.total, 3);
    store.delete_message(&second.id).await.unwrap();
    let page = store.messages_page(&session, None, 50).await.unwrap();
    assert_eq!(page.messages.last().unwrap().content, "Hi");
    assert_eq!(
        store.message(&first.id).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn full_text_search_finds_words_in_any_language_and_survives_odd_input() {
    let (_dir, store, character) = store_with_character().await;
    let a = store.create_session(&character, None, "T").await.unwrap();
    let b = store.create_session(&character, None, "T").await.unwrap();
    store
        .add_message(&a, user("The dragon sleeps under the mountain."))
        .await
        .unwrap();
    store
        .add_message(&b, user("Дракон спит под горой."))
        .await
        .unwrap();
    store
        .add_message(&b, user("Another dragon appears!"))
        .await
        .unwrap();

    let all = store.search_messages("dragon", None, 50).await.unwrap();
    assert_eq!(all.len(), 2);
    assert!(
        all[0].snippet.contains("\u{2}dragon\u{3}"),
        "{:?}",
        all[0].snippet
    );
    assert_eq!(
        store
            .search_messages("drag", Some(&a), 50)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .search_messages("дракон", None, 50)
            .await
            .unwrap()
            .len(),
        1
    );
    for odd in ["\"", "AND OR NOT", "*", "drag\"on(", "  "] {
        store.search_messages(odd, None, 50).await.unwrap();
    }
    // Edits and deletes reach the index.
    let hit = &store.search_messages("mountain", None, 5).await.unwrap()[0];
    store
        .edit_message(&hit.message_id, "The dragon sleeps.")
        .await
        .unwrap();
    assert!(store
        .search_messages("mountain", None, 5)
        .await
        .unwrap()
        .is_empty());
    store.delete_session(&b).await.unwrap();
    assert!(store
        .search_messages("дракон", None, 5)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn the_recent_list_previews_searches_renames_and_archives() {
    let (_dir, store, character) = store_with_character().await;
    let session = store.create_session(&character, None, "T").await.unwrap();
    store
        .add_message(&session, user("A   long\nwalk"))
        .await
        .unwrap();
    let list = store
        .session_summaries(&SessionQuery::default())
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].preview, "A long walk");
    assert_eq!(list[0].message_count, 2);
    assert_eq!(list[0].character_name, "Seraphina");

    // A reply that failed before its first word: the preview stays on the question.
    store.add_message(&session, reply("")).await.unwrap();
    let list = store
        .session_summaries(&SessionQuery::default())
        .await
        .unwrap();
    assert_eq!(list[0].preview, "A long walk");
    assert_eq!(list[0].message_count, 3);

    store.rename_session(&session, "Forest walk").await.unwrap();
    let found = store
        .session_summaries(&SessionQuery {
            search: "forest".into(),
            include_archived: false,
        })
        .await
        .unwrap();
    assert_eq!(found[0].title, "Forest walk");
    store.archive_session(&session, true).await.unwrap();
    assert!(store
        .session_summaries(&SessionQuery::default())
        .await
        .unwrap()
        .is_empty());
    let with_archived = SessionQuery {
        search: "100%_".into(),
        include_archived: true,
    };
    assert!(store
        .session_summaries(&with_archived)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .rename_session(&session, " ")
            .await
            .unwrap_err()
            .code(),
        ErrorCode::InvalidInput
    );
    assert_eq!(
        store.latest_session(&character).await.unwrap(),
        None,
        "archived ones are not reopened"
    );
}

#[tokio::test]
async fn images_attach_to_the_message_they_are_sent_with() {
    let (_dir, store, character) = store_with_character().await;
    let session = store.create_session(&character, None, "T").await.unwrap();
    let image = store
        .attach_image("cat.png", "image/png", &[1, 2, 3])
        .await
        .unwrap();
    let ids = vec![image.id.clone()];
    let message = store
        .add_message(
            &session,
            NewMessage {
                image_ids: &ids,
                ..user("Look!")
            },
        )
        .await
        .unwrap();
    assert_eq!(message.images, std::slice::from_ref(&image));
    assert_eq!(store.image(&image.id).await.unwrap().unwrap().1, [1, 2, 3]);
}

#[tokio::test]
async fn personas_preferences_and_primary_context_versions() {
    let (_dir, store, character) = store_with_character().await;
    let first = store
        .create_persona("Traveller", "A wanderer.")
        .await
        .unwrap();
    assert!(first.is_default, "the first persona is the default");
    let second = store.create_persona("Мила", "").await.unwrap();
    assert!(!second.is_default);
    store.set_default_persona(&second.id).await.unwrap();
    assert_eq!(
        store.default_persona().await.unwrap().unwrap().id,
        second.id
    );
    let session = store
        .create_session(&character, Some(&first.id), "Traveller")
        .await
        .unwrap();
    assert_eq!(
        store.session_summary(&session).await.unwrap().persona_id,
        Some(first.id.clone())
    );
    store.delete_persona(&first.id).await.unwrap();
    assert_eq!(
        store.session_summary(&session).await.unwrap().persona_id,
        None
    );

    let prefs = CharacterPreferences {
        relationship: RelationshipMode::Friend,
        speech: vec![SpeechModifier::TalkLess],
        ..Default::default()
    };
    assert_eq!(store.preferences(&character).await.unwrap(), None);
    store.set_preferences(&character, &prefs).await.unwrap();
    assert_eq!(store.preferences(&character).await.unwrap(), Some(prefs));
    store.delete_preferences(&character).await.unwrap();
    assert_eq!(store.preferences(&character).await.unwrap(), None);

    assert!(store.context_versions().await.unwrap().is_empty());
    let v1 = store.save_primary_context("Be vivid.").await.unwrap();
    store.save_primary_context("Be brief.").await.unwrap();
    let restored = store.restore_context_version(&v1.id).await.unwrap();
    let versions = store.context_versions().await.unwrap();
    assert_eq!(versions.len(), 3);
    assert_eq!(versions[0].id, restored.id);
    assert_eq!(versions[0].text, "Be vivid.");
    store.set_post_history("Stay in character.").await.unwrap();
    assert_eq!(store.post_history().await.unwrap(), "Stay in character.");
}

#[tokio::test]
async fn a_conversation_from_schema_v1_has_a_proper_active_path_after_upgrading() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema/v1.db"),
        dir.path().join("confab.db"),
    )
    .unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let page = store
        .messages_page("f0b4a5e6-7d8c-4b9a-9f2e-3d4e5f6a7b07", None, 50)
        .await
        .unwrap();
    assert_eq!(page.total, 3);
    let texts: Vec<&str> = page.messages.iter().map(|m| m.content.as_str()).collect();
    assert!(texts[0].contains("You are safe here"));
    assert_eq!(
        page.messages[2].swipe_count, 2,
        "two replies to the same message are swipes"
    );
    assert_eq!(
        store
            .search_messages("Eldoria", None, 10)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn attachments_are_checked_before_anything_is_stored() {
    use confab_core::session::service;
    let (dir, store, _character) = store_with_character().await;
    let png = b"\x89PNG\r\n\x1a\n-rest-of-a-png".to_vec();
    let image = service::attach_image_bytes(&store, "map.png", &png)
        .await
        .unwrap();
    assert_eq!(image.mime, "image/png");

    let err = service::attach_image_bytes(&store, "notes.txt", b"hello")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnsupportedFormat);
    let huge = vec![0u8; (service::MAX_IMAGE_BYTES + 1) as usize];
    let err = service::attach_image_bytes(&store, "huge.png", &huge)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooLarge);

    let file = dir.path().join("dropped.png");
    std::fs::write(&file, &png).unwrap();
    let dropped = service::attach_image_file(&store, &file).await.unwrap();
    assert_eq!(dropped.name, "dropped.png");
    let missing = service::attach_image_file(&store, &dir.path().join("gone.png"))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), ErrorCode::Io);
    assert_eq!(store.image(&image.id).await.unwrap().unwrap().1, png);
}

/// The active path as the pages show it, oldest first.
#[tokio::test]
async fn the_recent_history_is_the_active_path_however_deep_and_bushy() {
    let (_dir, store, character) = store_with_character().await;
    let session = store.create_session(&character, None, "Ann").await.unwrap();
    // 700 turns (deeper than the read's first depth range), a swipe of every
    // 7th reply (the chat goes on under the swipe), then the original of reply
    // 295 chosen back (the path ends there; later turns go on under it), and
    // a failed empty reply.
    let mut swiped = None;
    for i in 0..700 {
        let text = format!("message {i} {}", "x".repeat(i % 50));
        let m = store
            .add_message(
                &session,
                if i % 2 == 0 {
                    user(&text)
                } else {
                    reply(&text)
                },
            )
            .await
            .unwrap();
        if i % 14 == 1 {
            store
                .add_swipe(&m.id, reply(&format!("swipe of {i}")))
                .await
                .unwrap();
        }
        if i == 295 {
            swiped = Some(m.id.clone());
        }
    }
    store.select_swipe(&swiped.unwrap(), 0).await.unwrap();
    for i in 0..40 {
        let text = format!("after {i}");
        store
            .add_message(
                &session,
                if i % 2 == 0 {
                    user(&text)
                } else {
                    reply(&text)
                },
            )
            .await
            .unwrap();
    }
    store.add_message(&session, reply("")).await.unwrap();
    let path = path_of(&store, &session).await;
    let want: Vec<&str> = path
        .iter()
        .map(|(_, c)| c.as_str())
        .filter(|c| !c.is_empty())
        .collect();
    let history = store
        .recent_history(&session, None, usize::MAX, "o200k_base")
        .await
        .unwrap();
    let got: Vec<&str> = history
        .messages
        .iter()
        .map(|m| m.content.as_str())
        .collect();
    assert_eq!(got, want);
    assert!(got.contains(&"message 295 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
    assert!(!got.contains(&"message 296 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
    assert_eq!(
        history.user_turns,
        148 + 20,
        "user messages on the path (the greeting is not one)"
    );

    // Up to a message: the path above it; bounded by bytes: the newest that
    // reach the bound, the one crossing it included.
    let (middle, _) = &path[path.len() / 2];
    let above = store
        .recent_history(&session, Some(middle), usize::MAX, "o200k_base")
        .await
        .unwrap();
    assert_eq!(above.messages.len(), path.len() / 2);
    assert_eq!(
        above.messages.last().unwrap().content,
        path[path.len() / 2 - 1].1
    );
    let newest = store
        .recent_history(&session, None, 20, "o200k_base")
        .await
        .unwrap();
    let texts: Vec<&str> = newest.messages.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(
        texts,
        ["after 37", "after 38", "after 39"],
        "8 + 8 bytes, then the crossing one"
    );
}

#[tokio::test]
async fn a_messages_swipes_are_found_through_their_own_index_not_by_reading_the_chat() {
    use sqlx::{Connection, Row};
    let (dir, store, _) = store_with_character().await;
    store.close().await;
    let url = format!("sqlite://{}", dir.path().join("confab.db").display());
    let mut raw = sqlx::SqliteConnection::connect(&url).await.unwrap();
    // The lookups a page makes for every message (its swipe count and position).
    for sql in [
        "SELECT COUNT(*) FROM messages s WHERE s.session_id = ?1 AND s.parent_id IS ?2",
        "SELECT COUNT(*) FROM messages s WHERE s.session_id = ?1 AND s.parent_id IS ?2
         AND (s.created_at < 5 OR (s.created_at = 5 AND s.rowid < 3))",
    ] {
        let plan: Vec<String> = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
            .bind("chat")
            .bind("parent")
            .fetch_all(&mut raw)
            .await
            .unwrap()
            .iter()
            .map(|row| row.get::<String, _>("detail"))
            .collect();
        assert!(
            plan.iter().any(|d| d.contains("messages_by_siblings")),
            "{sql}: {plan:?}"
        );
    }
    raw.close().await.unwrap();
}
