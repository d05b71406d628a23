//! Holding the library still while it is replaced (a restore, an archive
//! merged in): no reply streams and none can start. A reply that streamed
//! through a restore would save into the library that replaced its chat, and
//! the engine's caches would describe the old one.

use std::path::Path;
use std::sync::Arc;

use super::{ChatEngine, Inner};
use crate::store::LibraryLock;
use crate::{Error, Result};

/// Proof that no reply streams into the library, and none can start, for as
/// long as it is held. Functions that replace the library's content take one.
#[must_use = "the library is quiet only while this is held"]
pub struct Quiet {
    /// This process's engine, refusing new streams until the hold drops.
    engine: Option<Arc<Inner>>,
    /// Or the library's lock, held alone: no other Confab process streams.
    _sole: Option<LibraryLock>,
}

impl std::fmt::Debug for Quiet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quiet").finish_non_exhaustive()
    }
}

impl ChatEngine {
    /// Holds the library quiet: [`Error::ReplyStreaming`] when a reply streams
    /// in any chat now; while held, every new request gets [`Error::Busy`].
    pub fn quiet(&self) -> Result<Quiet> {
        let mut registry = self.inner.registry();
        if registry.closing {
            return Err(Error::Busy("Confab is quitting".into()));
        }
        if registry.quiet {
            return Err(Error::Busy(
                "the library is being restored or merged already; wait for it to finish".into(),
            ));
        }
        if !registry.live.is_empty() {
            return Err(Error::ReplyStreaming {
                sessions: registry.live.len(),
            });
        }
        registry.quiet = true;
        // Summaries being written stop before they write into the library being replaced.
        self.inner.memory.cancel_all();
        Ok(Quiet {
            engine: Some(self.inner.clone()),
            _sole: None,
        })
    }
}

impl Quiet {
    /// For a process without an engine (the CLI): the library's lock held
    /// alone, so neither the app nor a `confab chat` is running; else
    /// [`Error::Busy`].
    pub fn sole(database: &Path) -> Result<Quiet> {
        let mut lock = LibraryLock::open(database)?;
        if !lock.try_sole() {
            return Err(Error::Busy(
                "Confab is running with this library (the app, or a `confab chat`): \
                 do this from the app's Settings, or close it first"
                    .into(),
            ));
        }
        Ok(Quiet {
            engine: None,
            _sole: Some(lock),
        })
    }
}

impl Drop for Quiet {
    fn drop(&mut self) {
        if let Some(inner) = &self.engine {
            inner.registry().quiet = false;
        }
    }
}
