//! `confab backup list|create|restore` and `confab library export|import`.

use std::path::PathBuf;

use clap::Subcommand;
use confab_core::backup::{self, BackupInfo, BackupKind, RestoreOutcome};
use confab_core::library::archive::{self, ArchiveLimits, ExportSummary, ImportReport};
use confab_core::store::{LibraryLock, Store};
use confab_core::Error;

use crate::report::Report;

/// Backups of the library.
#[derive(Debug, Subcommand)]
pub(crate) enum BackupCommand {
    /// List the backups, newest first.
    List,
    /// Back the library up now.
    Create,
    /// Replace the library by a backup (the current one is backed up first).
    /// Refused while the app has the library open.
    Restore {
        /// The backup's name, as `confab backup list` shows it.
        name: String,
    },
}

/// The whole library as one archive.
#[derive(Debug, Subcommand)]
pub(crate) enum LibraryCommand {
    /// Write the whole library (never a key) to one archive file.
    Export {
        /// Where to write it (usually *.confab).
        output: PathBuf,
    },
    /// Merge an archive into this library: nothing here is overwritten; what
    /// was added and skipped is reported.
    Import {
        /// The archive.
        archive: PathBuf,
    },
}

/// What a backup command did.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub(crate) enum BackupReport {
    List(Vec<BackupInfo>),
    Created(BackupInfo),
    Restored(RestoreOutcome),
    Exported(ExportSummary),
    Imported(ImportReport),
}

pub(crate) async fn backup_cmd(store: &Store, command: BackupCommand) -> Result<Report, Error> {
    let report = match command {
        BackupCommand::List => BackupReport::List(backup::list(store).await?),
        BackupCommand::Create => BackupReport::Created(
            backup::create(store, BackupKind::Manual, backup::now_ms()).await?,
        ),
        BackupCommand::Restore { name } => {
            // The app caches what it read; it must not have the library open meanwhile.
            let mut lock = LibraryLock::open(store.path())?;
            if !lock.try_sole() {
                return Err(Error::Busy(
                    "Confab is running with this library: restore from its Settings, or close it first"
                        .into(),
                ));
            }
            let outcome = backup::restore(store, &name, backup::now_ms()).await;
            drop(lock);
            BackupReport::Restored(outcome?)
        }
    };
    Ok(Report::Backup(report))
}

pub(crate) async fn library_cmd(store: &Store, command: LibraryCommand) -> Result<Report, Error> {
    let report = match command {
        LibraryCommand::Export { output } => {
            BackupReport::Exported(archive::export_library(store, &output, backup::now_ms()).await?)
        }
        LibraryCommand::Import { archive: file } => BackupReport::Imported(
            archive::import_library(store, &file, &ArchiveLimits::default(), backup::now_ms())
                .await?,
        ),
    };
    Ok(Report::Backup(report))
}

impl std::fmt::Display for BackupReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let line = |f: &mut std::fmt::Formatter<'_>, b: &BackupInfo| {
            write!(
                f,
                "{}  {}  schema v{}  {} bytes",
                b.name,
                b.kind.as_str(),
                b.schema_version,
                b.size
            )
        };
        match self {
            BackupReport::List(list) if list.is_empty() => write!(f, "no backups yet"),
            BackupReport::List(list) => {
                for (i, b) in list.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    line(f, b)?;
                }
                Ok(())
            }
            BackupReport::Created(b) => {
                write!(f, "backed up: ")?;
                line(f, b)
            }
            BackupReport::Restored(o) => {
                write!(
                    f,
                    "restored {}; the library as it was is kept as {}",
                    o.restored.name, o.previous.name
                )?;
                if let Some(v) = o.upgraded_from {
                    write!(f, " (upgraded from schema v{v})")?;
                }
                Ok(())
            }
            BackupReport::Exported(e) => write!(f, "wrote {} ({} bytes)", e.path, e.size),
            BackupReport::Imported(r) => {
                let a = &r.merged.added;
                writeln!(
                    f,
                    "added {} characters, {} world books, {} chats ({} messages), {} personas, {} providers, {} settings",
                    a.characters, a.world_books, a.sessions, a.messages, a.personas, a.providers, a.settings
                )?;
                for s in &r.merged.skipped {
                    writeln!(
                        f,
                        "skipped {:?} {} ({}): {:?}",
                        s.kind, s.name, s.id, s.reason
                    )?;
                }
                write!(f, "the library as it was is kept as {}", r.previous.name)
            }
        }
    }
}
