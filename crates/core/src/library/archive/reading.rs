//! Reading an archive someone handed us, as an attacker might have made it.

use std::io::Read;
use std::path::Path;

use zip::ZipArchive;

use super::{Manifest, DATABASE, FORMAT, FORMAT_VERSION, MANIFEST};
use crate::store::latest_schema_version;
use crate::{Error, Result};

/// The bounds an archive must keep within.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// The archive file itself.
    pub max_archive_bytes: u64,
    /// The database once unpacked.
    pub max_database_bytes: u64,
    /// Files in the zip.
    pub max_entries: usize,
    /// Unpacked over packed size of the database above 1 MiB (a zip bomb's tell).
    pub max_ratio: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        const GIB: u64 = 1024 * 1024 * 1024;
        ArchiveLimits {
            max_archive_bytes: 8 * GIB,
            max_database_bytes: 16 * GIB,
            max_entries: 64,
            max_ratio: 1000,
        }
    }
}

const MAX_MANIFEST_BYTES: u64 = 64 * 1024;
const RATIO_FLOOR: u64 = 1024 * 1024;

/// Checks the archive at `source` (named `shown` in errors) and unpacks its
/// database to `target`; returns its manifest. Reads at most the limits' bytes.
pub(super) fn extract(
    source: &Path,
    shown: &str,
    target: &Path,
    limits: &ArchiveLimits,
) -> Result<Manifest> {
    let damaged = |detail: String| Error::BackupDamaged {
        file: shown.to_owned(),
        detail,
    };
    let file = crate::files::open_regular_file(source)?;
    let size = file.metadata().map_err(|e| Error::io(source, e))?.len();
    if size > limits.max_archive_bytes {
        return Err(too_large(shown, limits.max_archive_bytes));
    }
    let mut zip = ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| damaged(format!("it is not a readable zip archive ({e})")))?;
    if zip.len() > limits.max_entries {
        return Err(Error::TooLarge {
            what: format!("The number of files in {shown}"),
            limit: format!("{} files", limits.max_entries),
        });
    }
    let mut manifest_at = None;
    let mut database_at = None;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| damaged(format!("its zip archive is damaged ({e})")))?;
        let name = entry
            .name()
            .map_err(|e| damaged(format!("its zip archive is damaged ({e})")))?
            .into_owned();
        let unsafe_path = name.starts_with('/')
            || name.contains(['\\', ':', '\0'])
            || name.split('/').any(|part| part == "..")
            || entry.enclosed_name().is_none();
        if unsafe_path {
            return Err(damaged(format!(
                "it holds a file with an unsafe path ({name:?})"
            )));
        }
        match name.as_str() {
            MANIFEST => manifest_at = Some(i),
            DATABASE => {
                let (packed, unpacked) = (entry.compressed_size(), entry.size());
                if unpacked > limits.max_database_bytes {
                    return Err(too_large(
                        &format!("{DATABASE} in {shown}"),
                        limits.max_database_bytes,
                    ));
                }
                if unpacked > RATIO_FLOOR && unpacked / packed.max(1) > limits.max_ratio {
                    return Err(Error::TooLarge {
                        what: format!(
                            "The compression ratio of {DATABASE} in {shown} (a zip bomb?)"
                        ),
                        limit: format!("{} to 1", limits.max_ratio),
                    });
                }
                database_at = Some((i, unpacked));
            }
            // Later layouts may add files; this one reads only its own.
            _ => {}
        }
    }
    let manifest_at = manifest_at.ok_or_else(|| {
        damaged(format!(
            "it has no {MANIFEST}: not a Confab library archive"
        ))
    })?;
    let (database_at, declared) =
        database_at.ok_or_else(|| damaged(format!("it has no {DATABASE}")))?;

    let mut text = Vec::new();
    zip.by_index(manifest_at)
        .map_err(|e| damaged(format!("its zip archive is damaged ({e})")))?
        .take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|e| damaged(format!("{MANIFEST} cannot be unpacked ({e})")))?;
    if text.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(too_large(
            &format!("{MANIFEST} in {shown}"),
            MAX_MANIFEST_BYTES,
        ));
    }
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| damaged(format!("{MANIFEST} is not readable ({e})")))?;
    if manifest.format != FORMAT {
        return Err(damaged(format!(
            "it is not a Confab library archive ({MANIFEST} says {:?})",
            manifest.format
        )));
    }
    let supported = latest_schema_version();
    if manifest.format_version > FORMAT_VERSION || manifest.schema_version > supported {
        return Err(Error::BackupTooNew {
            file: shown.to_owned(),
            found: manifest.schema_version,
            supported,
        });
    }

    // Unpack, counting real bytes: a header that lies about the size is how bombs slip through.
    let budget = declared.min(limits.max_database_bytes);
    let mut entry = zip
        .by_index(database_at)
        .map_err(|e| damaged(format!("its zip archive is damaged ({e})")))?;
    let mut out = std::fs::File::create_new(target).map_err(|e| Error::io(target, e))?;
    let copied = std::io::copy(&mut (&mut entry).take(budget.saturating_add(1)), &mut out);
    let copied = match copied {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::StorageFull => return Err(Error::io(target, e)),
        Err(e) => return Err(damaged(format!("{DATABASE} cannot be unpacked ({e})"))),
    };
    if copied > budget {
        return Err(too_large(&format!("{DATABASE} in {shown}"), budget));
    }
    out.sync_all().map_err(|e| Error::io(target, e))?;
    Ok(manifest)
}

fn too_large(what: &str, limit: u64) -> Error {
    Error::TooLarge {
        what: what.to_owned(),
        limit: format!("{limit} bytes"),
    }
}
