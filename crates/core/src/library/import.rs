//! Importing card files: one file, or a whole drop of files and folders.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use crate::card::{self, Limits, ParsedCard};
use crate::library::{
    content_hash, make_thumbnail, ImportEvent, ImportOutcome, ImportStatus, ImportSummary,
};
use crate::lore::formats;
use crate::lore::{Book, DictionaryRule};
use crate::sink::Sink;
use crate::store::{BookOrigin, CardInserted, Inserted, NewCharacter, Store, Thumbnail};
use crate::{AppError, Error, Result};

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
/// Memory the files being read at once may need, estimated from their sizes:
/// a drop of fifty 50 MB cards reads a few at a time, not every core's worth.
const IMPORT_MEMORY_BUDGET: u64 = 768 * 1024 * 1024;
/// Reading a card holds the file, its decoded text, its JSON and the card:
/// about four times the file (thumbnails have their own budget).
const READ_EXPANSION: u64 = 4;
/// The least a file is counted as, however small it says it is.
const MIN_JOB_WEIGHT: u64 = 64 * 1024;

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

/// A file read off the async runtime, ready to store.
enum Prepared {
    /// A character card, with its embedded world book and chat dictionary read out of it.
    Card {
        parsed: Box<ParsedCard>,
        thumbnail: Option<Thumbnail>,
        hash: String,
        embedded_book: Option<Book>,
        dictionary: Vec<DictionaryRule>,
    },
    /// A world book file.
    Book(Book),
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
        pending_dictionary_rules: 0,
        error: Some(AppError::from(err)),
    }
}

/// Imports files and folders, streaming progress to `sink`.
///
/// Files are parsed and thumbnailed in parallel off the async runtime and
/// stored one by one in order; a bad file is reported and the batch goes on.
pub async fn import_paths(
    store: &Store,
    paths: &[PathBuf],
    limits: &Limits,
    sink: &dyn Sink<ImportEvent>,
) -> ImportSummary {
    let owned = paths.to_vec();
    let Expansion { jobs, refused } = tokio::task::spawn_blocking(move || expand_paths(&owned))
        .await
        .unwrap_or_default();
    let budget = IMPORT_MEMORY_BUDGET;
    run_jobs(store, jobs, refused, limits, sink, budget, prepare_file).await
}

/// Imports a list of files, streaming progress to `sink`.
pub async fn import_jobs(
    store: &Store,
    jobs: Vec<ImportJob>,
    limits: &Limits,
    sink: &dyn Sink<ImportEvent>,
) -> ImportSummary {
    let budget = IMPORT_MEMORY_BUDGET;
    run_jobs(store, jobs, Vec::new(), limits, sink, budget, prepare_file).await
}

/// What reading a file of `size` bytes is counted as against `budget`.
fn job_weight(size: u64, budget: u64) -> u64 {
    size.saturating_mul(READ_EXPANSION)
        .clamp(MIN_JOB_WEIGHT, budget.max(MIN_JOB_WEIGHT))
}

/// Reads files in parallel (at most twice the cores, and only while their
/// estimated memory fits `budget`), stores them one by one in order. A file
/// counts against the budget from its read until it is stored, since its
/// parsed card waits in memory until then.
async fn run_jobs(
    store: &Store,
    jobs: Vec<ImportJob>,
    refused: Vec<ImportOutcome>,
    limits: &Limits,
    sink: &dyn Sink<ImportEvent>,
    budget: u64,
    prepare: fn(&Path, &Limits) -> Result<Prepared>,
) -> ImportSummary {
    let total = u32::try_from(jobs.len() + refused.len()).unwrap_or(u32::MAX);
    sink.send(ImportEvent::Started { total });
    let mut summary = ImportSummary::default();
    let report = |summary: &mut ImportSummary, outcome: ImportOutcome| {
        summary.record(outcome.clone());
        sink.send(ImportEvent::Progress {
            done: u32::try_from(summary.outcomes.len()).unwrap_or(u32::MAX),
            total,
            outcome,
        });
    };
    for outcome in refused {
        report(&mut summary, outcome);
    }

    let window = std::thread::available_parallelism().map_or(2, |n| n.get()) * 2;
    let mut pending = VecDeque::new();
    let mut in_flight: u64 = 0;
    let mut jobs = jobs.into_iter().peekable();
    loop {
        while pending.len() < window {
            let Some(job) = jobs.peek() else { break };
            let weight = job_weight(job.size, budget);
            // One file always goes, however large: the budget orders, never stalls.
            if !pending.is_empty() && in_flight + weight > budget {
                break;
            }
            let Some(job) = jobs.next() else { break };
            in_flight += weight;
            let limits = limits.clone();
            let path = job.path.clone();
            let task = tokio::task::spawn_blocking(move || prepare(&path, &limits));
            pending.push_back((job, task, weight));
        }
        let Some((job, task, weight)) = pending.pop_front() else {
            break;
        };
        let prepared = task.await.unwrap_or_else(|e| {
            Err(Error::Internal(format!(
                "reading the card stopped unexpectedly: {e}"
            )))
        });
        let file = job.path.display().to_string();
        let outcome = store_prepared(store, file, prepared, job.collection.as_deref()).await;
        in_flight -= weight;
        report(&mut summary, outcome);
    }
    sink.send(ImportEvent::Finished {
        summary: summary.clone(),
    });
    summary
}

/// Imports one file given as bytes (the file picker), named as the user knows it.
pub async fn import_bytes(
    store: &Store,
    file_name: &str,
    bytes: Vec<u8>,
    limits: &Limits,
) -> ImportOutcome {
    let name = file_name.to_owned();
    let limits = limits.clone();
    let prepared = tokio::task::spawn_blocking(move || prepare_bytes(&bytes, &name, &limits))
        .await
        .unwrap_or_else(|e| {
            Err(Error::Internal(format!(
                "reading the card stopped unexpectedly: {e}"
            )))
        });
    store_prepared(store, file_name.to_owned(), prepared, None).await
}

fn prepare_file(path: &Path, limits: &Limits) -> Result<Prepared> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !may_be_world_book(&name) {
        return prepare_card(card::read_card_file(path, limits)?);
    }
    // Through a capped reader: a metadata size is only a hint (`/dev/zero` says 0).
    let bytes = crate::files::read_regular_file(path, limits.max_file_bytes)?;
    prepare_bytes(&bytes, &name, limits)
}

fn prepare_bytes(bytes: &[u8], name: &str, limits: &Limits) -> Result<Prepared> {
    if may_be_world_book(name) && is_world_book(bytes, name) {
        let (book, _format) = formats::read_book(bytes, name)?;
        return Ok(Prepared::Book(book));
    }
    prepare_card(card::read_card(bytes, name, limits)?)
}

/// Only JSON and NovelAI files can be world books; cards in images never are.
fn may_be_world_book(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower.ends_with(".json") || lower.ends_with(".lorebook")
}

/// A JSON file is a world book when it has entries and none of a card's shape.
fn is_world_book(bytes: &[u8], name: &str) -> bool {
    if name.to_lowercase().ends_with(".lorebook") {
        return true;
    }
    let text = String::from_utf8_lossy(bytes);
    let Ok(serde_json::Value::Object(root)) =
        serde_json::from_str::<serde_json::Value>(text.trim_start_matches('\u{feff}'))
    else {
        return false;
    };
    let spec = root.get("spec").and_then(|s| s.as_str()).unwrap_or("");
    if spec.starts_with("chara_card") || root.contains_key("first_mes") {
        return false;
    }
    root.contains_key("entries")
        || root.contains_key("lorebookVersion")
        || root.get("kind").and_then(|k| k.as_str()) == Some("memory")
        || spec.starts_with("lorebook")
        || matches!(
            root.get("type").and_then(|t| t.as_str()),
            Some("risu" | "risuLorebook")
        )
}

/// Reads the embedded world book and the chat dictionary out of a card, and
/// stores the card's copy of the book in its canonical form, so an export
/// (which writes the linked book back) is the same card again. A book or a
/// dictionary that cannot be read fails the card: importing it without them
/// would lose them for good (a re-import is "already in library").
fn prepare_card(mut parsed: ParsedCard) -> Result<Prepared> {
    let embedded_book = match &parsed.data.character_book {
        Some(value) => Some(formats::from_character_book(value, &parsed.data.name)?),
        None => None,
    };
    if let Some(book) = &embedded_book {
        parsed.data.character_book = Some(formats::to_character_book(book));
    }
    let dictionary = match parsed.data.extensions.get(super::DICTIONARY_EXTENSION) {
        Some(value) => {
            crate::lore::dictionary::dictionary_from_json(value).map_err(|e| match e {
                Error::InvalidInput(detail) => Error::InvalidInput(format!(
                    "the chat dictionary in the card of {} cannot be read: {detail}",
                    parsed.data.name
                )),
                other => other,
            })?
        }
        None => Vec::new(),
    };
    let thumbnail = parsed.avatar.as_ref().and_then(make_thumbnail);
    let hash = content_hash(&parsed.data);
    Ok(Prepared::Card {
        parsed: Box::new(parsed),
        thumbnail,
        hash,
        embedded_book,
        dictionary,
    })
}

async fn store_prepared(
    store: &Store,
    file: String,
    prepared: Result<Prepared>,
    collection: Option<&str>,
) -> ImportOutcome {
    let outcome = |file: String, status| ImportOutcome {
        file,
        status,
        character_id: None,
        name: None,
        same_name_as: None,
        world_book_id: None,
        pending_dictionary_rules: 0,
        error: None,
    };
    let failed = |file: String, err: Error| ImportOutcome {
        error: Some(AppError::from(err)),
        ..outcome(file, ImportStatus::Failed)
    };
    let source_file = Path::new(&file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.clone());
    let (parsed, thumbnail, hash, embedded_book, dictionary) = match prepared {
        Err(err) => return failed(file, err),
        Ok(Prepared::Book(book)) => {
            let origin = BookOrigin {
                source_file: &source_file,
                character_id: None,
            };
            return match store.insert_world_book(&book, origin).await {
                Ok(id) => ImportOutcome {
                    name: Some(book.name),
                    world_book_id: Some(id),
                    ..outcome(file, ImportStatus::Imported)
                },
                Err(err) => failed(file, err),
            };
        }
        Ok(Prepared::Card {
            parsed,
            thumbnail,
            hash,
            embedded_book,
            dictionary,
        }) => (parsed, thumbnail, hash, embedded_book, dictionary),
    };
    let collections: Vec<String> = collection.map(str::to_owned).into_iter().collect();
    // The card, its embedded book (a world book attached to the character) and
    // its chat dictionary (pending the user's review) in one transaction.
    let inserted = store
        .insert_card(
            NewCharacter {
                card: &parsed.data,
                original: &parsed.original,
                spec: parsed.spec,
                format: parsed.format,
                source_file: &source_file,
                content_hash: &hash,
                avatar: parsed.avatar.as_ref().map(|a| (a, thumbnail)),
                assets: &parsed.assets,
                collections: &collections,
            },
            embedded_book.as_ref(),
            &dictionary,
        )
        .await;
    match inserted {
        Err(err) => failed(file, err),
        Ok(CardInserted {
            character: Inserted::Duplicate { id, name },
            ..
        }) => ImportOutcome {
            character_id: Some(id),
            name: Some(name),
            ..outcome(file, ImportStatus::AlreadyInLibrary)
        },
        Ok(CardInserted {
            character: Inserted::New { id },
            world_book_id,
            pending_dictionary_rules,
        }) => {
            let same_name_as = store
                .character_named(&parsed.data.name, &id)
                .await
                .ok()
                .flatten();
            ImportOutcome {
                character_id: Some(id),
                name: Some(parsed.data.name.clone()),
                same_name_as,
                world_book_id,
                pending_dictionary_rules,
                ..outcome(file, ImportStatus::Imported)
            }
        }
    }
}

impl ImportSummary {
    /// Counts one file's outcome in.
    pub fn record(&mut self, outcome: ImportOutcome) {
        match outcome.status {
            ImportStatus::Imported => self.imported += 1,
            ImportStatus::AlreadyInLibrary => self.already_in_library += 1,
            ImportStatus::Failed => self.failed += 1,
        }
        self.outcomes.push(outcome);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

    use super::*;
    use crate::sink::Discard;

    const MIB: u64 = 1024 * 1024;
    const BUDGET: u64 = 9 * MIB;
    static RUNNING: AtomicU64 = AtomicU64::new(0);
    static MOST: AtomicU64 = AtomicU64::new(0);

    /// Stands in for reading a card: counts what is being read at once.
    fn counting_prepare(path: &Path, _: &Limits) -> Result<Prepared> {
        let weight = job_weight(std::fs::metadata(path).map_or(0, |m| m.len()), BUDGET);
        let now = RUNNING.fetch_add(weight, SeqCst) + weight;
        MOST.fetch_max(now, SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(20));
        RUNNING.fetch_sub(weight, SeqCst);
        Err(Error::InvalidInput(format!(
            "{} was counted",
            path.display()
        )))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn files_are_read_in_parallel_only_while_their_memory_fits_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("data")).await.unwrap();
        // Twelve 1 MiB files (4 MiB each once read) and one larger than the whole budget.
        let mut jobs = Vec::new();
        for i in 0..13 {
            let path = dir.path().join(format!("{i:02}.json"));
            let size = if i == 6 { 10 * MIB } else { MIB };
            std::fs::write(&path, vec![b' '; size as usize]).unwrap();
            jobs.push(ImportJob {
                path,
                collection: None,
                size,
            });
        }
        let summary = run_jobs(
            &store,
            jobs,
            Vec::new(),
            &Limits::default(),
            &Discard,
            BUDGET,
            counting_prepare,
        )
        .await;
        // Every file was read (the big one alone), in order, and never more
        // than the budget at once: two small ones, not a whole window of them.
        assert_eq!(summary.failed, 13);
        for (i, o) in summary.outcomes.iter().enumerate() {
            assert!(o.file.ends_with(&format!("{i:02}.json")), "{}", o.file);
        }
        let most = MOST.load(SeqCst);
        assert!(most <= BUDGET, "{} MiB at once", most / MIB);
        assert!(most >= 8 * MIB, "two small files still run together");
    }
}
