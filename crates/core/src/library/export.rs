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

/// The longest file name most file systems take, in bytes (ext4, APFS; NTFS
/// counts 255 UTF-16 units, never more than the UTF-8 bytes).
const MAX_NAME_BYTES: usize = 255;
/// The longest stem [`safe_file_stem`] gives, in bytes: room is left for a
/// number (` (12345)`) and an extension (`.charx`, `.jsonl`) within 255 bytes.
pub const MAX_STEM_BYTES: usize = 200;

/// Names Windows keeps for devices, whatever the case and whatever follows a dot
/// (`nul.png` opens the null device, not a file).
const WINDOWS_RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "COM¹", "COM²", "COM³", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8",
    "LPT9", "LPT¹", "LPT²", "LPT³",
];

/// A file name from a character name: no path separators, reserved or control
/// characters, no Windows device name, no leading or trailing dots and spaces,
/// not empty, at most [`MAX_STEM_BYTES`] bytes (cut on a character boundary).
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
    let short = trim_name(cut_to_bytes(trim_name(&cleaned), MAX_STEM_BYTES));
    if short.is_empty() {
        "character".to_owned()
    } else if is_windows_reserved(short) {
        format!("_{short}")
    } else {
        short.to_owned()
    }
}

/// Without leading and trailing spaces and dots (Windows drops trailing ones,
/// a leading dot hides a file elsewhere).
fn trim_name(s: &str) -> &str {
    s.trim_matches(|c: char| c == '.' || c.is_whitespace())
}

/// The longest start of `s` that fits in `max` bytes, cut on a character boundary.
fn cut_to_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Whether Windows reads this name as a device: the part before the first dot,
/// trailing spaces ignored, is one of [`WINDOWS_RESERVED`].
fn is_windows_reserved(stem: &str) -> bool {
    let base = stem.split('.').next().unwrap_or(stem).trim_end();
    WINDOWS_RESERVED
        .iter()
        .any(|r| base.eq_ignore_ascii_case(r))
}

/// `stem.ext`, or `stem (n).ext` from 2 up when taken; a stem too long to fit
/// 255 bytes with its suffix is cut further (callers may add words to a safe stem).
fn free_path(dir: &Path, stem: &str, ext: &str) -> PathBuf {
    let name = |suffix: String| {
        let room = MAX_NAME_BYTES.saturating_sub(suffix.len());
        let stem = trim_name(cut_to_bytes(stem, room));
        format!("{stem}{suffix}")
    };
    let first = dir.join(name(format!(".{ext}")));
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|n| dir.join(name(format!(" ({n}).{ext}"))))
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
        assert_eq!(safe_file_stem(&"x".repeat(500)).len(), MAX_STEM_BYTES);
    }

    #[test]
    fn long_names_are_cut_in_bytes_on_a_character_boundary() {
        // 100 CJK characters are 300 bytes: cut by characters, the name did not fit 255.
        let cjk = "龍".repeat(100);
        let stem = safe_file_stem(&cjk);
        assert!(stem.len() <= MAX_STEM_BYTES, "{}", stem.len());
        assert_eq!(stem, "龍".repeat(MAX_STEM_BYTES / 3));
        // Four-byte characters (emoji) are never split.
        let emoji = safe_file_stem(&"🐉".repeat(80));
        assert!(emoji.len() <= MAX_STEM_BYTES && emoji.chars().all(|c| c == '🐉'));
        // A cut that ends on a space or dot does not leave it at the end.
        let spaced = format!("{} tail", "a".repeat(MAX_STEM_BYTES - 1));
        assert!(!safe_file_stem(&spaced).ends_with(' '));
        let dotted = format!("{}.tail", "a".repeat(MAX_STEM_BYTES - 1));
        assert!(!safe_file_stem(&dotted).ends_with('.'));
    }

    #[test]
    fn windows_device_names_are_not_used() {
        for name in [
            "CON", "con", "Nul", "PRN", "aux", "COM1", "com9", "LPT1", "lpt9", "CON.txt",
            "nul.tar", "CON ", "COM¹", "lpt²",
        ] {
            let stem = safe_file_stem(name);
            assert!(stem.starts_with('_'), "{name:?} gave {stem:?}");
        }
        for name in ["CONSOLE", "COM10", "Connie", "LPT", "NULL", "Aux Two"] {
            assert_eq!(safe_file_stem(name), name);
        }
        // Trailing dots and spaces (dropped by Windows) go too.
        assert_eq!(safe_file_stem("Ann. . "), "Ann");
    }

    #[test]
    fn cjk_names_write_real_files_with_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let stem = safe_file_stem(&"雪".repeat(100));
        for n in 0..3 {
            let out = write_new_file(dir.path(), &stem, "charx", b"x").unwrap();
            assert!(out.file_name.len() <= 255, "{}", out.file_name.len());
            if n == 2 {
                assert!(out.file_name.ends_with(" (3).charx"), "{}", out.file_name);
            }
        }
        // A caller that adds words to a safe stem still gets a name that fits.
        let longer = format!("{stem} (character book)");
        let out = write_new_file(dir.path(), &longer, "json", b"{}").unwrap();
        assert!(out.file_name.len() <= 255 && out.file_name.ends_with(".json"));
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
