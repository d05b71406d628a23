//! The scan buffer: texts to scan (messages, sources, activated content), searched in
//! batches. Each batch is joined once, folded once, and each matcher runs over it once,
//! so a scan costs time proportional to the text, not to entries x keys.

use super::compile::CompiledBook;
use super::matcher::fold;

/// Where a piece of scanned text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A chat message, 0 = newest.
    Message(u32),
    /// A match source (bit index, see `compile::source_bits`).
    Source(u32),
    /// Content activated before recursion level `n`.
    Recursion(u32),
}

/// Texts searched together: segments joined by `\n`, plus their case-folded form.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    raw: String,
    folded: String,
    raw_starts: Vec<usize>,
    folded_starts: Vec<usize>,
    origins: Vec<Origin>,
}

impl Batch {
    /// Appends a segment.
    pub(crate) fn push(&mut self, origin: Origin, text: &str) {
        if !self.origins.is_empty() {
            // A non-word separator: whole-word keys see segment edges as boundaries.
            self.raw.push('\n');
            self.folded.push('\n');
        }
        self.raw_starts.push(self.raw.len());
        self.folded_starts.push(self.folded.len());
        self.origins.push(origin);
        self.raw.push_str(text);
        self.folded.push_str(&fold(text));
    }

    /// Whether nothing was added.
    pub(crate) fn is_empty(&self) -> bool {
        self.origins.is_empty()
    }

    fn origin_at(&self, starts: &[usize], offset: usize) -> Option<Origin> {
        // The segment whose start is the last one at or before `offset`.
        let i = starts.partition_point(|s| *s <= offset).checked_sub(1)?;
        self.origins.get(i).copied()
    }
}

/// Runs every matcher of `book` over `batch` once, calling `hit(slot, origin)` per key
/// match, and `failed(key, error)` when a regex key could not search: `key` is a regex id,
/// or `regexes.len() + i` for fancy key `i` (a look-around key that stopped at its limit).
pub(crate) fn collect_hits(
    book: &CompiledBook,
    batch: &Batch,
    mut hit: impl FnMut(u32, Origin),
    mut failed: impl FnMut(usize, String),
) {
    if batch.is_empty() {
        return;
    }
    let plain = [
        (
            &book.folded,
            &book.folded_slots,
            &batch.folded,
            &batch.folded_starts,
        ),
        (
            &book.exact,
            &book.exact_slots,
            &batch.raw,
            &batch.raw_starts,
        ),
    ];
    for (automaton, slots, text, starts) in plain {
        let Some(ac) = automaton else { continue };
        for m in ac.find_overlapping_iter(text.as_str()) {
            let Some(origin) = batch.origin_at(starts, m.start()) else {
                continue;
            };
            for &slot in slots.get(m.pattern().as_usize()) {
                let ok = book
                    .slots
                    .get(slot as usize)
                    .is_some_and(|s| s.boundaries.accept(text, m.start(), m.end()));
                if ok {
                    hit(slot, origin);
                }
            }
        }
    }
    // Regex keys see the text as written: ST applies neither folding nor whole words to them.
    // They run only where their literal start occurs, or over every batch when they have none.
    let regex_count = book.regexes.len();
    let mut run_regex: Vec<usize> = book.untriggered.clone();
    let mut run_fancy: Vec<usize> = Vec::new();
    if let Some(ac) = &book.triggers {
        for m in ac.find_overlapping_iter(batch.folded.as_str()) {
            for &target in book.trigger_targets.get(m.pattern().as_usize()) {
                let target = target as usize;
                if target < regex_count {
                    run_regex.push(target);
                } else {
                    run_fancy.push(target - regex_count);
                }
            }
        }
    }
    run_fancy.extend(
        book.fancy
            .iter()
            .enumerate()
            .filter(|(_, f)| f.trigger.is_none())
            .map(|(i, _)| i),
    );
    run_regex.sort_unstable();
    run_regex.dedup();
    run_fancy.sort_unstable();
    run_fancy.dedup();
    for id in run_regex {
        let Some(key) = book.regexes.get(id) else {
            continue;
        };
        let re = match key.regex() {
            Ok(re) => re,
            Err(e) => {
                failed(id, e.to_owned());
                continue;
            }
        };
        let slots = book.regex_slots.get(id);
        let mut last = None;
        for m in re.find_iter(batch.raw.as_str()) {
            let origin = batch.origin_at(&batch.raw_starts, m.start());
            if origin.is_some() && origin != last {
                last = origin;
                if let Some(origin) = origin {
                    slots.iter().for_each(|s| hit(*s, origin));
                }
            }
        }
    }
    for id in run_fancy {
        let Some(key) = book.fancy.get(id) else {
            continue;
        };
        let mut last = None;
        for found in key.regex.find_iter(&batch.raw) {
            let m = match found {
                Ok(m) => m,
                // Matches found before the limit still count; the failure is reported.
                Err(e) => {
                    failed(regex_count + id, format!("the search stopped: {e}"));
                    break;
                }
            };
            let origin = batch.origin_at(&batch.raw_starts, m.start());
            if origin.is_some() && origin != last {
                last = origin;
                if let Some(origin) = origin {
                    key.slots.iter().for_each(|s| hit(*s, origin));
                }
            }
        }
    }
}
