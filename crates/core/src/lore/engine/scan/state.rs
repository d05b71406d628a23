//! What one scan knows per book: where each key was seen (messages, match
//! sources, recursion levels), each entry's status, the entries worth
//! evaluating; and how a batch of text is matched and recorded into it.

use crate::lore::engine::buffer::{collect_hits, Batch, Origin};
use crate::lore::engine::compile::CompiledBook;
use crate::lore::engine::ScanInput;
use crate::lore::model::BookSettings;

pub(super) const NONE: u32 = u32::MAX;

/// Where one key was seen so far in this scan.
#[derive(Debug, Clone, Copy)]
pub(super) struct KeyHit {
    /// Newest message it appeared in (0 = newest), or NONE.
    pub(super) message: u32,
    /// Match sources it appeared in, as bits.
    pub(super) sources: u8,
    /// Earliest recursion level it appeared in, or NONE.
    pub(super) recursion: u32,
}

pub(super) const NO_HIT: KeyHit = KeyHit {
    message: NONE,
    sources: 0,
    recursion: NONE,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Open,
    Activated,
    Closed,
}

/// Per-book scan state.
pub(super) struct BookRun {
    pub(super) settings: BookSettings,
    pub(super) hits: Vec<KeyHit>,
    pub(super) status: Vec<Status>,
    pub(super) is_candidate: Vec<bool>,
    pub(super) candidates: Vec<u32>,
}

impl BookRun {
    pub(super) fn add_candidate(&mut self, entry: u32) {
        if let Some(flag) = self.is_candidate.get_mut(entry as usize) {
            if !*flag {
                *flag = true;
                self.candidates.push(entry);
            }
        }
    }
}

/// Renders message `index` (0 = newest) as ST's buffer holds it.
pub(super) fn message_text(input: &ScanInput, index: u32, include_names: bool) -> Option<String> {
    let pos = input.messages.len().checked_sub(1 + index as usize)?;
    let m = input.messages.get(pos)?;
    let text = if include_names && !m.name.is_empty() {
        format!("{}: {}", m.name, m.content)
    } else {
        m.content.clone()
    };
    Some(text.trim().to_owned())
}

/// A regex key of book `.0` (regex id, or regex count + fancy id: `.1`) that could
/// not search, and why.
pub(super) type Failure = (usize, usize, String);

pub(super) fn record(
    books: &[&CompiledBook],
    runs: &mut [BookRun],
    batch: &Batch,
    failures: &mut Vec<Failure>,
) {
    for (bi, (book, run)) in books.iter().zip(runs.iter_mut()).enumerate() {
        let failed = |key: usize, error: String| {
            if !failures.iter().any(|(b, k, _)| *b == bi && *k == key) {
                failures.push((bi, key, error));
            }
        };
        collect_hits(
            book,
            batch,
            |slot, origin| {
                let Some(info) = book.slots.get(slot as usize) else {
                    return;
                };
                if let Some(hit) = run.hits.get_mut(slot as usize) {
                    match origin {
                        Origin::Message(i) => hit.message = hit.message.min(i),
                        Origin::Source(bit) => hit.sources |= 1 << bit,
                        Origin::Recursion(l) => hit.recursion = hit.recursion.min(l),
                    }
                }
                if info.primary {
                    run.add_candidate(info.entry);
                }
            },
            failed,
        );
    }
}
