//! `confab backup list|create|restore` and `confab library export|import`.

use std::path::PathBuf;

use clap::Subcommand;
use confab_core::backup::{self, BackupInfo, BackupKind, RestoreOutcome};
use confab_core::chat::Quiet;
use confab_core::library::archive::{
    self, ArchiveLimits, ConflictChoice, ExportSummary, ImportChoices, ImportPreview, ImportReport,
    MergeReport,
};
use confab_core::store::Store;
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
    /// Merge an archive into this library and report what was added and
    /// skipped. An item that differs from the one here under the same id is
    /// a conflict: skipped unless --on-conflict says otherwise.
    Import {
        /// The archive.
        archive: PathBuf,
        /// What to do with every conflict: keep the library's item (skip),
        /// replace it by the archive's (overwrite; the library as it was is
        /// backed up first), or add the archive's as a copy (keep-both).
        #[arg(long, value_enum, default_value = "skip")]
        on_conflict: OnConflict,
        /// List the conflicts and what would be added, changing nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `--on-conflict`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum OnConflict {
    Skip,
    Overwrite,
    KeepBoth,
}

impl From<OnConflict> for ConflictChoice {
    fn from(c: OnConflict) -> Self {
        match c {
            OnConflict::Skip => ConflictChoice::Skip,
            OnConflict::Overwrite => ConflictChoice::Overwrite,
            OnConflict::KeepBoth => ConflictChoice::KeepBoth,
        }
    }
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
    Preview(ImportPreview),
}

pub(crate) async fn backup_cmd(store: &Store, command: BackupCommand) -> Result<Report, Error> {
    let report = match command {
        BackupCommand::List => BackupReport::List(backup::list(store).await?),
        BackupCommand::Create => BackupReport::Created(
            backup::create(store, BackupKind::Manual, backup::now_ms()).await?,
        ),
        BackupCommand::Restore { name } => {
            // The app caches what it read, and a `confab chat` may be streaming:
            // neither may have the library open meanwhile.
            let quiet = Quiet::sole(store.path())?;
            BackupReport::Restored(backup::restore(store, &quiet, &name, backup::now_ms()).await?)
        }
    };
    Ok(Report::Backup(report))
}

pub(crate) async fn library_cmd(store: &Store, command: LibraryCommand) -> Result<Report, Error> {
    let report = match command {
        LibraryCommand::Export { output } => {
            BackupReport::Exported(archive::export_library(store, &output, backup::now_ms()).await?)
        }
        LibraryCommand::Import {
            archive: file,
            on_conflict,
            dry_run,
        } => {
            let choices = ImportChoices::all(on_conflict.into());
            let limits = ArchiveLimits::default();
            let now = backup::now_ms();
            if dry_run {
                BackupReport::Preview(
                    archive::preview_library(store, &file, &limits, &choices, now).await?,
                )
            } else {
                // An overwritten chat may not be streaming in the app or a `confab chat`.
                let quiet = Quiet::sole(store.path())?;
                BackupReport::Imported(
                    archive::import_library(store, &quiet, &file, &limits, &choices, now).await?,
                )
            }
        }
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
                merged(f, &r.merged)?;
                write!(f, "the library as it was is kept as {}", r.previous.name)
            }
            BackupReport::Preview(p) => {
                write!(f, "dry run, nothing changed; the import would have ")?;
                merged(f, &p.merged)?;
                if p.merged.conflicts.is_empty() {
                    write!(f, "no conflicts")
                } else {
                    write!(
                        f,
                        "{} conflicts: choose with --on-conflict skip|overwrite|keep-both",
                        p.merged.conflicts.len()
                    )
                }
            }
        }
    }
}

/// What a merge added, skipped and did about each conflict, a line each.
fn merged(f: &mut std::fmt::Formatter<'_>, r: &MergeReport) -> std::fmt::Result {
    let a = &r.added;
    writeln!(
        f,
        "added {} characters, {} world books, {} chats ({} messages), {} personas, {} providers, {} settings",
        a.characters, a.world_books, a.sessions, a.messages, a.personas, a.providers, a.settings
    )?;
    for s in &r.skipped {
        writeln!(
            f,
            "skipped {:?} {} ({}): {:?}",
            s.kind, s.name, s.id, s.reason
        )?;
    }
    for c in &r.conflicts {
        write!(
            f,
            "conflict {:?} {} ({}), here {:?}: {:?}",
            c.kind, c.name, c.id, c.current_name, c.choice
        )?;
        match &c.copy_id {
            Some(copy) => writeln!(f, " as {copy}")?,
            None => writeln!(f)?,
        }
    }
    Ok(())
}
