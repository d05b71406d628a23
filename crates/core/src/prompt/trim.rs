//! Fitting the history into what the context window leaves.

use crate::tokens::TokenCounter;

use super::macros::{substitute_macros, MacroContext};
use super::model::HistoryMessage;

/// The history messages that fit, newest kept first.
pub(crate) struct Kept {
    /// Index in the history of the oldest kept message (`history.len()` if none).
    pub start: usize,
    /// The kept messages' text after macros and their tokens, oldest first.
    pub texts: Vec<(String, u32)>,
}

/// Keeps the newest messages whose tokens sum to at most `budget`.
///
/// Walks back from the newest and stops at the first that does not fit: the
/// kept history is contiguous, never with a hole. Only kept messages are
/// expanded and counted, so a long chat costs what the window holds.
pub(crate) fn fit_history(
    history: &[HistoryMessage],
    ctx: &MacroContext,
    counter: &dyn TokenCounter,
    budget: u64,
) -> Kept {
    let mut used = 0u64;
    let mut texts = Vec::new();
    let mut start = history.len();
    for (i, m) in history.iter().enumerate().rev() {
        let text = substitute_macros(&m.content, ctx);
        let tokens = counter.count(&text);
        if used + u64::from(tokens) > budget {
            break;
        }
        used += u64::from(tokens);
        texts.push((text, tokens));
        start = i;
    }
    texts.reverse();
    Kept { start, texts }
}
