//! Opening the database: fresh files, reopening, and files Confab must refuse untouched.

use std::path::{Path, PathBuf};

use confab_core::settings::{Language, Settings, ThemePreference};
use confab_core::store::{latest_schema_version, Store, DATABASE_FILE};
use confab_core::ErrorCode;

/// Every file in a folder with its length and a digest of its bytes:
/// "untouched" means equal before and after. `-shm` is left out: it is SQLite's
/// shared-memory index, rebuilt by any reader, never data.
fn snapshot(dir: &Path) -> Vec<(PathBuf, usize, u64)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && !p.to_string_lossy().ends_with("-shm"))
        .map(|p| {
            use std::hash::{Hash, Hasher};
            let bytes = std::fs::read(&p).unwrap();
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            bytes.hash(&mut hasher);
            (p, bytes.len(), hasher.finish())
        })
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn a_fresh_folder_gets_a_migrated_empty_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested/data");
    let store = Store::open(&data).await.unwrap();
    assert_eq!(store.path(), data.join(DATABASE_FILE));
    assert_eq!(
        store.schema_version().await.unwrap(),
        latest_schema_version()
    );
    assert_eq!(store.counts().await.unwrap(), Default::default());
    assert!(latest_schema_version() >= 1);
}

#[tokio::test]
async fn settings_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    assert_eq!(store.settings().await.unwrap(), Settings::default());
    let wanted = Settings {
        language: Some(Language::Ru),
        theme: ThemePreference::Dark,
        ..Default::default()
    };
    assert_eq!(store.save_settings(&wanted).await.unwrap(), wanted);
    store.close().await;

    let store = Store::open(dir.path()).await.unwrap();
    assert_eq!(store.settings().await.unwrap(), wanted);
    // Back to following the OS language.
    let system = Settings {
        language: None,
        ..wanted
    };
    assert_eq!(store.save_settings(&system).await.unwrap(), system);
}

#[tokio::test]
async fn unknown_setting_values_from_a_newer_build_read_as_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    store.close().await;
    raw_exec(
        &dir.path().join(DATABASE_FILE),
        "INSERT INTO settings VALUES ('ui.language', 'tlh', 0), ('ui.theme', 'neon', 0)",
    )
    .await;
    let store = Store::open(dir.path()).await.unwrap();
    assert_eq!(store.settings().await.unwrap(), Settings::default());
}

#[tokio::test]
async fn two_stores_on_one_file_share_data() {
    // The app and the CLI may have the same database open at once.
    let dir = tempfile::tempdir().unwrap();
    let app = Store::open(dir.path()).await.unwrap();
    let cli = Store::open(dir.path()).await.unwrap();
    let wanted = Settings {
        language: Some(Language::En),
        theme: ThemePreference::Light,
        ..Default::default()
    };
    app.save_settings(&wanted).await.unwrap();
    assert_eq!(cli.settings().await.unwrap(), wanted);
}

#[tokio::test]
async fn a_file_that_is_not_sqlite_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DATABASE_FILE);
    std::fs::write(
        &db,
        b"this is not a database, it is a shopping list\n".repeat(200),
    )
    .unwrap();
    let before = snapshot(dir.path());

    let err = Store::open(dir.path()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DatabaseCorrupt, "{err}");
    assert_eq!(err.path(), Some(db.as_path()));
    assert!(err.to_string().contains("did not change it"), "{err}");
    assert_eq!(
        snapshot(dir.path()),
        before,
        "nothing written, nothing created"
    );
}

#[tokio::test]
async fn a_damaged_sqlite_file_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DATABASE_FILE);
    let store = Store::open(dir.path()).await.unwrap();
    store
        .save_settings(&Settings {
            language: Some(Language::Ru),
            theme: ThemePreference::Dark,
            ..Default::default()
        })
        .await
        .unwrap();
    store.close().await;
    // Keep the header, scribble over the schema page and everything after it.
    let mut bytes = std::fs::read(&db).unwrap();
    for b in bytes.iter_mut().skip(100) {
        *b = 0xA5;
    }
    std::fs::write(&db, &bytes).unwrap();
    let before = snapshot(dir.path());

    let err = Store::open(dir.path()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DatabaseCorrupt, "{err}");
    assert_eq!(snapshot(dir.path()), before);
}

#[tokio::test]
async fn a_truncated_header_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(DATABASE_FILE), b"SQLite for").unwrap();
    let before = snapshot(dir.path());
    let err = Store::open(dir.path()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DatabaseCorrupt, "{err}");
    assert_eq!(snapshot(dir.path()), before);
}

#[tokio::test]
async fn another_programs_sqlite_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DATABASE_FILE);
    raw_exec(
        &db,
        "CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('soup')",
    )
    .await;
    let before = snapshot(dir.path());
    let err = Store::open(dir.path()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DatabaseCorrupt, "{err}");
    assert!(err.to_string().contains("not one made by Confab"), "{err}");
    assert_eq!(snapshot(dir.path()), before);
}

#[tokio::test]
async fn a_database_from_a_newer_confab_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DATABASE_FILE);
    let store = Store::open(dir.path()).await.unwrap();
    store.close().await;
    let future = latest_schema_version() + 41;
    raw_exec(
        &db,
        &format!(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES ({future}, 'from the future', 1, x'00', 0)"
        ),
    )
    .await;
    let before = snapshot(dir.path());

    let err = Store::open(dir.path()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DatabaseTooNew, "{err}");
    let message = err.to_string();
    assert!(
        message.contains(&format!("schema version {future}")),
        "{message}"
    );
    assert!(message.contains("newer version of Confab"), "{message}");
    assert_eq!(snapshot(dir.path()), before);
    assert!(!dir.path().join("backups").exists());
}

/// Runs SQL on a file with a plain connection, as another program would.
async fn raw_exec(path: &Path, sql: &str) {
    use sqlx::{ConnectOptions, Connection};
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .connect()
        .await
        .unwrap();
    sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

#[tokio::test]
async fn after_a_clean_close_the_database_file_alone_holds_everything() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let wanted = Settings {
        language: Some(Language::Ru),
        theme: ThemePreference::Light,
        ..Default::default()
    };
    store.save_settings(&wanted).await.unwrap();
    store.close().await;
    // Copy confab.db alone, as a user making a backup would.
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.path().join(DATABASE_FILE),
        copy.path().join(DATABASE_FILE),
    )
    .unwrap();
    let restored = Store::open(copy.path()).await.unwrap();
    assert_eq!(restored.settings().await.unwrap(), wanted);
    restored.close().await;
}

#[tokio::test]
async fn committed_data_survives_a_crash_that_leaves_the_wal_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let wanted = Settings {
        language: Some(Language::Ru),
        theme: ThemePreference::Dark,
        ..Default::default()
    };
    store.save_settings(&wanted).await.unwrap();
    // Copy the files while the store is open: what a power cut would leave on disk.
    let crashed = tempfile::tempdir().unwrap();
    for name in ["confab.db", "confab.db-wal", "confab.db-shm"] {
        let from = dir.path().join(name);
        if from.exists() {
            std::fs::copy(&from, crashed.path().join(name)).unwrap();
        }
    }
    assert!(
        crashed.path().join("confab.db-wal").exists(),
        "the write is in the WAL"
    );
    let recovered = Store::open(crashed.path()).await.unwrap();
    assert_eq!(recovered.settings().await.unwrap(), wanted);
    store.close().await;
}
