//! Chat dictionaries: find/replace rules applied to the prompt, to replies as
//! shown, or both.
//!
//! Rules run in their list order, each on the text the previous one left.
//! [`apply_all`] runs the character's dictionary first, then the global one,
//! so a character can rename something before the global rules see it.
//!
//! - A plain rule finds its text literally (respecting case, or ignoring it
//!   with Unicode case folding) and puts the replacement in literally.
//! - A regex rule uses the `regex` crate's syntax (no look-around or
//!   back-references; always linear time). Its replacement understands
//!   JavaScript's forms: `$1`..`$99`, `$&` (the whole match), `$<name>`, and
//!   `$$` for a dollar sign; `${name}`/`${1}` work too. Any other `$` is
//!   literal, and `$1a` is group 1 then `a` (as in JavaScript, unlike the
//!   `regex` crate's own `$1a`).
//! - Rules with an empty find text or an invalid regex are skipped; `compile`
//!   says which and why, in plain words.
//!
//! Dictionaries come from cards, so they are treated as hostile: a dictionary
//! holds at most [`MAX_DICTIONARY_RULES`] rules, its regexes together may use
//! at most [`MAX_DICTIONARY_REGEX_MEMORY`], and applying it never makes a text
//! longer than [`output_limit`] allows (a rule that would is skipped and
//! reported). Compiled dictionaries are kept in [`CompiledDictionaries`], so a
//! send does not compile them again.
//!
//! This file holds the compiled form; `limits.rs` the limits, `compile.rs`
//! compiling rules, `apply.rs` applying them, `check.rs` checking rules being
//! edited or saved, `cache.rs` the compiled dictionaries kept between sends,
//! `display.rs` the texts a chat shows, and `json.rs` the form cards carry.

mod apply;
mod cache;
mod check;
mod compile;
mod display;
mod json;
mod limits;

pub use apply::{apply_all, apply_all_checked, Applied, SkippedRule};
pub use cache::CompiledDictionaries;
pub use check::{check_rules, rule_problems, RuleProblem};
pub use display::{display_texts, DisplayTexts, MAX_DISPLAY_BYTES, MAX_DISPLAY_TEXTS};
pub use json::{dictionary_from_json, dictionary_to_json};
pub use limits::{
    output_limit, GROWTH_ALLOWANCE_BYTES, MAX_DICTIONARY_REGEX_MEMORY, MAX_DICTIONARY_RULES,
    MAX_GROWTH_FACTOR, MAX_OUTPUT_BYTES, MAX_RULE_TEXT_BYTES,
};

use regex_automata::meta::Regex;

use super::model::DictionaryScope;
use apply::applies;

/// Compiled find/replace rules (plain or regex, case option, enabled flag, scope).
#[derive(Debug, Clone, Default)]
pub struct Dictionary {
    rules: Vec<Compiled>,
    problems: Vec<(usize, String)>,
}

#[derive(Debug, Clone)]
struct Compiled {
    /// The rule's position in the list it was compiled from.
    index: usize,
    scope: DictionaryScope,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// Case-sensitive plain text.
    Literal { find: String, replace: String },
    /// A regex (or case-insensitive plain text, escaped) and its replacement.
    Pattern { re: Regex, replace: Vec<Part> },
}

/// A piece of a replacement: text as is, or what a group matched.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Group(usize),
}

/// What applying a rule gave.
enum Outcome {
    Unchanged,
    Changed(String),
    /// The result would pass the length limit: the rule is skipped.
    TooLong,
}

impl Dictionary {
    /// The rules compile skipped, as `(rule index, reason)`.
    pub fn problems(&self) -> &[(usize, String)] {
        &self.problems
    }

    /// How many rules will run (enabled and valid).
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// No rule will run.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// How many rules run for `scope` (see [`Dictionary::apply`]).
    pub fn count_for(&self, scope: DictionaryScope) -> usize {
        self.rules
            .iter()
            .filter(|r| applies(r.scope, scope))
            .count()
    }
}
