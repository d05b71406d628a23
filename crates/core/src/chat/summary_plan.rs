//! Planning a summarising pass: what the chat has left to summarise, and whether the next turn would crowd the prompt's start.

use super::Inner;
use crate::error::Result;
use crate::session::turn::{Turn, TurnMessage};
use crate::session::Role;
use crate::store::CoveredMessage;
use crate::tokens::{shared_counter, TokenCounter};
/// The most messages above the loaded history summarised after a long time
/// without summaries (a chat of thousands of messages is not summarised from
/// its first one; the newest stretch before the window is), and the most of
/// one gap between summaries (one deleted) summarised again.
const MAX_BACKLOG: u32 = 400;

/// What a summarising pass has to do besides redoing stale summaries.
pub(super) struct Plan {
    /// Stretches between the path's summaries that none covers (one was
    /// deleted), oldest first, each with the summary before it.
    pub gaps: Vec<(Option<String>, Vec<TurnMessage>)>,
    /// The messages after the newest summary, oldest first: the ones that left
    /// the window, then the rest of the history the prompt was given.
    pub tail: Vec<TurnMessage>,
    /// How many of `tail` left the window.
    pub left: usize,
    /// The next turn would push the examples or the history's start out (see [`crowded`]).
    pub crowded: bool,
}

impl Plan {
    /// Messages that left the window and no summary covers.
    pub(super) fn unsummarized(&self) -> usize {
        self.gaps.iter().map(|(_, g)| g.len()).sum::<usize>() + self.left
    }
}

fn turn_message(m: CoveredMessage, counter: &dyn TokenCounter) -> TurnMessage {
    TurnMessage {
        tokens: counter.count(&m.content),
        role: match m.role.as_str() {
            "user" => Role::User,
            "system" => Role::System,
            _ => Role::Assistant,
        },
        id: m.id,
        name: m.name,
        content: m.content,
    }
}

/// What a pass over `turn` would summarise. Above the history the prompt
/// loaded (about a window of text) come the path's messages back to the
/// newest summary, at most [`MAX_BACKLOG`]; gaps in the chain of summaries
/// are filled, and the stretch before the oldest only when the chat's start is near.
pub(super) async fn plan(inner: &Inner, turn: &Turn) -> Result<Plan> {
    let memory = &turn.memory;
    let history = &memory.history;
    let chain = &memory.chain;
    let counter = shared_counter();
    let mut gaps = Vec::new();
    for (i, s) in chain.iter().enumerate() {
        let before = i.checked_sub(1).and_then(|p| chain.get(p));
        let continues = match (&s.before_first, before) {
            (None, _) => true,
            (Some(parent), Some(b)) => *parent == b.last_id,
            // Before the oldest: a gap only near the chat's start (and when all summaries were read).
            (Some(_), None) => {
                chain.len() >= crate::session::turn::PROMPT_SUMMARIES
                    || s.first_depth > i64::from(MAX_BACKLOG)
            }
        };
        if continues {
            continue;
        }
        let stop = before.map(|b| b.last_id.as_str());
        let missing: Vec<TurnMessage> = inner
            .store
            .path_before(&s.first_id, stop, MAX_BACKLOG)
            .await?
            .into_iter()
            .map(|m| turn_message(m, counter))
            .collect();
        if !missing.is_empty() {
            gaps.push((before.map(|b| b.content.clone()), missing));
        }
    }
    let newest = chain.last();
    // After the newest summary of the path, sent or not (a stale one is redone, not overlapped).
    let start = newest
        .and_then(|s| history.iter().position(|m| m.id == s.last_id))
        .map_or(0, |at| at + 1);
    let dropped = usize::try_from(turn.prompt.dropped_history)
        .unwrap_or(usize::MAX)
        .min(history.len())
        .max(start);
    let mut tail: Vec<TurnMessage> = Vec::new();
    if let (0, Some(first)) = (start, history.first()) {
        let stop = newest.map(|s| s.last_id.as_str());
        for m in inner
            .store
            .path_before(&first.id, stop, MAX_BACKLOG)
            .await?
        {
            tail.push(turn_message(m, counter));
        }
    }
    let left = tail.len() + (dropped - start);
    tail.extend(history.get(start..).unwrap_or_default().iter().cloned());
    Ok(Plan {
        gaps,
        tail,
        left,
        crowded: crowded(
            &turn.prompt,
            turn.limits
                .context_window
                .saturating_sub(turn.limits.reply_reserve),
        ),
    })
}

/// Whether the next turn would push something out of the prompt's start: the
/// example dialogue is already being left out, or the room the history,
/// examples and summaries share has less free than the last exchange took.
/// Summarising a turn ahead keeps the prompt's start where it is, rather
/// than letting the examples, then the history's start, move turn by turn.
/// `budget` is the window less the reply's reserve. Public so the prefix
/// benchmark simulates the job with the same rule.
pub fn crowded(prompt: &crate::prompt::AssembledPrompt, budget: u32) -> bool {
    use crate::prompt::{PromptSource, NOT_PLACED};
    let sum = |wanted: &[PromptSource]| -> u64 {
        prompt
            .parts
            .iter()
            .filter(|p| wanted.contains(&p.source) && p.message_index != NOT_PLACED)
            .map(|p| u64::from(p.tokens))
            .sum()
    };
    let history = sum(&[PromptSource::History]);
    let shared = sum(&[
        PromptSource::History,
        PromptSource::ExampleDialogue,
        PromptSource::ChatStart,
        PromptSource::Summary,
    ]);
    let budget = u64::from(budget);
    let fixed = u64::from(prompt.total_tokens).saturating_sub(shared);
    let room = budget.saturating_sub(fixed);
    // The next turn adds about what the last exchange did (its two newest messages).
    let next: u64 = prompt
        .parts
        .iter()
        .rev()
        .filter(|p| p.source == PromptSource::History)
        .take(2)
        .map(|p| u64::from(p.tokens))
        .sum();
    let free = room.saturating_sub(shared);
    // Never when the history holds less than half the room: examples too
    // large to ever fit do not make every turn summarise.
    history * 2 > room && (prompt.dropped_examples > 0 || free < next + next / 2)
}
