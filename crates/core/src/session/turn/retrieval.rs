//! Retrieval's part of a turn: the query, the search, and the report of what assembly placed.

use std::collections::HashMap;

use super::PromptCaches;
use crate::memory::retrieval::{retrieved_label, turn_query, RetrievalReport, RetrievedInfo};
use crate::memory::settings::MemorySettings;
use crate::prompt::{AssembledPrompt, PromptSource, RetrievedPassage};
use crate::session::Role;
use crate::store::{HistoryRow, Store};

/// The passages retrieval offers this turn (when it is on), and its report.
/// The query is the new message (or, without one, the history's last), with
/// the end of the last reply before it for context.
pub(super) async fn retrieve(
    store: &Store,
    caches: &PromptCaches,
    session_id: &str,
    settings: &MemorySettings,
    rows: &[HistoryRow],
    new_message: Option<&str>,
) -> (Vec<RetrievedPassage>, RetrievalReport) {
    if !settings.retrieval_ready() {
        return (Vec::new(), RetrievalReport::default());
    }
    let (message, before) = match new_message {
        Some(m) => (Some(m), rows),
        None => (
            rows.last().map(|r| r.content.as_str()),
            rows.split_last().map_or(rows, |(_, rest)| rest),
        ),
    };
    let last_reply = before
        .iter()
        .rev()
        .find(|r| r.role == Role::Assistant)
        .map(|r| r.content.as_str());
    let query = turn_query(last_reply, message);
    let loaded: HashMap<String, u32> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();
    caches
        .retrieval
        .for_turn(
            store,
            session_id,
            settings,
            query.as_ref(),
            rows.last().map(|r| r.id.as_str()),
            &loaded,
        )
        .await
}

/// The report with the passages assembly placed (in its order, best first),
/// and how many it left out because their message is inside the window.
pub(super) fn placed(
    mut report: RetrievalReport,
    candidates: &[RetrievedPassage],
    prompt: &AssembledPrompt,
) -> RetrievalReport {
    let mut rest = candidates.iter();
    let mut in_window = 0u32;
    for part in prompt
        .parts
        .iter()
        .filter(|p| p.source == PromptSource::RetrievedMemory)
    {
        for c in rest.by_ref() {
            let label = retrieved_label(c.score, c.position);
            // By label, in order: the part's text went through macros and the dictionaries.
            if label == part.label {
                report.passages.push(RetrievedInfo {
                    id: c.id,
                    label,
                    score: c.score,
                    message_id: c.message_id.clone(),
                    position: c.position,
                    text: part.text.clone(),
                });
                break;
            }
            if c.history_index.is_some() {
                in_window += 1;
            }
        }
    }
    in_window += u32::try_from(rest.filter(|c| c.history_index.is_some()).count()).unwrap_or(0);
    report.in_window = in_window;
    report
}
