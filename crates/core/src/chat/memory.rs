//! The engine's memory work: summaries written in the background after a reply,
//! and what the Memory panel and the CLI ask of them.
//!
//! CONTRACT (the bodies are filled in by the summaries work; signatures are
//! what the shell and the CLI call).

use std::sync::Arc;

use super::ChatEngine;
use crate::memory::settings::MemorySettings;
use crate::memory::summary::{MemoryChanged, MemorySummary, MemoryView};
use crate::sink::Sink;
use crate::Result;

impl ChatEngine {
    /// Where "a chat's memory changed" notices go (the app emits them to every window).
    pub fn set_memory_notices(&self, _sink: Arc<dyn Sink<MemoryChanged>>) {
        todo!("summaries")
    }

    /// What the Memory panel shows of a chat.
    pub async fn memory_view(&self, _session_id: &str) -> Result<MemoryView> {
        todo!("summaries")
    }

    /// Saves a chat's memory settings; returns them as saved.
    pub async fn set_memory_settings(
        &self,
        _session_id: &str,
        _settings: MemorySettings,
    ) -> Result<MemorySettings> {
        todo!("summaries")
    }

    /// Replaces a summary's text (marks it edited, no longer stale).
    pub async fn edit_summary(&self, _summary_id: &str, _content: &str) -> Result<MemorySummary> {
        todo!("summaries")
    }

    /// Pins or unpins a summary.
    pub async fn pin_summary(&self, _summary_id: &str, _pinned: bool) -> Result<MemorySummary> {
        todo!("summaries")
    }

    /// Deletes a summary: its messages are summarised again after the next reply.
    pub async fn delete_summary(&self, _summary_id: &str) -> Result<()> {
        todo!("summaries")
    }

    /// Writes the summary again now with the summarizer (waits for it).
    pub async fn regenerate_summary(&self, _summary_id: &str) -> Result<MemorySummary> {
        todo!("summaries")
    }

    /// Summarises now whatever left the window and no summary covers (waits for it);
    /// returns the summaries written.
    pub async fn summarize_now(&self, _session_id: &str) -> Result<Vec<MemorySummary>> {
        todo!("summaries")
    }
}
