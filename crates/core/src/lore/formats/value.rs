//! Lenient, typed reads of JSON fields, with errors naming the entry and field.
//!
//! Accepted sloppiness, everywhere: numbers written as text (`"100"`), `null`
//! or an empty text for an optional field, booleans written as `0`/`1` or
//! `"true"`/`"false"`, fractional numbers (rounded), and a key list written as
//! one comma-separated text. Anything else of the wrong kind is an error.

use serde_json::{Map, Value};

use crate::error::Error;

/// Where a field is read from: the file, and the entry when there is one.
pub(crate) struct Ctx<'a> {
    pub file: &'a str,
    pub entry: Option<String>,
}

impl<'a> Ctx<'a> {
    /// Reads fields of the book itself.
    pub fn book(file: &'a str) -> Self {
        Ctx { file, entry: None }
    }

    /// Reads fields of one entry; `at` is its key or position in the file.
    pub fn entry(file: &'a str, at: &str, obj: &Map<String, Value>) -> Self {
        Ctx {
            file,
            entry: Some(entry_label(at, obj)),
        }
    }

    /// An error about `field`.
    pub fn err(&self, field: &str, detail: impl Into<String>) -> Error {
        Error::InvalidWorldBook {
            file: self.file.to_owned(),
            entry: self.entry.clone(),
            field: Some(field.to_owned()),
            detail: detail.into(),
        }
    }

    /// An error about the entry (or book) as a whole.
    pub fn err_whole(&self, detail: impl Into<String>) -> Error {
        Error::InvalidWorldBook {
            file: self.file.to_owned(),
            entry: self.entry.clone(),
            field: None,
            detail: detail.into(),
        }
    }

    /// An optional yes/no; `null`, missing or `""` is `None`.
    pub fn bool_opt(&self, obj: &Map<String, Value>, field: &str) -> Result<Option<bool>, Error> {
        self.bool_value(obj.get(field), field)
    }

    /// A yes/no read from a value that may be missing.
    pub fn bool_value(&self, v: Option<&Value>, field: &str) -> Result<Option<bool>, Error> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(0.0) => Ok(Some(false)),
                Some(1.0) => Ok(Some(true)),
                _ => Err(self.err(field, format!("must be true or false, not the number {n}"))),
            },
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "" => Ok(None),
                "true" | "1" | "yes" => Ok(Some(true)),
                "false" | "0" | "no" => Ok(Some(false)),
                _ => Err(self.err(field, format!("must be true or false, not the text {s:?}"))),
            },
            Some(other) => {
                Err(self.err(field, format!("must be true or false, not {}", kind(other))))
            }
        }
    }

    /// A yes/no with a default for missing or `null`.
    pub fn bool_or(
        &self,
        obj: &Map<String, Value>,
        field: &str,
        default: bool,
    ) -> Result<bool, Error> {
        Ok(self.bool_opt(obj, field)?.unwrap_or(default))
    }

    /// An optional whole number; fractions are rounded.
    pub fn int_opt(&self, obj: &Map<String, Value>, field: &str) -> Result<Option<i64>, Error> {
        self.int_value(obj.get(field), field)
    }

    /// A whole number read from a value that may be missing.
    pub fn int_value(&self, v: Option<&Value>, field: &str) -> Result<Option<i64>, Error> {
        let not_number = |what: String| self.err(field, format!("must be a number, not {what}"));
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => {
                if let Some(i) = n.as_i64() {
                    Ok(Some(i))
                } else if n.as_u64().is_some() {
                    Err(self.err(field, format!("is too large ({n})")))
                } else {
                    float_to_int(n.as_f64().unwrap_or(f64::NAN))
                        .map(Some)
                        .ok_or_else(|| self.err(field, format!("is out of range ({n})")))
                }
            }
            Some(Value::String(s)) => {
                let t = s.trim();
                if t.is_empty() {
                    return Ok(None);
                }
                if let Ok(i) = t.parse::<i64>() {
                    return Ok(Some(i));
                }
                match t.parse::<f64>() {
                    Ok(x) if x.is_finite() => float_to_int(x)
                        .map(Some)
                        .ok_or_else(|| self.err(field, format!("is out of range ({t})"))),
                    _ => Err(not_number(format!("the text {s:?}"))),
                }
            }
            Some(other) => Err(not_number(kind(other).to_owned())),
        }
    }

    /// An optional count (0 or more).
    pub fn u32_opt(&self, obj: &Map<String, Value>, field: &str) -> Result<Option<u32>, Error> {
        self.u32_value(obj.get(field), field)
    }

    /// A count read from a value that may be missing.
    pub fn u32_value(&self, v: Option<&Value>, field: &str) -> Result<Option<u32>, Error> {
        match self.int_value(v, field)? {
            None => Ok(None),
            Some(i) if i < 0 => Err(self.err(field, format!("must be 0 or more, not {i}"))),
            Some(i) => u32::try_from(i)
                .map(Some)
                .map_err(|_| self.err(field, format!("is too large ({i})"))),
        }
    }

    /// A count with a default for missing or `null`.
    pub fn u32_or(
        &self,
        obj: &Map<String, Value>,
        field: &str,
        default: u32,
    ) -> Result<u32, Error> {
        Ok(self.u32_opt(obj, field)?.unwrap_or(default))
    }

    /// A signed number with a default for missing or `null`.
    pub fn i32_or(
        &self,
        obj: &Map<String, Value>,
        field: &str,
        default: i32,
    ) -> Result<i32, Error> {
        match self.int_opt(obj, field)? {
            None => Ok(default),
            Some(i) => {
                i32::try_from(i).map_err(|_| self.err(field, format!("is out of range ({i})")))
            }
        }
    }

    /// A percentage 0..=100; more than 100 counts as 100.
    pub fn percent_or(
        &self,
        obj: &Map<String, Value>,
        field: &str,
        default: u32,
    ) -> Result<u32, Error> {
        Ok(self.u32_or(obj, field, default)?.min(100))
    }

    /// A text; numbers and booleans are written out, `null` or missing gives `default`.
    pub fn string_or(
        &self,
        obj: &Map<String, Value>,
        field: &str,
        default: &str,
    ) -> Result<String, Error> {
        self.string_value(obj.get(field), field, default)
    }

    /// A text read from a value that may be missing.
    pub fn string_value(
        &self,
        v: Option<&Value>,
        field: &str,
        default: &str,
    ) -> Result<String, Error> {
        match v {
            None | Some(Value::Null) => Ok(default.to_owned()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(Value::Bool(b)) => Ok(b.to_string()),
            Some(other) => Err(self.err(field, format!("must be text, not {}", kind(other)))),
        }
    }

    /// A list of texts: a JSON list (numbers written out, `null` items
    /// skipped) or one comma-separated text; `null` or missing is empty.
    pub fn string_list(&self, obj: &Map<String, Value>, field: &str) -> Result<Vec<String>, Error> {
        self.string_list_value(obj.get(field), field)
    }

    /// A list of texts read from a value that may be missing.
    pub fn string_list_value(&self, v: Option<&Value>, field: &str) -> Result<Vec<String>, Error> {
        match v {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(split_commas(s)),
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::Null => {}
                        Value::String(s) => out.push(s.clone()),
                        Value::Number(n) => out.push(n.to_string()),
                        Value::Bool(b) => out.push(b.to_string()),
                        other => {
                            return Err(self.err(
                                field,
                                format!(
                                    "must be a list of texts, but item {} is {}",
                                    i + 1,
                                    kind(other)
                                ),
                            ))
                        }
                    }
                }
                Ok(out)
            }
            Some(other) => Err(self.err(
                field,
                format!(
                    "must be a list of texts (or one comma-separated text), not {}",
                    kind(other)
                ),
            )),
        }
    }

    /// Inclusion group names: SillyTavern's one comma-separated text, or a
    /// list whose items are split the same way (a name cannot hold a comma:
    /// the export joins the names with commas).
    pub fn group_list_value(&self, v: Option<&Value>, field: &str) -> Result<Vec<String>, Error> {
        Ok(self
            .string_list_value(v, field)?
            .iter()
            .flat_map(|s| split_commas(s))
            .collect())
    }

    /// An optional JSON object; anything else but `null` is an error.
    pub fn object_opt<'v>(
        &self,
        obj: &'v Map<String, Value>,
        field: &str,
    ) -> Result<Option<&'v Map<String, Value>>, Error> {
        match obj.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o)),
            Some(other) => Err(self.err(field, format!("must be an object, not {}", kind(other)))),
        }
    }
}

/// Splits "a, b,,c" into ["a", "b", "c"].
pub(crate) fn split_commas(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect()
}

fn float_to_int(x: f64) -> Option<i64> {
    if !x.is_finite() {
        return None;
    }
    let r = x.round();
    // 2^63 itself is out of range; -2^63 is in.
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if (-TWO_POW_63..TWO_POW_63).contains(&r) {
        Some(r as i64)
    } else {
        None
    }
}

/// What kind of JSON value this is, in words.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a true/false value",
        Value::Number(_) => "a number",
        Value::String(_) => "a text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// `entry 12 ("Eldoria")`: where the entry is, and its title or first key.
pub(crate) fn entry_label(at: &str, obj: &Map<String, Value>) -> String {
    let title = ["comment", "displayName", "name"]
        .iter()
        .filter_map(|f| obj.get(*f).and_then(Value::as_str))
        .map(str::trim)
        .find(|s| !s.is_empty())
        .or_else(|| {
            ["key", "keys", "keywords"]
                .iter()
                .find_map(|f| match obj.get(*f) {
                    Some(Value::Array(a)) => a
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::trim)
                        .find(|s| !s.is_empty()),
                    Some(Value::String(s)) => s.split(',').map(str::trim).find(|s| !s.is_empty()),
                    _ => None,
                })
        });
    match title {
        Some(t) => {
            let short: String = t.chars().take(40).collect();
            let ellipsis = if short.len() < t.len() { "..." } else { "" };
            format!("entry {at} ({short:?}{ellipsis})")
        }
        None => format!("entry {at}"),
    }
}

/// Copies every field of `obj` not in `known` into a new map, verbatim.
pub(crate) fn leftovers(obj: &Map<String, Value>, known: &[&str]) -> Map<String, Value> {
    obj.iter()
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
