//! Importing an archive into a library that has changed since: every item that
//! differs under the same id is a conflict, listed by a dry run that changes
//! nothing, and settled per item as chosen: skipped (the default), overwritten
//! (the library's version kept in the safety backup), or kept both (the
//! archive's added as a copy with new ids and "(imported)" after its name).

use std::path::Path;

use confab_core::card::Limits;
use confab_core::chat::Quiet;
use confab_core::library::archive::{
    export_library, import_library, preview_library, ArchiveLimits, ConflictChoice, ImportChoices,
    ItemChoice, ItemKind, MergeReport, SkipReason,
};
use confab_core::library::{import_bytes, ImportStatus};
use confab_core::session::{MessageStatus, Role};
use confab_core::store::{NewMessage, Store, BACKUP_DIR};
use sqlx::{ConnectOptions, Connection};

const T0: i64 = 1_764_000_000_000;
const TABLES: &[&str] = &[
    "characters",
    "character_avatars",
    "character_assets",
    "world_books",
    "world_book_entries",
    "character_world_books",
    "chat_sessions",
    "messages",
    "message_versions",
    "personas",
];

async fn sql(store: &Store, query: &str) -> Vec<String> {
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(store.path())
        .connect()
        .await
        .unwrap();
    let out: Vec<String> = sqlx::query_scalar(query)
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    out
}

/// Every row of every table above, rendered, sorted.
async fn snapshot(store: &Store) -> Vec<String> {
    let mut all = Vec::new();
    for table in TABLES {
        let columns = sql(
            store,
            &format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"),
        )
        .await;
        let list = columns
            .iter()
            .map(|c| format!("quote(\"{c}\")"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        for row in sql(store, &format!("SELECT '{table}|' || {list} FROM {table}")).await {
            all.push(row);
        }
    }
    all.sort();
    all
}

async fn assert_sound(store: &Store) {
    assert_eq!(sql(store, "PRAGMA integrity_check").await, ["ok"]);
    assert_eq!(
        sql(store, "SELECT \"table\" FROM pragma_foreign_key_check").await,
        Vec::<String>::new()
    );
}

async fn say(store: &Store, session: &str, role: Role, text: &str) {
    store
        .add_message(
            session,
            NewMessage {
                role,
                name: "Traveller",
                content: text,
                status: MessageStatus::Complete,
                image_ids: &[],
                speaker: None,
            },
        )
        .await
        .unwrap();
}

/// Three conflicting items and ids.
struct Setup {
    store: Store,
    archive: std::path::PathBuf,
    seraphina: String,
    glade: String,
    persona: String,
    _dir: tempfile::TempDir,
}

/// A library exported to an archive, then changed here: Seraphina's card
/// edited, the glade chat renamed and continued, the persona rewritten.
async fn library_changed_since_its_archive() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let name = "ccv3_plus_chara__st_default_Seraphina.png";
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/cards")
            .join(name),
    )
    .unwrap();
    let outcome = import_bytes(&store, name, bytes, &Limits::default()).await;
    assert_eq!(outcome.status, ImportStatus::Imported, "{outcome:?}");
    let seraphina = outcome.character_id.unwrap();
    let glade = store
        .create_session(&seraphina, None, "Traveller")
        .await
        .unwrap();
    say(&store, &glade, Role::User, "Where am I?").await;
    say(&store, &glade, Role::Assistant, "In the glade, safe.").await;
    let persona = store
        .create_persona("Traveller", "A wanderer")
        .await
        .unwrap()
        .id;
    let archive = dir.path().join("library.confab");
    export_library(&store, &archive, T0).await.unwrap();

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    store.rename_session(&glade, "Renamed here").await.unwrap();
    say(&store, &glade, Role::User, "Zanzibar said only here").await;
    store
        .update_persona(&persona, "Traveller", "Rewritten here")
        .await
        .unwrap();
    sql(
        &store,
        &format!(
            "UPDATE characters SET name = 'Seraphina Edited', content_hash = 'edited-here'
             WHERE id = '{seraphina}' RETURNING id"
        ),
    )
    .await;
    Setup {
        store,
        archive,
        seraphina,
        glade,
        persona,
        _dir: dir,
    }
}

fn conflict_kinds(report: &MergeReport) -> Vec<(ItemKind, String, ConflictChoice)> {
    let mut out: Vec<_> = report
        .conflicts
        .iter()
        .map(|c| (c.kind, c.id.clone(), c.choice))
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

fn backups(dir: &Path) -> usize {
    std::fs::read_dir(dir.join(BACKUP_DIR))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_dry_run_lists_every_conflict_and_changes_nothing() {
    let s = library_changed_since_its_archive().await;
    let before = snapshot(&s.store).await;
    let dir = s.store.path().parent().unwrap().to_owned();
    let backups_before = backups(&dir);

    let preview = preview_library(
        &s.store,
        &s.archive,
        &ArchiveLimits::default(),
        &ImportChoices::default(),
        T0 + 1,
    )
    .await
    .unwrap();
    let mut expected = vec![
        (
            ItemKind::Character,
            s.seraphina.clone(),
            ConflictChoice::Skip,
        ),
        (ItemKind::Session, s.glade.clone(), ConflictChoice::Skip),
        (ItemKind::Persona, s.persona.clone(), ConflictChoice::Skip),
    ];
    expected.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(conflict_kinds(&preview.merged), expected);
    let character = preview
        .merged
        .conflicts
        .iter()
        .find(|c| c.kind == ItemKind::Character)
        .unwrap();
    assert_eq!(
        (character.name.as_str(), character.current_name.as_str()),
        ("Seraphina", "Seraphina Edited")
    );
    let chat = preview
        .merged
        .conflicts
        .iter()
        .find(|c| c.kind == ItemKind::Session)
        .unwrap();
    assert_eq!(chat.current_name, "Renamed here");
    assert!(preview
        .merged
        .skipped
        .iter()
        .any(|i| i.id == s.glade && i.reason == SkipReason::Conflict));
    assert_eq!(preview.merged.added.characters, 0);
    assert_eq!(preview.merged.added.sessions, 0);

    // What it would do with every conflict kept both: reported, still not done.
    let keep_both = preview_library(
        &s.store,
        &s.archive,
        &ArchiveLimits::default(),
        &ImportChoices::all(ConflictChoice::KeepBoth),
        T0 + 2,
    )
    .await
    .unwrap();
    assert_eq!(keep_both.merged.added.characters, 1);
    assert_eq!(keep_both.merged.added.sessions, 1);
    assert_eq!(
        snapshot(&s.store).await,
        before,
        "a dry run changes nothing"
    );
    assert_eq!(backups(&dir), backups_before, "and takes no backup");
    assert_sound(&s.store).await;
}

#[tokio::test]
async fn keep_both_adds_the_archive_s_items_as_copies_beside_the_library_s() {
    let s = library_changed_since_its_archive().await;
    let before = snapshot(&s.store).await;
    let quiet = Quiet::sole(s.store.path()).unwrap();
    let report = import_library(
        &s.store,
        &quiet,
        &s.archive,
        &ArchiveLimits::default(),
        &ImportChoices::all(ConflictChoice::KeepBoth),
        T0 + 1,
    )
    .await
    .unwrap();
    drop(quiet);
    assert!(report
        .merged
        .conflicts
        .iter()
        .all(|c| c.choice == ConflictChoice::KeepBoth && c.copy_id.is_some()));
    assert_eq!(report.merged.conflicts.len(), 3);
    assert_eq!(report.merged.added.characters, 1);
    assert_eq!(report.merged.added.sessions, 1);
    assert_eq!(report.merged.added.personas, 1);
    let after = snapshot(&s.store).await;
    for row in &before {
        assert!(after.contains(row), "kept as it was: {row}");
    }
    assert_sound(&s.store).await;

    let copy_of = |kind: ItemKind| {
        report
            .merged
            .conflicts
            .iter()
            .find(|c| c.kind == kind)
            .and_then(|c| c.copy_id.clone())
            .unwrap()
    };
    let (character, chat, persona) = (
        copy_of(ItemKind::Character),
        copy_of(ItemKind::Session),
        copy_of(ItemKind::Persona),
    );
    assert_ne!(character, s.seraphina);
    assert_eq!(
        s.store.character_summary(&character).await.unwrap().name,
        "Seraphina (imported)"
    );
    assert_eq!(
        s.store
            .character_detail(&character)
            .await
            .unwrap()
            .card
            .name,
        "Seraphina (imported)",
        "its page says so too"
    );
    let copied = s.store.session_summary(&chat).await.unwrap();
    assert_eq!(copied.title, "Seraphina (imported)");
    assert_eq!(
        copied.character_id, character,
        "the copy chats with the copy"
    );
    let texts = sql(
        &s.store,
        &format!("SELECT content FROM messages WHERE session_id = '{chat}' ORDER BY depth"),
    )
    .await;
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert_eq!(texts[1..], ["Where am I?", "In the glade, safe."]);
    // The copy's messages are its own rows: the chat here keeps its line.
    let here = sql(
        &s.store,
        &format!(
            "SELECT content FROM messages WHERE session_id = '{}'",
            s.glade
        ),
    )
    .await;
    assert!(here.contains(&"Zanzibar said only here".to_owned()));
    let found = s.store.search_messages("glade", None, 10).await.unwrap();
    assert_eq!(found.len(), 2, "both chats are searchable");
    let personas = s.store.personas().await.unwrap();
    let copy = personas.iter().find(|p| p.id == persona).unwrap();
    assert_eq!(
        (
            copy.name.as_str(),
            copy.description.as_str(),
            copy.is_default
        ),
        ("Traveller (imported)", "A wanderer", false)
    );

    // Imported again: the copies match the archive now, so nothing is added twice.
    let quiet = Quiet::sole(s.store.path()).unwrap();
    let again = import_library(
        &s.store,
        &quiet,
        &s.archive,
        &ArchiveLimits::default(),
        &ImportChoices::default(),
        T0 + 2,
    )
    .await
    .unwrap();
    assert_eq!(again.merged.added.characters, 0);
}

#[tokio::test]
async fn overwrite_replaces_only_the_items_chosen_and_the_backup_keeps_them() {
    let s = library_changed_since_its_archive().await;
    let quiet = Quiet::sole(s.store.path()).unwrap();
    let choices = ImportChoices {
        default: ConflictChoice::Skip,
        items: vec![
            ItemChoice {
                kind: ItemKind::Session,
                id: s.glade.clone(),
                choice: ConflictChoice::Overwrite,
            },
            ItemChoice {
                kind: ItemKind::Persona,
                id: s.persona.clone(),
                choice: ConflictChoice::Overwrite,
            },
        ],
        copy_label: None,
    };
    let report = import_library(
        &s.store,
        &quiet,
        &s.archive,
        &ArchiveLimits::default(),
        &choices,
        T0 + 1,
    )
    .await
    .unwrap();
    let mut expected = vec![
        (
            ItemKind::Character,
            s.seraphina.clone(),
            ConflictChoice::Skip,
        ),
        (
            ItemKind::Session,
            s.glade.clone(),
            ConflictChoice::Overwrite,
        ),
        (
            ItemKind::Persona,
            s.persona.clone(),
            ConflictChoice::Overwrite,
        ),
    ];
    expected.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(conflict_kinds(&report.merged), expected);
    assert_sound(&s.store).await;

    // The chat and the persona are the archive's again; the character, skipped, is not.
    let glade = s.store.session_summary(&s.glade).await.unwrap();
    assert_eq!(glade.title, "Seraphina", "untitled again, so named for her");
    assert_eq!(glade.character_id, s.seraphina);
    let texts = sql(
        &s.store,
        &format!(
            "SELECT content FROM messages WHERE session_id = '{}' ORDER BY depth",
            s.glade
        ),
    )
    .await;
    assert_eq!(texts.len(), 3);
    assert!(!texts.contains(&"Zanzibar said only here".to_owned()));
    let found = s.store.search_messages("Zanzibar", None, 10).await.unwrap();
    assert!(found.is_empty(), "{found:?}");
    let persona = s.store.personas().await.unwrap();
    assert_eq!(persona.len(), 1);
    assert_eq!(persona[0].description, "A wanderer");
    assert!(persona[0].is_default, "which persona is the default stays");
    assert_eq!(
        s.store.character_summary(&s.seraphina).await.unwrap().name,
        "Seraphina Edited"
    );
    assert!(report
        .merged
        .skipped
        .iter()
        .any(|i| i.id == s.seraphina && i.reason == SkipReason::Conflict));

    // What was overwritten is in the backup taken first.
    assert_eq!(
        report.previous.kind,
        confab_core::backup::BackupKind::PreImport
    );
    let backup = std::fs::read(
        s.store
            .path()
            .parent()
            .unwrap()
            .join(BACKUP_DIR)
            .join(&report.previous.name),
    )
    .unwrap();
    for kept in ["Renamed here", "Zanzibar said only here", "Rewritten here"] {
        assert!(
            backup.windows(kept.len()).any(|w| w == kept.as_bytes()),
            "{kept} is in the backup"
        );
    }
}

#[tokio::test]
async fn overwriting_a_character_keeps_the_chats_and_books_that_hang_off_it() {
    let s = library_changed_since_its_archive().await;
    let books = sql(
        &s.store,
        &format!(
            "SELECT book_id FROM character_world_books WHERE character_id = '{}'",
            s.seraphina
        ),
    )
    .await;
    let quiet = Quiet::sole(s.store.path()).unwrap();
    let report = import_library(
        &s.store,
        &quiet,
        &s.archive,
        &ArchiveLimits::default(),
        &ImportChoices::all(ConflictChoice::Overwrite),
        T0 + 1,
    )
    .await
    .unwrap();
    assert!(report
        .merged
        .conflicts
        .iter()
        .all(|c| c.choice == ConflictChoice::Overwrite && c.copy_id.is_none()));
    assert_sound(&s.store).await;
    let character = s.store.character_summary(&s.seraphina).await.unwrap();
    assert_eq!(character.name, "Seraphina");
    assert!(s.store.avatar(&s.seraphina, false).await.unwrap().is_some());
    assert_eq!(
        sql(
            &s.store,
            &format!(
                "SELECT book_id FROM character_world_books WHERE character_id = '{}'",
                s.seraphina
            ),
        )
        .await,
        books
    );
    assert_eq!(
        s.store
            .session_summary(&s.glade)
            .await
            .unwrap()
            .character_id,
        s.seraphina
    );
    assert_eq!(
        sql(&s.store, "SELECT COUNT(*) || '' FROM characters").await,
        ["1"]
    );
}
