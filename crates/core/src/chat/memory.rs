//! The engine's memory work: summaries written in the background after a reply,
//! and what the Memory panel and the CLI ask of them.

use std::sync::Arc;

use super::summarize::{current_turn, redo, report, summarize};
use super::summarizer::MAX_SUMMARY_BYTES;
use super::summary_plan::plan;
use super::ChatEngine;
use crate::error::Error;
use crate::memory::settings::MemorySettings;
use crate::memory::summary::{MemoryChanged, MemorySummary, MemoryView};
use crate::session::turn::position;
use crate::sink::Sink;
use crate::store::SummaryRow;
use crate::tokens::{shared_counter, TokenCounter};
use crate::Result;

/// A stored summary as the panel shows it (positions are depths + 1: the tree's ancestry never changes).
fn shown(row: SummaryRow) -> MemorySummary {
    MemorySummary {
        first_position: position(row.first_depth),
        last_position: position(row.last_depth),
        id: row.id,
        first_message_id: row.first_id,
        last_message_id: row.last_id,
        content: row.content,
        tokens: row.tokens,
        pinned: row.pinned,
        edited: row.edited,
        stale: row.stale,
        author: row.author,
        updated_at: row.updated_at,
    }
}

impl ChatEngine {
    /// Where "a chat's memory changed" notices go (the app emits them to every window).
    pub fn set_memory_notices(&self, sink: Arc<dyn Sink<MemoryChanged>>) {
        self.inner.memory.set_notices(sink);
    }

    /// What the Memory panel shows of a chat.
    pub async fn memory_view(&self, session_id: &str) -> Result<MemoryView> {
        let store = &self.inner.store;
        // Read first: a job that ends while the summaries are read shows as
        // running (the next look is right), never as done with some missing.
        let summarizing = self.inner.memory.running(session_id);
        let settings = store.memory_settings(session_id).await?;
        // The whole path's summaries (a prompt reads only the newest few).
        let path = store
            .recent_history(session_id, None, 64 * 1024, shared_counter().name())
            .await?;
        let ids: Vec<String> = path.messages.iter().map(|m| m.id.clone()).collect();
        let all = store.chat_summaries(session_id).await?;
        let mut chain = store.path_summaries(&all, &ids, usize::MAX).await?;
        store.fill_summary_texts(&mut chain).await?;
        // What left the window, as a send would build the prompt now; a chat
        // whose prompt cannot be built (a window too small) shows none rather than failing the panel.
        let unsummarized = match current_turn(&self.inner, session_id).await {
            Ok(turn) if settings.summaries => plan(&self.inner, &turn).await?.unsummarized(),
            Ok(turn) => usize::try_from(turn.prompt.dropped_history).unwrap_or(usize::MAX),
            Err(_) => 0,
        };
        let retrieval = self.retrieval_status(session_id).await?;
        Ok(MemoryView {
            settings,
            summaries: chain.into_iter().map(shown).collect(),
            unsummarized: u32::try_from(unsummarized).unwrap_or(u32::MAX),
            summarizing,
            last_error: self.inner.memory.last_error(session_id),
            notes: retrieval.notes,
            passages: retrieval.passages,
            retrieval_error: retrieval.last_error,
        })
    }

    /// Saves a chat's memory settings; returns them as saved.
    pub async fn set_memory_settings(
        &self,
        session_id: &str,
        settings: MemorySettings,
    ) -> Result<MemorySettings> {
        let store = &self.inner.store;
        store.set_memory_settings(session_id, &settings).await?;
        self.inner.memory.notify(session_id);
        store.memory_settings(session_id).await
    }

    /// Replaces a summary's text (marks it edited, no longer stale).
    pub async fn edit_summary(&self, summary_id: &str, content: &str) -> Result<MemorySummary> {
        let content = content.trim();
        if content.is_empty() {
            return Err(Error::InvalidInput(
                "a summary cannot be empty: delete it instead".into(),
            ));
        }
        if content.len() > MAX_SUMMARY_BYTES {
            return Err(Error::TooLarge {
                what: "the summary".into(),
                limit: format!("{} KB", MAX_SUMMARY_BYTES / 1024),
            });
        }
        let tokens = shared_counter().count(content);
        let row = self
            .inner
            .store
            .set_summary_content(summary_id, content, Some(tokens), None, None)
            .await?;
        self.inner.memory.notify(&row.session_id);
        Ok(shown(row))
    }

    /// Pins or unpins a summary.
    pub async fn pin_summary(&self, summary_id: &str, pinned: bool) -> Result<MemorySummary> {
        let row = self.inner.store.pin_summary(summary_id, pinned).await?;
        self.inner.memory.notify(&row.session_id);
        Ok(shown(row))
    }

    /// Deletes a summary: its messages are summarised again after the next reply.
    pub async fn delete_summary(&self, summary_id: &str) -> Result<()> {
        let row = self.inner.store.summary(summary_id).await?;
        self.inner.store.delete_summary(summary_id).await?;
        self.inner.memory.notify(&row.session_id);
        Ok(())
    }

    /// Writes the summary again now with the summarizer (waits for it).
    pub async fn regenerate_summary(&self, summary_id: &str) -> Result<MemorySummary> {
        let row = self.inner.store.summary(summary_id).await?;
        let slot = self.inner.memory_slot(&row.session_id)?;
        let outcome = redo(&self.inner, &row, &slot.cancel).await;
        drop(slot);
        report(&self.inner, &row.session_id, &outcome, true);
        outcome.map(shown)
    }

    /// Summarises now whatever left the window and no summary covers (waits for it);
    /// returns the summaries written.
    pub async fn summarize_now(&self, session_id: &str) -> Result<Vec<MemorySummary>> {
        let slot = self.inner.memory_slot(session_id)?;
        let outcome = summarize(&self.inner, session_id, &slot.cancel, true).await;
        drop(slot);
        let changed = outcome.as_ref().is_ok_and(|w| !w.is_empty());
        report(&self.inner, session_id, &outcome, changed);
        outcome.map(|rows| rows.into_iter().map(shown).collect())
    }
}
