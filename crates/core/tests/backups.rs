//! Backups on real SQLite files: rotation, the schedule under a chosen clock,
//! the copy before a migration, restore (with the library held open), and
//! the refusal of damaged or newer backups that leaves the library as it was.

use std::path::{Path, PathBuf};

use confab_core::backup::{self, BackupKind, BackupSettings};
use confab_core::chat::Quiet;
use confab_core::store::backups::{list_backups, parse_backup_name};
use confab_core::store::{latest_schema_version, Store, BACKUP_DIR, DATABASE_FILE};
use confab_core::{Error, ErrorCode};

/// Nothing else has the test's library open: it is quiet.
fn quiet(store: &Store) -> Quiet {
    Quiet::sole(store.path()).unwrap()
}

const DAY: i64 = 24 * 60 * 60 * 1000;
const T0: i64 = 1_764_000_000_000;

fn schema_fixture(version: i64) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/schema/v{version}.db"))
}

async fn persona_names(store: &Store) -> Vec<String> {
    let mut names: Vec<String> = store
        .personas()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    names.sort();
    names
}

/// The database file's bytes after a clean close (everything checkpointed).
async fn closed_bytes(store: Store) -> Vec<u8> {
    let path = store.path().to_owned();
    store.close().await;
    std::fs::read(path).unwrap()
}

fn backup_names(data: &Path) -> Vec<String> {
    list_backups(&data.join(BACKUP_DIR))
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect()
}

#[tokio::test]
async fn a_backup_is_a_consistent_copy_named_for_its_kind_time_and_schema() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    store.create_persona("Ada", "").await.unwrap();
    let info = backup::create(&store, BackupKind::Manual, T0)
        .await
        .unwrap();
    assert_eq!(info.kind, BackupKind::Manual);
    assert_eq!(info.created_at, T0 as f64);
    assert_eq!(i64::from(info.schema_version), latest_schema_version());
    assert_eq!(
        parse_backup_name(&info.name),
        Some((BackupKind::Manual, T0, latest_schema_version()))
    );
    let path = dir.path().join(BACKUP_DIR).join(&info.name);
    assert_eq!(std::fs::metadata(&path).unwrap().len() as f64, info.size);
    // The copy is a whole database on its own (no -wal beside it).
    assert!(!dir
        .path()
        .join(BACKUP_DIR)
        .join(format!("{}-wal", info.name))
        .exists());
    let copy = Store::open_file(&path).await.unwrap();
    assert_eq!(persona_names(&copy).await, ["Ada"]);
    copy.close().await;
    let listed = backup::list(&store).await.unwrap();
    assert_eq!(listed, vec![info]);
}

#[tokio::test]
async fn each_kind_keeps_only_its_newest_backups() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    store
        .save_backup_settings(&BackupSettings {
            keep: 3,
            interval_hours: 24,
            keep_before_upgrade: 2,
        })
        .await
        .unwrap();
    for i in 0..5 {
        backup::create(&store, BackupKind::Scheduled, T0 + i * DAY)
            .await
            .unwrap();
    }
    for i in 0..4 {
        backup::create(&store, BackupKind::Manual, T0 + i)
            .await
            .unwrap();
    }
    for i in 0..3 {
        backup::create(&store, BackupKind::PreRestore, T0 + i)
            .await
            .unwrap();
    }
    let listed = backup::list(&store).await.unwrap();
    let times = |kind| -> Vec<i64> {
        listed
            .iter()
            .filter(|b| b.kind == kind)
            .map(|b| b.created_at as i64)
            .collect()
    };
    assert_eq!(
        times(BackupKind::Scheduled),
        [T0 + 4 * DAY, T0 + 3 * DAY, T0 + 2 * DAY]
    );
    assert_eq!(times(BackupKind::Manual), [T0 + 3, T0 + 2, T0 + 1]);
    assert_eq!(times(BackupKind::PreRestore), [T0 + 2, T0 + 1]);
}

#[tokio::test]
async fn two_backups_in_one_millisecond_both_stay() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let a = backup::create(&store, BackupKind::Manual, T0)
        .await
        .unwrap();
    let b = backup::create(&store, BackupKind::Manual, T0)
        .await
        .unwrap();
    assert_ne!(a.name, b.name);
    assert_eq!(backup::list(&store).await.unwrap().len(), 2);
}

#[tokio::test]
async fn the_schedule_follows_the_clock_and_the_settings() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    // None yet: due at once.
    let first = backup::run_if_due(&store, T0).await.unwrap().unwrap();
    assert_eq!(first.kind, BackupKind::Scheduled);
    // Not again within the day.
    assert!(backup::run_if_due(&store, T0 + DAY - 1)
        .await
        .unwrap()
        .is_none());
    assert!(backup::run_if_due(&store, T0 + DAY)
        .await
        .unwrap()
        .is_some());
    // Every 6 hours now.
    store
        .save_backup_settings(&BackupSettings {
            interval_hours: 6,
            ..BackupSettings::default()
        })
        .await
        .unwrap();
    assert!(backup::run_if_due(&store, T0 + DAY + 5 * 3_600_000)
        .await
        .unwrap()
        .is_none());
    assert!(backup::run_if_due(&store, T0 + DAY + 6 * 3_600_000)
        .await
        .unwrap()
        .is_some());
    // Off.
    store
        .save_backup_settings(&BackupSettings {
            interval_hours: 0,
            ..BackupSettings::default()
        })
        .await
        .unwrap();
    assert!(backup::run_if_due(&store, T0 + 100 * DAY)
        .await
        .unwrap()
        .is_none());
    assert_eq!(backup::list(&store).await.unwrap().len(), 3);
}

#[tokio::test]
async fn backup_settings_are_checked_and_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    assert_eq!(
        store.backup_settings().await.unwrap(),
        BackupSettings::default()
    );
    for bad in [
        BackupSettings {
            keep: 0,
            ..BackupSettings::default()
        },
        BackupSettings {
            keep_before_upgrade: 101,
            ..BackupSettings::default()
        },
        BackupSettings {
            interval_hours: 24 * 31,
            ..BackupSettings::default()
        },
    ] {
        let err = store.save_backup_settings(&bad).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{bad:?}");
    }
    let chosen = BackupSettings {
        keep: 12,
        interval_hours: 6,
        keep_before_upgrade: 5,
    };
    store.save_backup_settings(&chosen).await.unwrap();
    store.close().await;
    let store = Store::open(dir.path()).await.unwrap();
    assert_eq!(store.backup_settings().await.unwrap(), chosen);
}

#[tokio::test]
async fn copies_before_migrations_are_backups_that_rotate() {
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join(BACKUP_DIR);
    std::fs::create_dir_all(&backups).unwrap();
    // Older copies, one in the name an earlier Confab used.
    for name in [
        "confab-schema-v1-1700000000.db",
        "confab-1700000001000-pre-migration-v2.db",
        "confab-1700000002000-pre-migration-v3.db",
    ] {
        std::fs::copy(schema_fixture(1), backups.join(name)).unwrap();
    }
    std::fs::copy(schema_fixture(5), dir.path().join(DATABASE_FILE)).unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let listed = backup::list(&store).await.unwrap();
    // The default keeps three: the new one and the two newest before it.
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(listed[0].schema_version, 5);
    assert!(listed.iter().all(|b| b.kind == BackupKind::PreMigration));
    assert!(!backup_names(dir.path()).contains(&"confab-schema-v1-1700000000.db".to_owned()));
    // The new copy is a whole v5 database that restores.
    let outcome = backup::restore(&store, &quiet(&store), &listed[0].name, T0)
        .await
        .unwrap();
    assert_eq!(outcome.upgraded_from, Some(5));
    store.close().await;
}

#[tokio::test]
async fn a_restore_brings_the_backup_back_for_every_open_connection() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    // Another handle on the same library, as the app's engine would hold.
    let other = store.clone();
    store.create_persona("Ada", "").await.unwrap();
    let saved = backup::create(&store, BackupKind::Manual, T0)
        .await
        .unwrap();
    store.create_persona("Grace", "").await.unwrap();
    assert_eq!(persona_names(&other).await, ["Ada", "Grace"]);

    let outcome = backup::restore(&store, &quiet(&store), &saved.name, T0 + 1)
        .await
        .unwrap();
    assert_eq!(outcome.restored, saved);
    assert_eq!(outcome.upgraded_from, None);
    assert_eq!(outcome.previous.kind, BackupKind::PreRestore);
    assert_eq!(persona_names(&other).await, ["Ada"]);
    assert_eq!(persona_names(&store).await, ["Ada"]);
    // Writing goes on as before.
    store.create_persona("Linus", "").await.unwrap();
    assert_eq!(persona_names(&other).await, ["Ada", "Linus"]);

    // What the restore replaced is a backup of its own, and restores too.
    backup::restore(&store, &quiet(&store), &outcome.previous.name, T0 + 2)
        .await
        .unwrap();
    assert_eq!(persona_names(&store).await, ["Ada", "Grace"]);
    let path = store.path().to_owned();
    store.close().await;
    // The file is whole, and opens again.
    let reopened = Store::open_file(&path).await.unwrap();
    assert_eq!(persona_names(&reopened).await, ["Ada", "Grace"]);
    reopened.close().await;
}

#[tokio::test]
async fn an_older_backup_is_upgraded_on_the_way_in() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    store.create_persona("Ada", "").await.unwrap();
    let backups = dir.path().join(BACKUP_DIR);
    std::fs::create_dir_all(&backups).unwrap();
    let name = "confab-1700000000000-manual-v1.db";
    std::fs::copy(schema_fixture(1), backups.join(name)).unwrap();
    let before = std::fs::read(backups.join(name)).unwrap();

    let outcome = backup::restore(&store, &quiet(&store), name, T0)
        .await
        .unwrap();
    assert_eq!(outcome.upgraded_from, Some(1));
    assert_eq!(
        store.schema_version().await.unwrap(),
        latest_schema_version()
    );
    assert_eq!(persona_names(&store).await, ["Traveller", "Мила"]);
    // The backup itself is never changed, and no scratch files are left behind.
    assert_eq!(std::fs::read(backups.join(name)).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    store.close().await;
}

/// Puts `bytes` in the backups folder under a valid backup name; returns the name.
fn plant(data: &Path, bytes: &[u8]) -> String {
    let backups = data.join(BACKUP_DIR);
    std::fs::create_dir_all(&backups).unwrap();
    let name = "confab-1700000000000-manual-v6.db".to_owned();
    std::fs::write(backups.join(&name), bytes).unwrap();
    name
}

/// Restoring `name` fails with `code`, and the library file is byte for byte
/// what it was; no backup of the current state was taken either.
async fn refused_untouched(data: &Path, store: Store, name: &str, code: ErrorCode) -> Error {
    let bytes = closed_bytes(store).await;
    let store = Store::open(data).await.unwrap();
    let backups_before = backup_names(data);
    let err = backup::restore(&store, &quiet(&store), name, T0)
        .await
        .unwrap_err();
    assert_eq!(err.code(), code, "{err}");
    assert_eq!(backup_names(data), backups_before);
    assert_eq!(persona_names(&store).await, ["Ada"]);
    assert!(closed_bytes(store).await == bytes, "the library changed");
    err
}

async fn library_with_ada(data: &Path) -> Store {
    let store = Store::open(data).await.unwrap();
    store.create_persona("Ada", "").await.unwrap();
    store
}

#[tokio::test]
async fn a_backup_from_a_newer_confab_is_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = library_with_ada(dir.path()).await;
    let saved = backup::create(&store, BackupKind::Manual, T0 - 1)
        .await
        .unwrap();
    let path = dir.path().join(BACKUP_DIR).join(&saved.name);
    let future = latest_schema_version() + 3;
    {
        use sqlx::{ConnectOptions, Connection};
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .connect()
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (?, 'from the future', 1, x'00', 0)",
        )
        .bind(future)
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    }
    let err = refused_untouched(dir.path(), store, &saved.name, ErrorCode::BackupTooNew).await;
    assert!(
        err.to_string()
            .contains(&format!("schema version {future}")),
        "{err}"
    );
}

#[tokio::test]
async fn damaged_or_foreign_backups_are_refused_and_nothing_changes() {
    let good = {
        let dir = tempfile::tempdir().unwrap();
        let store = library_with_ada(dir.path()).await;
        let info = backup::create(&store, BackupKind::Manual, T0)
            .await
            .unwrap();
        store.close().await;
        std::fs::read(dir.path().join(BACKUP_DIR).join(info.name)).unwrap()
    };
    let mut scribbled = good.clone();
    for byte in scribbled.iter_mut().skip(100).step_by(7) {
        *byte ^= 0x5a;
    }
    let foreign = {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        use sqlx::{ConnectOptions, Connection};
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        sqlx::query("CREATE TABLE notes (text TEXT)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        std::fs::read(path).unwrap()
    };
    let cases: [(&str, Vec<u8>); 5] = [
        ("empty", Vec::new()),
        (
            "not SQLite",
            b"PK\x03\x04 this is a zip, or nothing".to_vec(),
        ),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("scribbled over", scribbled),
        ("another program's database", foreign),
    ];
    for (what, bytes) in cases {
        let dir = tempfile::tempdir().unwrap();
        let store = library_with_ada(dir.path()).await;
        let name = plant(dir.path(), &bytes);
        let err = refused_untouched(dir.path(), store, &name, ErrorCode::BackupDamaged).await;
        assert!(err.to_string().contains(&name), "{what}: {err}");
    }
}

#[tokio::test]
async fn only_listed_backups_can_be_restored() {
    let dir = tempfile::tempdir().unwrap();
    let store = library_with_ada(dir.path()).await;
    std::fs::write(dir.path().join("elsewhere.db"), b"x").unwrap();
    for name in [
        "confab-1700000000000-manual-v6.db",
        "../confab.db",
        "../elsewhere.db",
        "confab.db",
        "/etc/passwd",
    ] {
        let err = backup::restore(&store, &quiet(&store), name, T0)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::NotFound, "{name}");
    }
    store.close().await;
}
