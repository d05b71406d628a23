//! Backups of the library: taken on a schedule, on request, before a schema
//! upgrade, before a restore and before an archive is merged in; each kind
//! rotated on its own; and restoring one, which first backs up what it replaces.
//!
//! Times are passed in (`now`, Unix milliseconds) so the schedule is tested
//! with any clock; the app and the CLI pass the system's.

mod restore;
mod schedule;

pub(crate) use restore::{prepare, WorkDir};
pub use restore::{restore, RestoreOutcome};
pub use schedule::{is_due, next_due, run_if_due, CHECK_EVERY};

use serde::{Deserialize, Serialize};

pub use crate::settings::BackupSettings;
pub use crate::store::backups::BackupKind;
use crate::store::backups::{self, BackupFile};
use crate::store::Store;
use crate::{Error, Result};

/// A backup as the Settings screen and the CLI list it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct BackupInfo {
    /// The file's name: the id `restore` takes.
    pub name: String,
    /// Why it was taken.
    pub kind: BackupKind,
    /// When, Unix milliseconds.
    #[cfg_attr(feature = "specta", specta(type = crate::TsNumber))]
    pub created_at: f64,
    /// Its size in bytes.
    #[cfg_attr(feature = "specta", specta(type = crate::TsNumber))]
    pub size: f64,
    /// The schema version of the library it holds.
    pub schema_version: u32,
}

impl From<&BackupFile> for BackupInfo {
    fn from(file: &BackupFile) -> Self {
        BackupInfo {
            name: file.name.clone(),
            kind: file.kind,
            created_at: file.created_at as f64,
            size: file.size as f64,
            schema_version: u32::try_from(file.schema_version).unwrap_or(0),
        }
    }
}

/// Every backup of the library in `store`, newest first.
pub async fn list(store: &Store) -> Result<Vec<BackupInfo>> {
    let dir = backups::backup_dir(store.path())?;
    let files = tokio::task::spawn_blocking(move || backups::list_backups(&dir))
        .await
        .map_err(|e| Error::Internal(format!("listing backups: {e}")))??;
    Ok(files.iter().map(BackupInfo::from).collect())
}

/// Takes a backup of `kind` now and lets only the newest of that kind stay
/// (as many as the settings keep).
pub async fn create(store: &Store, kind: BackupKind, now: i64) -> Result<BackupInfo> {
    let settings = store.backup_settings().await?;
    let version = store.schema_version().await?;
    let dir = backups::backup_dir(store.path())?;
    let file = backups::snapshot(store.path(), &dir, kind, now, version).await?;
    let keep = keep_of(&settings, kind);
    tokio::task::spawn_blocking(move || backups::prune_backups(&dir, kind, keep))
        .await
        .map_err(|e| Error::Internal(format!("rotating backups: {e}")))??;
    Ok(BackupInfo::from(&file))
}

/// How many backups of `kind` the settings keep. Scheduled and manual backups
/// keep `keep` each; the safety copies (before an upgrade, a restore, an
/// import) keep `keep_before_upgrade` each.
pub fn keep_of(settings: &BackupSettings, kind: BackupKind) -> usize {
    let keep = match kind {
        BackupKind::Scheduled | BackupKind::Manual => settings.keep,
        BackupKind::PreMigration | BackupKind::PreRestore | BackupKind::PreImport => {
            settings.keep_before_upgrade
        }
    };
    usize::try_from(keep.max(1)).unwrap_or(usize::MAX)
}

/// The system clock in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}
