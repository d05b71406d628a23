//! What a drop holds: dropped paths turned into files to import. Folders are
//! walked (card extensions only, hidden files and symlinks skipped, text files
//! only when they look like cards), within limits a drop of `/` cannot escape.

use std::path::{Path, PathBuf};

use crate::library::{ImportOutcome, ImportStatus};
use crate::{AppError, Error};

/// File extensions picked up when walking a dropped folder (files dropped by
/// name are always tried, whatever their extension). Text files count only
/// when they look like cards: see [`MAX_FOLDER_TEXT_CARD_BYTES`].
pub const CARD_EXTENSIONS: &[&str] = &[
    "png", "json", "charx", "yaml", "yml", "md", "markdown", "txt", "webp", "jpg", "jpeg",
];
/// Extensions of Markdown and plain-text cards.
const TEXT_EXTENSIONS: &[&str] = &["md", "markdown", "txt"];
/// Folders are walked at most this deep (a drop of `/` must not run forever).
const MAX_FOLDER_DEPTH: usize = 12;
/// Most entries looked at in one dropped folder (a drop of `/` ends, and says so).
const MAX_FOLDER_ENTRIES: usize = 200_000;
/// Most files one drop imports; the rest are reported, not read.
pub const MAX_DROP_FILES: usize = 5_000;
/// A text file found in a folder is taken as a card only up to this size, only
/// when it is readable text, not a README, licence or changelog, and not the
/// notes beside a card of the same name (`Aqua.png` + `Aqua.txt`). A text card
/// has no marker of its own, so in a folder anything else would turn every
/// document into a character; a text file dropped or picked by name is always tried.
pub const MAX_FOLDER_TEXT_CARD_BYTES: u64 = 256 * 1024;
/// File names (before the first dot, any case) that are documents, never characters.
const DOCUMENT_NAMES: &[&str] = &[
    "readme",
    "license",
    "licence",
    "copying",
    "changelog",
    "changes",
    "history",
    "notice",
    "authors",
    "contributors",
    "contributing",
    "credits",
    "install",
    "security",
    "code_of_conduct",
    "todo",
    "manifest",
];

/// One file to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJob {
    /// Where it is.
    pub path: PathBuf,
    /// The collection it joins: the name of the dropped folder it was found in.
    pub collection: Option<String>,
    /// Its size on disk when it was found (0 when unknown): what reading it is
    /// expected to cost. The reader enforces the real limits.
    pub size: u64,
}

/// Dropped paths turned into files to import, and what was left out and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expansion {
    /// The files, in order.
    pub jobs: Vec<ImportJob>,
    /// Folders cut short (too many files or entries), as failed outcomes.
    pub refused: Vec<ImportOutcome>,
}

/// Turns dropped paths into files: folders are walked (card extensions only,
/// hidden files and symlinks skipped, text files only when they look like
/// cards), files are kept as given, in order; at most [`MAX_DROP_FILES`] in all.
pub fn expand_paths(paths: &[PathBuf]) -> Expansion {
    let mut out = Expansion::default();
    for path in paths {
        let room = MAX_DROP_FILES.saturating_sub(out.jobs.len());
        if !path.is_dir() {
            if room == 0 {
                out.refused.push(cut_short(path, too_many_files(path)));
                continue;
            }
            out.jobs.push(ImportJob {
                path: path.clone(),
                collection: None,
                size: std::fs::metadata(path).map_or(0, |m| m.len()),
            });
            continue;
        }
        let collection = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty());
        let (found, walk_cut) = walk_folder(path);
        let mut cut = walk_cut.then(|| too_many_entries(path));
        for (taken, (file, size)) in found.into_iter().enumerate() {
            if taken == room {
                cut = Some(too_many_files(path));
                break;
            }
            out.jobs.push(ImportJob {
                path: file,
                collection: collection.clone(),
                size,
            });
        }
        if let Some(err) = cut {
            out.refused.push(cut_short(path, err));
        }
    }
    out
}

/// The card files in a folder, in name order, and whether the walk stopped at
/// [`MAX_FOLDER_ENTRIES`].
fn walk_folder(path: &Path) -> (Vec<(PathBuf, u64)>, bool) {
    let mut candidates = Vec::new();
    let mut cut = false;
    let walk = walkdir::WalkDir::new(path)
        .follow_links(false)
        .max_depth(MAX_FOLDER_DEPTH)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for (seen, entry) in walk.enumerate() {
        if seen >= MAX_FOLDER_ENTRIES {
            cut = true;
            break;
        }
        let Ok(entry) = entry else { continue };
        if entry.file_type().is_file() && has_card_extension(entry.path()) {
            let size = entry.metadata().map_or(0, |m| m.len());
            candidates.push((entry.into_path(), size));
        }
    }
    // Stems of the cards that are not text, folder by folder: a text file of
    // the same name beside one is that card's notes.
    let card_stems: std::collections::HashSet<(PathBuf, String)> = candidates
        .iter()
        .filter(|(p, _)| !is_text_file(p))
        .filter_map(|(p, _)| Some((p.parent()?.to_owned(), stem_of(p)?)))
        .collect();
    candidates.retain(|(p, size)| {
        !is_text_file(p)
            || (*size <= MAX_FOLDER_TEXT_CARD_BYTES
                && !is_document_name(p)
                && p.parent()
                    .zip(stem_of(p))
                    .is_none_or(|(dir, stem)| !card_stems.contains(&(dir.to_owned(), stem)))
                && starts_as_text(p))
    });
    (candidates, cut)
}

fn has_card_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| CARD_EXTENSIONS.iter().any(|c| c.eq_ignore_ascii_case(e)))
}

fn is_text_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| TEXT_EXTENSIONS.iter().any(|c| c.eq_ignore_ascii_case(e)))
}

/// The file name without its extension, lowercased.
fn stem_of(path: &Path) -> Option<String> {
    Some(path.file_stem()?.to_string_lossy().to_lowercase())
}

/// `README.md`, `LICENSE-MIT.txt`, `changelog.en.md`, ...
fn is_document_name(path: &Path) -> bool {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().to_lowercase()) else {
        return false;
    };
    DOCUMENT_NAMES.iter().any(|doc| {
        name.strip_prefix(doc)
            .is_some_and(|rest| rest.starts_with(['.', '-', '_', ' ']) || rest.is_empty())
    })
}

/// Whether the file's first 4 KB are text (UTF-8, no NUL bytes).
fn starts_as_text(path: &Path) -> bool {
    use std::io::Read;
    let mut head = Vec::with_capacity(4096);
    let read = std::fs::File::open(path).and_then(|f| f.take(4096).read_to_end(&mut head));
    if read.is_err() || head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(&head) {
        Ok(_) => true,
        // Cut in the middle of a character at the 4 KB mark is still text.
        Err(e) => e.error_len().is_none(),
    }
}

fn too_many_files(path: &Path) -> Error {
    Error::TooLarge {
        what: format!("The drop that includes {}", path.display()),
        limit: format!("{MAX_DROP_FILES} files at a time; the files after that were not imported"),
    }
}

fn too_many_entries(path: &Path) -> Error {
    Error::TooLarge {
        what: format!("The folder {}", path.display()),
        limit: format!(
            "{MAX_FOLDER_ENTRIES} files and folders looked at; cards found before that were imported"
        ),
    }
}

/// A failed outcome for a path whose files were not all imported.
fn cut_short(path: &Path, err: Error) -> ImportOutcome {
    ImportOutcome {
        file: path.display().to_string(),
        status: ImportStatus::Failed,
        character_id: None,
        name: None,
        same_name_as: None,
        world_book_id: None,
        session_id: None,
        pending_dictionary_rules: 0,
        error: Some(AppError::from(err)),
    }
}
