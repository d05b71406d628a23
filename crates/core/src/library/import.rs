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
/// name are always tried, whatever their extension).
pub const CARD_EXTENSIONS: &[&str] = &[
    "png", "json", "charx", "yaml", "yml", "md", "markdown", "txt", "webp", "jpg", "jpeg",
];
/// Folders are walked at most this deep (a drop of `/` must not run forever).
const MAX_FOLDER_DEPTH: usize = 12;

/// One file to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJob {
    /// Where it is.
    pub path: PathBuf,
    /// The collection it joins: the name of the dropped folder it was found in.
    pub collection: Option<String>,
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
/// hidden files and symlinks skipped), files are kept as given, in order.
pub fn expand_paths(paths: &[PathBuf]) -> Vec<ImportJob> {
    let mut jobs = Vec::new();
    for path in paths {
        if !path.is_dir() {
            jobs.push(ImportJob {
                path: path.clone(),
                collection: None,
            });
            continue;
        }
        let collection = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty());
        let mut found: Vec<PathBuf> = walkdir::WalkDir::new(path)
            .follow_links(false)
            .max_depth(MAX_FOLDER_DEPTH)
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file() && has_card_extension(e.path()))
            .map(|e| e.into_path())
            .collect();
        found.sort();
        jobs.extend(found.into_iter().map(|path| ImportJob {
            path,
            collection: collection.clone(),
        }));
    }
    jobs
}

fn has_card_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| CARD_EXTENSIONS.iter().any(|c| c.eq_ignore_ascii_case(e)))
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
    let jobs = tokio::task::spawn_blocking(move || expand_paths(&owned))
        .await
        .unwrap_or_default();
    import_jobs(store, jobs, limits, sink).await
}

/// Imports a list of files, streaming progress to `sink`.
pub async fn import_jobs(
    store: &Store,
    jobs: Vec<ImportJob>,
    limits: &Limits,
    sink: &dyn Sink<ImportEvent>,
) -> ImportSummary {
    let total = u32::try_from(jobs.len()).unwrap_or(u32::MAX);
    sink.send(ImportEvent::Started { total });

    // A window of parses in flight: all cores busy, memory bounded.
    let window = std::thread::available_parallelism().map_or(2, |n| n.get()) * 2;
    let mut pending = VecDeque::new();
    let mut jobs = jobs.into_iter();
    let mut summary = ImportSummary::default();
    loop {
        while pending.len() < window {
            let Some(job) = jobs.next() else { break };
            let limits = limits.clone();
            let path = job.path.clone();
            let task = tokio::task::spawn_blocking(move || prepare_file(&path, &limits));
            pending.push_back((job, task));
        }
        let Some((job, task)) = pending.pop_front() else {
            break;
        };
        let prepared = task.await.unwrap_or_else(|e| {
            Err(Error::Internal(format!(
                "reading the card stopped unexpectedly: {e}"
            )))
        });
        let file = job.path.display().to_string();
        let outcome = store_prepared(store, file, prepared, job.collection.as_deref()).await;
        summary.record(outcome.clone());
        sink.send(ImportEvent::Progress {
            done: u32::try_from(summary.outcomes.len()).unwrap_or(u32::MAX),
            total,
            outcome,
        });
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
        Some(value) => crate::lore::dictionary::dictionary_from_json(value).map_err(|e| {
            Error::InvalidInput(format!(
                "the chat dictionary in the card of {} cannot be read: {e}",
                parsed.data.name
            ))
        })?,
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
