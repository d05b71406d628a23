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

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use regex_automata::meta::{self, Regex};
use regex_automata::util::syntax;
use regex_automata::PatternID;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::model::{DictionaryRule, DictionaryScope};
use crate::error::Error;
use crate::store::Store;
use crate::Result;

/// Most rules one dictionary may hold (saved, read from a card, or compiled).
pub const MAX_DICTIONARY_RULES: usize = 10_000;
/// Longest find or replace text of one rule, in bytes.
pub const MAX_RULE_TEXT_BYTES: usize = 64 * 1024;
/// Memory all the regexes of one dictionary may use together once compiled.
pub const MAX_DICTIONARY_REGEX_MEMORY: usize = 32 * 1024 * 1024;
/// Memory one compiled regex may use.
const REGEX_SIZE_LIMIT: usize = 2 * 1024 * 1024;
/// The lazy DFA's cache for one regex (searches stay linear when it is full).
const REGEX_CACHE_CAPACITY: usize = 1024 * 1024;

/// A text may grow to this many times its length...
pub const MAX_GROWTH_FACTOR: usize = 4;
/// ...or by this many bytes, whichever is more...
pub const GROWTH_ALLOWANCE_BYTES: usize = 64 * 1024;
/// ...but never past this (unless it was that long to begin with).
pub const MAX_OUTPUT_BYTES: usize = 16 * 1024 * 1024;

/// Most texts one [`display_texts`] call renders.
pub const MAX_DISPLAY_TEXTS: usize = 2_000;
/// Most bytes (all texts together) one [`display_texts`] call renders.
pub const MAX_DISPLAY_BYTES: usize = 32 * 1024 * 1024;

/// How long dictionaries may make a text of `input_len` bytes: at most
/// [`MAX_GROWTH_FACTOR`] times as long or [`GROWTH_ALLOWANCE_BYTES`] longer,
/// whichever is more, and never over [`MAX_OUTPUT_BYTES`]; a text already
/// longer than that may keep its length.
pub fn output_limit(input_len: usize) -> usize {
    let grown = input_len
        .saturating_mul(MAX_GROWTH_FACTOR)
        .max(input_len.saturating_add(GROWTH_ALLOWANCE_BYTES));
    grown.min(MAX_OUTPUT_BYTES).max(input_len)
}

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
    /// Compiles the enabled rules. Rules that cannot work (an empty find text,
    /// an invalid regex, too long a text, past the rule or memory limits) are
    /// skipped and reported as `(rule index, reason)`.
    pub fn compile(rules: &[DictionaryRule]) -> (Dictionary, Vec<(usize, String)>) {
        let mut compiled = Vec::new();
        let mut problems = Vec::new();
        let mut regex_memory = 0usize;
        for (i, rule) in rules.iter().enumerate() {
            if i >= MAX_DICTIONARY_RULES {
                problems.push((
                    i,
                    format!(
                        "a chat dictionary holds at most {MAX_DICTIONARY_RULES} rules, so this one is not used"
                    ),
                ));
                continue;
            }
            if !rule.enabled {
                continue;
            }
            if rule.find.is_empty() {
                problems.push((
                    i,
                    "the text to find is empty, so the rule does nothing".into(),
                ));
                continue;
            }
            if let Some(reason) = oversized(rule) {
                problems.push((i, reason));
                continue;
            }
            let kind = if !rule.regex && rule.case_sensitive {
                Kind::Literal {
                    find: rule.find.clone(),
                    replace: rule.replace.clone(),
                }
            } else {
                let pattern: Cow<'_, str> = if rule.regex {
                    Cow::Borrowed(&rule.find)
                } else {
                    Cow::Owned(regex_syntax::escape(&rule.find))
                };
                let re = match build(&pattern, rule.case_sensitive) {
                    Ok(re) => re,
                    Err(e) => {
                        problems.push((i, regex_words(&rule.find, &e)));
                        continue;
                    }
                };
                regex_memory = regex_memory.saturating_add(re.memory_usage());
                if regex_memory > MAX_DICTIONARY_REGEX_MEMORY {
                    problems.push((
                        i,
                        format!(
                            "the dictionary's patterns would need more than {} MB together, \
                             so this one is not used",
                            MAX_DICTIONARY_REGEX_MEMORY / (1024 * 1024)
                        ),
                    ));
                    regex_memory -= re.memory_usage();
                    continue;
                }
                let replace = if rule.regex {
                    js_replacement(&rule.replace, &re)
                } else {
                    vec![Part::Text(rule.replace.clone())]
                };
                Kind::Pattern { re, replace }
            };
            compiled.push(Compiled {
                index: i,
                scope: rule.scope,
                kind,
            });
        }
        let dictionary = Dictionary {
            rules: compiled,
            problems: problems.clone(),
        };
        (dictionary, problems)
    }

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

fn applies(rule: DictionaryScope, asked: DictionaryScope) -> bool {
    rule == DictionaryScope::Both || asked == DictionaryScope::Both || rule == asked
}

/// A rule whose text is too long to keep, in plain words.
fn oversized(rule: &DictionaryRule) -> Option<String> {
    let (field, len) = if rule.find.len() > MAX_RULE_TEXT_BYTES {
        ("text to find", rule.find.len())
    } else if rule.replace.len() > MAX_RULE_TEXT_BYTES {
        ("replacement", rule.replace.len())
    } else {
        return None;
    };
    Some(format!(
        "the {field} is {} KB long; a rule's texts may be at most {} KB",
        len.div_ceil(1024),
        MAX_RULE_TEXT_BYTES / 1024
    ))
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

/// Checks rules before they are saved: too many is `too_large`, a rule that
/// cannot work is `invalid_input` naming it (from 1) and why.
pub fn check_rules(rules: &[DictionaryRule]) -> Result<()> {
    if rules.len() > MAX_DICTIONARY_RULES {
        return Err(Error::TooLarge {
            what: format!("The chat dictionary ({} rules)", rules.len()),
            limit: format!("{MAX_DICTIONARY_RULES} rules"),
        });
    }
    // Rules that are off are still stored: their texts count too.
    if let Some((i, len)) = rules.iter().enumerate().find_map(|(i, r)| {
        let len = r.find.len().max(r.replace.len());
        (len > MAX_RULE_TEXT_BYTES).then_some((i, len))
    }) {
        return Err(Error::TooLarge {
            what: format!("Chat dictionary rule {} ({} KB)", i + 1, len.div_ceil(1024)),
            limit: format!(
                "{} KB of text to find or to put",
                MAX_RULE_TEXT_BYTES / 1024
            ),
        });
    }
    let (_, problems) = Dictionary::compile(rules);
    match problems.into_iter().next() {
        Some((index, reason)) => Err(Error::InvalidInput(format!(
            "chat dictionary rule {}: {reason}",
            index + 1
        ))),
        None => Ok(()),
    }
}

/// Why one rule of a dictionary being edited cannot work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RuleProblem {
    /// The rule's position in the list (from 0).
    pub index: u32,
    /// The reason, in plain words.
    pub message: String,
}

/// What is wrong with rules being edited, read exactly as the core will
/// apply them (the editor shows this while typing). Rules with nothing to
/// find yet are not reported: saving leaves them out.
pub fn rule_problems(rules: &[DictionaryRule]) -> Vec<RuleProblem> {
    let (_, problems) = Dictionary::compile(rules);
    let mut found: Vec<RuleProblem> = problems
        .into_iter()
        .filter(|(i, _)| rules.get(*i).is_some_and(|r| !r.find.is_empty()))
        .map(|(i, message)| RuleProblem {
            index: u32::try_from(i).unwrap_or(u32::MAX),
            message,
        })
        .collect();
    // Rules that are off are not compiled, but their regexes are still checked.
    for (i, rule) in rules.iter().enumerate().take(MAX_DICTIONARY_RULES) {
        if rule.enabled
            || !rule.regex
            || rule.find.is_empty()
            || rule.find.len() > MAX_RULE_TEXT_BYTES
        {
            continue;
        }
        if let Err(e) = build(&rule.find, rule.case_sensitive) {
            found.push(RuleProblem {
                index: u32::try_from(i).unwrap_or(u32::MAX),
                message: regex_words(&rule.find, &e),
            });
        }
    }
    found.sort_by_key(|p| p.index);
    found
}

fn build(pattern: &str, case_sensitive: bool) -> std::result::Result<Regex, Box<meta::BuildError>> {
    // The settings the `regex` crate's `Regex` uses, with tighter limits.
    Regex::builder()
        .syntax(
            syntax::Config::new()
                .case_insensitive(!case_sensitive)
                .utf8(true),
        )
        .configure(
            Regex::config()
                .match_kind(regex_automata::MatchKind::LeftmostFirst)
                .utf8_empty(true)
                .nfa_size_limit(Some(REGEX_SIZE_LIMIT))
                .hybrid_cache_capacity(REGEX_CACHE_CAPACITY),
        )
        .build(pattern)
        .map_err(Box::new)
}

/// A regex error in plain words, without the parser's caret diagram.
fn regex_words(pattern: &str, e: &meta::BuildError) -> String {
    let shown: String = pattern.chars().take(60).collect();
    let ellipsis = if shown.len() < pattern.len() {
        "..."
    } else {
        ""
    };
    if let Some(limit) = e.size_limit() {
        return format!(
            "the pattern `{shown}{ellipsis}` is too complex (it would need more than {} KB)",
            limit / 1024
        );
    }
    let text = match e.syntax_error() {
        Some(syntax) => syntax.to_string(),
        None => e.to_string(),
    };
    let reason = text
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or("it cannot be parsed")
        .to_owned();
    let hint = if reason.contains("look-around") || reason.contains("backreferences") {
        " (Confab's regexes have no look-around or back-references)"
    } else {
        ""
    };
    format!("the pattern `{shown}{ellipsis}` is not a valid regular expression: {reason}{hint}")
}

/// Reads a JavaScript-style replacement into parts, resolving group names to numbers.
fn js_replacement(js: &str, re: &Regex) -> Vec<Part> {
    let info = re.group_info();
    let groups = info.group_len(PatternID::ZERO).saturating_sub(1);
    let chars: Vec<char> = js.chars().collect();
    let mut parts: Vec<Part> = Vec::new();
    let mut text = String::new();
    fn group(parts: &mut Vec<Part>, text: &mut String, g: usize) {
        if !text.is_empty() {
            parts.push(Part::Text(std::mem::take(text)));
        }
        parts.push(Part::Group(g));
    }
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '$' {
            text.push(c);
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).copied();
        match next {
            Some('$') => {
                text.push('$');
                i += 2;
            }
            Some('&') => {
                group(&mut parts, &mut text, 0);
                i += 2;
            }
            Some(d) if d.is_ascii_digit() => {
                let d1 = d.to_digit(10).unwrap_or(0) as usize;
                let two = chars
                    .get(i + 2)
                    .and_then(|c| c.to_digit(10))
                    .map(|d2| d1 * 10 + d2 as usize);
                match two {
                    Some(n) if n >= 1 && n <= groups => {
                        group(&mut parts, &mut text, n);
                        i += 3;
                    }
                    _ if d1 >= 1 && d1 <= groups => {
                        group(&mut parts, &mut text, d1);
                        i += 2;
                    }
                    _ => {
                        text.push('$');
                        i += 1;
                    }
                }
            }
            Some('<') | Some('{') => {
                let close = if next == Some('<') { '>' } else { '}' };
                let end = chars[i + 2..].iter().position(|&c| c == close);
                let found = end.and_then(|len| {
                    let name: String = chars[i + 2..i + 2 + len].iter().collect();
                    let is_number = !name.is_empty() && name.chars().all(|c| c.is_ascii_digit());
                    let index = if is_number {
                        name.parse::<usize>().ok().filter(|&n| n <= groups)
                    } else {
                        info.to_index(PatternID::ZERO, &name)
                    };
                    index.map(|g| (g, len))
                });
                match found {
                    Some((g, len)) => {
                        group(&mut parts, &mut text, g);
                        i += 3 + len;
                    }
                    None => {
                        // An unknown name stays as written, as JavaScript leaves it.
                        text.push('$');
                        i += 1;
                    }
                }
            }
            _ => {
                text.push('$');
                i += 1;
            }
        }
    }
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    parts
}

/// Compiled dictionaries by character (or `None` for the global one), kept
/// until their stored rules change: a send compiles nothing it compiled before.
#[derive(Debug, Default)]
pub struct CompiledDictionaries {
    cache: Mutex<HashMap<Option<String>, Cached>>,
    compiles: AtomicU64,
}

#[derive(Debug)]
struct Cached {
    /// The stored rules exactly as read: any change to them is a new key.
    source: String,
    dictionary: Arc<Dictionary>,
}

/// Most dictionaries kept compiled (the global one and recently used characters').
const CACHED_DICTIONARIES: usize = 64;

impl CompiledDictionaries {
    /// The compiled dictionary of a character (`None`: the global one). The
    /// stored rules are read and compared with what was compiled; they are
    /// compiled again only when they changed (a character without rules has
    /// an empty dictionary).
    pub async fn get(&self, store: &Store, character_id: Option<&str>) -> Result<Arc<Dictionary>> {
        let key = character_id.map(str::to_owned);
        let Some(source) = store.dictionary_source(character_id).await? else {
            self.lock().remove(&key);
            return Ok(Arc::new(Dictionary::default()));
        };
        if let Some(hit) = self.lock().get(&key).filter(|c| c.source == source) {
            return Ok(hit.dictionary.clone());
        }
        let (source, dictionary) = tokio::task::spawn_blocking(move || {
            // Stored rules were checked when saved; unreadable JSON counts as none.
            let rules: Vec<DictionaryRule> = serde_json::from_str(&source).unwrap_or_default();
            let (dictionary, _) = Dictionary::compile(&rules);
            (source, Arc::new(dictionary))
        })
        .await
        .map_err(|e| Error::Internal(format!("compiling a chat dictionary stopped: {e}")))?;
        self.compiles.fetch_add(1, Ordering::Relaxed);
        let mut cache = self.lock();
        if cache.len() >= CACHED_DICTIONARIES && !cache.contains_key(&key) {
            // Keep the global one; any character's is cheap to compile again.
            if let Some(victim) = cache.keys().find(|k| k.is_some()).cloned() {
                cache.remove(&victim);
            }
        }
        cache.insert(
            key,
            Cached {
                source,
                dictionary: dictionary.clone(),
            },
        );
        Ok(dictionary)
    }

    /// The character's dictionary and the global one, for [`apply_all`].
    pub async fn for_character(
        &self,
        store: &Store,
        character_id: &str,
    ) -> Result<(Arc<Dictionary>, Arc<Dictionary>)> {
        tokio::try_join!(self.get(store, Some(character_id)), self.get(store, None))
    }

    /// How many times a dictionary was compiled (not served from the cache).
    pub fn compile_count(&self) -> u64 {
        self.compiles.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Option<String>, Cached>> {
        // Every change is one insert or remove: the map stays whole if a holder panicked.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Message texts as a chat shows them, after the Display-scope rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DisplayTexts {
    /// How many rules (the character's and the global ones) change what is shown.
    pub rules: u32,
    /// Each text as shown, in the order asked; `null` when no rule changed it.
    pub texts: Vec<Option<String>>,
}

/// Applies the Display-scope rules of a character's and the global dictionary
/// to `texts` (what is stored stays as it was). Asking with no texts tells
/// whether any such rule exists.
pub async fn display_texts(
    compiled: &CompiledDictionaries,
    store: &Store,
    character_id: &str,
    texts: Vec<String>,
) -> Result<DisplayTexts> {
    let bytes: usize = texts.iter().map(String::len).sum();
    if texts.len() > MAX_DISPLAY_TEXTS || bytes > MAX_DISPLAY_BYTES {
        return Err(Error::TooLarge {
            what: format!("{} texts ({} KB) to show", texts.len(), bytes / 1024),
            limit: format!(
                "{MAX_DISPLAY_TEXTS} texts and {} MB at a time",
                MAX_DISPLAY_BYTES / (1024 * 1024)
            ),
        });
    }
    let (character, global) = compiled.for_character(store, character_id).await?;
    let rules =
        character.count_for(DictionaryScope::Display) + global.count_for(DictionaryScope::Display);
    if rules == 0 {
        return Ok(DisplayTexts {
            rules: 0,
            texts: vec![None; texts.len()],
        });
    }
    let texts = tokio::task::spawn_blocking(move || {
        texts
            .iter()
            .map(|text| {
                match apply_all_checked(&character, &global, text, DictionaryScope::Display).text {
                    Cow::Borrowed(_) => None,
                    Cow::Owned(shown) => Some(shown),
                }
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| Error::Internal(format!("applying the chat dictionary stopped: {e}")))?;
    Ok(DisplayTexts {
        rules: u32::try_from(rules).unwrap_or(u32::MAX),
        texts,
    })
}

/// A dictionary as JSON, for a character card's `extensions["confab/dictionary"]`:
/// `{"version": 1, "rules": [{"find", "replace", "regex", "caseSensitive", "enabled", "scope"}]}`.
pub fn dictionary_to_json(rules: &[DictionaryRule]) -> Value {
    let rules: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "find": r.find,
                "replace": r.replace,
                "regex": r.regex,
                "caseSensitive": r.case_sensitive,
                "enabled": r.enabled,
                "scope": scope_name(r.scope),
            })
        })
        .collect();
    json!({"version": 1, "rules": rules})
}

fn scope_name(s: DictionaryScope) -> &'static str {
    match s {
        DictionaryScope::Prompt => "prompt",
        DictionaryScope::Display => "display",
        DictionaryScope::Both => "both",
    }
}

/// Reads a dictionary written by [`dictionary_to_json`] (or a bare list of
/// rules). Missing fields take their defaults: empty replacement, plain,
/// case-insensitive, enabled, both scopes. Errors name the rule and field.
pub fn dictionary_from_json(value: &Value) -> Result<Vec<DictionaryRule>, Error> {
    let list = match value {
        Value::Array(a) => a,
        Value::Object(o) => match o.get("rules") {
            Some(Value::Array(a)) => a,
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(_) => return Err(bad(None, "rules", "must be a list of rules")),
        },
        Value::Null => return Ok(Vec::new()),
        _ => {
            return Err(Error::InvalidInput(
                "a chat dictionary must be an object with `rules` or a list of rules".into(),
            ))
        }
    };
    if list.len() > MAX_DICTIONARY_RULES {
        return Err(Error::TooLarge {
            what: format!("The chat dictionary ({} rules)", list.len()),
            limit: format!("{MAX_DICTIONARY_RULES} rules"),
        });
    }
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            let Value::Object(o) = v else {
                return Err(Error::InvalidInput(format!(
                    "chat dictionary rule {}: must be an object with `find` and `replace`",
                    i + 1
                )));
            };
            Ok(DictionaryRule {
                find: text(o, i, "find", None)?,
                replace: text(o, i, "replace", Some(""))?,
                regex: flag(o, i, "regex", false)?,
                case_sensitive: flag(o, i, "caseSensitive", false)?,
                enabled: flag(o, i, "enabled", true)?,
                scope: match o.get("scope") {
                    None | Some(Value::Null) => DictionaryScope::Both,
                    Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                        "prompt" => DictionaryScope::Prompt,
                        "display" => DictionaryScope::Display,
                        "both" | "" => DictionaryScope::Both,
                        _ => {
                            return Err(bad(
                                Some(i),
                                "scope",
                                &format!("must be \"prompt\", \"display\" or \"both\", not {s:?}"),
                            ))
                        }
                    },
                    Some(_) => {
                        return Err(bad(
                            Some(i),
                            "scope",
                            "must be \"prompt\", \"display\" or \"both\"",
                        ))
                    }
                },
            })
        })
        .collect()
}

fn bad(rule: Option<usize>, field: &str, detail: &str) -> Error {
    match rule {
        Some(i) => Error::InvalidInput(format!(
            "chat dictionary rule {}: `{field}` {detail}",
            i + 1
        )),
        None => Error::InvalidInput(format!("chat dictionary: `{field}` {detail}")),
    }
}

fn text(
    o: &Map<String, Value>,
    i: usize,
    field: &str,
    default: Option<&str>,
) -> Result<String, Error> {
    match (o.get(field), default) {
        (Some(Value::String(s)), _) => Ok(s.clone()),
        (None | Some(Value::Null), Some(d)) => Ok(d.to_owned()),
        (None | Some(Value::Null), None) => Err(bad(Some(i), field, "is missing")),
        (Some(_), _) => Err(bad(Some(i), field, "must be text")),
    }
}

fn flag(o: &Map<String, Value>, i: usize, field: &str, default: bool) -> Result<bool, Error> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(bad(Some(i), field, "must be true or false")),
    }
}
