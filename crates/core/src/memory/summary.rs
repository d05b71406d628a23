//! Rolling summaries: what left the window, summarised per path.

use serde::{Deserialize, Serialize};

use super::settings::MemorySettings;

/// A summary as the Memory panel and the CLI show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MemorySummary {
    /// Its id.
    pub id: String,
    /// The first message it covers.
    pub first_message_id: String,
    /// The last message it covers.
    pub last_message_id: String,
    /// The 1-based position in the path of the first message it covers.
    pub first_position: u32,
    /// The 1-based position in the path of the last message it covers.
    pub last_position: u32,
    /// Its text.
    pub content: String,
    /// Its tokens as the prompt counts them, when known.
    pub tokens: Option<u32>,
    /// Kept as written and always sent; never redone on its own.
    pub pinned: bool,
    /// Written or changed by the user.
    pub edited: bool,
    /// A covered message changed since it was written: it is redone after the next reply (unless pinned).
    pub stale: bool,
    /// Who wrote it ("provider / model"), empty for the user.
    pub author: String,
    /// When it was written or last changed (Unix ms).
    #[cfg_attr(feature = "specta", specta(type = crate::TsNumber))]
    pub updated_at: i64,
}

/// What the Memory panel shows of a chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MemoryView {
    /// The chat's memory settings.
    pub settings: MemorySettings,
    /// The summaries of the active path, oldest first.
    pub summaries: Vec<MemorySummary>,
    /// Messages of the active path that left the window and no summary covers yet.
    pub unsummarized: u32,
    /// A summary is being written for this chat now.
    pub summarizing: bool,
    /// The last summarising attempt's error, if it failed.
    pub last_error: Option<crate::AppError>,
    /// Notes attached to the chat for retrieval.
    pub notes: Vec<MemoryNote>,
    /// Passages embedded for retrieval with the chat's embeddings model.
    pub passages: u32,
    /// The last background embedding failure, until a later round succeeds.
    pub retrieval_error: Option<crate::AppError>,
}

/// A note the user attached to a chat: retrieved like its messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MemoryNote {
    /// The passage's id.
    #[cfg_attr(feature = "specta", specta(type = crate::TsNumber))]
    pub id: i64,
    /// Its text.
    pub text: String,
    /// Whether it has been embedded with the chat's embeddings model yet.
    pub embedded: bool,
}

/// A passage found by a memory search, with why (its score).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MemoryHit {
    /// The passage's id.
    #[cfg_attr(feature = "specta", specta(type = crate::TsNumber))]
    pub id: i64,
    /// Its text.
    pub text: String,
    /// Cosine similarity to the query, -1..1.
    pub score: f32,
    /// The message it came from; `None` for a note.
    pub message_id: Option<String>,
    /// The 1-based position of that message in the active path, when it is on it.
    pub position: Option<u32>,
}

/// A chat's memory changed (a summary written, a passage embedded): the Memory panel reloads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MemoryChanged {
    /// The chat.
    pub session_id: String,
}
