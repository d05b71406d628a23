//! Retrieval: earlier passages of a chat (and notes attached to it) embedded and found again by similarity.
//!
//! Vectors are stored as BLOBs in `memory_passages` and searched in memory
//! ([`index`]): a brute-force scan of i8-quantised vectors with simsimd's
//! SIMD kernels (chosen at run time for the CPU), then an exact f32 rescoring
//! of the few best. Chosen over the sqlite-vec extension: no extension to
//! register in SQLite (sqlite-vec's `vec0` tables would need it on every
//! connection, and its brute force over f32 is the same scan without the
//! active-path filter this needs, which here is one comparison per
//! candidate); simsimd is a C library built by `cc` on Windows, macOS and
//! Linux, with no loading at run time. See `benches/memory_retrieval.rs`:
//! 100,000 passages of 768 dimensions, a turn's retrieval (warm index, no
//! embeddings call) 3.9-5 ms median on a shared 2-core AVX-512 VNNI machine,
//! 7-15 ms after a reply added passages; a plain-Rust f32 scan of the same
//! vectors in memory 58-125 ms, reading every BLOB from SQLite per query
//! 0.5-1 s; the index's first load 1.3-3 s (once per chat and model).
//!
//! Only passages of messages on the chat's active path are returned (a swipe
//! or another branch never leaks), and notes; the vectors of one embeddings
//! model only. Messages are embedded in the background after a reply
//! ([`indexer`]); at a turn the query alone is embedded, with a short timeout.

pub mod chunk;
mod index;
pub mod indexer;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{AppError, Error, Result};
use crate::llm::ProviderConfig;
use crate::prompt::RetrievedPassage;
use crate::secrets::Keys;
use crate::store::{vector_from_bytes, Store};

use super::settings::{MemorySettings, ModelChoice};

use index::ChatIndex;
pub use index::{cosine, normalise, quantise};

/// How long a turn waits for its query's embedding.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(3);
/// Chats whose index is kept in memory (the most recently searched).
const KEPT_INDEXES: usize = 2;
/// Query embeddings remembered (a preview and the send after it ask the same).
const KEPT_QUERIES: usize = 8;
/// The most of the last reply put in a turn's query, in characters.
const QUERY_CONTEXT_CHARS: usize = 600;

/// What embeds texts: the engine's keys and HTTP client.
#[derive(Clone)]
pub struct Embedder {
    keys: Arc<Keys>,
    http: reqwest::Client,
}

impl Embedder {
    /// An embedder using `keys` for API keys and `http` for requests.
    pub fn new(keys: Arc<Keys>, http: reqwest::Client) -> Embedder {
        Embedder { keys, http }
    }

    /// The provider, model and key `choice` names (an error for a kind without embeddings).
    pub(crate) async fn target(&self, store: &Store, choice: &ModelChoice) -> Result<Target> {
        let config = store.provider(&choice.provider_id).await?;
        crate::llm::embeddings::embeddings_url(&config)?;
        let model = choice
            .model
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .unwrap_or(config.default_model.trim())
            .to_owned();
        if model.is_empty() {
            return Err(Error::InvalidInput(format!(
                "choose an embeddings model of {} for retrieval",
                config.name
            )));
        }
        let key = self.keys.get(&config.id).await?;
        Ok(Target {
            model_key: model_key(&config.id, &model),
            config,
            model,
            key,
        })
    }

    /// Embeds `texts` for `target`, each request within `timeout`.
    pub(crate) async fn embed(
        &self,
        target: &Target,
        texts: &[String],
        timeout: Duration,
    ) -> Result<Vec<Vec<f32>>> {
        crate::llm::embeddings::embed(
            &self.http,
            &target.config,
            &target.model,
            target.key.as_deref(),
            texts,
            timeout,
        )
        .await
    }
}

/// The provider, model and key embeddings go to (holds the key: no `Debug`).
pub(crate) struct Target {
    pub config: ProviderConfig,
    pub model: String,
    pub key: Option<String>,
    /// The model as passages record it: "provider id/model".
    pub model_key: String,
}

/// The model key `choice` stands for (its provider's default model when it names none).
pub async fn choice_model_key(store: &Store, choice: &ModelChoice) -> Result<String> {
    let config = store.provider(&choice.provider_id).await?;
    let model = choice
        .model
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .unwrap_or(config.default_model.trim());
    Ok(model_key(&config.id, model))
}

/// What the Memory panel shows of retrieval.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RetrievalStatus {
    /// The chat's notes, oldest first (embedded: with the chat's embeddings model).
    pub notes: Vec<super::summary::MemoryNote>,
    /// Passages embedded with the chat's embeddings model.
    pub passages: u32,
    /// The last background embedding failure, until a later round succeeds.
    pub last_error: Option<AppError>,
}

/// The model as passages record it: vectors of different models are never compared.
pub fn model_key(provider_id: &str, model: &str) -> String {
    format!("{provider_id}/{model}")
}

/// What retrieval did for a turn: the passages it placed, or why it placed none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RetrievalReport {
    /// Retrieval is on for the chat (switched on, with an embeddings model).
    pub enabled: bool,
    /// The passages placed in the prompt, best first, with their scores.
    pub passages: Vec<RetrievedInfo>,
    /// Passages that scored high enough but whose message is in the prompt already.
    pub in_window: u32,
    /// The lowest score a passage needed.
    pub min_score: f32,
    /// Why nothing could be retrieved (the embeddings server failed, say); the turn went on without.
    pub error: Option<AppError>,
}

/// A passage placed in a prompt, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RetrievedInfo {
    /// The passage's id.
    #[cfg_attr(feature = "specta", specta(type = crate::TsNumber))]
    pub id: i64,
    /// The label of its part in the prompt ("memory 0.82 · message 412").
    pub label: String,
    /// Cosine similarity to the turn's query, -1..1.
    pub score: f32,
    /// The message it came from; `None` for a note.
    pub message_id: Option<String>,
    /// The 1-based position of that message in the active path.
    pub position: Option<u32>,
    /// Its text.
    pub text: String,
}

/// The label a retrieved passage's part carries in the prompt.
pub fn retrieved_label(score: f32, position: Option<u32>) -> String {
    match position {
        Some(p) => format!("memory {score:.2} · message {p}"),
        None => format!("memory {score:.2} · note"),
    }
}

/// What a turn searches by: the new message, and the end of the last reply for context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnQuery {
    /// The new message (or, without one, the history's last).
    pub message: String,
    /// The end of the last reply before it.
    pub context: Option<String>,
}

/// The weight of the context in a turn's query vector: the message leads.
const CONTEXT_WEIGHT: f32 = 0.25;

/// A turn's query, when it has a message to search by.
pub fn turn_query(last_reply: Option<&str>, message: Option<&str>) -> Option<TurnQuery> {
    let message = message.map(str::trim).filter(|m| !m.is_empty())?;
    let context = last_reply
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| {
            let skip = r.chars().count().saturating_sub(QUERY_CONTEXT_CHARS);
            r.chars().skip(skip).collect::<String>()
        });
    Some(TurnQuery {
        message: message.to_owned(),
        context,
    })
}

/// A query embedding remembered: (model, query text, vector).
type KeptQuery = (String, String, Arc<Vec<f32>>);

/// Retrieval's state shared by the prompt builder, the engine and the app:
/// the embedder, the in-memory indexes, the last query embeddings, and the
/// last background failure of each chat.
#[derive(Default)]
pub struct RetrievalCache {
    embedder: OnceLock<Embedder>,
    indexes: tokio::sync::Mutex<VecDeque<ChatIndex>>,
    queries: Mutex<VecDeque<KeptQuery>>,
    pub(crate) errors: Mutex<HashMap<String, AppError>>,
    pub(crate) running: tokio::sync::Mutex<()>,
    /// Moves on every `clear`: indexes of an older generation are not used.
    generation: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for RetrievalCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetrievalCache")
            .field("connected", &self.embedder.get().is_some())
            .finish_non_exhaustive()
    }
}

impl RetrievalCache {
    /// Lets prompts embed their queries (the engine does this when it starts; the first call wins).
    pub fn connect(&self, keys: Arc<Keys>, http: reqwest::Client) {
        let _ = self.embedder.set(Embedder::new(keys, http));
    }

    fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The embedder, once connected.
    pub fn embedder(&self) -> Option<&Embedder> {
        self.embedder.get()
    }

    /// Forgets every index (after a restore, ids may repeat with other content).
    pub fn clear(&self) {
        // An index in use now is dropped when it is next taken.
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut indexes) = self.indexes.try_lock() {
            indexes.clear();
        }
        if let Ok(mut q) = self.queries.lock() {
            q.clear();
        }
    }

    /// The last background embedding failure of a chat, until a round succeeds.
    pub fn last_error(&self, session_id: &str) -> Option<AppError> {
        self.errors.lock().ok()?.get(session_id).cloned()
    }

    /// The passages to place in a turn's prompt, and the report of what was
    /// done. Never fails: whatever goes wrong is the report's `error`.
    ///
    /// `loaded` maps the messages of the turn's loaded history to their index
    /// in it: their passages are returned marked with it (assembly leaves out
    /// those that end up inside the kept window), beside `retrieval_count`
    /// others.
    pub async fn for_turn(
        &self,
        store: &Store,
        session_id: &str,
        settings: &MemorySettings,
        query: Option<&TurnQuery>,
        path_end: Option<&str>,
        loaded: &HashMap<String, u32>,
    ) -> (Vec<RetrievedPassage>, RetrievalReport) {
        let mut report = RetrievalReport {
            enabled: settings.retrieval_ready(),
            min_score: settings.retrieval_min_score,
            ..RetrievalReport::default()
        };
        let (Some(choice), true, Some(query)) =
            (&settings.embeddings, settings.retrieval_ready(), query)
        else {
            return (Vec::new(), report);
        };
        let found = async {
            let embedder = self.embedder().ok_or_else(|| {
                Error::Internal("retrieval is not connected to the keyring here".into())
            })?;
            let target = embedder.target(store, choice).await?;
            let vector = self.query_vector(embedder, &target, query).await?;
            self.search(
                store,
                session_id,
                &target.model_key,
                &vector,
                path_end,
                loaded,
                settings.retrieval_count as usize,
                settings.retrieval_min_score,
            )
            .await
        };
        match found.await {
            Ok(found) => (found, report),
            Err(e) => {
                report.error = Some(AppError::from(e));
                (Vec::new(), report)
            }
        }
    }

    /// The query's embedding, remembered for the next few asks: the
    /// message's and the context's, embedded in one request, normalised and
    /// weighted so the message leads.
    async fn query_vector(
        &self,
        embedder: &Embedder,
        target: &Target,
        query: &TurnQuery,
    ) -> Result<Arc<Vec<f32>>> {
        let key = format!(
            "{}\u{0}{}",
            query.message,
            query.context.as_deref().unwrap_or("")
        );
        let remembered = self.queries.lock().ok().and_then(|q| {
            q.iter()
                .find(|(m, t, _)| *m == target.model_key && *t == key)
                .map(|(_, _, v)| Arc::clone(v))
        });
        if let Some(v) = remembered {
            return Ok(v);
        }
        let mut texts = vec![query.message.clone()];
        texts.extend(query.context.clone());
        let vectors = embedder.embed(target, &texts, QUERY_TIMEOUT).await?;
        let vector = match vectors.as_slice() {
            [m, c] => normalise(m)
                .iter()
                .zip(normalise(c))
                .map(|(m, c)| m * (1.0 - CONTEXT_WEIGHT) + c * CONTEXT_WEIGHT)
                .collect(),
            [m, ..] => m.clone(),
            [] => Vec::new(),
        };
        let vector = Arc::new(vector);
        if let Ok(mut q) = self.queries.lock() {
            if q.len() >= KEPT_QUERIES {
                q.pop_front();
            }
            q.push_back((target.model_key.clone(), key, Arc::clone(&vector)));
        }
        Ok(vector)
    }

    /// Loads (or catches up) the chat's index for `model_key` now, so the next search does not wait for it.
    pub async fn warm(&self, store: &Store, session_id: &str, model_key: &str) -> Result<()> {
        let mut indexes = self.indexes.lock().await;
        let mut index = take(&mut indexes, session_id, model_key, self.generation());
        let caught = index.catch_up(store).await;
        put(&mut indexes, index);
        caught
    }

    /// The chat's passages most similar to `query`, best first, scoring at
    /// least `min_score`: passages of messages on the path ending at
    /// `path_end`, and notes. Passages of messages in `loaded` are returned
    /// with their history index and do not count toward `count`.
    #[allow(clippy::too_many_arguments)]
    pub async fn search(
        &self,
        store: &Store,
        session_id: &str,
        model_key: &str,
        query: &[f32],
        path_end: Option<&str>,
        loaded: &HashMap<String, u32>,
        count: usize,
        min_score: f32,
    ) -> Result<Vec<RetrievedPassage>> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let candidates = {
            let mut indexes = self.indexes.lock().await;
            let mut index = take(&mut indexes, session_id, model_key, self.generation());
            let ready = async {
                index.catch_up(store).await?;
                index.follow_path(store, path_end).await
            }
            .await;
            if let Err(e) = ready {
                put(&mut indexes, index);
                return Err(e);
            }
            // The scan is CPU work: off the async workers (the index goes and comes back).
            let (query_owned, loaded_owned) = (query.to_vec(), loaded.clone());
            let (index, candidates) = crate::offload::run("searching memory", move || {
                let mut outside = 0usize;
                let found = index.candidates(&query_owned, min_score, |message| {
                    if !message.is_some_and(|m| loaded_owned.contains_key(m)) {
                        outside += 1;
                    }
                    outside >= count
                });
                (index, found)
            })
            .await?;
            put(&mut indexes, index);
            candidates
        };
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = candidates.iter().map(|c| c.id).collect();
        let mut scored: Vec<(f32, crate::store::StoredPassage)> = store
            .passages(&ids)
            .await?
            .into_iter()
            .map(|p| (cosine(query, &vector_from_bytes(&p.embedding)), p))
            .filter(|(score, _)| *score >= min_score)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
        let mut out = Vec::new();
        let mut outside = 0usize;
        for (score, p) in scored {
            let history_index = p
                .message
                .as_ref()
                .and_then(|(id, _)| loaded.get(id).copied());
            if history_index.is_none() {
                if outside == count {
                    break;
                }
                outside += 1;
            }
            out.push(RetrievedPassage {
                id: p.id,
                text: p.text,
                score,
                position: p.message.as_ref().map(|(_, d)| d.saturating_add(1)),
                message_id: p.message.map(|(id, _)| id),
                history_index,
            });
        }
        Ok(out)
    }
}

/// The index of `session_id` for `model_key`, out of the kept ones (a new
/// one when none of this generation is kept).
fn take(
    indexes: &mut VecDeque<ChatIndex>,
    session_id: &str,
    model_key: &str,
    generation: u64,
) -> ChatIndex {
    indexes.retain(|i| i.generation == generation);
    match indexes
        .iter()
        .position(|i| i.session_id == session_id && i.model == model_key)
    {
        Some(at) => indexes
            .remove(at)
            .unwrap_or_else(|| ChatIndex::new(session_id, model_key, generation)),
        None => ChatIndex::new(session_id, model_key, generation),
    }
}

/// Keeps `index` as the most recent; the oldest beyond [`KEPT_INDEXES`] is dropped.
fn put(indexes: &mut VecDeque<ChatIndex>, index: ChatIndex) {
    indexes.retain(|i| i.session_id != index.session_id);
    while indexes.len() >= KEPT_INDEXES {
        indexes.pop_front();
    }
    indexes.push_back(index);
}
