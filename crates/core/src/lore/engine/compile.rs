//! Compiling a book once per revision: every plain key into Aho-Corasick automata,
//! every regex key into its own automaton within the book's regex budget (with
//! `fancy-regex` for look-around and back-references), decorators, token counts.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};

use super::decorators::{self, Decorators};
use super::matcher::{fold, parse_key, Boundaries, KeyForm};
use super::regex_keys::{
    literal_triggers, plain_prefix, Built, PlainKey, RegexBudget, BOOK_REGEX_BUDGET,
};
use crate::error::{Error, Result};
use crate::lore::model::{Book, BookSettings, Entry, MatchSources};
use crate::lore::report::KeyError;
use crate::tokens::TokenCounter;

/// One key of one entry, as the scan sees it.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    /// The key as written (trimmed), for the report.
    pub text: String,
    /// Which edges must sit on word boundaries (plain keys only).
    pub boundaries: Boundaries,
    /// The entry it belongs to (index into `CompiledBook::entries`).
    pub entry: u32,
    /// Primary (true) or secondary key.
    pub primary: bool,
}

/// An entry with what the scan needs precomputed.
#[derive(Debug, Clone)]
pub(crate) struct CompiledEntry {
    pub entry: Entry,
    /// The content the prompt gets: `entry.content` without its decorator lines.
    pub content: String,
    /// What its decorators ask for.
    pub decorators: Decorators,
    /// Tokens of `content`, counted once here.
    pub tokens: u32,
    /// Its keys are `slots[first_slot..first_slot + primary + secondary]`, primaries first.
    pub first_slot: u32,
    pub primary: u32,
    pub secondary: u32,
    /// Position in the book sorted by insertion order, highest first (ST's scan order).
    pub rank: u32,
    /// `match_sources` as a bit set (see `source_bit`).
    pub sources: u8,
    /// The first key that failed to compile, if any.
    pub invalid: Option<KeyError>,
}

/// Pattern id -> slots, flattened (30,000 keys would otherwise be 30,000 small vectors).
#[derive(Debug, Clone, Default)]
pub(crate) struct PatternSlots {
    starts: Vec<u32>,
    slots: Vec<u32>,
}

impl PatternSlots {
    fn from_lists(lists: Vec<Vec<u32>>) -> PatternSlots {
        let mut out = PatternSlots {
            starts: Vec::with_capacity(lists.len() + 1),
            slots: Vec::new(),
        };
        for list in lists {
            out.starts.push(out.slots.len() as u32);
            out.slots.extend(list);
        }
        out.starts.push(out.slots.len() as u32);
        out
    }

    pub(crate) fn get(&self, pattern: usize) -> &[u32] {
        let start = self.starts.get(pattern).copied().unwrap_or(0) as usize;
        let end = self.starts.get(pattern + 1).copied().unwrap_or(0) as usize;
        self.slots.get(start..end).unwrap_or(&[])
    }
}

/// A regex key that needed `fancy-regex` (look-around, back-references).
#[derive(Debug)]
pub(crate) struct FancyKey {
    pub regex: fancy_regex::Regex,
    pub slots: Vec<u32>,
    /// A literal every match starts with (folded), if one is evident.
    pub trigger: Option<String>,
}

/// A book compiled for scanning. Build it once per book revision with [`compile`].
#[derive(Debug)]
pub struct CompiledBook {
    pub(crate) key: String,
    pub(crate) settings: BookSettings,
    pub(crate) entries: Vec<CompiledEntry>,
    pub(crate) slots: Vec<Slot>,
    /// Case-insensitive plain keys, folded, run over folded text.
    pub(crate) folded: Option<AhoCorasick>,
    pub(crate) folded_slots: PatternSlots,
    /// Case-sensitive plain keys, run over the text as written.
    pub(crate) exact: Option<AhoCorasick>,
    pub(crate) exact_slots: PatternSlots,
    /// Literal starts of regex keys, over folded text; targets are regex ids,
    /// or `regexes.len() + i` for fancy key `i`.
    pub(crate) triggers: Option<AhoCorasick>,
    pub(crate) trigger_targets: PatternSlots,
    /// Regex keys `regex-automata` runs, each within the book's budget.
    pub(crate) regexes: Vec<PlainKey>,
    pub(crate) regex_slots: PatternSlots,
    /// Regex ids with no literal start: they run over every batch.
    pub(crate) untriggered: Vec<usize>,
    pub(crate) fancy: Vec<FancyKey>,
    pub(crate) by_uid: HashMap<u32, u32>,
    /// Entries that are candidates without a key: constant, or `@@activate`.
    pub(crate) always: Vec<u32>,
    /// Deepest entry-level scan depth override.
    pub(crate) max_entry_depth: u32,
    pub(crate) errors: Vec<KeyError>,
    regex_bytes: usize,
}

impl CompiledBook {
    /// The key activations of this book carry (`Activation::book`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The book's scan settings.
    pub fn settings(&self) -> &BookSettings {
        &self.settings
    }

    /// How many entries the book has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the book has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many keys (primary and secondary) were compiled.
    pub fn key_count(&self) -> usize {
        self.slots.len()
    }

    /// Keys that could not be compiled, each with its entry and the reason.
    pub fn errors(&self) -> &[KeyError] {
        &self.errors
    }

    /// Bytes the book's compiled regex keys use (at most [`BOOK_REGEX_BUDGET`]).
    pub fn regex_bytes(&self) -> usize {
        self.regex_bytes
    }
}

/// Bit of a match source in `CompiledEntry::sources` and in segment tags.
pub(crate) fn source_bits(s: &MatchSources) -> u8 {
    [
        s.persona_description,
        s.character_description,
        s.character_personality,
        s.character_depth_prompt,
        s.scenario,
        s.creator_notes,
    ]
    .iter()
    .enumerate()
    .fold(0u8, |acc, (i, on)| if *on { acc | (1 << i) } else { acc })
}

/// The report's name of source bit `i`.
pub(crate) fn source_name(bit: u32) -> &'static str {
    match bit {
        0 => "personaDescription",
        1 => "characterDescription",
        2 => "characterPersonality",
        3 => "characterDepthPrompt",
        4 => "scenario",
        _ => "creatorNotes",
    }
}

/// Registry of distinct patterns, so a key used by many entries is searched once.
#[derive(Default)]
struct Patterns {
    ids: HashMap<String, usize>,
    texts: Vec<String>,
    slots: Vec<Vec<u32>>,
}

impl Patterns {
    fn add(&mut self, pattern: String, slot: u32) -> usize {
        let id = match self.ids.get(&pattern) {
            Some(id) => *id,
            None => {
                let id = self.texts.len();
                self.ids.insert(pattern.clone(), id);
                self.texts.push(pattern);
                self.slots.push(Vec::new());
                id
            }
        };
        if let Some(list) = self.slots.get_mut(id) {
            list.push(slot);
        }
        id
    }
}

/// JS flags as an inline group prefix for `regex`/`fancy-regex` (`g`, `u`, `y` mean nothing here).
fn with_flags(pattern: &str, ci: bool, ml: bool, dot_all: bool) -> String {
    let mut flags = String::new();
    if ci {
        flags.push('i');
    }
    if ml {
        flags.push('m');
    }
    if dot_all {
        flags.push('s');
    }
    if flags.is_empty() {
        pattern.to_owned()
    } else {
        format!("(?{flags}){pattern}")
    }
}

fn automaton(patterns: &[String]) -> Result<Option<AhoCorasick>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    // Standard semantics: overlapping iteration reports every key, even keys inside keys.
    AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(patterns)
        .map(Some)
        .map_err(|e| Error::Internal(format!("building the key automaton: {e}")))
}

/// What became of one distinct regex pattern.
#[derive(Debug, Clone)]
enum RegexOutcome {
    /// Index into `regexes`.
    Plain(usize),
    /// Index into `fancy`.
    Fancy(usize),
    /// Not built: why.
    Refused(crate::lore::report::KeyErrorKind, String),
}

/// Compiles `book` for scanning; `book_key` is what activations report as their book.
///
/// A regex key that does not compile, or does not fit the per-key limit or the
/// book's regex budget (see [`regex_keys`](super::regex_keys)), never stops the
/// book: it is listed in [`CompiledBook::errors`] with its entry's uid, and its
/// entry is reported as dropped with `InvalidKey` whenever it does not fire on its
/// other keys. Regex keys are compiled in book order, so the budget goes to the
/// first ones.
pub fn compile(book: &Book, book_key: &str, counter: &dyn TokenCounter) -> Result<CompiledBook> {
    let settings = book.settings.clone();
    let mut entries = Vec::with_capacity(book.entries.len());
    let mut slots: Vec<Slot> = Vec::new();
    let mut folded = Patterns::default();
    let mut exact = Patterns::default();
    let mut regex_slots: Vec<Vec<u32>> = Vec::new();
    let mut regexes = Vec::new();
    let mut regex_triggers: Vec<Option<Vec<String>>> = Vec::new();
    let mut fancy: Vec<FancyKey> = Vec::new();
    let mut outcomes: HashMap<String, RegexOutcome> = HashMap::new();
    let mut budget = RegexBudget::new(BOOK_REGEX_BUDGET);
    let mut errors = Vec::new();
    let mut by_uid = HashMap::with_capacity(book.entries.len());
    let mut always = Vec::new();
    let mut max_entry_depth = 0u32;

    for (index, entry) in book.entries.iter().enumerate() {
        let entry_index = index as u32;
        by_uid.entry(entry.uid).or_insert(entry_index);
        let (decorators, content) = decorators::parse(&entry.content);
        if entry.enabled && (entry.constant || decorators.activate) {
            always.push(entry_index);
        }
        if let Some(depth) = entry.scan_depth {
            max_entry_depth = max_entry_depth.max(depth);
        }
        let case_sensitive = entry.case_sensitive.unwrap_or(settings.case_sensitive);
        let whole_words = entry
            .match_whole_words
            .unwrap_or(settings.match_whole_words);
        let first_slot = slots.len() as u32;
        let mut invalid = None;
        let mut primary = 0u32;
        let keys = entry
            .keys
            .iter()
            .map(|k| (k, true))
            .chain(entry.secondary_keys.iter().map(|k| (k, false)));
        for (key, is_primary) in keys {
            let trimmed = key.trim();
            // ST skips empty keys; keeping no slot for them keeps AND ALL honest.
            if trimmed.is_empty() {
                continue;
            }
            let slot = slots.len() as u32;
            let mut boundaries = Boundaries::default();
            match parse_key(trimmed) {
                KeyForm::Plain(text) => {
                    boundaries = Boundaries::for_key(text, whole_words);
                    if case_sensitive {
                        exact.add(text.to_owned(), slot);
                    } else {
                        folded.add(fold(text), slot);
                    }
                }
                KeyForm::Regex {
                    pattern,
                    case_insensitive,
                    multi_line,
                    dot_all,
                } => {
                    let full = with_flags(&pattern, case_insensitive, multi_line, dot_all);
                    let outcome = match outcomes.get(&full) {
                        Some(known) => known.clone(),
                        None => {
                            let outcome = match budget.build(&full) {
                                Ok(Built::Plain(key)) => {
                                    regexes.push(key);
                                    regex_slots.push(Vec::new());
                                    regex_triggers
                                        .push(literal_triggers(&pattern, multi_line, dot_all));
                                    RegexOutcome::Plain(regexes.len() - 1)
                                }
                                Ok(Built::Fancy(re)) => {
                                    fancy.push(FancyKey {
                                        regex: re,
                                        slots: Vec::new(),
                                        trigger: plain_prefix(&pattern),
                                    });
                                    RegexOutcome::Fancy(fancy.len() - 1)
                                }
                                Err((kind, words)) => RegexOutcome::Refused(kind, words),
                            };
                            outcomes.insert(full, outcome.clone());
                            outcome
                        }
                    };
                    match outcome {
                        RegexOutcome::Plain(id) => {
                            if let Some(list) = regex_slots.get_mut(id) {
                                list.push(slot);
                            }
                        }
                        RegexOutcome::Fancy(id) => {
                            if let Some(f) = fancy.get_mut(id) {
                                f.slots.push(slot);
                            }
                        }
                        RegexOutcome::Refused(kind, words) => {
                            let error = KeyError {
                                uid: entry.uid,
                                key: trimmed.to_owned(),
                                kind,
                                error: words,
                            };
                            errors.push(error.clone());
                            invalid.get_or_insert(error);
                        }
                    }
                }
            }
            if is_primary {
                primary += 1;
            }
            slots.push(Slot {
                text: trimmed.to_owned(),
                boundaries,
                entry: entry_index,
                primary: is_primary,
            });
        }
        let total = slots.len() as u32 - first_slot;
        entries.push(CompiledEntry {
            entry: entry.clone(),
            content: content.to_owned(),
            decorators,
            tokens: counter.count(content),
            first_slot,
            primary,
            secondary: total - primary,
            rank: 0,
            sources: source_bits(&entry.match_sources),
            invalid,
        });
    }

    // ST scans entries by insertion order, highest first; a stable sort keeps book order on ties.
    let mut by_order: Vec<u32> = (0..entries.len() as u32).collect();
    by_order.sort_by_key(|i| {
        std::cmp::Reverse(
            entries
                .get(*i as usize)
                .map_or(0, |e: &CompiledEntry| e.entry.insertion_order),
        )
    });
    for (rank, i) in by_order.into_iter().enumerate() {
        if let Some(e) = entries.get_mut(i as usize) {
            e.rank = rank as u32;
        }
    }

    // Regexes with a known literal start run only where that literal occurs (found by
    // one more automaton); the rest run over every batch.
    let mut triggers = Patterns::default();
    let mut untriggered = Vec::new();
    for (id, lits) in regex_triggers.iter().enumerate() {
        match lits {
            Some(lits) => lits.iter().for_each(|l| {
                triggers.add(l.clone(), id as u32);
            }),
            None => untriggered.push(id),
        }
    }
    let regex_count = regexes.len();
    for (i, f) in fancy.iter().enumerate() {
        if let Some(t) = &f.trigger {
            triggers.add(t.clone(), (regex_count + i) as u32);
        }
    }

    Ok(CompiledBook {
        key: book_key.to_owned(),
        settings,
        entries,
        slots,
        folded: automaton(&folded.texts)?,
        folded_slots: PatternSlots::from_lists(folded.slots),
        exact: automaton(&exact.texts)?,
        exact_slots: PatternSlots::from_lists(exact.slots),
        triggers: automaton(&triggers.texts)?,
        trigger_targets: PatternSlots::from_lists(triggers.slots),
        regexes,
        regex_slots: PatternSlots::from_lists(regex_slots),
        untriggered,
        fancy,
        by_uid,
        always,
        max_entry_depth,
        errors,
        regex_bytes: budget.used(),
    })
}
