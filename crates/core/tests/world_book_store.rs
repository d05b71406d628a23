//! The world-books repository on a real SQLite file.

use confab_core::card::{CardData, CardFormat, CardSpec};
use confab_core::library::content_hash;
use confab_core::lore::{Book, BookSettings, DictionaryRule, DictionaryScope, Entry};
use confab_core::store::{BookOrigin, Inserted, NewCharacter, Store};
use confab_core::ErrorCode;

fn book(name: &str, entries: u32) -> Book {
    Book {
        name: name.into(),
        description: "Places and people.".into(),
        settings: BookSettings {
            scan_depth: 4,
            ..Default::default()
        },
        entries: (0..entries)
            .map(|uid| {
                let mut e = Entry::new(uid);
                e.keys = vec![format!("key{uid}")];
                e.comment = format!("Entry {uid}");
                e.content = format!("Content {uid}");
                e.extensions
                    .insert("addMemo".into(), serde_json::json!(true));
                e
            })
            .collect(),
        extensions: serde_json::Map::new(),
    }
}

async fn character(store: &Store, name: &str) -> String {
    let card = CardData {
        name: name.into(),
        ..Default::default()
    };
    let hash = content_hash(&card);
    match store
        .insert_character(NewCharacter {
            card: &card,
            original: &serde_json::json!({}),
            spec: CardSpec::V3,
            format: CardFormat::Json,
            source_file: "x.json",
            content_hash: &hash,
            avatar: None,
            assets: &[],
            collections: &[],
        })
        .await
        .unwrap()
    {
        Inserted::New { id } => id,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_book_round_trips_with_every_field_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let original = book("Eldoria", 3);
    let id = store
        .insert_world_book(&original, BookOrigin::default())
        .await
        .unwrap();
    let (stored, revision) = store.world_book(&id).await.unwrap();
    assert_eq!(stored, original);
    let summary = store.world_book_summary(&id).await.unwrap();
    assert_eq!((summary.entry_count, summary.enabled_count), (3, 3));
    assert!(!summary.global);
    assert_eq!(store.counts().await.unwrap().world_books, 1);

    // Every change bumps the revision (the engine's cache key).
    store
        .set_entries_enabled(&id, &[0, 2], false)
        .await
        .unwrap();
    let (after, revision2) = store.world_book(&id).await.unwrap();
    assert!(revision2 > revision);
    assert!(!after.entries[0].enabled && after.entries[1].enabled && !after.entries[2].enabled);
    assert_eq!(
        store.world_book_summary(&id).await.unwrap().enabled_count,
        1
    );
}

#[tokio::test]
async fn entries_are_saved_by_uid_added_at_the_end_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let id = store
        .insert_world_book(&book("B", 2), BookOrigin::default())
        .await
        .unwrap();
    let added = store.add_entry(&id).await.unwrap();
    assert_eq!(added.uid, 2);
    assert_eq!(added.insertion_order, 100, "SillyTavern's defaults");

    let (mut current, _) = store.world_book(&id).await.unwrap();
    current.entries[0].content = "Edited".into();
    current.entries[0].keys.push("/dragons?/i".into());
    store
        .save_entries(&id, &current.entries[..1])
        .await
        .unwrap();
    let (after, _) = store.world_book(&id).await.unwrap();
    assert_eq!(after.entries[0].content, "Edited");
    assert_eq!(
        after.entries.iter().map(|e| e.uid).collect::<Vec<_>>(),
        [0, 1, 2]
    );

    store.delete_entries(&id, &[1]).await.unwrap();
    let (after, _) = store.world_book(&id).await.unwrap();
    assert_eq!(
        after.entries.iter().map(|e| e.uid).collect::<Vec<_>>(),
        [0, 2]
    );
    assert_eq!(
        store
            .save_entries("nope", &after.entries)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn books_attach_to_characters_and_global_books_apply_to_all() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let aqua = character(&store, "Aqua").await;
    let megumin = character(&store, "Megumin").await;
    let world = store
        .insert_world_book(&book("Axel", 1), BookOrigin::default())
        .await
        .unwrap();
    let global = store
        .insert_world_book(&book("Common sense", 1), BookOrigin::default())
        .await
        .unwrap();
    store.set_world_book_global(&global, true).await.unwrap();
    store.attach_world_book(&world, &aqua).await.unwrap();
    store.attach_world_book(&world, &aqua).await.unwrap();

    assert_eq!(
        store.active_world_book_ids(&aqua).await.unwrap(),
        [world.clone(), global.clone()]
    );
    assert_eq!(
        store.active_world_book_ids(&megumin).await.unwrap(),
        std::slice::from_ref(&global)
    );
    let attached = store.character_world_books(&aqua).await.unwrap();
    assert_eq!(attached.len(), 1);
    assert_eq!(attached[0].characters[0].name, "Aqua");

    store.detach_world_book(&world, &aqua).await.unwrap();
    assert!(store.character_world_books(&aqua).await.unwrap().is_empty());
    assert_eq!(
        store
            .attach_world_book("missing", &aqua)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn an_embedded_book_remembers_its_card_and_outlives_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let seraphina = character(&store, "Seraphina").await;
    let id = store
        .insert_world_book(
            &book("Eldoria", 4),
            BookOrigin {
                source_file: "Seraphina.png",
                character_id: Some(&seraphina),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store.embedded_world_book_id(&seraphina).await.unwrap(),
        Some(id.clone())
    );
    assert_eq!(
        store.character_world_books(&seraphina).await.unwrap().len(),
        1
    );
    // Deleting the character keeps the book (it may be attached elsewhere) but unlinks it.
    store.delete_character(&seraphina).await.unwrap();
    let summary = store.world_book_summary(&id).await.unwrap();
    assert!(summary.characters.is_empty());
}

#[tokio::test]
async fn renaming_and_settings_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let id = store
        .insert_world_book(&book("Old", 1), BookOrigin::default())
        .await
        .unwrap();
    let settings = BookSettings {
        recursive: true,
        budget_cap: 512,
        ..Default::default()
    };
    store
        .update_world_book(&id, " New ", "Desc", &settings)
        .await
        .unwrap();
    let (b, _) = store.world_book(&id).await.unwrap();
    assert_eq!((b.name.as_str(), b.description.as_str()), ("New", "Desc"));
    assert_eq!(b.settings, settings);
    assert_eq!(
        store
            .update_world_book(&id, "  ", "", &settings)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::InvalidInput
    );
    store.delete_world_book(&id).await.unwrap();
    assert_eq!(
        store.world_book(&id).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert_eq!(store.counts().await.unwrap().world_books, 0);
}

#[tokio::test]
async fn dictionaries_per_character_and_global() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let aqua = character(&store, "Aqua").await;
    let rule = |find: &str| DictionaryRule {
        find: find.into(),
        replace: "x".into(),
        regex: false,
        case_sensitive: false,
        enabled: true,
        scope: DictionaryScope::Both,
    };
    assert!(store.dictionary(None).await.unwrap().is_empty());
    store.set_dictionary(None, &[rule("global")]).await.unwrap();
    store
        .set_dictionary(Some(&aqua), &[rule("a"), rule("b")])
        .await
        .unwrap();
    assert_eq!(store.dictionary(None).await.unwrap(), [rule("global")]);
    assert_eq!(store.dictionary(Some(&aqua)).await.unwrap().len(), 2);
    assert_eq!(
        store
            .set_dictionary(Some("nobody"), &[])
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    store.delete_character(&aqua).await.unwrap();
    assert!(store.dictionary(Some(&aqua)).await.unwrap().is_empty());
}

#[tokio::test]
async fn timed_effects_persist_per_chat_session_between_scans() {
    use confab_core::lore::{compile, scan, ActivationReason, ScanInput, ScanMessage};
    use confab_core::tokens::default_counter;
    use sqlx::{ConnectOptions, Connection};

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let aqua = character(&store, "Aqua").await;
    // Sessions arrive with the conversations issue; a plain row is enough here.
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join("confab.db"))
        .connect()
        .await
        .unwrap();
    sqlx::query("INSERT INTO chat_sessions (id, character_id, title, created_at, updated_at) VALUES ('s1', ?, '', 0, 0)")
        .bind(&aqua)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let mut lore = book("Axel", 0);
    let mut entry = Entry::new(0);
    entry.keys = vec!["explosion".into()];
    entry.content = "Megumin casts Explosion once a day.".into();
    entry.sticky = 3;
    lore.entries.push(entry);
    let compiled = std::sync::Arc::new(compile(&lore, "axel", default_counter()).unwrap());
    // Scans run off the async workers, as the app runs them.
    let scan_off = |input: ScanInput, mut state| {
        let compiled = compiled.clone();
        confab_core::offload::run("a scan", move || {
            let report = scan(&[&compiled], &input, &mut state, 1);
            (report, state)
        })
    };
    let say = |texts: &[&str]| ScanInput {
        messages: texts
            .iter()
            .map(|t| ScanMessage {
                role: "user".into(),
                name: "Kazuma".into(),
                content: (*t).into(),
            })
            .collect(),
        context_tokens: 8192,
        ..Default::default()
    };

    let state = store.lore_timed_state("s1").await.unwrap();
    let (first, state) = scan_off(say(&["EXPLOSION!"]), state).await.unwrap();
    assert_eq!(first.activated.len(), 1);
    store.save_lore_timed_state("s1", &state).await.unwrap();

    // Next turn, in a new process as far as the engine knows: still active, because sticky.
    let state = store.lore_timed_state("s1").await.unwrap();
    let (second, _) = scan_off(say(&["EXPLOSION!", "Let's go home.", "Quietly."]), state)
        .await
        .unwrap();
    assert_eq!(second.activated.len(), 1, "{second:?}");
    assert!(matches!(
        second.activated[0].reason,
        ActivationReason::Sticky { .. }
    ));
    // A different session starts with no timed effects.
    assert_eq!(
        store.lore_timed_state("other").await.unwrap(),
        Default::default()
    );
}

/// Editing a book while another connection keeps writing (a streaming reply
/// checkpoints every 250 ms): a transaction that reads before it writes must
/// wait its turn, not fail with "database is locked".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_succeed_while_another_connection_keeps_writing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let id = store
        .insert_world_book(&book("Busy", 3), BookOrigin::default())
        .await
        .unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        tokio::spawn(async move {
            let mut settings = store.settings().await.unwrap();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                settings.theme = match settings.theme {
                    confab_core::settings::ThemePreference::Dark => {
                        confab_core::settings::ThemePreference::Light
                    }
                    _ => confab_core::settings::ThemePreference::Dark,
                };
                store.save_settings(&settings).await.unwrap();
            }
        })
    };
    for _ in 0..150 {
        store.add_entry(&id).await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.await.unwrap();
    assert_eq!(store.world_book(&id).await.unwrap().0.entries.len(), 153);
}

#[tokio::test]
async fn a_filter_an_older_confab_kept_verbatim_is_adopted_on_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let mut original = book("Filtered", 3);
    // What an import before typed filters left in the entries' extensions.
    original.entries[0].extensions.insert(
        "characterFilter".into(),
        serde_json::json!({"isExclude": true, "names": ["Seraphina.png"], "tags": []}),
    );
    original.entries[1].extensions.insert(
        "character_filter".into(),
        serde_json::json!({"isExclude": false, "names": [], "tags": ["fantasy"]}),
    );
    original.entries[2]
        .extensions
        .insert("characterFilter".into(), serde_json::json!("not a filter"));
    let id = store
        .insert_world_book(&original, BookOrigin::default())
        .await
        .unwrap();
    let (stored, _) = store.world_book(&id).await.unwrap();
    let first = stored.entries[0].character_filter.clone().unwrap();
    assert!(first.exclude);
    assert_eq!(first.names, ["Seraphina.png"]);
    assert!(!stored.entries[0].extensions.contains_key("characterFilter"));
    assert_eq!(
        stored.entries[1]
            .character_filter
            .as_ref()
            .map(|f| f.tags.clone()),
        Some(vec!["fantasy".to_owned()])
    );
    assert_eq!(stored.entries[2].character_filter, None);
    assert_eq!(
        stored.entries[2].extensions.get("characterFilter"),
        Some(&serde_json::json!("not a filter"))
    );
}
