//! Opening the database without ever harming a file Confab cannot use.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, SqliteConnection};

use super::backups::{self, BackupKind};
use super::characters::now_ms;
use super::settings::{DEFAULT_KEEP_BEFORE_UPGRADE, KEEP_BEFORE_UPGRADE_KEY};
use super::{latest_schema_version, Store, MIGRATOR};
use crate::{Error, Result};

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";
/// Readers wait this long for a writer instead of failing with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// SQLite serialises writers; a few connections let reads run beside a write.
const MAX_CONNECTIONS: u32 = 4;

/// What the pre-flight check found in an existing file.
enum Found {
    /// No file, or an empty one: a new database.
    Fresh,
    /// A Confab database at this schema version (0: no migration recorded yet).
    Confab {
        version: i64,
        has_data: bool,
        /// How many copies taken before a migration to keep (the user's setting).
        keep_before_upgrade: usize,
    },
}

pub(super) async fn open(path: &Path) -> Result<Store> {
    let found = inspect(path).await?;
    let latest = latest_schema_version();
    if let Found::Confab {
        version,
        has_data,
        keep_before_upgrade,
    } = found
    {
        if version > latest {
            return Err(Error::DatabaseTooNew {
                path: path.to_owned(),
                found: version,
                supported: latest,
            });
        }
        if version < latest && has_data {
            back_up(path, version, keep_before_upgrade).await?;
        }
    }

    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    let pool = SqlitePoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .connect_with(options)
        .await
        .map_err(|e| Error::from_sqlx(path, e))?;
    let store = Store {
        pool,
        path: path.to_owned(),
        history: Default::default(),
    };
    MIGRATOR
        .run(store.pool())
        .await
        .map_err(|e| migrate_error(path, e))?;
    Ok(store)
}

/// Looks at an existing file read-only: is it SQLite, is it Confab's, which version?
async fn inspect(path: &Path) -> Result<Found> {
    let mut header = [0u8; 16];
    match std::fs::File::open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Fresh),
        Err(e) => return Err(Error::io(path, e)),
        Ok(mut file) => {
            use std::io::Read;
            let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
            if len == 0 {
                return Ok(Found::Fresh);
            }
            if file.read_exact(&mut header).is_err() || &header != SQLITE_HEADER {
                return Err(corrupt(
                    path,
                    "the file does not start with a SQLite header",
                ));
            }
        }
    }

    // Read-only and without journal_mode: this connection cannot change the
    // database. Without a WAL beside the file it is also immutable, so SQLite
    // creates no -wal/-shm files; with one (left by a crash) it must read
    // through it, because the WAL holds committed data.
    let has_wal = wal_path(path).exists();
    let options = SqliteConnectOptions::from_str("sqlite:")
        .map_err(|e| Error::Internal(e.to_string()))?
        .filename(path)
        .read_only(true)
        .immutable(!has_wal);
    let mut conn: SqliteConnection = options
        .connect()
        .await
        .map_err(|e| Error::from_sqlx(path, e))?;
    let result = inspect_tables(&mut conn, path).await;
    // Closing a read-only connection writes nothing; a failure here changes nothing.
    let _ = conn.close().await;
    result
}

async fn inspect_tables(conn: &mut SqliteConnection, path: &Path) -> Result<Found> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| Error::from_sqlx(path, e))?;
    if tables.is_empty() {
        return Ok(Found::Fresh);
    }
    if !tables.iter().any(|t| t == "_sqlx_migrations") {
        return Err(corrupt(
            path,
            "it is a SQLite database, but not one made by Confab",
        ));
    }
    let version: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1")
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| Error::from_sqlx(path, e))?;
    let keep_before_upgrade = if tables.iter().any(|t| t == "settings") {
        sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = ?")
            .bind(KEEP_BEFORE_UPGRADE_KEY)
            .fetch_optional(&mut *conn)
            .await
            .ok()
            .flatten()
            .and_then(|v| v.parse::<usize>().ok())
    } else {
        None
    };
    Ok(Found::Confab {
        version: version.unwrap_or(0),
        has_data: tables.len() > 1,
        keep_before_upgrade: keep_before_upgrade
            .unwrap_or(DEFAULT_KEEP_BEFORE_UPGRADE)
            .max(1),
    })
}

/// Copies the database aside before migrating it, so an upgrade can always be
/// undone, and lets only the newest few of these copies stay.
async fn back_up(path: &Path, version: i64, keep: usize) -> Result<()> {
    let dir = backups::backup_dir(path)?;
    backups::snapshot(path, &dir, BackupKind::PreMigration, now_ms(), version).await?;
    backups::prune_backups(&dir, BackupKind::PreMigration, keep)?;
    Ok(())
}

fn migrate_error(path: &Path, err: sqlx::migrate::MigrateError) -> Error {
    use sqlx::migrate::MigrateError;
    match err {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => {
            Error::from_sqlx(path, e)
        }
        MigrateError::VersionMissing(version) => Error::DatabaseTooNew {
            path: path.to_owned(),
            found: version,
            supported: latest_schema_version(),
        },
        other => Error::Storage(format!("migrating {}: {other}", path.display())),
    }
}

/// The WAL file beside a database file.
pub(super) fn wal_path(path: &Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    name.into()
}

fn corrupt(path: &Path, detail: &str) -> Error {
    Error::DatabaseCorrupt {
        path: path.to_owned(),
        detail: detail.to_owned(),
    }
}
