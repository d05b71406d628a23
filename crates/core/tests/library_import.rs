//! Importing files and folders into a real library: progress, collections, bad files, exports.

use std::path::{Path, PathBuf};

use confab_core::card::{self, Limits};
use confab_core::library::{self, CharacterQuery, ExportFormat, ImportEvent, ImportStatus};
use confab_core::sink::{Collect, Discard};
use confab_core::store::Store;
use confab_core::ErrorCode;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cards")
        .join(name)
}

#[tokio::test]
async fn a_drop_of_files_and_a_folder_streams_progress_and_survives_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).await.unwrap();

    // A folder named like a pack: its cards join the "Konosuba" collection.
    let pack = dir.path().join("Konosuba");
    std::fs::create_dir_all(pack.join("nested")).unwrap();
    std::fs::copy(fixture("v1_png__st_Megumin.png"), pack.join("Megumin.png")).unwrap();
    std::fs::copy(
        fixture("webp_exif_decbytes__TavernAI_Aqua.webp"),
        pack.join("nested/Aqua.webp"),
    )
    .unwrap();
    std::fs::write(pack.join("notes.pdf"), b"not a card, skipped by extension").unwrap();
    std::fs::write(pack.join(".hidden.png"), b"hidden files are skipped").unwrap();
    let broken = dir.path().join("broken.png");
    std::fs::write(&broken, b"\x89PNG\r\n\x1a\ntruncated").unwrap();
    let missing = dir.path().join("gone.png");

    let events = Collect::default();
    let summary = library::import_paths(
        &store,
        &[
            fixture("v2_png__st_default_FluxTheCat.png"),
            pack.clone(),
            broken.clone(),
            missing.clone(),
        ],
        &Limits::default(),
        &events,
    )
    .await;

    assert_eq!(summary.imported, 3, "{:#?}", summary.outcomes);
    assert_eq!(summary.failed, 2);
    let events = events.events();
    assert_eq!(events.first(), Some(&ImportEvent::Started { total: 5 }));
    let progress: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            ImportEvent::Progress { done, .. } => Some(*done),
            _ => None,
        })
        .collect();
    assert_eq!(progress, [1, 2, 3, 4, 5], "one event per file, in order");
    assert!(matches!(events.last(), Some(ImportEvent::Finished { summary: s }) if s == &summary));

    let files: Vec<&str> = summary.outcomes.iter().map(|o| o.file.as_str()).collect();
    assert!(files[0].ends_with("v2_png__st_default_FluxTheCat.png"));
    assert!(files[1].ends_with("Megumin.png"));
    assert!(files[2].ends_with("Aqua.webp"));
    let broken_outcome = &summary.outcomes[3];
    assert_eq!(broken_outcome.status, ImportStatus::Failed);
    assert_eq!(
        broken_outcome.error.as_ref().unwrap().code,
        ErrorCode::InvalidCard
    );
    let missing_outcome = &summary.outcomes[4];
    assert_eq!(missing_outcome.error.as_ref().unwrap().code, ErrorCode::Io);

    let konosuba = store
        .character_summaries(&CharacterQuery {
            collection: Some("Konosuba".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let names: Vec<&str> = konosuba.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Aqua", "Megumin"]);
    assert!(konosuba.iter().all(|c| c.avatar_key.is_some()));
    // Every avatar got a JPEG thumbnail for the grid, and the original is kept.
    for c in &konosuba {
        let (mime, thumb) = store.avatar(&c.id, true).await.unwrap().unwrap();
        assert_eq!(mime, "image/jpeg");
        assert!(
            thumb.len() < 64 * 1024,
            "a small thumbnail: {} bytes",
            thumb.len()
        );
    }
}

#[tokio::test]
async fn the_same_card_twice_is_already_in_library_and_a_same_name_card_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let seraphina_v2 = fixture("v2_png__st_default_Seraphina_2024.png");
    let seraphina_v3 = fixture("ccv3_plus_chara__st_default_Seraphina.png");
    let first = library::import_paths(
        &store,
        std::slice::from_ref(&seraphina_v2),
        &Limits::default(),
        &Discard,
    )
    .await;
    let again = library::import_paths(&store, &[seraphina_v2], &Limits::default(), &Discard).await;
    assert_eq!(again.already_in_library, 1);
    assert_eq!(
        again.outcomes[0].character_id,
        first.outcomes[0].character_id
    );

    let other = library::import_paths(&store, &[seraphina_v3], &Limits::default(), &Discard).await;
    assert_eq!(
        other.imported, 1,
        "a different Seraphina is a new character"
    );
    assert_eq!(
        other.outcomes[0].same_name_as,
        first.outcomes[0].character_id
    );
    assert_eq!(store.counts().await.unwrap().characters, 2);
}

#[tokio::test]
async fn picked_bytes_import_like_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let bytes = std::fs::read(fixture("charx_small__tavernkit_test_character.charx")).unwrap();
    let outcome = library::import_bytes(&store, "test.charx", bytes, &Limits::default()).await;
    assert_eq!(outcome.status, ImportStatus::Imported, "{outcome:?}");
    let id = outcome.character_id.unwrap();
    let detail = store.character_detail(&id).await.unwrap();
    assert_eq!(detail.source_file, "test.charx");
    assert_eq!(detail.format, confab_core::card::CardFormat::Charx);

    let nothing = library::import_bytes(&store, "empty.json", Vec::new(), &Limits::default()).await;
    assert_eq!(nothing.status, ImportStatus::Failed);
}

#[tokio::test]
async fn every_export_format_reimports_as_already_in_library() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).await.unwrap();
    let cards = [
        "v2_png__st_default_Seraphina_2024.png",
        "v1_json_zh__mushoku_Roxy_stage1.json",
        "charx_small__tavernkit_test_character.charx",
        "webp_exif_ascii__TavernAI_Aqua_2023-03.webp",
    ];
    let exports = dir.path().join("exports");
    for name in cards {
        let summary =
            library::import_paths(&store, &[fixture(name)], &Limits::default(), &Discard).await;
        let id = summary.outcomes[0].character_id.clone().unwrap();
        for format in [
            ExportFormat::Png,
            ExportFormat::Json,
            ExportFormat::JsonV2,
            ExportFormat::Charx,
        ] {
            let exported = library::export_to_dir(&store, &id, format, &exports)
                .await
                .unwrap();
            assert!(exported.file_name.ends_with(library::extension(format)));
            let back = library::import_paths(
                &store,
                &[PathBuf::from(&exported.path)],
                &Limits::default(),
                &Discard,
            )
            .await;
            assert_eq!(
                back.outcomes[0].status,
                ImportStatus::AlreadyInLibrary,
                "{name} as {format:?}: {:?}",
                back.outcomes[0]
            );
            assert_eq!(back.outcomes[0].character_id.as_deref(), Some(id.as_str()));
        }
    }
    // Sixteen files, none overwritten: names that collide get a number.
    assert_eq!(std::fs::read_dir(&exports).unwrap().count(), 16);
    assert_eq!(store.counts().await.unwrap().characters, 4);
}

#[tokio::test]
async fn an_edit_is_saved_everywhere_and_exported() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let summary = library::import_paths(
        &store,
        &[fixture("v1_png__st_Megumin.png")],
        &Limits::default(),
        &Discard,
    )
    .await;
    let id = summary.outcomes[0].character_id.clone().unwrap();
    let mut card = store.character_detail(&id).await.unwrap().card;
    card.name = "  Megumin the Arch Wizard ".into();
    card.tags = vec!["explosion".into(), " ".into()];
    card.alternate_greetings.push("EXPLOSION!".into());
    let saved = library::update_character(&store, &id, card).await.unwrap();
    assert_eq!(saved.card.name, "Megumin the Arch Wizard");
    assert_eq!(saved.summary.tags, ["explosion"]);
    assert!(saved.card.modification_date.is_some());

    let stored = store.stored_character(&id).await.unwrap();
    let png = library::export_bytes(&stored, ExportFormat::Png).unwrap();
    let read = card::read_card(&png, "x.png", &Limits::default()).unwrap();
    assert_eq!(read.data, saved.card);

    let mut nameless = saved.card.clone();
    nameless.name = "   ".into();
    let err = library::update_character(&store, &id, nameless)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
}

fn lorebook(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lorebooks")
        .join(name)
}

#[tokio::test]
async fn world_book_files_in_a_drop_become_world_books() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let summary = library::import_paths(
        &store,
        &[
            lorebook("st_worldinfo_official__Eldoria.json"),
            lorebook("novelai__Ripple.lorebook"),
            lorebook("novelai_truncated__Ripple.lorebook"),
            fixture("v1_json_zh__mushoku_Roxy_stage1.json"),
        ],
        &Limits::default(),
        &Discard,
    )
    .await;
    let o = &summary.outcomes;
    assert_eq!(o[0].status, ImportStatus::Imported, "{:?}", o[0]);
    assert!(o[0].world_book_id.is_some() && o[0].character_id.is_none());
    assert_eq!(o[1].status, ImportStatus::Imported, "{:?}", o[1]);
    assert!(o[1].world_book_id.is_some());
    assert_eq!(o[2].status, ImportStatus::Failed);
    assert!(
        o[2].error.as_ref().unwrap().message.contains("cut off"),
        "{:?}",
        o[2]
    );
    assert!(o[3].character_id.is_some(), "a JSON card is still a card");
    let books = store.world_book_summaries().await.unwrap();
    assert_eq!(books.len(), 2);
    assert!(books.iter().any(|b| b.entry_count > 0));
}

#[tokio::test]
async fn an_embedded_book_is_linked_edited_and_written_back_on_export() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let card_file = fixture("ccv3_plus_chara__st_default_Seraphina.png");
    let summary = library::import_paths(
        &store,
        std::slice::from_ref(&card_file),
        &Limits::default(),
        &Discard,
    )
    .await;
    let outcome = &summary.outcomes[0];
    let character = outcome.character_id.clone().unwrap();
    let book_id = outcome
        .world_book_id
        .clone()
        .expect("Seraphina's book is linked");
    let attached = store.character_world_books(&character).await.unwrap();
    assert_eq!(attached.len(), 1);
    assert_eq!(attached[0].id, book_id);
    assert!(attached[0].entry_count >= 1);

    // Unedited: the original file and any export are the same card.
    let again = library::import_paths(&store, &[card_file], &Limits::default(), &Discard).await;
    assert_eq!(again.outcomes[0].status, ImportStatus::AlreadyInLibrary);
    let stored = store.stored_character(&character).await.unwrap();
    let png = library::export_bytes(&stored, ExportFormat::Png).unwrap();
    let outcome = library::import_bytes(&store, "export.png", png, &Limits::default()).await;
    assert_eq!(
        outcome.status,
        ImportStatus::AlreadyInLibrary,
        "{outcome:?}"
    );

    // An edit in the world book travels with the card's export.
    let (mut book, _) = store.world_book(&book_id).await.unwrap();
    book.entries[0].content = "Edited in Confab.".into();
    store
        .save_entries(&book_id, &book.entries[..1])
        .await
        .unwrap();
    let stored = store.stored_character(&character).await.unwrap();
    let json = library::export_bytes(&stored, ExportFormat::Json).unwrap();
    let read = card::read_card(&json, "x.json", &Limits::default()).unwrap();
    let exported_book = read.data.character_book.unwrap();
    assert!(exported_book.to_string().contains("Edited in Confab."));
}

#[tokio::test]
async fn a_chat_dictionary_travels_with_the_exported_card() {
    use confab_core::lore::{DictionaryRule, DictionaryScope};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("a")).await.unwrap();
    let summary = library::import_paths(
        &store,
        &[fixture("v1_png__st_Megumin.png")],
        &Limits::default(),
        &Discard,
    )
    .await;
    let id = summary.outcomes[0].character_id.clone().unwrap();
    let rules = vec![DictionaryRule {
        find: "Kazuma".into(),
        replace: "Kazuma-san".into(),
        regex: false,
        case_sensitive: true,
        enabled: true,
        scope: DictionaryScope::Display,
    }];
    store.set_dictionary(Some(&id), &rules).await.unwrap();
    let png = library::export_bytes(
        &store.stored_character(&id).await.unwrap(),
        ExportFormat::Png,
    )
    .unwrap();

    // Same library: still the same card (the dictionary is not part of its identity).
    let same = library::import_bytes(&store, "m.png", png.clone(), &Limits::default()).await;
    assert_eq!(same.status, ImportStatus::AlreadyInLibrary);

    // Another library: the character arrives with its dictionary, waiting for
    // review (it applies only once the user accepts it).
    let other = Store::open(&dir.path().join("b")).await.unwrap();
    let outcome = library::import_bytes(&other, "m.png", png, &Limits::default()).await;
    assert_eq!(outcome.pending_dictionary_rules, 1);
    let new_id = outcome.character_id.unwrap();
    assert!(other.dictionary(Some(&new_id)).await.unwrap().is_empty());
    let detail = other.character_detail(&new_id).await.unwrap();
    assert_eq!(detail.pending_dictionary, rules);
    other.set_dictionary(Some(&new_id), &rules).await.unwrap();
    assert_eq!(other.dictionary(Some(&new_id)).await.unwrap(), rules);
    assert!(other.pending_dictionary(&new_id).await.unwrap().is_empty());
}

/// A V2 card with an embedded book of two entries and a chat dictionary of
/// one rule (`dragon` → `wyrm`, for the prompt).
fn card_with_book_and_dictionary(name: &str) -> serde_json::Value {
    serde_json::json!({
        "spec": "chara_card_v2", "spec_version": "2.0",
        "data": {
            "name": name,
            "description": "A dragon keeper.",
            "first_mes": "The dragon sleeps.",
            "character_book": {"name": format!("{name}'s lore"), "entries": [
                {"keys": ["dragon"], "content": "Dragons hoard songs.", "enabled": true,
                 "insertion_order": 1, "id": 1},
                {"keys": ["keep"], "content": "The keep stands on a cliff.", "enabled": true,
                 "insertion_order": 2, "id": 2}
            ]},
            "extensions": {"confab/dictionary": {"rules": [
                {"find": "dragon", "replace": "wyrm", "regex": false, "caseSensitive": false,
                 "enabled": true, "scope": "prompt"}
            ]}}
        }
    })
}

/// Characters, world books, links and pending dictionaries in the library.
async fn stored_counts(store: &Store) -> (usize, usize, i64, i64) {
    use sqlx::ConnectOptions;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(store.path())
        .connect()
        .await
        .unwrap();
    let links: i64 = sqlx::query_scalar("SELECT count(*) FROM character_world_books")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM card_dictionaries_pending")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let characters = store
        .character_summaries(&CharacterQuery::default())
        .await
        .unwrap()
        .len();
    let books = store.world_book_summaries().await.unwrap().len();
    (characters, books, links, pending)
}

/// Runs SQL on the library's file beside the store (a test's way to make the database fail).
async fn execute(store: &Store, sql: &str) {
    use sqlx::{ConnectOptions, Executor};
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(store.path())
        .connect()
        .await
        .unwrap();
    conn.execute(sql).await.unwrap();
}

#[tokio::test]
async fn a_card_its_book_and_its_dictionary_are_stored_in_one_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).await.unwrap();
    let file = dir.path().join("Keeper.json");
    std::fs::write(&file, card_with_book_and_dictionary("Keeper").to_string()).unwrap();

    // The database refuses the book, then (another time) the dictionary: the
    // card before them is rolled back, and the file is reported as failed.
    for table in ["world_books", "card_dictionaries_pending"] {
        execute(
            &store,
            &format!(
                "CREATE TRIGGER refuse BEFORE INSERT ON {table}
                 BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            ),
        )
        .await;
        let summary = library::import_paths(
            &store,
            std::slice::from_ref(&file),
            &Limits::default(),
            &Discard,
        )
        .await;
        let outcome = &summary.outcomes[0];
        assert_eq!(
            outcome.status,
            ImportStatus::Failed,
            "{table}: {outcome:#?}"
        );
        assert_eq!(summary.imported, 0);
        let error = outcome.error.as_ref().unwrap();
        assert_eq!(error.code, ErrorCode::Storage, "{table}: {error:?}");
        assert_eq!(stored_counts(&store).await, (0, 0, 0, 0), "{table}");
        execute(&store, "DROP TRIGGER refuse").await;
    }

    // Nothing half-stored, so importing again works (not "already in library").
    let summary = library::import_paths(
        &store,
        std::slice::from_ref(&file),
        &Limits::default(),
        &Discard,
    )
    .await;
    let outcome = &summary.outcomes[0];
    assert_eq!(outcome.status, ImportStatus::Imported, "{outcome:#?}");
    assert_eq!(outcome.pending_dictionary_rules, 1);
    let id = outcome.character_id.clone().unwrap();
    let book = outcome.world_book_id.clone().unwrap();
    assert_eq!(stored_counts(&store).await, (1, 1, 1, 1));
    assert_eq!(store.world_book(&book).await.unwrap().0.entries.len(), 2);
    assert_eq!(
        store.embedded_world_book_id(&id).await.unwrap().as_deref(),
        Some(book.as_str())
    );
}

#[tokio::test]
async fn a_card_whose_book_or_dictionary_cannot_be_read_is_not_imported() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).await.unwrap();
    let mut bad_book = card_with_book_and_dictionary("Broken Book");
    bad_book["data"]["character_book"]["entries"] = serde_json::json!("not a list");
    let mut bad_rules = card_with_book_and_dictionary("Broken Rules");
    bad_rules["data"]["extensions"]["confab/dictionary"] = serde_json::json!(42);
    let mut bad_rule = card_with_book_and_dictionary("Broken Rule");
    bad_rule["data"]["extensions"]["confab/dictionary"]["rules"][0]["find"] =
        serde_json::json!(["not", "text"]);
    let cases = [
        (bad_book, ErrorCode::InvalidWorldBook),
        (bad_rules, ErrorCode::InvalidInput),
        (bad_rule, ErrorCode::InvalidInput),
    ];
    for (card, code) in cases {
        let name = card["data"]["name"].as_str().unwrap().to_owned();
        let outcome = library::import_bytes(
            &store,
            &format!("{name}.json"),
            card.to_string().into_bytes(),
            &Limits::default(),
        )
        .await;
        assert_eq!(outcome.status, ImportStatus::Failed, "{name}: {outcome:#?}");
        let error = outcome.error.unwrap();
        assert_eq!(error.code, code, "{name}: {error:?}");
        assert!(error.message.contains(&name), "{name}: {}", error.message);
        assert_eq!(stored_counts(&store).await, (0, 0, 0, 0), "{name}");
    }
}

#[tokio::test]
async fn a_card_dictionary_changes_no_prompt_until_the_user_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).await.unwrap();
    let outcome = library::import_bytes(
        &store,
        "Keeper.json",
        card_with_book_and_dictionary("Keeper")
            .to_string()
            .into_bytes(),
        &Limits::default(),
    )
    .await;
    let id = outcome.character_id.unwrap();
    let session = store.create_session(&id, None, "Traveller").await.unwrap();
    let books = confab_core::session::turn::PromptCaches::default();
    let prompt = || async {
        let request = confab_core::session::turn::TurnRequest {
            new_message: Some("Tell me of the dragon.".into()),
            ..Default::default()
        };
        let p = confab_core::session::turn::preview_turn(&store, &books, &session, &request, false)
            .await
            .unwrap()
            .prompt;
        p.messages
            .iter()
            .map(|m| m.content.clone())
            .collect::<Vec<_>>()
            .join("\n")
    };

    // Pending: the card's rule is shown on the character, and changes nothing.
    let before = prompt().await;
    assert!(
        before.contains("dragon") && !before.contains("wyrm"),
        "{before}"
    );
    let pending = store
        .character_detail(&id)
        .await
        .unwrap()
        .pending_dictionary;
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (pending[0].find.as_str(), pending[0].replace.as_str()),
        ("dragon", "wyrm")
    );

    // Accepted (saved into the character's dictionary): it applies.
    store.set_dictionary(Some(&id), &pending).await.unwrap();
    let after = prompt().await;
    assert!(
        after.contains("wyrm") && !after.contains("dragon"),
        "{after}"
    );
    assert!(store
        .character_detail(&id)
        .await
        .unwrap()
        .pending_dictionary
        .is_empty());

    // Discarding is saving the dictionary without them.
    let other = library::import_bytes(
        &store,
        "Other.json",
        card_with_book_and_dictionary("Other")
            .to_string()
            .into_bytes(),
        &Limits::default(),
    )
    .await
    .character_id
    .unwrap();
    store.set_dictionary(Some(&other), &[]).await.unwrap();
    assert!(store.pending_dictionary(&other).await.unwrap().is_empty());
    assert!(store.dictionary(Some(&other)).await.unwrap().is_empty());
}
