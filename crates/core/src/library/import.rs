//! Importing card files: one file, or a whole drop of files and folders.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use crate::card::{self, Limits, ParsedCard};
use crate::library::{
    content_hash, make_thumbnail, ImportEvent, ImportOutcome, ImportStatus, ImportSummary,
};
use crate::sink::Sink;
use crate::store::{Inserted, NewCharacter, Store, Thumbnail};
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

/// A card parsed off the async runtime, ready to store.
struct Prepared {
    parsed: ParsedCard,
    thumbnail: Option<Thumbnail>,
    hash: String,
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
    let prepared = tokio::task::spawn_blocking(move || {
        let parsed = card::read_card(&bytes, &name, &limits)?;
        Ok(prepare(parsed))
    })
    .await
    .unwrap_or_else(|e| {
        Err(Error::Internal(format!(
            "reading the card stopped unexpectedly: {e}"
        )))
    });
    store_prepared(store, file_name.to_owned(), prepared, None).await
}

fn prepare_file(path: &Path, limits: &Limits) -> Result<Prepared> {
    Ok(prepare(card::read_card_file(path, limits)?))
}

fn prepare(parsed: ParsedCard) -> Prepared {
    let thumbnail = parsed.avatar.as_ref().and_then(make_thumbnail);
    let hash = content_hash(&parsed.data);
    Prepared {
        parsed,
        thumbnail,
        hash,
    }
}

async fn store_prepared(
    store: &Store,
    file: String,
    prepared: Result<Prepared>,
    collection: Option<&str>,
) -> ImportOutcome {
    let failed = |file: String, err: Error| ImportOutcome {
        file,
        status: ImportStatus::Failed,
        character_id: None,
        name: None,
        same_name_as: None,
        error: Some(AppError::from(err)),
    };
    let prepared = match prepared {
        Ok(p) => p,
        Err(err) => return failed(file, err),
    };
    let Prepared {
        parsed,
        thumbnail,
        hash,
    } = prepared;
    let collections: Vec<String> = collection.map(str::to_owned).into_iter().collect();
    let source_file = Path::new(&file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.clone());
    let inserted = store
        .insert_character(NewCharacter {
            card: &parsed.data,
            original: &parsed.original,
            spec: parsed.spec,
            format: parsed.format,
            source_file: &source_file,
            content_hash: &hash,
            avatar: parsed.avatar.as_ref().map(|a| (a, thumbnail)),
            assets: &parsed.assets,
            collections: &collections,
        })
        .await;
    match inserted {
        Err(err) => failed(file, err),
        Ok(Inserted::Duplicate { id, name }) => ImportOutcome {
            file,
            status: ImportStatus::AlreadyInLibrary,
            character_id: Some(id),
            name: Some(name),
            same_name_as: None,
            error: None,
        },
        Ok(Inserted::New { id }) => {
            let same_name_as = store
                .character_named(&parsed.data.name, &id)
                .await
                .ok()
                .flatten();
            ImportOutcome {
                file,
                status: ImportStatus::Imported,
                character_id: Some(id),
                name: Some(parsed.data.name),
                same_name_as,
                error: None,
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
