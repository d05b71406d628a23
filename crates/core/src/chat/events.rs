//! What a reply request reports: its kind, the stream's events in order, the
//! reply's usage, why a stream was cancelled, and which sessions are live.

use serde::{Deserialize, Serialize};

use crate::error::AppError;

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
    /// In a group chat, a member speaks without a new user message (a turn the
    /// user passes, a member asked to speak, or an auto turn).
    Speak,
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
    /// Prompt tokens written to the provider's prompt cache, when it says.
    #[serde(default)]
    pub cache_write_tokens: Option<u32>,
    /// Prompt tokens read from the provider's prompt cache (part of `prompt_tokens`), when it says.
    #[serde(default)]
    pub cache_read_tokens: Option<u32>,
    /// US dollars the cache saved, when the prices are known.
    #[serde(default)]
    pub cache_saved_usd: Option<f64>,
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
    /// In a group chat, the member writing the reply.
    pub speaker_id: Option<String>,
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
