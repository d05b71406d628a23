//! Importing card files: one file, or a whole drop of files and folders.
//!
//! This file runs an import: files are read in parallel within a memory budget
//! and stored one by one in order. `dropped.rs` turns dropped paths into files;
//! `reading.rs` reads one file; `storing.rs` stores what was read.

mod dropped;
mod reading;
mod storing;

pub use dropped::{
    expand_paths, Expansion, ImportJob, CARD_EXTENSIONS, MAX_DROP_FILES, MAX_FOLDER_TEXT_CARD_BYTES,
};

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use crate::card::Limits;
use crate::library::{ImportEvent, ImportOutcome, ImportStatus, ImportSummary};
use crate::sink::Sink;
use crate::store::Store;
use crate::{Error, Result};
use reading::{prepare_bytes, prepare_file, Prepared};
use storing::store_prepared;

/// Memory the files being read at once may need, estimated from their sizes:
/// a drop of fifty 50 MB cards reads a few at a time, not every core's worth.
const IMPORT_MEMORY_BUDGET: u64 = 768 * 1024 * 1024;
/// Reading a card holds the file, its decoded text, its JSON and the card:
/// about four times the file (thumbnails have their own budget).
const READ_EXPANSION: u64 = 4;
/// The least a file is counted as, however small it says it is.
const MIN_JOB_WEIGHT: u64 = 64 * 1024;

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
    let prepared = crate::offload::run("reading the card", move || {
        prepare_bytes(&bytes, &name, &limits)
    })
    .await
    .and_then(|read| read);
    store_prepared(store, file_name.to_owned(), prepared, None).await
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
