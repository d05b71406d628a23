//! The one SQLite database: opening it safely, migrating it, and a repository
//! per aggregate. All SQL in Confab lives under this module.

mod archive_merge;
pub mod backups;
mod card_import;
mod characters;
pub(crate) use characters::hex;
mod dictionaries;
mod first_run;
mod notes;
mod open;
mod personas;
mod profiles;
mod providers;
pub(crate) mod secrets;
mod sessions;
mod settings;
mod stats;
mod usage;
mod world_books;

mod lock;
pub(crate) mod memory;
pub use lock::{Hold, LibraryLock};
pub use memory::{CoveredMessage, NewSummary, SummaryRow};

use std::path::{Path, PathBuf};

use sqlx::migrate::Migrator;
use sqlx::SqlitePool;

use crate::{Error, Result};

pub use card_import::CardInserted;
pub use characters::{Inserted, NewCharacter, StoredCharacter, Thumbnail};
pub use memory::passages::{
    vector_bytes, vector_from_bytes, MessageToEmbed, PassageVector, StoredPassage, MAX_NOTE_BYTES,
};
pub use notes::StoredNotes;
pub use profiles::SavedTemplate;
pub use sessions::{
    HistoryRow, ImportedGroup, ImportedMessage, NewMessage, PathEnd, RecentHistory, SearchHit,
    SessionCast, SessionQuery, TokenCount, MAX_PAGE,
};
pub use stats::LibraryCounts;
pub use usage::{UsageOutcome, UsageRecord};
pub use world_books::BookOrigin;

/// The database file's name inside the data folder.
pub const DATABASE_FILE: &str = "confab.db";

/// Folder (inside the data folder) for backups (see [`backups`]).
pub const BACKUP_DIR: &str = "backups";

/// Every schema migration, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// The newest schema version this build knows.
pub fn latest_schema_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// An open, migrated Confab database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
    /// The recent history of the chats last prompted, kept between turns.
    history: std::sync::Arc<sessions::HistoryCache>,
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir` and migrates it.
    pub async fn open(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|e| Error::io(data_dir, e))?;
        Store::open_file(&data_dir.join(DATABASE_FILE)).await
    }

    /// Opens (creating if needed) the database file at `path` and migrates it.
    ///
    /// A damaged file, or one from a newer Confab, is refused before anything
    /// is written to it; a file with pending migrations is first copied to
    /// `backups/` beside it.
    pub async fn open_file(path: &Path) -> Result<Store> {
        open::open(path).await
    }

    /// The connection pool, for repositories in this module.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The newest migration applied to this database.
    pub async fn schema_version(&self) -> Result<i64> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1")
                .fetch_one(&self.pool)
                .await
                .map_err(|e| self.sql_error(e))?;
        Ok(version.unwrap_or(0))
    }

    /// Closes every connection after moving the WAL into the database file, so
    /// that `confab.db` alone holds everything (a user copying it as a backup
    /// gets all their data).
    pub async fn close(self) {
        // Best effort: a failed checkpoint leaves the WAL, which SQLite replays on next open.
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await;
        self.pool.close().await;
        // Tidy up: SQLite removes the (now empty) -wal and -shm files when the
        // last connection closes. sqlx finishes closing the pool's connections
        // on their own threads, so one more connection, opened and closed alone,
        // often is the last. Never wait for it: another process (the app while
        // the CLI runs) may legitimately keep the files.
        use sqlx::{ConnectOptions, Connection};
        if let Ok(conn) = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&self.path)
            .connect()
            .await
        {
            let _ = conn.close().await;
        }
    }

    /// A write transaction that takes the write lock at once (`BEGIN
    /// IMMEDIATE`). A deferred one that reads first fails with "database is
    /// locked" (SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out) when
    /// another connection writes in between, and a streaming reply writes
    /// checkpoints all the time.
    pub(crate) async fn write_tx(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool().begin_with("BEGIN IMMEDIATE").await
    }

    /// Classifies a sqlx error raised on this database.
    pub(crate) fn sql_error(&self, err: sqlx::Error) -> Error {
        Error::from_sqlx(&self.path, err)
    }
}

#[cfg(test)]
mod tests;
