//! Compiling rules: plain rules as literals (or escaped, case-folded regexes),
//! regex rules with the `regex` crate's syntax under tight limits, and
//! JavaScript-style replacements read into parts; rules that cannot work are
//! reported in plain words.

use std::borrow::Cow;

use regex_automata::meta::{self, Regex};
use regex_automata::util::syntax;
use regex_automata::PatternID;

use super::limits::{MAX_DICTIONARY_REGEX_MEMORY, MAX_DICTIONARY_RULES, MAX_RULE_TEXT_BYTES};
use super::{Compiled, Dictionary, Kind, Part};
use crate::lore::model::DictionaryRule;

/// Memory one compiled regex may use.
const REGEX_SIZE_LIMIT: usize = 2 * 1024 * 1024;
/// The lazy DFA's cache for one regex (searches stay linear when it is full).
const REGEX_CACHE_CAPACITY: usize = 1024 * 1024;

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

pub(super) fn build(
    pattern: &str,
    case_sensitive: bool,
) -> std::result::Result<Regex, Box<meta::BuildError>> {
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
pub(super) fn regex_words(pattern: &str, e: &meta::BuildError) -> String {
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
