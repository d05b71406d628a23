//! Regex keys under explicit limits: each key is compiled once, when its book is
//! compiled, within a per-key size and a per-book budget. A key that cannot be built,
//! or does not fit, becomes that key's error and the rest of the book works.
//!
//! Limits (untrusted patterns from shared books):
//! - a pattern is at most [`KEY_PATTERN_LIMIT`] bytes;
//! - a key's compiled automaton is at most [`KEY_SIZE_LIMIT`] (`regex`'s `size_limit`),
//!   and its lazy DFA cache while searching at most [`KEY_DFA_LIMIT`] (`dfa_size_limit`);
//! - all regex keys of one book together at most [`BOOK_REGEX_BUDGET`], and the work
//!   spent on keys that did not fit is bounded too, so a book of thousands of heavy
//!   keys compiles in bounded time. A key whose size, estimated from its syntax tree
//!   (an upper bound, calibrated against `regex-automata`), is small is charged that
//!   bound and built on first use, held to it; any other key is built right away and
//!   charged what it measures. Most keys are small, and most never match: a book of
//!   1,500 regex keys compiles in a fraction of the time building them all would take;
//! - a look-around or back-reference key (`fancy-regex`) backtracks at most
//!   [`FANCY_BACKTRACK_LIMIT`] steps per search (a search that hits it is reported), and
//!   is charged twice the size of its plain analog (look-arounds as plain groups,
//!   back-references removed), which bounds what its delegated parts can take.

use std::sync::OnceLock;

use regex_automata::meta;
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_syntax::hir::{Class, Hir, HirKind};

use crate::lore::report::KeyErrorKind;

/// Longest regex key, in bytes of pattern text.
pub const KEY_PATTERN_LIMIT: usize = 4096;
/// Largest compiled automaton of one regex key (`regex`'s `size_limit`).
pub const KEY_SIZE_LIMIT: usize = 1 << 20;
/// Largest lazy-DFA cache one regex key may grow while searching (`dfa_size_limit`).
pub const KEY_DFA_LIMIT: usize = 256 << 10;
/// Total compiled size of one book's regex keys.
pub const BOOK_REGEX_BUDGET: usize = 32 << 20;
/// Backtracking steps a look-around or back-reference key may take per search.
pub const FANCY_BACKTRACK_LIMIT: usize = 100_000;
/// The least a failed attempt is charged, so failures cannot be spent one byte at a time.
const MIN_ATTEMPT_CHARGE: usize = 64 << 10;
/// Keys estimated to need at most this much are built on first use.
const LAZY_CHARGE_LIMIT: usize = 16 << 10;

/// A key `regex-automata` runs in linear time: built already, or on first use.
#[derive(Debug)]
pub(crate) struct PlainKey {
    /// The pattern with its flags, for a build on first use.
    pattern: String,
    /// The size limit of that build (the key's charge).
    limit: usize,
    built: OnceLock<Result<meta::Regex, String>>,
}

impl PlainKey {
    /// The compiled key; the error when a build on first use did not fit its charge.
    pub(crate) fn regex(&self) -> Result<&meta::Regex, &str> {
        self.built
            .get_or_init(|| {
                meta::Builder::new()
                    .configure(plain_config(self.limit))
                    .build(&self.pattern)
                    .map_err(|e| format!("it did not compile within its estimated size: {e}"))
            })
            .as_ref()
            .map_err(String::as_str)
    }
}

/// A regex key built for scanning.
#[derive(Debug)]
pub(crate) enum Built {
    /// A key `regex-automata` runs in linear time.
    Plain(PlainKey),
    /// A key with look-around or back-references, run by `fancy-regex`.
    Fancy(fancy_regex::Regex),
}

/// How a plain key is built: only the match span is needed (no groups); no prefilter
/// either, since the scan runs a key only where its literal start occurs, or once per batch.
fn plain_config(limit: usize) -> meta::Config {
    meta::Config::new()
        .which_captures(WhichCaptures::Implicit)
        .nfa_size_limit(Some(limit))
        .onepass(false)
        .auto_prefilter(false)
        .hybrid_cache_capacity(KEY_DFA_LIMIT)
}

/// An upper bound of what `regex-automata` builds for `hir` (forward and reverse
/// automata with the fixed part), from the syntax tree alone: each byte range a class
/// compiles to, each repetition copied as many times as it may be.
fn estimate(hir: &Hir) -> usize {
    fn forward(h: &Hir) -> u64 {
        match h.kind() {
            HirKind::Empty => 16,
            HirKind::Literal(l) => 40 * l.0.len() as u64 + 16,
            HirKind::Class(Class::Bytes(c)) => 40 + 24 * c.ranges().len() as u64,
            HirKind::Class(Class::Unicode(c)) => {
                let bytes: u64 = c
                    .ranges()
                    .iter()
                    .flat_map(|r| regex_syntax::utf8::Utf8Sequences::new(r.start(), r.end()))
                    .map(|seq| seq.len() as u64)
                    .sum();
                40 + 24 * bytes
            }
            HirKind::Look(_) => 24,
            HirKind::Repetition(r) => {
                let copies = match r.max {
                    Some(max) => u64::from(max.max(1)),
                    None => u64::from(r.min).saturating_add(1),
                };
                forward(&r.sub).saturating_mul(copies).saturating_add(32)
            }
            HirKind::Capture(c) => forward(&c.sub).saturating_add(40),
            HirKind::Concat(v) | HirKind::Alternation(v) => v
                .iter()
                .map(forward)
                .fold(16 + 16 * v.len() as u64, u64::saturating_add),
        }
    }
    // Measured: the whole regex stays under 2 KiB plus twice the forward bound.
    usize::try_from(forward(hir).saturating_mul(2).saturating_add(2048)).unwrap_or(usize::MAX)
}

/// Why a key was not built: the kind and the words for the user.
pub(crate) type Refusal = (KeyErrorKind, String);

/// What one book's regex keys may still use.
#[derive(Debug)]
pub(crate) struct RegexBudget {
    /// Bytes of compiled keys still allowed.
    left: usize,
    /// Bytes of compile work (kept keys and failed attempts) still allowed.
    work_left: usize,
    used: usize,
}

impl RegexBudget {
    /// A budget of `total` bytes of compiled keys (and twice that of work).
    pub(crate) fn new(total: usize) -> RegexBudget {
        RegexBudget {
            left: total,
            work_left: total.saturating_mul(2),
            used: 0,
        }
    }

    /// Bytes the kept keys use.
    pub(crate) fn used(&self) -> usize {
        self.used
    }

    /// Builds the key `full` (JS flags already turned into an inline group).
    pub(crate) fn build(&mut self, full: &str) -> Result<Built, Refusal> {
        if full.len() > KEY_PATTERN_LIMIT {
            return Err((
                KeyErrorKind::TooLarge,
                format!(
                    "the pattern is {} bytes long; a regex key may have at most {KEY_PATTERN_LIMIT}",
                    full.len()
                ),
            ));
        }
        match regex_syntax::Parser::new().parse(full) {
            Ok(hir) => self.build_plain(full, &hir),
            // `regex` has no look-around or back-references; JavaScript (and so ST) has.
            Err(plain_err) => self.build_fancy(full, &plain_err),
        }
    }

    /// The size limit for the next attempt, or the refusal when nothing is left.
    fn next_limit(&self) -> Result<usize, Refusal> {
        let limit = KEY_SIZE_LIMIT.min(self.left).min(self.work_left);
        if limit == 0 {
            return Err(self.over_budget());
        }
        Ok(limit)
    }

    fn over_budget(&self) -> Refusal {
        (
            KeyErrorKind::BookBudget,
            format!(
                "the book's regex keys already use their budget of {} MiB; this key was not compiled",
                BOOK_REGEX_BUDGET >> 20
            ),
        )
    }

    /// A failed attempt at `limit`: charged to the work budget, explained.
    fn too_big(&mut self, limit: usize) -> Refusal {
        self.work_left = self.work_left.saturating_sub(limit.max(MIN_ATTEMPT_CHARGE));
        if limit >= KEY_SIZE_LIMIT {
            (
                KeyErrorKind::TooLarge,
                format!(
                    "it compiles to more than {} MiB (a key may use 1 MiB); use a smaller repetition count or a narrower class",
                    KEY_SIZE_LIMIT >> 20
                ),
            )
        } else {
            self.over_budget()
        }
    }

    /// Keeps `bytes` of a built key, or refuses it when the book has no room.
    fn keep(&mut self, bytes: usize) -> Result<(), Refusal> {
        if bytes > self.left {
            self.work_left = self.work_left.saturating_sub(bytes);
            return Err(self.over_budget());
        }
        self.left -= bytes;
        self.work_left = self.work_left.saturating_sub(bytes);
        self.used += bytes;
        Ok(())
    }

    fn build_plain(&mut self, full: &str, hir: &Hir) -> Result<Built, Refusal> {
        let charge = estimate(hir);
        if charge <= LAZY_CHARGE_LIMIT {
            self.keep(charge)?;
            return Ok(Built::Plain(PlainKey {
                pattern: full.to_owned(),
                limit: charge,
                built: OnceLock::new(),
            }));
        }
        let limit = self.next_limit()?;
        match meta::Builder::new()
            .configure(plain_config(limit))
            .build_from_hir(hir)
        {
            Ok(re) => {
                self.keep(re.memory_usage())?;
                Ok(Built::Plain(PlainKey {
                    pattern: String::new(),
                    limit,
                    built: OnceLock::from(Ok(re)),
                }))
            }
            Err(e) if e.size_limit().is_some() => Err(self.too_big(limit)),
            Err(e) => Err((KeyErrorKind::Invalid, e.to_string())),
        }
    }

    fn build_fancy(
        &mut self,
        full: &str,
        plain_err: &regex_syntax::Error,
    ) -> Result<Built, Refusal> {
        // Charge the plain analog's size first: what the delegated parts can take.
        let charge = match regex_syntax::Parser::new().parse(&plain_analog(full)) {
            Ok(hir) => {
                let limit = self.next_limit()?;
                let nfa = thompson::Compiler::new()
                    .configure(
                        thompson::Config::new()
                            .which_captures(WhichCaptures::Implicit)
                            .nfa_size_limit(Some(limit)),
                    )
                    .build_from_hir(&hir);
                match nfa {
                    Ok(nfa) => nfa.memory_usage().saturating_mul(2),
                    Err(e) if e.size_limit().is_some() => return Err(self.too_big(limit)),
                    Err(_) => KEY_SIZE_LIMIT,
                }
            }
            // Syntax only fancy-regex knows: charge what one key may take at most.
            Err(_) => KEY_SIZE_LIMIT,
        };
        if charge > self.left {
            self.work_left = self.work_left.saturating_sub(charge);
            return Err(self.over_budget());
        }
        let built = fancy_regex::RegexBuilder::new(full)
            .backtrack_limit(FANCY_BACKTRACK_LIMIT)
            .delegate_size_limit(KEY_SIZE_LIMIT)
            .delegate_dfa_size_limit(KEY_DFA_LIMIT)
            .build();
        match built {
            Ok(re) => {
                self.keep(charge)?;
                Ok(Built::Fancy(re))
            }
            Err(fancy_err) => {
                self.work_left = self.work_left.saturating_sub(charge);
                Err((KeyErrorKind::Invalid, invalid_words(&fancy_err, plain_err)))
            }
        }
    }
}

/// The clearest words for a pattern neither engine accepts.
fn invalid_words(fancy_err: &fancy_regex::Error, plain_err: &regex_syntax::Error) -> String {
    use fancy_regex::Error;
    match fancy_err {
        // `regex-syntax` says where, with a caret; its last line is the reason.
        Error::ParseError(..) => {
            let text = plain_err.to_string();
            let reason = text
                .lines()
                .rev()
                .find_map(|l| l.trim().strip_prefix("error: "))
                .unwrap_or(text.trim());
            format!("not a valid regex: {reason}")
        }
        other => format!("not a valid regex: {other}"),
    }
}

/// The pattern with look-arounds turned into plain groups and back-references
/// removed: it contains every part `fancy-regex` would hand to `regex`, once.
fn plain_analog(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek().copied() {
                Some(d) if !in_class && d.is_ascii_digit() && d != '0' => {
                    while chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                        chars.next();
                    }
                }
                Some('k') if !in_class => {
                    chars.next();
                    let close = match chars.next() {
                        Some('<') => '>',
                        Some('\'') => '\'',
                        Some('{') => '}',
                        _ => continue,
                    };
                    for d in chars.by_ref() {
                        if d == close {
                            break;
                        }
                    }
                }
                Some(d) => {
                    chars.next();
                    out.push('\\');
                    out.push(d);
                }
                None => out.push('\\'),
            },
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A `]` right after `[` or `[^` is a literal.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push(']');
                    chars.next();
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '(' if !in_class && chars.peek() == Some(&'?') => {
                let rest: String = chars.clone().take(3).collect();
                let skip =
                    if rest.starts_with("?=") || rest.starts_with("?!") || rest.starts_with("?>") {
                        2
                    } else if rest.starts_with("?<=") || rest.starts_with("?<!") {
                        3
                    } else {
                        0
                    };
                if skip > 0 {
                    for _ in 0..skip {
                        chars.next();
                    }
                    out.push_str("(?:");
                } else {
                    out.push('(');
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Literals (folded) one of which every match of `pattern` starts with, if few and non-empty.
///
/// Extracted case-sensitively and then folded, so they also prefilter `i` regexes:
/// any match, lowercased, starts with a lowercased literal.
pub(crate) fn literal_triggers(
    pattern: &str,
    multi_line: bool,
    dot_all: bool,
) -> Option<Vec<String>> {
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
            (!text.is_empty()).then(|| super::matcher::fold(text))
        })
        .collect()
}

/// For a fancy (look-around) pattern: its leading plain letters, when the pattern has no
/// alternation and those letters are not made optional, else `None` (the key always runs).
pub(crate) fn plain_prefix(pattern: &str) -> Option<String> {
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
    (lit.chars().count() >= 2).then(|| super::matcher::fold(&lit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analog_keeps_the_delegated_parts_once() {
        assert_eq!(plain_analog(r"cat(?!fish)"), r"cat(?:fish)");
        assert_eq!(plain_analog(r"(?<=\w{3})x(?<!y)"), r"(?:\w{3})x(?:y)");
        assert_eq!(plain_analog(r"(a|b)\1\k<n>z"), r"(a|b)z");
        assert_eq!(plain_analog(r"[(?=]\(?=x"), r"[(?=]\(?=x");
        assert_eq!(plain_analog(r"(?<name>a)(?>b)"), r"(?<name>a)(?:b)");
    }

    #[test]
    fn a_key_over_its_size_limit_is_refused_and_the_budget_is_kept() {
        let mut budget = RegexBudget::new(BOOK_REGEX_BUDGET);
        let err = budget.build(r"\w{100}").err();
        assert!(matches!(err, Some((KeyErrorKind::TooLarge, _))), "{err:?}");
        assert_eq!(budget.used(), 0);
        assert!(matches!(budget.build("dragons?"), Ok(Built::Plain(_))));
        assert!(budget.used() > 0);
    }

    #[test]
    fn estimates_bound_what_keys_build() {
        for pattern in [
            r"(?i)zorvath(s|es)?\b",
            "dragon",
            r"(?i)ß",
            r"\w{3}",
            r"\d+",
            r"(?s).{20}",
            r"[^a]{20}",
            r"\S{5}",
            r"(?i)[а-яё]+",
            r"\b(cat|dog|bird|fish)s?\b",
            r"[\u0100-\uFFFF]{4}",
            r"(a|b|c|d|e|f|g|h){3}",
            r"(?i)\p{Lu}{3}",
        ] {
            let hir = regex_syntax::Parser::new().parse(pattern).unwrap();
            let built = meta::Builder::new()
                .configure(plain_config(KEY_SIZE_LIMIT))
                .build_from_hir(&hir)
                .unwrap();
            assert!(
                built.memory_usage() <= estimate(&hir),
                "{pattern}: {} > {}",
                built.memory_usage(),
                estimate(&hir)
            );
        }
    }

    #[test]
    fn small_keys_are_built_on_first_use_within_their_charge() {
        let mut budget = RegexBudget::new(BOOK_REGEX_BUDGET);
        let Ok(Built::Plain(key)) = budget.build("(?i)dragons?") else {
            panic!("a plain key");
        };
        assert!(key.built.get().is_none(), "not built yet");
        assert_eq!(budget.used(), key.limit);
        let re = key.regex().unwrap();
        assert!(re.is_match("two DRAGONS"));
        assert!(re.memory_usage() <= key.limit);
    }

    #[test]
    fn a_full_budget_refuses_more_keys() {
        let mut budget = RegexBudget::new(4 << 10);
        assert!(matches!(
            budget.build(r"\w{20}x"),
            Err((KeyErrorKind::BookBudget, _))
        ));
    }

    #[test]
    fn look_around_keys_are_charged_and_bad_ones_explained() {
        let mut budget = RegexBudget::new(BOOK_REGEX_BUDGET);
        assert!(matches!(budget.build("cat(?!fish)"), Ok(Built::Fancy(_))));
        assert!(budget.used() > 0);
        match budget.build("(unclosed") {
            Err((KeyErrorKind::Invalid, words)) => {
                assert!(words.starts_with("not a valid regex"), "{words}");
                assert!(!words.contains('\n'), "{words}");
            }
            other => panic!("{other:?}"),
        }
    }
}
