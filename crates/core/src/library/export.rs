//! Exporting a character as PNG, JSON or CHARX.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::card::{self, CardSpec};
use crate::library::{ExportFormat, ExportedFile};
use crate::lore::{dictionary, formats};

/// Where a character's chat dictionary travels inside its card.
pub const DICTIONARY_EXTENSION: &str = "confab/dictionary";
use crate::store::{Store, StoredCharacter};
use crate::{Error, Result};

/// The file extension of a format.
pub fn extension(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Png => "png",
        ExportFormat::Json | ExportFormat::JsonV2 => "json",
        ExportFormat::Charx => "charx",
    }
}

/// The bytes of a character in `format`, with its world book written back into the card.
pub fn export_bytes(character: &StoredCharacter, format: ExportFormat) -> Result<Vec<u8>> {
    let original = character.original.as_ref();
    let mut card = character.card.clone();
    if let Some(book) = &character.world_book {
        card.character_book = Some(formats::to_character_book(book));
    }
    if !character.dictionary.is_empty() {
        card.extensions.insert(
            DICTIONARY_EXTENSION.to_owned(),
            dictionary::dictionary_to_json(&character.dictionary),
        );
    }
    match format {
        ExportFormat::Png => card::write_png(&card, original, character.avatar.as_ref()),
        ExportFormat::Json => Ok(card::write_json(&card, original, CardSpec::V3)),
        ExportFormat::JsonV2 => Ok(card::write_json(&card, original, CardSpec::V2)),
        ExportFormat::Charx => card::write_charx(
            &card,
            original,
            character.avatar.as_ref(),
            &character.assets,
        ),
    }
}

/// Exports character `id` into `dir` under a free name (`Name.png`, `Name (2).png`, ...).
pub async fn export_to_dir(
    store: &Store,
    id: &str,
    format: ExportFormat,
    dir: &Path,
) -> Result<ExportedFile> {
    let character = store.stored_character(id).await?;
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || {
        let bytes = export_bytes(&character, format)?;
        write_new_file(
            &dir,
            &safe_file_stem(&character.card.name),
            extension(format),
            &bytes,
        )
    })
    .await
    .map_err(|e| Error::Internal(format!("the export stopped unexpectedly: {e}")))?
}

/// Writes `bytes` into `dir` as `stem.ext`, or `stem (2).ext` and so on when taken.
pub fn write_new_file(dir: &Path, stem: &str, ext: &str, bytes: &[u8]) -> Result<ExportedFile> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let path = free_path(dir, stem, ext);
    write_atomically(&path, bytes)?;
    Ok(ExportedFile {
        file_name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        path: path.display().to_string(),
    })
}

/// Where exports go by default: the Downloads folder, or `exports/` in the data folder.
pub fn default_export_dir(data_dir: &Path) -> PathBuf {
    dirs::download_dir().unwrap_or_else(|| data_dir.join("exports"))
}

/// A file name from a character name: no path separators, reserved or control
/// characters, not empty, not too long.
pub fn safe_file_stem(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_matches('.').trim();
    let short: String = trimmed.chars().take(100).collect();
    if short.is_empty() {
        "character".to_owned()
    } else {
        short
    }
}

fn free_path(dir: &Path, stem: &str, ext: &str) -> PathBuf {
    let first = dir.join(format!("{stem}.{ext}"));
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|n| dir.join(format!("{stem} ({n}).{ext}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// Writes through a temporary file and a rename, so a full disk or a crash
/// never leaves half a card under the real name.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let temp = dir.join(format!(".confab-{}.partial", uuid::Uuid::new_v4()));
    let written = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::create_new(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_are_safe_on_every_os() {
        assert_eq!(safe_file_stem("Seraphina"), "Seraphina");
        assert_eq!(safe_file_stem("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_file_stem("a:b*c?\"d<e>f|g"), "a_b_c__d_e_f_g");
        assert_eq!(safe_file_stem("  ...  "), "character");
        assert_eq!(safe_file_stem("Рокси 🐉"), "Рокси 🐉");
        assert_eq!(safe_file_stem(&"x".repeat(500)).chars().count(), 100);
    }

    #[test]
    fn a_taken_name_gets_a_number() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Aqua.png"), b"x").unwrap();
        std::fs::write(dir.path().join("Aqua (2).png"), b"x").unwrap();
        assert_eq!(
            free_path(dir.path(), "Aqua", "png"),
            dir.path().join("Aqua (3).png")
        );
    }

    #[test]
    fn atomic_writes_leave_no_partial_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("card.json");
        write_atomically(&path, b"{}").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{}");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
        let missing = dir.path().join("no/such/dir/card.json");
        assert!(write_atomically(&missing, b"{}").is_err());
    }
}
