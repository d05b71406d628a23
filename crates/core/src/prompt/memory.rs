//! The chat's summaries in the prompt: one system message just before the
//! oldest kept history message, a part per summary labelled with the messages
//! it stands for.

use crate::session::Role;
use crate::tokens::TokenCounter;

use super::explain::NOT_PLACED;
use super::model::{PromptPart, PromptSource, SummaryInput};
use super::text::{Piece, Prep};

/// Between two summaries in their message.
pub(crate) const SUMMARY_SEPARATOR: &str = "\n\n";

/// `summary of messages 1–40`.
pub(crate) fn summary_label(s: &SummaryInput) -> String {
    let pinned = if s.pinned { ", pinned" } else { "" };
    format!(
        "summary of messages {}–{}{pinned}",
        s.first_position, s.last_position
    )
}

/// The summaries as the model reads them, and the ones left out for room.
pub(crate) struct PlannedSummaries {
    /// The pieces sent, oldest first, each with its tokens.
    pub pieces: Vec<(Piece, u32)>,
    /// The message's text and tokens.
    pub text: String,
    pub tokens: u32,
    /// Parts for the summaries left out (not placed), oldest first.
    pub left_out: Vec<PromptPart>,
}

/// Plans the summaries within `room` tokens of the history's budget: they may
/// take about half of it; past that the oldest unpinned ones are left out first,
/// then (when even the pinned ones do not fit the whole room) the oldest pinned.
pub(crate) fn plan_summaries(
    summaries: &[SummaryInput],
    prep: &Prep<'_>,
    counter: &dyn TokenCounter,
    room: u64,
) -> Option<PlannedSummaries> {
    if summaries.is_empty() {
        return None;
    }
    let mut all: Vec<(Piece, u32, bool)> = summaries
        .iter()
        .filter_map(|s| {
            let (text, used) = prep.text(&s.text);
            if text.is_empty() {
                return None;
            }
            let label = summary_label(s);
            let text = format!(
                "[Earlier in this chat, messages {}–{}, in short:]\n{text}",
                s.first_position, s.last_position
            );
            let tokens = counter.count(&text);
            Some((
                Piece::new(PromptSource::Summary, label, text).using(used),
                tokens,
                s.pinned,
            ))
        })
        .collect();
    let separator = if all.len() > 1 {
        u64::from(counter.count(SUMMARY_SEPARATOR))
    } else {
        0
    };
    let cost = |all: &[(Piece, u32, bool)]| -> u64 {
        all.iter().map(|(_, t, _)| u64::from(*t) + separator).sum()
    };
    let mut left_out = Vec::new();
    let mut leave = |piece: Piece, tokens: u32, why: &str| {
        left_out.push(PromptPart {
            source: piece.source,
            label: format!("{} (left out: {why})", piece.label),
            message_index: NOT_PLACED,
            text: piece.text,
            tokens,
        });
    };
    let half = room / 2;
    while cost(&all) > half {
        let Some(at) = all.iter().position(|(_, _, pinned)| !pinned) else {
            break;
        };
        let (piece, tokens, _) = all.remove(at);
        leave(
            piece,
            tokens,
            "summaries take at most half the history's room",
        );
    }
    while cost(&all) > room && !all.is_empty() {
        let (piece, tokens, _) = all.remove(0);
        leave(piece, tokens, "the pinned summaries do not fit the window");
    }
    if all.is_empty() {
        return Some(PlannedSummaries {
            pieces: Vec::new(),
            text: String::new(),
            tokens: 0,
            left_out,
        });
    }
    let text = all
        .iter()
        .map(|(p, _, _)| p.text.as_str())
        .collect::<Vec<_>>()
        .join(SUMMARY_SEPARATOR);
    let tokens = counter.count(&text);
    Some(PlannedSummaries {
        pieces: all.into_iter().map(|(p, t, _)| (p, t)).collect(),
        text,
        tokens,
        left_out,
    })
}

/// The role of the summaries' message.
pub(crate) const SUMMARY_ROLE: Role = Role::System;
