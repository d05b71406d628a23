//! Applying a dictionary: its rules in order for a scope, each within the
//! length limit (a rule that would pass it is skipped and reported), and a
//! character's dictionary before the global one.

use std::borrow::Cow;

use regex_automata::meta::Regex;

use super::limits::output_limit;
use super::{Dictionary, Kind, Outcome, Part};
use crate::lore::model::DictionaryScope;

impl Dictionary {
    /// Applies, in order, the rules for `scope` (rules marked `Both` apply to
    /// `Prompt` and `Display`; asking for `Both` applies every rule). Borrows
    /// `text` when nothing changes. A rule whose result would be longer than
    /// [`output_limit`] allows is skipped.
    pub fn apply<'t>(&self, text: &'t str, scope: DictionaryScope) -> Cow<'t, str> {
        self.apply_checked(text, scope).text
    }

    /// [`Dictionary::apply`], also saying which rules were skipped for length.
    pub fn apply_checked<'t>(&self, text: &'t str, scope: DictionaryScope) -> Applied<'t> {
        let mut skipped = Vec::new();
        let text = self.run(
            Cow::Borrowed(text),
            scope,
            output_limit(text.len()),
            &mut |rule| {
                skipped.push(SkippedRule {
                    global: false,
                    rule,
                })
            },
        );
        Applied { text, skipped }
    }

    fn run<'t>(
        &self,
        mut current: Cow<'t, str>,
        scope: DictionaryScope,
        limit: usize,
        skipped: &mut dyn FnMut(usize),
    ) -> Cow<'t, str> {
        for rule in &self.rules {
            if !applies(rule.scope, scope) {
                continue;
            }
            let outcome = match &rule.kind {
                Kind::Literal { find, replace } => replace_literal(&current, find, replace, limit),
                Kind::Pattern { re, replace } => replace_pattern(&current, re, replace, limit),
            };
            match outcome {
                Outcome::Unchanged => {}
                Outcome::Changed(s) => current = Cow::Owned(s),
                Outcome::TooLong => skipped(rule.index),
            }
        }
        current
    }
}

pub(super) fn applies(rule: DictionaryScope, asked: DictionaryScope) -> bool {
    rule == DictionaryScope::Both || asked == DictionaryScope::Both || rule == asked
}

/// `text` with every `find` replaced, unless the result would pass `limit` bytes.
fn replace_literal(text: &str, find: &str, replace: &str, limit: usize) -> Outcome {
    let mut out: Option<String> = None;
    let mut last = 0;
    for (start, _) in text.match_indices(find) {
        let buf = out.get_or_insert_with(|| String::with_capacity(text.len().min(limit)));
        buf.push_str(&text[last..start]);
        buf.push_str(replace);
        last = start + find.len();
        if buf.len() > limit {
            return Outcome::TooLong;
        }
    }
    finish(out, text, last, limit)
}

/// `text` with every match of `re` replaced by `parts`, unless the result would pass `limit` bytes.
fn replace_pattern(text: &str, re: &Regex, parts: &[Part], limit: usize) -> Outcome {
    let mut out: Option<String> = None;
    let mut last = 0;
    let uses_groups = parts.iter().any(|p| matches!(p, Part::Group(_)));
    if uses_groups {
        for caps in re.captures_iter(text) {
            let Some(m) = caps.get_match() else { continue };
            let buf = out.get_or_insert_with(|| String::with_capacity(text.len().min(limit)));
            buf.push_str(&text[last..m.start()]);
            for part in parts {
                match part {
                    Part::Text(t) => buf.push_str(t),
                    Part::Group(g) => {
                        if let Some(span) = caps.get_group(*g) {
                            buf.push_str(&text[span.start..span.end]);
                        }
                    }
                }
            }
            last = m.end();
            if buf.len() > limit {
                return Outcome::TooLong;
            }
        }
    } else {
        for m in re.find_iter(text) {
            let buf = out.get_or_insert_with(|| String::with_capacity(text.len().min(limit)));
            buf.push_str(&text[last..m.start()]);
            for part in parts {
                if let Part::Text(t) = part {
                    buf.push_str(t);
                }
            }
            last = m.end();
            if buf.len() > limit {
                return Outcome::TooLong;
            }
        }
    }
    finish(out, text, last, limit)
}

fn finish(out: Option<String>, text: &str, last: usize, limit: usize) -> Outcome {
    match out {
        None => Outcome::Unchanged,
        Some(mut buf) => {
            if buf.len() + (text.len() - last) > limit {
                return Outcome::TooLong;
            }
            buf.push_str(&text[last..]);
            if buf == text {
                Outcome::Unchanged
            } else {
                Outcome::Changed(buf)
            }
        }
    }
}

/// A rule skipped because its result would have been too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedRule {
    /// The rule is in the global dictionary (else in the character's).
    pub global: bool,
    /// Its position in its dictionary's list (from 0).
    pub rule: usize,
}

/// A text after dictionaries ran, and the rules skipped for length.
#[derive(Debug, Clone)]
pub struct Applied<'t> {
    /// The text (borrowed when nothing changed).
    pub text: Cow<'t, str>,
    /// Rules that would have made the text too long, in the order they ran.
    pub skipped: Vec<SkippedRule>,
}

/// Applies the character's dictionary first, then the global one, within
/// one [`output_limit`] of `text`'s length.
pub fn apply_all(
    character: &Dictionary,
    global: &Dictionary,
    text: &str,
    scope: DictionaryScope,
) -> String {
    apply_all_checked(character, global, text, scope)
        .text
        .into_owned()
}

/// [`apply_all`], borrowing `text` when nothing changed and saying which rules were skipped.
pub fn apply_all_checked<'t>(
    character: &Dictionary,
    global: &Dictionary,
    text: &'t str,
    scope: DictionaryScope,
) -> Applied<'t> {
    let limit = output_limit(text.len());
    let mut skipped = Vec::new();
    let after_character = character.run(Cow::Borrowed(text), scope, limit, &mut |rule| {
        skipped.push(SkippedRule {
            global: false,
            rule,
        })
    });
    let text = global.run(after_character, scope, limit, &mut |rule| {
        skipped.push(SkippedRule { global: true, rule })
    });
    Applied { text, skipped }
}
