//! Turning any card JSON (V1 flat, V2, V3) into [`CardData`], forgiving the
//! sloppiness real cards carry.
//!
//! Decisions:
//! - Text fields accept strings, numbers, booleans, `null` (empty) and arrays of
//!   strings (joined with newlines).
//! - Line endings in text fields are normalised to `\n` (`\r\n` and lone `\r`):
//!   the editor and the prompt see one kind, and a written card reads back the
//!   same. `character_book` and `extensions` are kept verbatim.
//! - Lists accept a single string: `tags` is split on commas, other lists take
//!   the string as their one item.
//! - Dates accept numbers or numeric strings; values above 10^11 are taken as
//!   milliseconds (RisuAI writes them) and turned into seconds; past 10^14 a
//!   date is nonsense and dropped.
//! - A V2/V3 wrapper without `spec` is recognised by its `data` object; a field
//!   missing from `data` falls back to the same field at the top level (the V1
//!   mirror SillyTavern writes).
//! - V1 extras go where SillyTavern's V1 to V2 conversion puts them:
//!   `creatorcomment` to `creator_notes`; `talkativeness`, `fav`, `world`,
//!   `depth_prompt` to `extensions`. Pygmalion-style names (`char_name`,
//!   `char_persona`, `world_scenario`, `char_greeting`, `example_dialogue`)
//!   fill the V1 fields they stand for.

use serde_json::{Map, Value};

use super::model::{AssetRef, CardData, CardSpec};
use crate::error::Error;

/// Normalise any card JSON (V1 flat / V2 / V3) into its data and spec.
///
/// Fails only when the value is not an object or carries no character at all.
pub fn normalize(value: &Value, file_name: &str) -> Result<(CardData, CardSpec), Error> {
    let Value::Object(top) = value else {
        return Err(Error::InvalidCard {
            file: file_name.to_owned(),
            detail: "the character data is not a JSON object".to_owned(),
        });
    };
    let spec_str = top.get("spec").and_then(Value::as_str).unwrap_or("");
    let data_obj = top.get("data").and_then(Value::as_object);
    let (spec, fields, fallback) = match data_obj {
        Some(data) if !spec_str.is_empty() || looks_like_character(data) => {
            let version = top
                .get("spec_version")
                .map(|v| text(Some(v)))
                .unwrap_or_default();
            let spec = if spec_str == "chara_card_v3"
                || (spec_str != "chara_card_v2" && version.trim_start().starts_with('3'))
            {
                CardSpec::V3
            } else {
                CardSpec::V2
            };
            (spec, data, Some(top))
        }
        _ => (CardSpec::V1, top, None),
    };
    if !looks_like_character(fields) && fallback.is_none_or(|t| !looks_like_character(t)) {
        return Err(Error::InvalidCard {
            file: file_name.to_owned(),
            detail:
                "the JSON has none of a character card's fields (no name, description or greeting)"
                    .to_owned(),
        });
    }
    let get = |key: &str| -> Option<&Value> {
        fields
            .get(key)
            .or_else(|| fallback.and_then(|t| t.get(key)))
            .or_else(|| {
                // Pygmalion-style names some old V1 cards use.
                let old = match key {
                    "name" => "char_name",
                    "personality" => "char_persona",
                    "scenario" => "world_scenario",
                    "first_mes" => "char_greeting",
                    "mes_example" => "example_dialogue",
                    _ => return None,
                };
                fields.get(old)
            })
    };

    let mut extensions = match get("extensions") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let mut creator_notes = text(get("creator_notes"));
    if creator_notes.is_empty() {
        creator_notes = text(get("creatorcomment"));
    }
    if spec == CardSpec::V1 {
        for key in ["talkativeness", "fav", "world", "depth_prompt"] {
            if let Some(v) = top.get(key) {
                if !extensions.contains_key(key) && !v.is_null() {
                    extensions.insert(key.to_owned(), v.clone());
                }
            }
        }
    }

    let data = CardData {
        name: text(get("name")).trim().to_owned(),
        nickname: match get("nickname") {
            None | Some(Value::Null) => None,
            v => Some(text(v)),
        },
        description: text(get("description")),
        personality: text(get("personality")),
        scenario: text(get("scenario")),
        first_mes: text(get("first_mes")),
        mes_example: text(get("mes_example")),
        alternate_greetings: list(get("alternate_greetings"), false),
        group_only_greetings: list(get("group_only_greetings"), false),
        system_prompt: text(get("system_prompt")),
        post_history_instructions: text(get("post_history_instructions")),
        creator_notes,
        creator_notes_multilingual: match get("creator_notes_multilingual") {
            Some(Value::Object(m)) => m
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), text(Some(v))))
                .collect(),
            _ => Default::default(),
        },
        tags: list(get("tags"), true),
        creator: text(get("creator")),
        character_version: text(get("character_version")),
        source: list(get("source"), false),
        creation_date: date(get("creation_date")),
        modification_date: date(get("modification_date")),
        assets: assets(get("assets")),
        character_book: match get("character_book") {
            Some(v @ Value::Object(_)) => Some(v.clone()),
            _ => None,
        },
        extensions,
    };
    Ok((data, spec))
}

/// Whether an object has at least one of the fields every card has.
fn looks_like_character(o: &Map<String, Value>) -> bool {
    [
        "name",
        "description",
        "first_mes",
        "personality",
        "char_name",
    ]
    .iter()
    .any(|k| o.get(*k).is_some_and(|v| !v.is_null()))
}

/// Normalises line endings to `\n`.
pub(crate) fn unix_newlines(s: &str) -> String {
    if s.contains('\r') {
        s.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        s.to_owned()
    }
}

/// Any JSON value as text: the lenient reading of a string field.
fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => unix_newlines(s),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Array(items)) => items
            .iter()
            .filter(|i| !i.is_null())
            .map(|i| text(Some(i)))
            .collect::<Vec<_>>()
            .join("\n"),
        Some(v @ Value::Object(_)) => v.to_string(),
    }
}

/// Any JSON value as a list of strings; `comma` splits a single string on commas.
fn list(v: Option<&Value>, comma: bool) -> Vec<String> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .filter(|i| !i.is_null())
            .map(|i| text(Some(i)))
            .collect(),
        Some(Value::String(s)) if comma => unix_newlines(s)
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) if s.trim().is_empty() => Vec::new(),
        Some(other) => vec![text(Some(other))],
    }
}

/// A Unix timestamp from a number or numeric string; milliseconds become seconds.
fn date(v: Option<&Value>) -> Option<i64> {
    let secs = match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64))?,
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| f as i64)
            })?
        }
        _ => return None,
    };
    // 10^11 seconds is the year 5138: up to 10^14 it is milliseconds, beyond
    // that nonsense. (Keeping the ranges apart makes reading twice a no-op.)
    match secs.unsigned_abs() {
        0..=100_000_000_000 => Some(secs),
        100_000_000_001..=99_999_999_999_999 => Some(secs / 1000),
        _ => None,
    }
}

/// V3 `assets`: objects with type/uri/name/ext; anything else is skipped.
fn assets(v: Option<&Value>) -> Vec<AssetRef> {
    let Some(Value::Array(items)) = v else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(Value::as_object)
        .map(|o| AssetRef {
            kind: text(o.get("type")),
            uri: text(o.get("uri")),
            name: text(o.get("name")),
            ext: text(o.get("ext")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sloppy_v2_is_accepted() {
        let v = json!({"data": {"name": " Ann ", "description": "a\r\nb", "character_book": null,
            "alternate_greetings": "hi", "tags": "a, b,,c", "creation_date": "1700000000",
            "modification_date": 1745411957356u64, "scenario": null, "personality": 5,
            "extensions": null}});
        let (d, spec) = normalize(&v, "x.json").unwrap();
        assert_eq!(spec, CardSpec::V2);
        assert_eq!(d.name, "Ann");
        assert_eq!(d.description, "a\nb");
        assert_eq!(d.character_book, None);
        assert_eq!(d.alternate_greetings, ["hi"]);
        assert_eq!(d.tags, ["a", "b", "c"]);
        assert_eq!(d.creation_date, Some(1_700_000_000));
        assert_eq!(d.modification_date, Some(1_745_411_957));
        assert_eq!(d.personality, "5");
        let huge = json!({"name": "A", "creation_date": 1e30, "modification_date": "-5"});
        let (d, _) = normalize(&huge, "x").unwrap();
        assert_eq!((d.creation_date, d.modification_date), (None, Some(-5)));
        let pyg = json!({"char_name": "P", "char_greeting": "Hey"});
        let (d, _) = normalize(&pyg, "x").unwrap();
        assert_eq!((d.name.as_str(), d.first_mes.as_str()), ("P", "Hey"));
        assert!(d.extensions.is_empty());
    }

    #[test]
    fn v1_extras_go_where_sillytavern_puts_them() {
        let v =
            json!({"name": "M", "creatorcomment": "note", "talkativeness": "0.5", "fav": false});
        let (d, spec) = normalize(&v, "x.json").unwrap();
        assert_eq!(spec, CardSpec::V1);
        assert_eq!(d.creator_notes, "note");
        assert_eq!(d.extensions["talkativeness"], "0.5");
        assert_eq!(d.extensions["fav"], false);
    }

    #[test]
    fn spec_version_three_without_spec_is_v3() {
        let v = json!({"spec_version": "3.0", "data": {"name": "A"}});
        assert_eq!(normalize(&v, "x").unwrap().1, CardSpec::V3);
    }

    #[test]
    fn non_cards_are_refused_in_words() {
        for v in [json!([1, 2]), json!({"foo": 1}), json!("x")] {
            let e = normalize(&v, "x.json").unwrap_err();
            assert!(matches!(e, Error::InvalidCard { .. }), "{e}");
        }
    }
}
