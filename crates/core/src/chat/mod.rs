//! The chat engine: send, regenerate, continue, impersonate, stop, attach.
//!
//! It owns the registry of live streams (one per session; a second request
//! gets [`Error::Busy`]), writes the partial reply to the database as it grows,
//! and publishes [`StreamEvent`]s to any number of subscribers through
//! [`Sink`]. The shell adapts a Tauri channel to a sink; the CLI adapts stdout.
#![allow(unused_variables, clippy::todo)] // CONTRACT: remove with the last todo!().

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{AppError, Error, Result};
use crate::lore::books::CompiledBooks;
use crate::secrets::Keys;
use crate::sink::Sink;
use crate::store::Store;

/// What a reply request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ReplyKind {
    /// A new user message and the character's answer.
    Send,
    /// A new swipe for the last reply (same parent).
    Regenerate,
    /// Extends the last reply.
    Continue,
    /// Drafts the user's next message as the persona (not saved: it goes to the composer).
    Impersonate,
}

/// Why a stream was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum CancelReason {
    /// The user pressed stop (or Ctrl-C in the CLI).
    User,
    /// The reply ran past the maximum duration.
    MaxDuration,
    /// Confab was quitting.
    Shutdown,
}

/// Tokens and cost of one reply, as far as the provider reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ReplyUsage {
    /// Prompt tokens.
    pub prompt_tokens: Option<u32>,
    /// Completion tokens.
    pub completion_tokens: Option<u32>,
    /// US dollars, when the provider publishes the model's prices.
    pub cost_usd: Option<f64>,
}

/// The ids a reply request created, also sent as the `started` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct StreamStarted {
    /// The session.
    pub session_id: String,
    /// What the request does.
    pub kind: ReplyKind,
    /// The user message saved first (`send` only).
    pub user_message_id: Option<String>,
    /// The reply being written (`None` for impersonate, which saves nothing).
    pub assistant_message_id: Option<String>,
}

/// One event of a live stream, per the streaming contract in ARCHITECTURE.md:
/// `started`, then (on attach) `snapshot`, then `delta`s batched about every
/// 16 ms, then exactly one of `done`, `failed` or `cancelled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum StreamEvent {
    /// The request started.
    Started(StreamStarted),
    /// Everything streamed so far, sent to a subscriber that attached mid-stream.
    Snapshot {
        /// The reply so far.
        text: String,
        /// The reasoning so far.
        reasoning: String,
    },
    /// New text since the last event.
    Delta {
        /// New reply text.
        text: String,
        /// New reasoning text.
        reasoning: String,
    },
    /// The reply finished and is saved.
    Done {
        /// The saved reply (`None` for impersonate).
        message_id: Option<String>,
        /// The whole reply.
        text: String,
        /// Tokens and cost.
        usage: ReplyUsage,
        /// The provider's own word for why it stopped.
        finish_reason: Option<String>,
    },
    /// The request failed; the user message and any partial reply are kept.
    Failed {
        /// What went wrong.
        error: AppError,
        /// Whether a partial reply was saved.
        partial_saved: bool,
    },
    /// The stream was cancelled; what arrived is kept.
    Cancelled {
        /// Why.
        reason: CancelReason,
        /// Whether a partial reply was saved.
        partial_saved: bool,
    },
}

impl StreamEvent {
    /// Whether this event ends the stream.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            StreamEvent::Done { .. } | StreamEvent::Failed { .. } | StreamEvent::Cancelled { .. }
        )
    }
}

/// Which sessions are streaming changed (for "busy" badges in other windows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct LiveSessions {
    /// Sessions with a live stream.
    pub session_ids: Vec<String>,
}

/// The engine's limits and rhythms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineConfig {
    /// A stream is cancelled after this long (default 5 minutes).
    pub max_duration: Duration,
    /// A stream fails with `timeout` when no bytes arrive for this long (default 60 s).
    pub idle_timeout: Duration,
    /// The partial reply is saved at least this often (default 250 ms).
    pub checkpoint_every: Duration,
    /// Deltas are batched for this long (default 16 ms).
    pub batch_every: Duration,
    /// The largest single SSE event accepted.
    pub max_event_bytes: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_duration: Duration::from_secs(300),
            idle_timeout: Duration::from_secs(60),
            checkpoint_every: Duration::from_millis(250),
            batch_every: Duration::from_millis(16),
            max_event_bytes: crate::llm::DEFAULT_MAX_EVENT_BYTES,
        }
    }
}

/// The chat engine. Cheap to clone: clones share one registry.
#[derive(Clone)]
pub struct ChatEngine {
    #[allow(dead_code)] // CONTRACT: filled in by the chat engine work.
    store: Store,
    #[allow(dead_code)]
    keys: Arc<Keys>,
    #[allow(dead_code)]
    books: Arc<CompiledBooks>,
    #[allow(dead_code)]
    http: reqwest::Client,
    #[allow(dead_code)]
    config: EngineConfig,
    #[allow(dead_code)]
    notices: Arc<dyn Sink<LiveSessions>>,
}

impl std::fmt::Debug for ChatEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatEngine").finish_non_exhaustive()
    }
}

impl ChatEngine {
    /// An engine over `store`, sending requests with `http`; `notices` hears whenever the set of live sessions changes.
    pub fn new(
        store: Store,
        keys: Arc<Keys>,
        books: Arc<CompiledBooks>,
        http: reqwest::Client,
        config: EngineConfig,
        notices: Arc<dyn Sink<LiveSessions>>,
    ) -> ChatEngine {
        ChatEngine {
            store,
            keys,
            books,
            http,
            config,
            notices,
        }
    }

    /// Saves the user message (with images uploaded by `attach_image`), then streams the reply to `sink`.
    pub async fn send(
        &self,
        session_id: &str,
        text: &str,
        image_ids: &[String],
        sink: Arc<dyn Sink<StreamEvent>>,
    ) -> Result<StreamStarted> {
        todo!("CONTRACT: chat engine")
    }

    /// Streams a new swipe of the last reply.
    pub async fn regenerate(
        &self,
        session_id: &str,
        sink: Arc<dyn Sink<StreamEvent>>,
    ) -> Result<StreamStarted> {
        todo!("CONTRACT: chat engine")
    }

    /// Streams more of the last reply, appended to it.
    pub async fn continue_reply(
        &self,
        session_id: &str,
        sink: Arc<dyn Sink<StreamEvent>>,
    ) -> Result<StreamStarted> {
        todo!("CONTRACT: chat engine")
    }

    /// Streams a draft of the user's next message, written as the persona; nothing is saved.
    pub async fn impersonate(
        &self,
        session_id: &str,
        sink: Arc<dyn Sink<StreamEvent>>,
    ) -> Result<StreamStarted> {
        todo!("CONTRACT: chat engine")
    }

    /// Subscribes `sink` to the session's live stream: `started`, a `snapshot`,
    /// then the deltas. `false` (and nothing sent) when nothing is streaming.
    pub fn attach(&self, session_id: &str, sink: Arc<dyn Sink<StreamEvent>>) -> bool {
        todo!("CONTRACT: chat engine")
    }

    /// Stops the session's stream: the upstream request is dropped at once and
    /// the partial reply saved as cancelled. `false` when nothing was streaming.
    pub fn stop(&self, session_id: &str) -> bool {
        todo!("CONTRACT: chat engine")
    }

    /// Sessions with a live stream.
    pub fn live_sessions(&self) -> LiveSessions {
        todo!("CONTRACT: chat engine")
    }

    /// Cancels every stream and waits until their partial replies are saved (on quit).
    pub async fn shutdown(&self) {
        todo!("CONTRACT: chat engine")
    }
}

/// Marks replies left `partial` by a crash or kill as `interrupted`; returns how many.
/// Run once when the store opens, before any stream starts.
pub async fn recover_interrupted(store: &Store) -> Result<u32> {
    let _ = (store, Error::Internal(String::new()));
    todo!("CONTRACT: chat engine")
}
