//! Fitting the history into what the context window leaves.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::tokens::TokenCounter;

use super::macros::Used;
use super::model::HistoryMessage;
use super::text::Prep;

/// A kept history message as the model reads it.
pub(crate) struct KeptMessage {
    pub text: String,
    pub tokens: u32,
    pub used: Used,
}

/// The history messages that fit, newest kept first.
pub(crate) struct Kept {
    /// Index in the history of the oldest kept message (`history.len()` if none).
    pub start: usize,
    /// The kept messages, oldest first.
    pub messages: Vec<KeptMessage>,
    /// Their tokens together.
    pub tokens: u64,
}

/// Keeps the newest messages whose tokens sum to at most `budget`.
///
/// Walks back from the newest and stops at the first that does not fit: the
/// kept history is contiguous, never with a hole. Only kept messages are
/// expanded and counted, so a long chat costs what the window holds; a
/// message whose text macros and the dictionary leave as stored is not
/// counted again when its count is known.
///
/// With `names` (a group chat, where several characters speak), each message
/// opens with its speaker's name, as SillyTavern sends group chats; the name's
/// tokens are counted once per speaker and added to the message's.
pub(crate) fn fit_history(
    history: &[HistoryMessage],
    prep: &Prep<'_>,
    counter: &dyn TokenCounter,
    budget: u64,
    names: bool,
) -> Kept {
    let mut used_tokens = 0u64;
    let mut messages = Vec::new();
    let mut start = history.len();
    let mut prefixes: HashMap<&str, (String, u32)> = HashMap::new();
    for (i, m) in history.iter().enumerate().rev() {
        let (text, used) = prep.message(&m.content);
        let mut tokens = match (&text, m.tokens) {
            (Cow::Borrowed(_), Some(known)) => known,
            _ => counter.count(&text),
        };
        let text = if names && needs_name(&m.name, &text) {
            let (prefix, prefix_tokens) = prefixes.entry(m.name.as_str()).or_insert_with(|| {
                let prefix = format!("{}: ", m.name.trim());
                let tokens = counter.count(&prefix);
                (prefix, tokens)
            });
            tokens = tokens.saturating_add(*prefix_tokens);
            Cow::Owned(format!("{prefix}{text}"))
        } else {
            text
        };
        if used_tokens + u64::from(tokens) > budget {
            break;
        }
        used_tokens += u64::from(tokens);
        messages.push(KeptMessage {
            text: text.into_owned(),
            tokens,
            used,
        });
        start = i;
    }
    messages.reverse();
    Kept {
        start,
        messages,
        tokens: used_tokens,
    }
}

/// Whether `text` should open with `name`: there is a name, and the text does not already start with it.
pub(crate) fn needs_name(name: &str, text: &str) -> bool {
    let name = name.trim();
    let already = text
        .strip_prefix(name)
        .is_some_and(|rest| rest.starts_with(':'));
    !name.is_empty() && !already
}
