//! The whole library as one archive, to move it to another machine: a zip
//! holding `manifest.json` (what made it, at which schema) and `library.db`,
//! a consistent snapshot of the database, so every character with its
//! avatar and assets, world book, chat with its attachments, persona,
//! provider (never a key) and setting. Keys live in the keyring and never
//! enter it; the encrypted-key fallback and the providers' extra header
//! values are scrubbed from the snapshot, freed pages zeroed.
//!
//! Importing merges the archive into the library (an empty one simply
//! receives everything); see [`crate::store`]'s merge for what is matched
//! and how. An item that differs from the library's under the same id is a
//! conflict: skipped unless the user chose to overwrite it or keep both
//! ([`ImportChoices`]); a dry run ([`preview_library`]) lists the conflicts
//! and what would be added, changing nothing. A hostile archive (a zip bomb, unsafe paths, garbage, a newer
//! schema) is refused with a typed error before the library is touched.

mod choices;
mod reading;

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::backup::{self, BackupInfo, BackupKind};
use crate::chat::Quiet;
use crate::store::backups;
use crate::store::{latest_schema_version, Store};
use crate::{Error, Result};

pub use choices::{Conflict, ConflictChoice, ImportChoices, ItemChoice};
pub use reading::ArchiveLimits;

/// The archive's own name for its format.
pub const FORMAT: &str = "confab-library";
/// The archive layout's version (not the schema's).
pub const FORMAT_VERSION: u32 = 1;
/// The usual file extension.
pub const EXTENSION: &str = "confab";
const MANIFEST: &str = "manifest.json";
const DATABASE: &str = "library.db";

/// What an archive says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// The layout's version; newer layouts are refused.
    pub format_version: u32,
    /// The Confab that wrote it.
    pub confab_version: String,
    /// The schema version of `library.db`.
    pub schema_version: i64,
    /// When it was written, Unix milliseconds.
    pub created_at: i64,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ExportSummary {
    /// The archive.
    pub path: String,
    /// Its size in bytes.
    #[cfg_attr(feature = "specta", specta(type = crate::TsNumber))]
    pub size: f64,
    /// The schema version inside.
    pub schema_version: u32,
}

/// The kinds of item an import reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ItemKind {
    /// A character (matched by content).
    Character,
    /// A world book (matched by id).
    WorldBook,
    /// A persona (matched by id).
    Persona,
    /// A provider (matched by id; never a key).
    Provider,
    /// A chat session (matched by id).
    Session,
}

/// Why an item of the archive was not added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum SkipReason {
    /// The library has it already, the same.
    AlreadyInLibrary,
    /// The library has a different item under its id: kept, not overwritten.
    Conflict,
    /// A chat whose character was skipped as a conflict.
    CharacterSkipped,
}

/// An item of the archive that was not added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SkippedItem {
    /// What it is.
    pub kind: ItemKind,
    /// Its id in the archive.
    pub id: String,
    /// Its name (a chat's title, or its character's name).
    pub name: String,
    /// Why it was left out.
    pub reason: SkipReason,
}

/// How many of each were added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MergeCounts {
    /// Characters.
    pub characters: u32,
    /// World books.
    pub world_books: u32,
    /// Personas.
    pub personas: u32,
    /// Providers (without keys).
    pub providers: u32,
    /// Chat sessions.
    pub sessions: u32,
    /// Messages in those sessions.
    pub messages: u32,
    /// Settings the library did not have.
    pub settings: u32,
}

/// What merging a library in added and skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MergeReport {
    /// What was added.
    pub added: MergeCounts,
    /// What was left out, and why.
    pub skipped: Vec<SkippedItem>,
    /// Every item that differs from the library's under the same id, with
    /// what was done about it (skipped ones are in `skipped` too).
    pub conflicts: Vec<Conflict>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// What was added and skipped.
    #[serde(flatten)]
    pub merged: MergeReport,
    /// The library as it was before, kept as a backup.
    pub previous: BackupInfo,
    /// The archive's schema version when it was older and was upgraded.
    pub upgraded_from: Option<u32>,
}

/// What an import would do, found by a dry run that changes nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ImportPreview {
    /// What would be added and skipped, and the conflicts with the choices given.
    #[serde(flatten)]
    pub merged: MergeReport,
    /// The archive's schema version when it is older and would be upgraded.
    pub upgraded_from: Option<u32>,
}

/// A new archive's path in `dir`: `confab-library-<unix ms>.confab`, never
/// an existing file's (the folder is made if needed).
pub fn archive_path(dir: &Path, now: i64) -> Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut n = 0u32;
    loop {
        let name = match n {
            0 => format!("confab-library-{now}.{EXTENSION}"),
            n => format!("confab-library-{now}-{n}.{EXTENSION}"),
        };
        let path = dir.join(name);
        if !path.exists() {
            return Ok(path);
        }
        n += 1;
    }
}

/// Writes the whole library in `store` to the archive `target` (replaced
/// atomically if it exists); keys never go in.
pub async fn export_library(store: &Store, target: &Path, now: i64) -> Result<ExportSummary> {
    let dir = backups::backup_dir(store.path())?;
    let work = backup::WorkDir::new(&dir, now)?;
    let snapshot = work.path().join(DATABASE);
    backups::vacuum_into(store.path(), &snapshot).await?;
    backups::scrub_secrets(&snapshot).await?;
    let schema_version = store.schema_version().await?;
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        confab_version: crate::VERSION.into(),
        schema_version,
        created_at: now,
    };
    let path = target.to_owned();
    let size = tokio::task::spawn_blocking(move || write_archive(&path, &manifest, &snapshot))
        .await
        .map_err(|e| Error::Internal(format!("writing the archive: {e}")))??;
    drop(work);
    Ok(ExportSummary {
        path: target.display().to_string(),
        size: size as f64,
        schema_version: u32::try_from(schema_version).unwrap_or(0),
    })
}

/// Writes the zip beside `target` and moves it into place; returns its size.
fn write_archive(target: &Path, manifest: &Manifest, database: &Path) -> Result<u64> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let partial = dir.join(format!(".confab-{}.partial", uuid::Uuid::new_v4()));
    let written = (|| -> Result<u64> {
        let io = |e| Error::io(&partial, e);
        let file = std::fs::File::create_new(&partial).map_err(io)?;
        let mut zip = ZipWriter::new(std::io::BufWriter::new(file));
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .large_file(true);
        let zip_err = |e: zip::result::ZipError| Error::io(&partial, std::io::Error::other(e));
        zip.start_file(MANIFEST, options).map_err(zip_err)?;
        let json =
            serde_json::to_vec_pretty(manifest).map_err(|e| Error::Internal(e.to_string()))?;
        zip.write_all(&json).map_err(io)?;
        zip.start_file(DATABASE, options).map_err(zip_err)?;
        let mut db = std::fs::File::open(database).map_err(|e| Error::io(database, e))?;
        std::io::copy(&mut db, &mut zip).map_err(io)?;
        let file = zip
            .finish()
            .map_err(zip_err)?
            .into_inner()
            .map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        std::fs::rename(&partial, target).map_err(|e| Error::io(target, e))?;
        Ok(size)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

/// Merges the archive `archive` into the library in `store`, settling
/// conflicts as `choices` say. The archive is checked whole first (within
/// `limits`) and upgraded in a scratch copy when older; then the library is
/// backed up (so whatever is overwritten stays there); then the merge runs in
/// one transaction. On any refusal the library is left as it was. `_quiet`
/// proves no reply streams meanwhile: an overwritten chat may be replaced.
pub async fn import_library(
    store: &Store,
    _quiet: &Quiet,
    archive: &Path,
    limits: &ArchiveLimits,
    choices: &ImportChoices,
    now: i64,
) -> Result<ImportReport> {
    let dir = backups::backup_dir(store.path())?;
    let work = backup::WorkDir::new(&dir, now)?;
    let (prepared, version) = unpack(archive, limits, work.path()).await?;
    let previous = backup::create(store, BackupKind::PreImport, now).await?;
    let merged = store.merge_library(&prepared, choices, false).await?;
    Ok(ImportReport {
        merged,
        previous,
        upgraded_from: upgraded_from(version),
    })
}

/// What importing `archive` with `choices` would add, skip and overwrite, and
/// every conflict; the library is not changed and no backup is taken.
pub async fn preview_library(
    store: &Store,
    archive: &Path,
    limits: &ArchiveLimits,
    choices: &ImportChoices,
    now: i64,
) -> Result<ImportPreview> {
    let dir = backups::backup_dir(store.path())?;
    let work = backup::WorkDir::new(&dir, now)?;
    let (prepared, version) = unpack(archive, limits, work.path()).await?;
    let merged = store.merge_library(&prepared, choices, true).await?;
    Ok(ImportPreview {
        merged,
        upgraded_from: upgraded_from(version),
    })
}

fn upgraded_from(version: i64) -> Option<u32> {
    (version < latest_schema_version()).then(|| u32::try_from(version).unwrap_or(0))
}

/// Checks the archive and unpacks its database into `work`, at this build's
/// schema; returns it and the schema version the archive had.
async fn unpack(
    archive: &Path,
    limits: &ArchiveLimits,
    work: &Path,
) -> Result<(std::path::PathBuf, i64)> {
    let shown = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| archive.display().to_string());
    let extracted = work.join(DATABASE);
    let (source, target, limits_owned, shown_owned) = (
        archive.to_owned(),
        extracted.clone(),
        limits.clone(),
        shown.clone(),
    );
    let manifest = tokio::task::spawn_blocking(move || {
        reading::extract(&source, &shown_owned, &target, &limits_owned)
    })
    .await
    .map_err(|e| Error::Internal(format!("reading the archive: {e}")))??;
    let prepared_dir = work.join("prepared");
    std::fs::create_dir_all(&prepared_dir).map_err(|e| Error::io(&prepared_dir, e))?;
    let (prepared, version) = backup::prepare(&extracted, &shown, &prepared_dir).await?;
    if version != manifest.schema_version {
        return Err(Error::BackupDamaged {
            file: shown,
            detail: format!(
                "its manifest says schema version {} but its database holds {version}",
                manifest.schema_version
            ),
        });
    }
    Ok((prepared, version))
}
