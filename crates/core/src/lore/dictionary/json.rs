//! A dictionary as cards carry it: JSON in a character card's
//! `extensions["confab/dictionary"]`, written and read (leniently, with errors
//! naming the rule and field).

use serde_json::{json, Map, Value};

use super::limits::MAX_DICTIONARY_RULES;
use crate::error::Error;
use crate::lore::model::{DictionaryRule, DictionaryScope};

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
