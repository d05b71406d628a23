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

use std::borrow::Cow;

use regex::{NoExpand, Regex, RegexBuilder};
use serde_json::{json, Map, Value};

use super::model::{DictionaryRule, DictionaryScope};
use crate::error::Error;

/// Most rules one dictionary may hold when read from JSON.
pub const MAX_DICTIONARY_RULES: usize = 10_000;
/// Memory one compiled regex may use.
const REGEX_SIZE_LIMIT: usize = 2 * 1024 * 1024;

/// Compiled find/replace rules (plain or regex, case option, enabled flag, scope).
#[derive(Debug, Clone, Default)]
pub struct Dictionary {
    rules: Vec<Compiled>,
}

#[derive(Debug, Clone)]
struct Compiled {
    scope: DictionaryScope,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// Case-sensitive plain text.
    Literal { find: String, replace: String },
    /// Case-insensitive plain text: an escaped pattern, literal replacement.
    LiteralFolded { re: Regex, replace: String },
    /// A regex with its replacement rewritten into the `regex` crate's braced form.
    Pattern { re: Regex, replace: String },
}

impl Dictionary {
    /// Compiles the enabled rules. Rules that cannot work (an empty find text,
    /// an invalid regex) are skipped and reported as `(rule index, reason)`.
    pub fn compile(rules: &[DictionaryRule]) -> (Dictionary, Vec<(usize, String)>) {
        let mut compiled = Vec::new();
        let mut problems = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
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
            let kind = if !rule.regex {
                if rule.case_sensitive {
                    Kind::Literal {
                        find: rule.find.clone(),
                        replace: rule.replace.clone(),
                    }
                } else {
                    match build(&regex::escape(&rule.find), false) {
                        Ok(re) => Kind::LiteralFolded {
                            re,
                            replace: rule.replace.clone(),
                        },
                        Err(e) => {
                            problems.push((i, regex_words(&rule.find, &e)));
                            continue;
                        }
                    }
                }
            } else {
                match build(&rule.find, rule.case_sensitive) {
                    Ok(re) => {
                        let replace = js_replacement(&rule.replace, &re);
                        Kind::Pattern { re, replace }
                    }
                    Err(e) => {
                        problems.push((i, regex_words(&rule.find, &e)));
                        continue;
                    }
                }
            };
            compiled.push(Compiled {
                scope: rule.scope,
                kind,
            });
        }
        (Dictionary { rules: compiled }, problems)
    }

    /// How many rules will run (enabled and valid).
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// No rule will run.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Applies, in order, the rules for `scope` (rules marked `Both` apply to
    /// `Prompt` and `Display`; asking for `Both` applies every rule). Borrows
    /// `text` when nothing changes.
    pub fn apply<'t>(&self, text: &'t str, scope: DictionaryScope) -> Cow<'t, str> {
        let mut current: Cow<'t, str> = Cow::Borrowed(text);
        for rule in &self.rules {
            let applies = rule.scope == DictionaryScope::Both
                || scope == DictionaryScope::Both
                || rule.scope == scope;
            if !applies {
                continue;
            }
            let changed = match &rule.kind {
                Kind::Literal { find, replace } => current
                    .contains(find.as_str())
                    .then(|| current.replace(find.as_str(), replace)),
                Kind::LiteralFolded { re, replace } => {
                    owned(re.replace_all(&current, NoExpand(replace)))
                }
                Kind::Pattern { re, replace } => owned(re.replace_all(&current, replace.as_str())),
            };
            if let Some(s) = changed {
                current = Cow::Owned(s);
            }
        }
        current
    }
}

fn owned(c: Cow<'_, str>) -> Option<String> {
    match c {
        Cow::Borrowed(_) => None,
        Cow::Owned(s) => Some(s),
    }
}

/// Applies the character's dictionary first, then the global one.
pub fn apply_all(
    character: &Dictionary,
    global: &Dictionary,
    text: &str,
    scope: DictionaryScope,
) -> String {
    let after_character = character.apply(text, scope);
    global.apply(&after_character, scope).into_owned()
}

fn build(pattern: &str, case_sensitive: bool) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .case_insensitive(!case_sensitive)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// A regex error in plain words, without the parser's caret diagram.
fn regex_words(pattern: &str, e: &regex::Error) -> String {
    let shown: String = pattern.chars().take(60).collect();
    let ellipsis = if shown.len() < pattern.len() {
        "..."
    } else {
        ""
    };
    match e {
        regex::Error::CompiledTooBig(limit) => format!(
            "the pattern `{shown}{ellipsis}` is too complex (it would need more than {} KB)",
            limit / 1024
        ),
        other => {
            let text = other.to_string();
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
            format!(
                "the pattern `{shown}{ellipsis}` is not a valid regular expression: {reason}{hint}"
            )
        }
    }
}

/// Rewrites a JavaScript-style replacement into the `regex` crate's braced form.
fn js_replacement(js: &str, re: &Regex) -> String {
    let groups = re.captures_len().saturating_sub(1);
    let names: Vec<&str> = re.capture_names().flatten().collect();
    let chars: Vec<char> = js.chars().collect();
    let mut out = String::with_capacity(js.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).copied();
        match next {
            Some('$') => {
                out.push_str("$$");
                i += 2;
            }
            Some('&') => {
                out.push_str("${0}");
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
                        out.push_str(&format!("${{{n}}}"));
                        i += 3;
                    }
                    _ if d1 >= 1 && d1 <= groups => {
                        out.push_str(&format!("${{{d1}}}"));
                        i += 2;
                    }
                    _ => {
                        out.push_str("$$");
                        i += 1;
                    }
                }
            }
            Some('<') | Some('{') => {
                let close = if next == Some('<') { '>' } else { '}' };
                let end = chars[i + 2..].iter().position(|&c| c == close);
                match end {
                    Some(len) => {
                        let name: String = chars[i + 2..i + 2 + len].iter().collect();
                        let is_number =
                            !name.is_empty() && name.chars().all(|c| c.is_ascii_digit());
                        let known = names.contains(&name.as_str())
                            || (is_number && name.parse::<usize>().is_ok_and(|n| n <= groups));
                        if known {
                            out.push_str(&format!("${{{name}}}"));
                            i += 3 + len;
                        } else {
                            // An unknown name stays as written, as JavaScript leaves it.
                            out.push_str("$$");
                            i += 1;
                        }
                    }
                    None => {
                        out.push_str("$$");
                        i += 1;
                    }
                }
            }
            _ => {
                out.push_str("$$");
                i += 1;
            }
        }
    }
    out
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
