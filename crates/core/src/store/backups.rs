//! Backup files: consistent copies of the database in `backups/` beside it,
//! their names (which say when, why and from which schema), rotation, the
//! checks a backup passes before it may replace the library, and the copy
//! back into the live database.
//!
//! A backup is taken with `VACUUM INTO` through its own connection: a read
//! transaction, so writers carry on (WAL) and the copy is one consistent
//! moment, compacted, with no -wal beside it. A restore goes the other way
//! through SQLite's online backup API into the live file, in one write
//! transaction: every connection the app or a CLI holds sees the old library
//! or the restored one, never a mix, and no file is renamed under them.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};

use super::{latest_schema_version, BACKUP_DIR};
use crate::{Error, Result};

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Suffix of a copy still being written; never listed, removed on failure.
const PARTIAL: &str = ".partial";

/// Why a backup was taken; each kind rotates on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum BackupKind {
    /// Taken on the schedule.
    Scheduled,
    /// Asked for by the user.
    Manual,
    /// Taken before a schema upgrade.
    PreMigration,
    /// The library as it was before a restore replaced it.
    PreRestore,
    /// The library as it was before an archive was merged into it.
    PreImport,
}

impl BackupKind {
    /// The kind as it appears in a file name.
    pub fn as_str(self) -> &'static str {
        match self {
            BackupKind::Scheduled => "scheduled",
            BackupKind::Manual => "manual",
            BackupKind::PreMigration => "pre-migration",
            BackupKind::PreRestore => "pre-restore",
            BackupKind::PreImport => "pre-import",
        }
    }

    fn parse(text: &str) -> Option<BackupKind> {
        [
            BackupKind::Scheduled,
            BackupKind::Manual,
            BackupKind::PreMigration,
            BackupKind::PreRestore,
            BackupKind::PreImport,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// A backup file found in the backups folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupFile {
    /// The file's name (its id: restore takes it).
    pub name: String,
    /// Where it is.
    pub path: PathBuf,
    /// Why it was taken.
    pub kind: BackupKind,
    /// When, Unix milliseconds.
    pub created_at: i64,
    /// The schema version of the library it holds.
    pub schema_version: i64,
    /// Its size in bytes.
    pub size: u64,
}

/// The backups folder beside the database file `database`.
pub fn backup_dir(database: &Path) -> Result<PathBuf> {
    database
        .parent()
        .map(|p| p.join(BACKUP_DIR))
        .ok_or_else(|| Error::Internal(format!("{} has no parent folder", database.display())))
}

/// `confab-<unix ms>-<kind>-v<schema>.db`: sorts by time, and says why and from which schema.
pub fn backup_file_name(kind: BackupKind, created_at: i64, schema_version: i64) -> String {
    format!("confab-{created_at}-{}-v{schema_version}.db", kind.as_str())
}

/// Reads a backup's name back; also the older `confab-schema-v<N>-<unix s>.db`
/// copies taken before migrations, so they rotate too. Anything else is not a backup.
pub fn parse_backup_name(name: &str) -> Option<(BackupKind, i64, i64)> {
    let stem = name.strip_prefix("confab-")?.strip_suffix(".db")?;
    if let Some(rest) = stem.strip_prefix("schema-v") {
        let (version, secs) = rest.split_once('-')?;
        return Some((
            BackupKind::PreMigration,
            secs.parse::<i64>().ok()?.checked_mul(1000)?,
            version.parse().ok()?,
        ));
    }
    let (stamp, rest) = stem.split_once('-')?;
    let (kind, version) = rest.rsplit_once("-v")?;
    Some((
        BackupKind::parse(kind)?,
        stamp.parse().ok()?,
        version.parse().ok()?,
    ))
}

/// Every backup in `dir`, newest first; no folder means no backups.
pub fn list_backups(dir: &Path) -> Result<Vec<BackupFile>> {
    let entries = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
        Ok(entries) => entries,
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let Some((kind, created_at, schema_version)) = parse_backup_name(&name) else {
            continue;
        };
        let meta = entry.metadata().map_err(|e| Error::io(entry.path(), e))?;
        if !meta.is_file() {
            continue;
        }
        found.push(BackupFile {
            name,
            path: entry.path(),
            kind,
            created_at,
            schema_version,
            size: meta.len(),
        });
    }
    found.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.name.cmp(&a.name))
    });
    Ok(found)
}

/// Deletes the oldest backups of `kind` beyond the newest `keep`; returns their names.
pub fn prune_backups(dir: &Path, kind: BackupKind, keep: usize) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for old in list_backups(dir)?
        .into_iter()
        .filter(|b| b.kind == kind)
        .skip(keep)
    {
        std::fs::remove_file(&old.path).map_err(|e| Error::io(&old.path, e))?;
        removed.push(old.name);
    }
    Ok(removed)
}

/// Copies the database file `database` (its WAL included) into `dir` as one
/// consistent moment, named for `kind`, `now` and `schema_version`.
pub async fn snapshot(
    database: &Path,
    dir: &Path,
    kind: BackupKind,
    now: i64,
    schema_version: i64,
) -> Result<BackupFile> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut created_at = now;
    // Two backups in one millisecond: the second takes the next free name.
    let name = loop {
        let name = backup_file_name(kind, created_at, schema_version);
        if !dir.join(&name).exists() {
            break name;
        }
        created_at += 1;
    };
    let target = dir.join(&name);
    let partial = dir.join(format!("{name}{PARTIAL}"));
    let _ = std::fs::remove_file(&partial);
    let result = vacuum_into(database, &partial).await;
    if let Err(err) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(err);
    }
    std::fs::rename(&partial, &target).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        Error::io(&target, e)
    })?;
    let size = std::fs::metadata(&target)
        .map_err(|e| Error::io(&target, e))?
        .len();
    Ok(BackupFile {
        name,
        path: target,
        kind,
        created_at,
        schema_version,
        size,
    })
}

/// `VACUUM INTO target` through a connection of its own, which reads only.
pub async fn vacuum_into(database: &Path, target: &Path) -> Result<()> {
    let target_text = target
        .to_str()
        .ok_or_else(|| Error::InvalidInput(format!("{} is not valid UTF-8", target.display())))?;
    let mut conn = SqliteConnectOptions::new()
        .filename(database)
        .create_if_missing(false)
        .busy_timeout(BUSY_TIMEOUT)
        .connect()
        .await
        .map_err(|e| Error::from_sqlx(database, e))?;
    let copied = sqlx::query("VACUUM INTO ?")
        .bind(target_text)
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
    copied.map_err(|e| Error::from_sqlx(target, e))?;
    Ok(())
}

/// Checks that `path` holds a whole Confab database this build can use:
/// SQLite, passing `PRAGMA integrity_check`, with Confab's migrations, none
/// newer than this build knows. Returns its schema version. Reads only; the
/// file is named `shown` in errors.
pub async fn check_backup(path: &Path, shown: &str) -> Result<i64> {
    let damaged = |detail: &str| Error::BackupDamaged {
        file: shown.to_owned(),
        detail: detail.to_owned(),
    };
    let mut header = [0u8; 16];
    {
        use std::io::Read;
        let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        if file.read_exact(&mut header).is_err() || &header != SQLITE_HEADER {
            return Err(damaged("it is not a SQLite database"));
        }
    }
    let options = SqliteConnectOptions::from_str("sqlite:")
        .map_err(|e| Error::Internal(e.to_string()))?
        .filename(path)
        .read_only(true)
        .immutable(true);
    let mut conn: SqliteConnection = options
        .connect()
        .await
        .map_err(|e| damaged(&format!("SQLite cannot open it: {e}")))?;
    let result = check_tables(&mut conn, shown).await;
    let _ = conn.close().await;
    result
}

async fn check_tables(conn: &mut SqliteConnection, shown: &str) -> Result<i64> {
    let damaged = |detail: String| Error::BackupDamaged {
        file: shown.to_owned(),
        detail,
    };
    let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check(20)")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| damaged(format!("SQLite cannot read it: {e}")))?;
    if problems.iter().any(|p| p != "ok") {
        return Err(damaged(format!(
            "SQLite's integrity check failed: {}",
            problems.join("; ")
        )));
    }
    let has_migrations: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = '_sqlx_migrations')",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| damaged(format!("SQLite cannot read it: {e}")))?;
    if !has_migrations {
        return Err(damaged(
            "it is a SQLite database, but not one made by Confab".into(),
        ));
    }
    let version: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1")
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| damaged(format!("SQLite cannot read it: {e}")))?;
    let version = version.unwrap_or(0);
    let supported = latest_schema_version();
    if version > supported {
        return Err(Error::BackupTooNew {
            file: shown.to_owned(),
            found: version,
            supported,
        });
    }
    if version == 0 {
        return Err(damaged("it records no Confab schema version".into()));
    }
    Ok(version)
}

/// Replaces the whole content of the live database `database` by that of
/// `source` (a checked database at this build's schema) through SQLite's
/// online backup API, in one write transaction. Runs on a blocking thread.
pub async fn copy_into_live(source: &Path, database: &Path) -> Result<()> {
    let source = source.to_owned();
    let database = database.to_owned();
    tokio::task::spawn_blocking(move || ffi::backup(&source, &database))
        .await
        .map_err(|e| Error::Internal(format!("restoring: {e}")))?
}

/// Removes what the encrypted-secrets fallback keeps, and the values of the
/// providers' extra headers (where a user may have put a token), from the
/// database file `path` (a copy), zeroing the freed pages and compacting it so
/// no trace is left in the file.
pub async fn scrub_secrets(path: &Path) -> Result<()> {
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .busy_timeout(BUSY_TIMEOUT)
        .connect()
        .await
        .map_err(|e| Error::from_sqlx(path, e))?;
    let result = async {
        for sql in [
            "PRAGMA secure_delete = ON",
            "DELETE FROM encrypted_secrets",
            "UPDATE providers SET config_json = json_set(config_json, '$.extraHeaders', json('{}'))
             WHERE json_valid(config_json) AND json_type(config_json, '$.extraHeaders') IS NOT NULL",
            "VACUUM",
        ] {
            sqlx::query(sql).execute(&mut conn).await?;
        }
        Ok::<(), sqlx::Error>(())
    }
    .await;
    let _ = conn.close().await;
    result.map_err(|e| Error::from_sqlx(path, e))
}

/// The raw calls into SQLite's online backup API.
mod ffi {
    use super::*;
    use libsqlite3_sys as sys;

    /// An open raw connection, closed on drop.
    struct Raw(*mut sys::sqlite3);

    impl Drop for Raw {
        fn drop(&mut self) {
            // SAFETY: the handle came from sqlite3_open_v2 and is closed once;
            // every backup object on it is finished before it drops.
            unsafe {
                sys::sqlite3_close(self.0);
            }
        }
    }

    fn open(path: &Path, flags: i32) -> Result<Raw> {
        let name = c_path(path)?;
        let mut handle = std::ptr::null_mut();
        // SAFETY: name is a valid C string; handle receives a connection (or
        // one carrying the error), which Raw closes.
        let rc =
            unsafe { sys::sqlite3_open_v2(name.as_ptr(), &mut handle, flags, std::ptr::null()) };
        let raw = Raw(handle);
        if rc != sys::SQLITE_OK {
            return Err(error(path, &raw, rc));
        }
        // SAFETY: raw.0 is an open connection.
        unsafe {
            sys::sqlite3_busy_timeout(raw.0, BUSY_TIMEOUT.as_millis() as i32);
        }
        Ok(raw)
    }

    pub(super) fn backup(source: &Path, database: &Path) -> Result<()> {
        let src = open(source, sys::SQLITE_OPEN_READONLY)?;
        let dst = open(database, sys::SQLITE_OPEN_READWRITE)?;
        let main = c"main";
        // SAFETY: both connections are open and outlive the backup object,
        // which is finished before they drop.
        let backup =
            unsafe { sys::sqlite3_backup_init(dst.0, main.as_ptr(), src.0, main.as_ptr()) };
        if backup.is_null() {
            // SAFETY: dst.0 is open; the error is on the destination.
            let rc = unsafe { sys::sqlite3_errcode(dst.0) };
            return Err(error(database, &dst, rc));
        }
        let mut rc;
        let mut waited = Duration::ZERO;
        loop {
            // SAFETY: backup is a live backup object. -1 copies every page in
            // one step, under one write lock on the destination.
            rc = unsafe { sys::sqlite3_backup_step(backup, -1) };
            if (rc == sys::SQLITE_BUSY || rc == sys::SQLITE_LOCKED) && waited < BUSY_TIMEOUT {
                std::thread::sleep(Duration::from_millis(50));
                waited += Duration::from_millis(50);
                continue;
            }
            break;
        }
        // SAFETY: finishing once releases the object; it rolls back on failure.
        let finished = unsafe { sys::sqlite3_backup_finish(backup) };
        match (rc, finished) {
            (sys::SQLITE_DONE, sys::SQLITE_OK) => Ok(()),
            (sys::SQLITE_BUSY | sys::SQLITE_LOCKED, _) => Err(Error::Busy(format!(
                "{} stayed busy for {}s; nothing was restored",
                database.display(),
                BUSY_TIMEOUT.as_secs()
            ))),
            (sys::SQLITE_DONE, other) | (other, _) => Err(error(database, &dst, other)),
        }
    }

    fn c_path(path: &Path) -> Result<CString> {
        path.to_str()
            .and_then(|s| CString::new(s).ok())
            .ok_or_else(|| Error::InvalidInput(format!("{} is not a usable path", path.display())))
    }

    fn error(path: &Path, raw: &Raw, rc: i32) -> Error {
        let message = if raw.0.is_null() {
            format!("SQLite error {rc}")
        } else {
            // SAFETY: raw.0 is a connection; errmsg returns a string it owns.
            unsafe { std::ffi::CStr::from_ptr(sys::sqlite3_errmsg(raw.0)) }
                .to_string_lossy()
                .into_owned()
        };
        match rc & 0xff {
            sys::SQLITE_FULL => Error::DiskFull(message),
            sys::SQLITE_CORRUPT | sys::SQLITE_NOTADB => Error::DatabaseCorrupt {
                path: path.to_owned(),
                detail: message,
            },
            sys::SQLITE_READONLY => Error::Storage(format!(
                "SQLite could not copy into {} ({message}; the backup's page size may differ)",
                path.display()
            )),
            _ => Error::Storage(format!("restoring into {}: {message}", path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sort_by_time() {
        let name = backup_file_name(BackupKind::PreMigration, 1_733_338_692_123, 6);
        assert_eq!(name, "confab-1733338692123-pre-migration-v6.db");
        assert_eq!(
            parse_backup_name(&name),
            Some((BackupKind::PreMigration, 1_733_338_692_123, 6))
        );
        assert_eq!(
            parse_backup_name("confab-schema-v3-1700000000.db"),
            Some((BackupKind::PreMigration, 1_700_000_000_000, 3))
        );
        for other in [
            "confab.db",
            "confab-x-manual-v6.db",
            "confab-1-weird-v6.db",
            "confab-1-manual-v6.db.partial",
            "notes.txt",
        ] {
            assert_eq!(parse_backup_name(other), None, "{other}");
        }
    }
}
