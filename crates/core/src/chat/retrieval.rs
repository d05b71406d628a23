//! The engine's retrieval work: passages embedded in the background, notes, and searches.
//!
//! CONTRACT (the bodies are filled in by the retrieval work; signatures are
//! what the shell and the CLI call).

use super::ChatEngine;
use crate::memory::summary::{MemoryHit, MemoryNote};
use crate::Result;

impl ChatEngine {
    /// Attaches a note to a chat; it is embedded in the background.
    pub async fn add_memory_note(&self, _session_id: &str, _text: &str) -> Result<MemoryNote> {
        todo!("retrieval")
    }

    /// Removes a note.
    pub async fn delete_memory_note(&self, _note_id: i64) -> Result<()> {
        todo!("retrieval")
    }

    /// The chat's passages most similar to `text`, best first (embeds what is not embedded yet first).
    pub async fn search_memory(
        &self,
        _session_id: &str,
        _text: &str,
        _limit: u32,
    ) -> Result<Vec<MemoryHit>> {
        todo!("retrieval")
    }
}
