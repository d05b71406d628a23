//! The whole library as one archive: export, import into an empty library,
//! merge into one that has its own (matched, conflicting and new items, and
//! the report), no key ever inside, and hostile archives refused with the
//! library left byte for byte as it was.

use std::io::Write;
use std::path::{Path, PathBuf};

use confab_core::card::Limits;
use confab_core::chat::Quiet;
use confab_core::library::archive::{
    export_library, import_library, ArchiveLimits, ImportChoices, ItemKind, SkipReason,
};
use confab_core::library::{import_bytes, ImportStatus};
use confab_core::session::{MessageStatus, Role};
use confab_core::store::{latest_schema_version, NewMessage, Store, BACKUP_DIR};
use confab_core::ErrorCode;
use sqlx::{ConnectOptions, Connection};

const T0: i64 = 1_764_000_000_000;
const SECRET: &str = "sk-or-v1-supersecret0123456789";
const TABLES: &[&str] = &[
    "characters",
    "character_avatars",
    "character_assets",
    "character_tags",
    "world_books",
    "world_book_entries",
    "character_world_books",
    "chat_sessions",
    "messages",
    "message_images",
    "personas",
];

/// Nothing else has the test's library open: it is quiet.
fn quiet(store: &Store) -> Quiet {
    Quiet::sole(store.path()).unwrap()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

async fn raw(path: &Path, sql: &str) {
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await
        .unwrap();
    sqlx::query(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

/// Every row of `table`, each rendered with SQLite's quote(), sorted.
async fn rows(store: &Store, table: &str) -> Vec<String> {
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(store.path())
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
        .bind(table)
        .fetch_all(&mut conn)
        .await
        .unwrap();
    // A message's `rev` is the local change clock's stamp: each library has its own.
    let list = columns
        .iter()
        .filter(|c| !(table == "messages" && *c == "rev"))
        .map(|c| format!("quote(\"{c}\")"))
        .collect::<Vec<_>>()
        .join(" || '|' || ");
    let mut out: Vec<String> = sqlx::query_scalar(&format!("SELECT {list} FROM {table}"))
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    out.sort();
    out
}

async fn import_card(store: &Store, name: &str) -> String {
    let bytes = std::fs::read(fixture(&format!("cards/{name}"))).unwrap();
    let outcome = import_bytes(store, name, bytes, &Limits::default()).await;
    assert_ne!(outcome.status, ImportStatus::Failed, "{outcome:?}");
    outcome.character_id.unwrap()
}

async fn chat(store: &Store, character: &str, lines: &[&str]) -> String {
    let session = store
        .create_session(character, None, "Traveller")
        .await
        .unwrap();
    for (i, line) in lines.iter().enumerate() {
        store
            .add_message(
                &session,
                NewMessage {
                    role: if i % 2 == 0 {
                        Role::User
                    } else {
                        Role::Assistant
                    },
                    name: if i % 2 == 0 { "Traveller" } else { "Them" },
                    content: line,
                    status: MessageStatus::Complete,
                    image_ids: &[],
                    speaker: None,
                },
            )
            .await
            .unwrap();
    }
    session
}

/// A library with two characters (one with an embedded world book), chats,
/// a persona, settings, a provider whose header carries a token, and a key
/// kept in the encrypted fallback.
async fn full_library(dir: &Path) -> (Store, String, String) {
    let store = Store::open(dir).await.unwrap();
    let seraphina = import_card(&store, "ccv3_plus_chara__st_default_Seraphina.png").await;
    let sensei = import_card(&store, "v2_png__st_default_CodingSensei.png").await;
    let glade = chat(
        &store,
        &seraphina,
        &["Where am I?", "In the glade, safe.", "Спасибо"],
    )
    .await;
    chat(&store, &sensei, &["Teach me Rust", "Borrowing first."]).await;
    store
        .create_persona("Traveller", "A wanderer")
        .await
        .unwrap();
    let mut settings = store.settings().await.unwrap();
    settings.language = Some(confab_core::settings::Language::Ru);
    store.save_settings(&settings).await.unwrap();
    raw(
        store.path(),
        &format!(
            "INSERT INTO providers (id, name, kind, config_json, position, created_at, updated_at)
             VALUES ('prov-1', 'Router', 'openRouter',
                     '{{\"baseUrl\":\"https://openrouter.ai/api/v1\",\"extraHeaders\":{{\"X-Token\":\"{SECRET}\"}}}}',
                     0, 1, 1)"
        ),
    )
    .await;
    raw(
        store.path(),
        &format!(
            "INSERT INTO encrypted_secrets (account, salt, nonce, ciphertext, created_at)
             VALUES ('provider:prov-1', x'00', x'00', CAST('{SECRET}' AS BLOB), 1)"
        ),
    )
    .await;
    (store, seraphina, glade)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn unzip_database(archive: &Path) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(archive).unwrap()).unwrap();
    let mut db = Vec::new();
    std::io::Read::read_to_end(&mut zip.by_name("library.db").unwrap(), &mut db).unwrap();
    db
}

#[tokio::test]
async fn an_archive_moves_the_whole_library_into_an_empty_one_without_keys() {
    let from = tempfile::tempdir().unwrap();
    let (a, _, _) = full_library(from.path()).await;
    let archive = from.path().join("library.confab");
    let summary = export_library(&a, &archive, T0).await.unwrap();
    assert_eq!(i64::from(summary.schema_version), latest_schema_version());
    assert_eq!(
        summary.size,
        std::fs::metadata(&archive).unwrap().len() as f64
    );

    // No key anywhere: not in the zip, not in the database inside it.
    let zipped = std::fs::read(&archive).unwrap();
    let inside = unzip_database(&archive);
    assert!(inside.starts_with(b"SQLite format 3\0"));
    assert!(!contains(&zipped, SECRET) && !contains(&inside, SECRET));
    assert!(
        !contains(&inside, "provider:prov-1"),
        "the fallback's rows are gone"
    );

    let to = tempfile::tempdir().unwrap();
    let b = Store::open(to.path()).await.unwrap();
    let report = import_library(
        &b,
        &quiet(&b),
        &archive,
        &ArchiveLimits::default(),
        &ImportChoices::default(),
        T0,
    )
    .await
    .unwrap();
    assert_eq!(report.merged.skipped, []);
    assert_eq!(report.merged.added.characters, 2);
    assert_eq!(report.merged.added.sessions, 2);
    // Each new chat opens with the character's greeting.
    assert_eq!(
        report.merged.added.messages as usize,
        rows(&a, "messages").await.len()
    );
    assert_eq!(report.merged.added.personas, 1);
    assert_eq!(report.merged.added.providers, 1);
    assert!(report.merged.added.world_books >= 1);
    assert_eq!(report.upgraded_from, None);
    for table in TABLES {
        assert_eq!(rows(&a, table).await, rows(&b, table).await, "{table}");
    }
    // Settings, search and the provider (headers emptied) came along.
    assert_eq!(
        b.settings().await.unwrap().language,
        Some(confab_core::settings::Language::Ru)
    );
    assert_eq!(b.search_messages("glade", None, 10).await.unwrap().len(), 1);
    let provider = rows(&b, "providers").await.join("\n");
    assert!(
        provider.contains("Router") && !provider.contains(SECRET),
        "{provider}"
    );
    assert_eq!(rows(&b, "encrypted_secrets").await, Vec::<String>::new());
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn a_group_chat_travels_with_its_members_speakers_and_presence_changes() {
    use confab_core::session::group::Presence;
    let from = tempfile::tempdir().unwrap();
    let a = Store::open(from.path()).await.unwrap();
    let seraphina = import_card(&a, "ccv3_plus_chara__st_default_Seraphina.png").await;
    let sensei = import_card(&a, "v2_png__st_default_CodingSensei.png").await;
    let group = a
        .create_group_session(&[seraphina.clone(), sensei.clone()], None, "Traveller")
        .await
        .unwrap();
    a.add_message(
        &group,
        NewMessage {
            role: Role::Assistant,
            name: "Coding Sensei",
            content: "Borrow, do not steal.",
            status: MessageStatus::Complete,
            image_ids: &[],
            speaker: Some(&sensei),
        },
    )
    .await
    .unwrap();
    a.set_member_presence(&group, &seraphina, Presence::Absent)
        .await
        .unwrap();
    let archive = from.path().join("library.confab");
    export_library(&a, &archive, T0).await.unwrap();

    let to = tempfile::tempdir().unwrap();
    let b = Store::open(to.path()).await.unwrap();
    let report = import_library(
        &b,
        &quiet(&b),
        &archive,
        &ArchiveLimits::default(),
        &ImportChoices::default(),
        T0,
    )
    .await
    .unwrap();
    assert_eq!(report.merged.added.sessions, 1);
    for table in [
        "chat_sessions",
        "messages",
        "session_members",
        "member_events",
    ] {
        assert_eq!(rows(&a, table).await, rows(&b, table).await, "{table}");
    }
    let state = confab_core::session::group::group_state(&b, &group)
        .await
        .unwrap();
    assert_eq!(state.members.len(), 2);
    assert_eq!(state.members[0].presence, Presence::Absent);
    assert_eq!(state.events.len(), 1);
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn merging_adds_what_is_new_keeps_what_is_here_and_reports_both() {
    let from = tempfile::tempdir().unwrap();
    let (a, seraphina, glade) = full_library(from.path()).await;
    let first = from.path().join("first.confab");
    export_library(&a, &first, T0).await.unwrap();

    let to = tempfile::tempdir().unwrap();
    let b = Store::open(to.path()).await.unwrap();
    // The same card imported here on its own gets another id: matched by content.
    let own_seraphina = import_card(&b, "ccv3_plus_chara__st_default_Seraphina.png").await;
    assert_ne!(own_seraphina, seraphina);
    import_library(
        &b,
        &quiet(&b),
        &first,
        &ArchiveLimits::default(),
        &ImportChoices::default(),
        T0,
    )
    .await
    .unwrap();
    let seraphinas = b
        .character_summaries(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.name == "Seraphina")
        .count();
    assert_eq!(seraphinas, 1, "matched by content, not added twice");
    let glade_here = b.session_summary(&glade).await.unwrap();
    assert_eq!(
        glade_here.character_id, own_seraphina,
        "the chat joined the one here"
    );

    // Both sides go on: here the glade chat is renamed; there a new chat starts.
    b.rename_session(&glade, "Renamed here").await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let newer = chat(&a, &seraphina, &["Back again"]).await;
    let second = from.path().join("second.confab");
    export_library(&a, &second, T0 + 1).await.unwrap();
    let before = rows(&b, "chat_sessions").await;

    let report = import_library(
        &b,
        &quiet(&b),
        &second,
        &ArchiveLimits::default(),
        &ImportChoices::default(),
        T0 + 2,
    )
    .await
    .unwrap();
    assert_eq!(report.merged.added.sessions, 1);
    assert_eq!(
        report.merged.added.messages, 2,
        "the greeting and the new line"
    );
    assert_eq!(report.merged.added.characters, 0);
    let reason = |id: &str| {
        report
            .merged
            .skipped
            .iter()
            .find(|s| s.id == id)
            .map(|s| (s.kind, s.reason))
    };
    assert_eq!(
        reason(&glade),
        Some((ItemKind::Session, SkipReason::Conflict)),
        "{:?}",
        report.merged.skipped
    );
    assert_eq!(
        reason(&seraphina),
        Some((ItemKind::Character, SkipReason::AlreadyInLibrary))
    );
    // Nothing here was overwritten: every session row that was here is still here.
    let after = rows(&b, "chat_sessions").await;
    assert!(before.iter().all(|row| after.contains(row)));
    assert_eq!(
        b.session_summary(&glade).await.unwrap().title,
        "Renamed here"
    );
    assert_eq!(
        b.session_summary(&newer).await.unwrap().character_id,
        own_seraphina
    );
    // The library as it was before each import is kept as a backup.
    let backups = confab_core::backup::list(&b).await.unwrap();
    assert_eq!(
        backups
            .iter()
            .filter(|b| b.kind == confab_core::backup::BackupKind::PreImport)
            .count(),
        2
    );
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn a_character_here_under_the_same_id_but_different_is_a_conflict_and_so_are_its_chats() {
    let from = tempfile::tempdir().unwrap();
    let (a, seraphina, glade) = full_library(from.path()).await;
    let archive = from.path().join("a.confab");
    export_library(&a, &archive, T0).await.unwrap();

    let to = tempfile::tempdir().unwrap();
    let b = Store::open(to.path()).await.unwrap();
    import_library(
        &b,
        &quiet(&b),
        &archive,
        &ArchiveLimits::default(),
        &ImportChoices::default(),
        T0,
    )
    .await
    .unwrap();
    b.delete_session(&glade).await.unwrap();
    raw(
        b.path(),
        &format!("UPDATE characters SET name = 'Mine now', content_hash = 'edited' WHERE id = '{seraphina}'"),
    )
    .await;
    let report = import_library(
        &b,
        &quiet(&b),
        &archive,
        &ArchiveLimits::default(),
        &ImportChoices::default(),
        T0 + 1,
    )
    .await
    .unwrap();
    assert_eq!(report.merged.added.sessions, 0);
    let skipped: Vec<_> = report
        .merged
        .skipped
        .iter()
        .filter(|s| s.id == seraphina || s.id == glade)
        .map(|s| (s.kind, s.reason))
        .collect();
    assert_eq!(
        skipped,
        [
            (ItemKind::Character, SkipReason::Conflict),
            (ItemKind::Session, SkipReason::CharacterSkipped)
        ]
    );
    assert_eq!(
        rows(&b, "characters")
            .await
            .iter()
            .filter(|r| r.contains("Mine now"))
            .count(),
        1
    );
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn an_archive_of_an_older_schema_is_upgraded_on_the_way_in() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("old.confab");
    let v1 = std::fs::read(fixture("schema/v1.db")).unwrap();
    write_zip(
        &archive,
        &[
            ("manifest.json", manifest(1).as_bytes()),
            ("library.db", &v1),
        ],
    );
    let store = Store::open(&dir.path().join("lib")).await.unwrap();
    let report = import_library(
        &store,
        &quiet(&store),
        &archive,
        &ArchiveLimits::default(),
        &ImportChoices::default(),
        T0,
    )
    .await
    .unwrap();
    assert_eq!(report.upgraded_from, Some(1));
    assert_eq!(report.merged.added.characters, 3);
    assert!(report.merged.added.messages >= 3);
    store.close().await;
}

fn manifest(schema: i64) -> String {
    format!(
        r#"{{"format":"confab-library","formatVersion":1,"confabVersion":"0.1.0","schemaVersion":{schema},"createdAt":1}}"#
    )
}

fn write_zip(path: &Path, files: &[(&str, &[u8])]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, bytes) in files {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

#[tokio::test]
async fn hostile_archives_are_refused_and_the_library_is_left_as_it_was() {
    let from = tempfile::tempdir().unwrap();
    let (a, _, _) = full_library(from.path()).await;
    let good = from.path().join("good.confab");
    export_library(&a, &good, T0).await.unwrap();
    a.close().await;
    let db = unzip_database(&good);
    let current = manifest(latest_schema_version());
    let newer = manifest(latest_schema_version() + 1);
    let lying = manifest(1);
    let mut scribbled = db.clone();
    for byte in scribbled.iter_mut().skip(100).step_by(5) {
        *byte = 0x42;
    }
    let zeros = vec![0u8; 40 * 1024 * 1024];
    let limits = ArchiveLimits {
        max_database_bytes: 20 * 1024 * 1024,
        ..ArchiveLimits::default()
    };

    let dir = tempfile::tempdir().unwrap();
    type Files<'a> = Vec<(&'a str, &'a [u8])>;
    let cases: Vec<(&str, Files, ErrorCode)> = vec![
        (
            "no manifest",
            vec![("library.db", &db)],
            ErrorCode::BackupDamaged,
        ),
        (
            "no database",
            vec![("manifest.json", current.as_bytes())],
            ErrorCode::BackupDamaged,
        ),
        (
            "another format",
            vec![
                ("manifest.json", br#"{"format":"charx"}"#),
                ("library.db", &db),
            ],
            ErrorCode::BackupDamaged,
        ),
        (
            "a newer schema",
            vec![("manifest.json", newer.as_bytes()), ("library.db", &db)],
            ErrorCode::BackupTooNew,
        ),
        (
            "path traversal",
            vec![
                ("manifest.json", current.as_bytes()),
                ("../../evil.db", &db),
                ("library.db", &db),
            ],
            ErrorCode::BackupDamaged,
        ),
        (
            "an absolute path",
            vec![
                ("manifest.json", current.as_bytes()),
                ("/tmp/evil.db", &db),
                ("library.db", &db),
            ],
            ErrorCode::BackupDamaged,
        ),
        (
            "a zip bomb",
            vec![
                ("manifest.json", current.as_bytes()),
                ("library.db", &zeros),
            ],
            ErrorCode::TooLarge,
        ),
        (
            "a damaged database",
            vec![
                ("manifest.json", current.as_bytes()),
                ("library.db", &scribbled),
            ],
            ErrorCode::BackupDamaged,
        ),
        (
            "a database that is not SQLite",
            vec![
                ("manifest.json", current.as_bytes()),
                ("library.db", b"hello"),
            ],
            ErrorCode::BackupDamaged,
        ),
        (
            "a manifest that lies about the schema",
            vec![("manifest.json", lying.as_bytes()), ("library.db", &db)],
            ErrorCode::BackupDamaged,
        ),
    ];
    for (what, files, code) in cases {
        let archive = dir.path().join(format!("{what}.confab"));
        write_zip(&archive, &files);
        refused_untouched(&archive, &limits, code, what).await;
    }
    let garbage = dir.path().join("garbage.confab");
    std::fs::write(&garbage, b"PK\x03\x04 and then nothing useful at all").unwrap();
    refused_untouched(&garbage, &limits, ErrorCode::BackupDamaged, "garbage").await;
    let tiny = ArchiveLimits {
        max_archive_bytes: 100,
        ..ArchiveLimits::default()
    };
    refused_untouched(
        &good,
        &tiny,
        ErrorCode::TooLarge,
        "an archive over the limit",
    )
    .await;
    refused_untouched(dir.path(), &limits, ErrorCode::InvalidInput, "a folder").await;
}

/// Importing `archive` into a library with one persona fails with `code`; the
/// library file is byte-identical and no backup was taken.
async fn refused_untouched(archive: &Path, limits: &ArchiveLimits, code: ErrorCode, what: &str) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    store.create_persona("Ada", "").await.unwrap();
    let path = store.path().to_owned();
    store.close().await;
    let bytes = std::fs::read(&path).unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let err = import_library(
        &store,
        &quiet(&store),
        archive,
        limits,
        &ImportChoices::default(),
        T0,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), code, "{what}: {err}");
    store.close().await;
    assert!(
        std::fs::read(&path).unwrap() == bytes,
        "{what}: the library changed"
    );
    let backups = dir.path().join(BACKUP_DIR);
    let left: Vec<_> = std::fs::read_dir(&backups)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{what}: {left:?}");
}
