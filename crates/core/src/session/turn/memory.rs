//! The chat's summaries in a turn: which belong to the path, and where the history starts after them.

use crate::error::Result;
use crate::memory::settings::MemorySettings;
use crate::prompt::SummaryInput;
use crate::session::Role;
use crate::store::{HistoryRow, Store, SummaryRow};

/// The most summaries a prompt reads (the newest): more would not fit half of any window.
pub const PROMPT_SUMMARIES: usize = 64;

/// A history message the prompt was given, as the summaries' background work needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnMessage {
    /// Its id.
    pub id: String,
    /// Who wrote it.
    pub role: Role,
    /// The speaker's name.
    pub name: String,
    /// The text.
    pub content: String,
    /// Its tokens.
    pub tokens: u32,
}

/// What a turn knew of the chat's memory.
#[derive(Debug, Clone, Default)]
pub struct TurnMemory {
    /// The chat's memory settings.
    pub settings: MemorySettings,
    /// The path's summaries, oldest first, stale ones included (at most [`PROMPT_SUMMARIES`]).
    pub chain: Vec<SummaryRow>,
    /// With summaries on: the history the prompt was given (after the newest
    /// summary sent), oldest first; `PromptInput::history` in the same order.
    pub history: Vec<TurnMessage>,
}

/// Whether a summary goes into prompts: fresh, or pinned (kept as it is).
pub fn sendable(s: &SummaryRow) -> bool {
    !s.stale || s.pinned
}

/// The path's summaries for `rows` (the loaded end of the path), and how many
/// of `rows` they cover (the history starts after the newest one sent).
pub(super) async fn path_memory(
    store: &Store,
    settings: &MemorySettings,
    all: Vec<SummaryRow>,
    rows: &[HistoryRow],
) -> Result<(Vec<SummaryRow>, Vec<SummaryInput>, usize)> {
    if !settings.summaries || all.is_empty() || rows.is_empty() {
        return Ok((Vec::new(), Vec::new(), 0));
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut chain = store.path_summaries(&all, &ids, PROMPT_SUMMARIES).await?;
    store.fill_summary_texts(&mut chain).await?;
    let inputs: Vec<SummaryInput> = chain
        .iter()
        .filter(|s| sendable(s))
        .map(|s| SummaryInput {
            id: s.id.clone(),
            text: s.content.clone(),
            covers: u32::try_from(s.last_depth - s.first_depth + 1).unwrap_or(0),
            first_position: position(s.first_depth),
            last_position: position(s.last_depth),
            pinned: s.pinned,
        })
        .collect();
    let cut = chain
        .iter()
        .rev()
        .find(|s| sendable(s))
        .and_then(|s| rows.iter().position(|r| r.id == s.last_id))
        .map_or(0, |at| at + 1);
    Ok((chain, inputs, cut))
}

/// The 1-based position in the path of a message at `depth`.
pub fn position(depth: i64) -> u32 {
    u32::try_from(depth.saturating_add(1)).unwrap_or(0)
}
