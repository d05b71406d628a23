//! Embedding a chat's messages and notes, in rounds of bounded work: the
//! active path's messages with no passages for the chat's model (or older
//! than their text), split into passages, and notes not embedded with it.

use std::time::Duration;

use super::chunk::{split_passages, text_hash};
use super::{Embedder, RetrievalCache};
use crate::error::{AppError, Result};
use crate::store::Store;

/// Messages looked at in one round.
pub const MESSAGES_PER_ROUND: u32 = 128;
/// Passages embedded in one round at most (a round ends early past it).
pub const PASSAGES_PER_ROUND: usize = 256;
/// Notes embedded in one round.
pub const NOTES_PER_ROUND: u32 = 64;
/// Rounds one trigger runs at most (a long chat switched on is finished by later replies).
pub const ROUNDS_PER_TRIGGER: usize = 8;
/// How long one embeddings request of the background may take.
pub const INDEX_TIMEOUT: Duration = Duration::from_secs(60);

/// What a round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Passages embedded (notes included).
    pub embedded: u32,
    /// Messages whose passages were found current (a rev moved, the text did not).
    pub current: u32,
    /// More is left to embed.
    pub more: bool,
}

/// One round of embedding for `session_id` with its memory settings'
/// embeddings model (whether retrieval is on or not); nothing without one.
pub async fn index_round(store: &Store, embedder: &Embedder, session_id: &str) -> Result<Round> {
    let settings = store.memory_settings(session_id).await?;
    let Some(choice) = settings.embeddings.as_ref() else {
        return Ok(Round::default());
    };
    let target = embedder.target(store, choice).await?;
    let model = target.model_key.as_str();
    store.drop_other_models(session_id, model).await?;

    let mut round = Round::default();
    let messages = store
        .messages_to_embed(session_id, model, MESSAGES_PER_ROUND)
        .await?;
    round.more = messages.len() == MESSAGES_PER_ROUND as usize;
    // (message, text, hash, how many passages) in the order their texts were queued.
    let mut queued: Vec<(String, String, i64, usize)> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    for message in messages {
        let hash = text_hash(&message.content);
        if message.embedded_hash == Some(hash) {
            store
                .mark_passages_current(&message.id, model, message.rev)
                .await?;
            round.current += 1;
            continue;
        }
        if texts.len() >= PASSAGES_PER_ROUND {
            round.more = true;
            break;
        }
        let passages = split_passages(&message.content);
        queued.push((message.id, message.content, hash, passages.len()));
        texts.extend(passages);
    }
    if !texts.is_empty() {
        let vectors = embedder.embed(&target, &texts, INDEX_TIMEOUT).await?;
        let mut pairs = texts.into_iter().zip(vectors);
        for (message_id, content, hash, n) in queued {
            let passages: Vec<(String, Vec<f32>)> = pairs.by_ref().take(n).collect();
            let written = store
                .replace_message_passages(&message_id, &content, hash, model, &passages)
                .await?;
            if written {
                round.embedded += u32::try_from(n).unwrap_or(u32::MAX);
            } else {
                // Edited meanwhile: the next round embeds the new text.
                round.more = true;
            }
        }
    }

    let notes = store
        .notes_to_embed(session_id, model, NOTES_PER_ROUND)
        .await?;
    round.more |= notes.len() == NOTES_PER_ROUND as usize;
    if !notes.is_empty() {
        let texts: Vec<String> = notes.iter().map(|(_, t)| t.clone()).collect();
        let vectors = embedder.embed(&target, &texts, INDEX_TIMEOUT).await?;
        for ((id, text), vector) in notes.iter().zip(vectors) {
            store.set_note_embedding(*id, text, model, &vector).await?;
            round.embedded += 1;
        }
    }
    Ok(round)
}

impl RetrievalCache {
    /// Embeds what the chat is missing, a few rounds at most, then loads the
    /// index so the next turn's search does not wait for it. A failure is
    /// kept for display ([`RetrievalCache::last_error`]) and returned. One
    /// chat is indexed at a time (a search waits for the background run, and
    /// a local server is not asked for two things at once).
    pub async fn index_chat(&self, store: &Store, session_id: &str) -> Result<Round> {
        let Some(embedder) = self.embedder() else {
            return Ok(Round::default());
        };
        let _one_at_a_time = self.running.lock().await;
        let mut total = Round::default();
        let mut result = Ok(());
        for _ in 0..ROUNDS_PER_TRIGGER {
            match index_round(store, embedder, session_id).await {
                Ok(round) => {
                    total.embedded += round.embedded;
                    total.current += round.current;
                    total.more = round.more;
                    if !round.more {
                        break;
                    }
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        match result {
            Ok(()) => {
                if let Ok(mut errors) = self.errors.lock() {
                    errors.remove(session_id);
                }
                let settings = store.memory_settings(session_id).await?;
                if let Some(choice) = settings.embeddings {
                    if let Ok(target) = embedder.target(store, &choice).await {
                        self.warm(store, session_id, &target.model_key).await?;
                    }
                }
                Ok(total)
            }
            Err(e) => {
                if let Ok(mut errors) = self.errors.lock() {
                    errors.insert(session_id.to_owned(), shown(&e));
                }
                Err(e)
            }
        }
    }
}

/// The error as the Memory panel shows it (kept while the error itself is returned).
fn shown(err: &crate::Error) -> AppError {
    AppError {
        code: err.code(),
        path: err.path().map(|p| p.display().to_string()),
        retry_after_secs: match err {
            crate::Error::RateLimited {
                retry_after_secs, ..
            } => *retry_after_secs,
            _ => None,
        },
        message: err.to_string(),
    }
}
