//! Restoring a backup over the live library.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{create, BackupInfo, BackupKind};
use crate::chat::Quiet;
use crate::store::backups::{self, parse_backup_name};
use crate::store::Store;
use crate::{Error, Result};

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RestoreOutcome {
    /// The backup now in place.
    pub restored: BackupInfo,
    /// The library as it was just before, kept as a backup of its own.
    pub previous: BackupInfo,
    /// The backup's schema version when it was older and was upgraded on the way in.
    pub upgraded_from: Option<u32>,
}

/// Replaces the library in `store` by the backup named `name` (from
/// [`super::list`]). The backup is checked first (a damaged one, or one from
/// a newer Confab, is refused and nothing changes), upgraded in a scratch
/// copy when it is older, then the current library is backed up, then the
/// backup is copied into the live database in one transaction: every open
/// connection sees the restored library at once.
///
/// `_quiet` proves that no reply streams into the library meanwhile (see
/// [`Quiet`]: the app's engine refuses while one streams, the CLI while the
/// app or a `confab chat` runs).
pub async fn restore(
    store: &Store,
    _quiet: &Quiet,
    name: &str,
    now: i64,
) -> Result<RestoreOutcome> {
    let dir = backups::backup_dir(store.path())?;
    let not_found = || Error::NotFound {
        what: format!("backup {name}"),
    };
    if name.contains(['/', '\\']) || parse_backup_name(name).is_none() {
        return Err(not_found());
    }
    let listed = backups::list_backups(&dir)?;
    let file = listed
        .iter()
        .find(|b| b.name == name)
        .ok_or_else(not_found)?;
    let restored = BackupInfo::from(file);

    let work = WorkDir::new(&dir, now)?;
    let (prepared, version) = prepare(&file.path, name, work.path()).await?;

    let previous = create(store, BackupKind::PreRestore, now).await?;
    backups::copy_into_live(&prepared, store.path()).await?;
    store.forget_histories();
    let latest = crate::store::latest_schema_version();
    Ok(RestoreOutcome {
        restored,
        previous,
        upgraded_from: (version < latest).then(|| u32::try_from(version).unwrap_or(0)),
    })
}

/// Checks the database file `source` (named `shown` in errors) and makes a
/// copy of it in `work` at this build's schema, ready to copy into a library.
/// Returns the copy and the schema version `source` had. Never writes `source`.
pub(crate) async fn prepare(source: &Path, shown: &str, work: &Path) -> Result<(PathBuf, i64)> {
    let version = backups::check_backup(source, shown).await?;
    let copy = work.join(crate::store::DATABASE_FILE);
    std::fs::copy(source, &copy).map_err(|e| Error::io(&copy, e))?;
    let upgraded = match Store::open_file(&copy).await {
        Ok(store) => store,
        Err(e @ (Error::DiskFull(_) | Error::Io { .. })) => return Err(e),
        Err(e) => {
            return Err(Error::BackupDamaged {
                file: shown.to_owned(),
                detail: format!("it cannot be brought up to this version's schema ({e})"),
            })
        }
    };
    upgraded.close().await;
    Ok((copy, version))
}

/// A scratch folder inside the backups folder (same file system), removed on drop.
pub(crate) struct WorkDir(PathBuf);

impl WorkDir {
    /// Makes a fresh scratch folder in `dir`.
    pub(crate) fn new(dir: &Path, now: i64) -> Result<WorkDir> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut n = 0u32;
        loop {
            let path = dir.join(format!(".work-{now}-{n}"));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(WorkDir(path)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
    }

    /// The folder.
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        // Scratch only: a leftover is harmless and never listed as a backup.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
