//! Sticky, cooldown and delay: per-chat state the chat engine persists between scans.
//!
//! Modelled on SillyTavern's `WorldInfoTimedEffects`: an effect spans chat lengths
//! `start..end` (counted in messages); it is active while the chat is shorter
//! than `end`. An effect set on a message that is then swiped or regenerated
//! (the chat did not grow) is forgotten, unless it is protected.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::compile::CompiledBook;

/// Timed effects of one chat session, keyed by `"{book}:{uid}"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TimedState {
    /// Effects per entry.
    pub entries: BTreeMap<String, TimedEntry>,
}

/// The effects on one entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TimedEntry {
    /// Stays active while this runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sticky: Option<TimedSpan>,
    /// Cannot fire while this runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<TimedSpan>,
}

/// An effect from chat length `start` until the chat reaches `end` messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TimedSpan {
    /// Chat length when it was set.
    pub start: u32,
    /// Chat length at which it ends.
    pub end: u32,
    /// Survives a swipe/regenerate (set when a sticky ends and its cooldown begins).
    pub protected: bool,
}

/// The key of an entry in [`TimedState`].
pub fn timed_key(book: &str, uid: u32) -> String {
    format!("{book}:{uid}")
}

/// Which entries are sticky or cooling down for this scan: (book index, entry index) -> messages left.
#[derive(Debug, Default)]
pub(crate) struct TimedView {
    pub sticky: HashMap<(usize, u32), u32>,
    pub cooldown: HashMap<(usize, u32), u32>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sticky,
    Cooldown,
}

/// Ages the state to `chat_len` and says what is in force for this scan.
pub(crate) fn begin(state: &mut TimedState, books: &[&CompiledBook], chat_len: u32) -> TimedView {
    let mut view = TimedView::default();
    let find = |key: &str| -> Option<(usize, u32)> {
        let (book, uid) = key.rsplit_once(':')?;
        let uid: u32 = uid.parse().ok()?;
        books.iter().enumerate().find_map(|(bi, b)| {
            (b.key == book)
                .then(|| b.by_uid.get(&uid).map(|e| (bi, *e)))
                .flatten()
        })
    };
    for (key, timed) in state.entries.iter_mut() {
        let found = find(key);
        for kind in [Kind::Sticky, Kind::Cooldown] {
            let slot = match kind {
                Kind::Sticky => &mut timed.sticky,
                Kind::Cooldown => &mut timed.cooldown,
            };
            let Some(span) = *slot else { continue };
            if chat_len <= span.start && !span.protected {
                // Same message scanned again (swipe, regenerate): undo what it set.
                *slot = None;
                continue;
            }
            let Some((bi, ei)) = found else {
                // Entry of a book not in this scan: keep until its time has passed.
                if chat_len >= span.end {
                    *slot = None;
                }
                continue;
            };
            let entry = books
                .get(bi)
                .and_then(|b| b.entries.get(ei as usize))
                .map(|e| &e.entry);
            let configured = entry.map_or(0, |e| match kind {
                Kind::Sticky => e.sticky,
                Kind::Cooldown => e.cooldown,
            });
            if configured == 0 {
                *slot = None;
                continue;
            }
            if chat_len >= span.end {
                *slot = None;
                // A sticky that ends starts its cooldown right away (protected, as in ST).
                let cooldown = entry.map_or(0, |e| e.cooldown);
                if kind == Kind::Sticky && cooldown > 0 {
                    let span = TimedSpan {
                        start: chat_len,
                        end: chat_len.saturating_add(cooldown),
                        protected: true,
                    };
                    timed.cooldown = Some(span);
                    view.cooldown.insert((bi, ei), span.end - chat_len);
                }
                continue;
            }
            let left = span.end - chat_len;
            match kind {
                Kind::Sticky => view.sticky.insert((bi, ei), left),
                Kind::Cooldown => view.cooldown.insert((bi, ei), left),
            };
        }
    }
    state
        .entries
        .retain(|_, t| t.sticky.is_some() || t.cooldown.is_some());
    view
}

/// Starts sticky and cooldown spans for entries that fired (unless already running).
pub(crate) fn finish(
    state: &mut TimedState,
    books: &[&CompiledBook],
    fired: &[(usize, u32)],
    chat_len: u32,
) {
    for &(bi, ei) in fired {
        let Some(book) = books.get(bi) else { continue };
        let Some(entry) = book.entries.get(ei as usize).map(|e| &e.entry) else {
            continue;
        };
        if entry.sticky == 0 && entry.cooldown == 0 {
            continue;
        }
        let timed = state
            .entries
            .entry(timed_key(&book.key, entry.uid))
            .or_default();
        let span = |n: u32| TimedSpan {
            start: chat_len,
            end: chat_len.saturating_add(n),
            protected: false,
        };
        if entry.sticky > 0 && timed.sticky.is_none() {
            timed.sticky = Some(span(entry.sticky));
        }
        if entry.cooldown > 0 && timed.cooldown.is_none() {
            timed.cooldown = Some(span(entry.cooldown));
        }
    }
}
