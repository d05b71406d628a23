//! Compiling a book once per revision: every plain key into Aho-Corasick automata,
//! every regex key into a `RegexSet` (with `fancy-regex` as the fallback), token counts.

use std::collections::HashMap;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use super::matcher::{fold, parse_key, Boundaries, KeyForm};
use crate::error::{Error, Result};
use crate::lore::model::{Book, BookSettings, Entry, MatchSources};
use crate::tokens::TokenCounter;

/// Largest compiled size of one regex key; JS patterns from books are untrusted.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Backtracking steps a look-around or back-reference key may take per search.
const FANCY_BACKTRACK_LIMIT: usize = 100_000;

/// A key that could not be compiled; its entry still fires on its other keys.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct KeyError {
    /// The entry's uid.
    pub uid: u32,
    /// The key as written.
    pub key: String,
    /// Why it failed.
    pub error: String,
}

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
    /// Tokens of `entry.content`, counted once here.
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
    /// Regex keys `regex` accepts: the set says which match, the singles say where.
    pub(crate) regex_set: Option<RegexSet>,
    /// Regex ids (into `regexes`) of the set's members, in set order.
    pub(crate) set_members: Vec<usize>,
    /// Literal starts of regex keys, over folded text; targets are regex ids,
    /// or `regexes.len() + i` for fancy key `i`.
    pub(crate) triggers: Option<AhoCorasick>,
    pub(crate) trigger_targets: PatternSlots,
    /// Built on first use: most regex keys never match, so most are never built.
    pub(crate) regexes: Vec<OnceLock<Option<Regex>>>,
    pub(crate) regex_texts: Vec<String>,
    pub(crate) regex_slots: PatternSlots,
    pub(crate) fancy: Vec<FancyKey>,
    pub(crate) by_uid: HashMap<u32, u32>,
    pub(crate) constants: Vec<u32>,
    /// Deepest entry-level scan depth override.
    pub(crate) max_entry_depth: u32,
    pub(crate) errors: Vec<KeyError>,
}

impl CompiledBook {
    /// The single regex for set member `id`, built on first use.
    pub(crate) fn regex(&self, id: usize) -> Option<&Regex> {
        let cell = self.regexes.get(id)?;
        cell.get_or_init(|| {
            let text = self.regex_texts.get(id)?;
            RegexBuilder::new(text)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .ok()
        })
        .as_ref()
    }

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

    /// Keys that could not be compiled.
    pub fn errors(&self) -> &[KeyError] {
        &self.errors
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

/// Literals (folded) one of which every match of `pattern` starts with, if few and non-empty.
///
/// Extracted case-sensitively and then folded, so they also prefilter `i` regexes:
/// any match, lowercased, starts with a lowercased literal.
fn literal_triggers(pattern: &str, multi_line: bool, dot_all: bool) -> Option<Vec<String>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::ParserBuilder::new()
        .multi_line(multi_line)
        .dot_matches_new_line(dot_all)
        .build()
        .parse(pattern)
        .ok()?;
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let lits = seq.literals()?;
    if lits.is_empty() || lits.len() > 64 {
        return None;
    }
    lits.iter()
        .map(|l| {
            let text = std::str::from_utf8(l.as_bytes()).ok()?;
            (!text.is_empty()).then(|| fold(text))
        })
        .collect()
}

/// For a fancy (look-around) pattern: its leading plain letters, when the pattern has no
/// alternation and those letters are not made optional, else `None` (the key always runs).
fn plain_prefix(pattern: &str) -> Option<String> {
    if pattern.contains('|') {
        return None;
    }
    let lit: String = pattern
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == ' ')
        .collect();
    let next = pattern.get(lit.len()..).and_then(|r| r.chars().next());
    let mut lit = lit;
    if matches!(next, Some('?' | '*' | '{')) {
        lit.pop();
    }
    (lit.chars().count() >= 2).then(|| fold(&lit))
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

/// Compiles `book` for scanning; `book_key` is what activations report as their book.
///
/// An invalid regex key never stops the book: it is listed in
/// [`CompiledBook::errors`] and its entry is reported as dropped with
/// `InvalidKey` whenever it does not fire on its other keys.
pub fn compile(book: &Book, book_key: &str, counter: &dyn TokenCounter) -> Result<CompiledBook> {
    let settings = book.settings.clone();
    let mut entries = Vec::with_capacity(book.entries.len());
    let mut slots: Vec<Slot> = Vec::new();
    let mut folded = Patterns::default();
    let mut exact = Patterns::default();
    let mut regex = Patterns::default();
    let mut fancy: Vec<FancyKey> = Vec::new();
    let mut fancy_ids: HashMap<String, usize> = HashMap::new();
    let mut regex_triggers: Vec<Option<Vec<String>>> = Vec::new();
    let mut errors = Vec::new();
    let mut by_uid = HashMap::with_capacity(book.entries.len());
    let mut constants = Vec::new();
    let mut max_entry_depth = 0u32;

    for (index, entry) in book.entries.iter().enumerate() {
        let entry_index = index as u32;
        by_uid.entry(entry.uid).or_insert(entry_index);
        if entry.constant && entry.enabled {
            constants.push(entry_index);
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
                    if regex.ids.contains_key(&full) {
                        regex.add(full, slot);
                    } else if let Some(id) = fancy_ids.get(&full) {
                        if let Some(f) = fancy.get_mut(*id) {
                            f.slots.push(slot);
                        }
                    } else {
                        // Parsing is enough to know `regex` accepts it; compiling 1,500
                        // regexes one by one would cost ~300 ms, so singles are built lazily.
                        match regex_syntax::Parser::new().parse(&full) {
                            Ok(_) => {
                                let id = regex.add(full, slot);
                                if id == regex_triggers.len() {
                                    regex_triggers
                                        .push(literal_triggers(&pattern, multi_line, dot_all));
                                }
                            }
                            // `regex` has no look-around or back-references; JS does.
                            Err(plain_err) => match fancy_regex::RegexBuilder::new(&full)
                                .backtrack_limit(FANCY_BACKTRACK_LIMIT)
                                .delegate_size_limit(REGEX_SIZE_LIMIT)
                                .build()
                            {
                                Ok(re) => {
                                    fancy_ids.insert(full, fancy.len());
                                    fancy.push(FancyKey {
                                        regex: re,
                                        slots: vec![slot],
                                        trigger: plain_prefix(&pattern),
                                    });
                                }
                                Err(fancy_err) => {
                                    let error = KeyError {
                                        uid: entry.uid,
                                        key: trimmed.to_owned(),
                                        error: format!("{fancy_err} ({plain_err})"),
                                    };
                                    errors.push(error.clone());
                                    invalid.get_or_insert(error);
                                }
                            },
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
            tokens: counter.count(&entry.content),
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
    // one more automaton); the rest share a RegexSet. Building a set of 1,500 Unicode
    // regexes costs ~700 ms, a literal automaton a few.
    let mut triggers = Patterns::default();
    let mut set_members = Vec::new();
    for (id, lits) in regex_triggers.iter().enumerate() {
        match lits {
            Some(lits) => lits.iter().for_each(|l| {
                triggers.add(l.clone(), id as u32);
            }),
            None => set_members.push(id),
        }
    }
    let regex_count = regex.texts.len();
    for (i, f) in fancy.iter().enumerate() {
        if let Some(t) = &f.trigger {
            triggers.add(t.clone(), (regex_count + i) as u32);
        }
    }
    let regex_set = if set_members.is_empty() {
        None
    } else {
        let texts: Vec<&String> = set_members
            .iter()
            .filter_map(|id| regex.texts.get(*id))
            .collect();
        let set = RegexSetBuilder::new(texts)
            .size_limit(
                REGEX_SIZE_LIMIT
                    .saturating_mul(set_members.len())
                    .min(1 << 30),
            )
            .build()
            .map_err(|e| Error::Internal(format!("building the regex key set: {e}")))?;
        Some(set)
    };

    Ok(CompiledBook {
        key: book_key.to_owned(),
        settings,
        entries,
        slots,
        folded: automaton(&folded.texts)?,
        folded_slots: PatternSlots::from_lists(folded.slots),
        exact: automaton(&exact.texts)?,
        exact_slots: PatternSlots::from_lists(exact.slots),
        regex_set,
        set_members,
        triggers: automaton(&triggers.texts)?,
        trigger_targets: PatternSlots::from_lists(triggers.slots),
        regexes: (0..regex.texts.len()).map(|_| OnceLock::new()).collect(),
        regex_texts: regex.texts.clone(),
        regex_slots: PatternSlots::from_lists(regex.slots),
        fancy,
        by_uid,
        constants,
        max_entry_depth,
        errors,
    })
}
