//! Crash recovery: replies a crash or kill cut short while they streamed are
//! marked `interrupted`, but only by a process that has the library alone (see
//! [`LibraryLock`]), so no live reply of another process is ever touched.

use std::path::Path;

use crate::error::{Error, Result};
use crate::store::{Hold, LibraryLock, Store, UsageOutcome, UsageRecord};

/// How a process uses the library it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// It may stream replies for as long as it has the library open (the app,
    /// `confab chat`): it holds the library shared until it drops the lock.
    Streaming,
    /// It reads and writes but streams nothing (every other `confab` command):
    /// once recovery is done it holds nothing, so it never keeps others from
    /// recovering.
    Visiting,
}

/// An open library: the store, this process's lock on it, and how many cut
/// replies opening it recovered.
#[derive(Debug)]
pub struct OpenLibrary {
    /// The open, migrated store.
    pub store: Store,
    /// This process's lock; keep it for as long as replies may stream.
    pub lock: Option<LibraryLock>,
    /// Replies marked interrupted on the way in (0 when another process holds the library).
    pub recovered: u32,
}

/// Opens the library in `data_dir` for a process that is `presence`. When no
/// other Confab process holds the library (no app, no streaming `confab
/// chat`), the replies a crash or kill left `partial` are marked interrupted
/// first; otherwise they are left to whoever has the library alone later.
pub async fn open_library(data_dir: &Path, presence: Presence) -> Result<OpenLibrary> {
    let store = Store::open(data_dir).await?;
    let mut lock = LibraryLock::open(store.path())?;
    let recovered = if lock.try_sole() {
        recover_interrupted(&store).await?
    } else {
        0
    };
    let lock = match presence {
        Presence::Streaming => {
            // `share` may wait (boundedly) for another process's recovery.
            let shared = tokio::task::spawn_blocking(move || lock.share().map(|()| lock))
                .await
                .map_err(|e| Error::Internal(format!("taking the library lock: {e}")))??;
            debug_assert_ne!(shared.hold(), Hold::Sole);
            Some(shared)
        }
        Presence::Visiting => None,
    };
    Ok(OpenLibrary {
        store,
        lock,
        recovered,
    })
}

/// Marks replies left `partial` by a crash or kill as `interrupted`; returns how many.
/// Only safe while no other process streams replies: [`open_library`] runs it
/// when this process holds the library alone, before any stream starts.
pub async fn recover_interrupted(store: &Store) -> Result<u32> {
    let recovered = store.mark_partial_interrupted().await?;
    for (_, meta) in &recovered {
        // Usage is bookkeeping: a failure to record it must not keep the store from opening.
        let _ = store
            .record_usage(&UsageRecord {
                provider_id: None,
                provider_name: meta.provider.clone().unwrap_or_default(),
                model: meta.model.clone().unwrap_or_default(),
                outcome: UsageOutcome::Interrupted,
                reason: "app_stopped".into(),
                prompt_tokens: meta.prompt_tokens.unwrap_or(0),
                completion_tokens: meta.completion_tokens.unwrap_or(0),
                cost_usd: None,
                cache_write_tokens: 0,
                cache_read_tokens: 0,
                cache_saved_usd: None,
            })
            .await;
    }
    Ok(u32::try_from(recovered.len()).unwrap_or(u32::MAX))
}
