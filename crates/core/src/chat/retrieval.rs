//! The engine's retrieval work: passages embedded in the background, notes, and searches.

use std::collections::HashMap;

use super::{ChatEngine, Inner};
use crate::error::{AppError, Error};
use crate::memory::retrieval::indexer::Round;
use crate::memory::retrieval::{choice_model_key, RetrievalStatus, QUERY_TIMEOUT};
use crate::memory::summary::{MemoryHit, MemoryNote};
use crate::Result;

/// The most hits a search returns.
pub const MAX_SEARCH_HITS: u32 = 100;

/// After a reply: embeds what the chat is missing, in the background (the
/// next send never waits for it; a failure is kept for the Memory panel).
pub(super) fn after_reply(inner: &Inner, session_id: &str) {
    let (store, caches, session_id) = (
        inner.store.clone(),
        std::sync::Arc::clone(&inner.caches),
        session_id.to_owned(),
    );
    tokio::spawn(async move {
        let ready = store
            .memory_settings(&session_id)
            .await
            .is_ok_and(|s| s.retrieval_ready());
        if ready {
            let _ = caches.retrieval.index_chat(&store, &session_id).await;
        }
    });
}

impl ChatEngine {
    /// Attaches a note to a chat; it is embedded in the background.
    pub async fn add_memory_note(&self, session_id: &str, text: &str) -> Result<MemoryNote> {
        let note = self.inner.store.add_memory_note(session_id, text).await?;
        after_reply(&self.inner, session_id);
        Ok(note)
    }

    /// Removes a note.
    pub async fn delete_memory_note(&self, note_id: i64) -> Result<()> {
        self.inner.store.delete_memory_note(note_id).await
    }

    /// The chat's passages most similar to `text`, best first (embeds what is not embedded yet first).
    pub async fn search_memory(
        &self,
        session_id: &str,
        text: &str,
        limit: u32,
    ) -> Result<Vec<MemoryHit>> {
        let store = &self.inner.store;
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::InvalidInput("search for some text".into()));
        }
        let settings = store.memory_settings(session_id).await?;
        let choice = settings.embeddings.clone().ok_or_else(|| {
            Error::InvalidInput("choose an embeddings model for this chat's memory first".into())
        })?;
        let retrieval = &self.inner.caches.retrieval;
        let embedder = retrieval
            .embedder()
            .ok_or_else(|| Error::Internal("retrieval is not connected".into()))?;
        // Whether retrieval is on or not, a search embeds what it needs first.
        retrieval.index_chat(store, session_id).await?;
        let target = embedder.target(store, &choice).await?;
        let query = embedder
            .embed(&target, &[text.to_owned()], QUERY_TIMEOUT * 4)
            .await?
            .pop()
            .unwrap_or_default();
        let leaf = store.path_leaf(session_id).await?;
        let found = retrieval
            .search(
                store,
                session_id,
                &target.model_key,
                &query,
                leaf.as_deref(),
                &HashMap::new(),
                limit.clamp(1, MAX_SEARCH_HITS) as usize,
                -1.0,
            )
            .await?;
        Ok(found
            .into_iter()
            .map(|p| MemoryHit {
                id: p.id,
                text: p.text,
                score: p.score,
                message_id: p.message_id,
                position: p.position,
            })
            .collect())
    }

    /// Embeds what the chat is missing now (waits for it): a few bounded rounds.
    pub async fn index_memory(&self, session_id: &str) -> Result<Round> {
        self.inner
            .caches
            .retrieval
            .index_chat(&self.inner.store, session_id)
            .await
    }

    /// Loads the chat's retrieval index in the background (when a chat is
    /// opened), so its first turn does not wait for it (~2 s at 100,000 passages).
    pub fn warm_memory(&self, session_id: &str) {
        let (store, caches, session_id) = (
            self.inner.store.clone(),
            std::sync::Arc::clone(&self.inner.caches),
            session_id.to_owned(),
        );
        tokio::spawn(async move {
            let Ok(settings) = store.memory_settings(&session_id).await else {
                return;
            };
            if let (true, Some(choice)) = (settings.retrieval_ready(), settings.embeddings) {
                if let Ok(model) = choice_model_key(&store, &choice).await {
                    let _ = caches.retrieval.warm(&store, &session_id, &model).await;
                }
            }
        });
    }

    /// Retrieval's part of the Memory panel: notes, passages embedded, the last failure.
    pub async fn retrieval_status(&self, session_id: &str) -> Result<RetrievalStatus> {
        let store = &self.inner.store;
        let settings = store.memory_settings(session_id).await?;
        let model = match &settings.embeddings {
            // A provider deleted since: nothing is embedded with it.
            Some(choice) => choice_model_key(store, choice).await.ok(),
            None => None,
        };
        let passages = match &model {
            Some(m) => store.passage_count(session_id, m).await?,
            None => 0,
        };
        Ok(RetrievalStatus {
            notes: store.memory_notes(session_id, model.as_deref()).await?,
            passages,
            last_error: self.retrieval_error(session_id),
        })
    }

    /// The last background embedding failure of a chat, until a later round succeeds.
    pub fn retrieval_error(&self, session_id: &str) -> Option<AppError> {
        self.inner.caches.retrieval.last_error(session_id)
    }
}
