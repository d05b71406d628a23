//! Card JSON out: V3 and V2 wrappers built on top of the original JSON, so
//! fields Confab does not know survive an export.
//!
//! V2 choice: the V2 `data` object keeps the V3-only fields (`nickname`,
//! `group_only_greetings`, `assets`, `source`, dates, multilingual notes).
//! V2 readers ignore fields they do not know, SillyTavern itself writes the
//! same object into both `chara` and `ccv3`, and an export through V2 then
//! loses nothing.

use serde_json::{Map, Value};

use super::model::{CardData, CardSpec};

/// Top-level V1 fields some writers mirror beside `data`; kept in step on export.
const V1_MIRRORS: [&str; 6] = [
    "name",
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
];

/// The card as Character Card V3 JSON, starting from `original`.
pub fn to_v3_json(data: &CardData, original: Option<&Value>) -> Value {
    wrap(data, original, "chara_card_v3", "3.0")
}

/// The card as Character Card V2 JSON, starting from `original` (V3-only fields kept).
pub fn to_v2_json(data: &CardData, original: Option<&Value>) -> Value {
    wrap(data, original, "chara_card_v2", "2.0")
}

/// The card as pretty JSON in the given spec; V1 gives TavernAI's flat fields.
pub fn write_json(data: &CardData, original: Option<&Value>, spec: CardSpec) -> Vec<u8> {
    let value = match spec {
        CardSpec::V3 => to_v3_json(data, original),
        CardSpec::V2 => to_v2_json(data, original),
        CardSpec::V1 => to_v1_json(data, original),
    };
    // Serialising a Value cannot fail (its keys are strings); an empty file would be the fallback.
    serde_json::to_vec_pretty(&value).unwrap_or_default()
}

fn wrap(data: &CardData, original: Option<&Value>, spec: &str, version: &str) -> Value {
    let (mut top, mut inner) = match original {
        Some(Value::Object(o)) => match o.get("data") {
            Some(Value::Object(d)) => {
                let mut top = o.clone();
                top.remove("data");
                (top, d.clone())
            }
            // A V1 flat original: its fields stay at the top level, as SillyTavern keeps them.
            _ => (o.clone(), Map::new()),
        },
        _ => (Map::new(), Map::new()),
    };
    for (key, value) in data_fields(data) {
        if value.is_null() {
            inner.remove(&key);
        } else {
            inner.insert(key, value);
        }
    }
    for key in V1_MIRRORS {
        if top.contains_key(key) {
            if let Some(v) = inner.get(key) {
                top.insert(key.to_owned(), v.clone());
            }
        }
    }
    if top.contains_key("creatorcomment") {
        top.insert("creatorcomment".into(), data.creator_notes.clone().into());
    }
    if top.contains_key("tags") {
        top.insert("tags".into(), data.tags.clone().into());
    }
    top.insert("spec".into(), spec.into());
    top.insert("spec_version".into(), version.into());
    top.insert("data".into(), Value::Object(inner));
    Value::Object(top)
}

fn to_v1_json(data: &CardData, original: Option<&Value>) -> Value {
    let mut top = match original {
        Some(Value::Object(o)) if !o.contains_key("data") => o.clone(),
        _ => Map::new(),
    };
    let mut fields = data_fields(data);
    for key in V1_MIRRORS {
        if let Some(v) = fields.remove(key) {
            top.insert(key.to_owned(), v);
        }
    }
    top.insert("creatorcomment".into(), data.creator_notes.clone().into());
    if !data.tags.is_empty() {
        top.insert("tags".into(), data.tags.clone().into());
    }
    for key in ["talkativeness", "fav"] {
        if let Some(v) = data.extensions.get(key) {
            top.insert(key.into(), v.clone());
        }
    }
    Value::Object(top)
}

/// `data` as a JSON object; `None` fields come out as null (callers drop them).
fn data_fields(data: &CardData) -> Map<String, Value> {
    match serde_json::to_value(data) {
        Ok(Value::Object(m)) => m,
        // CardData always serialises to an object; nothing else can happen.
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_survive_and_known_ones_are_overwritten() {
        let original = json!({"spec": "chara_card_v2", "spec_version": "2.0", "name": "Old",
            "x_top": 1, "data": {"name": "Old", "x_data": [1], "nickname": "n"}});
        let data = CardData {
            name: "New".into(),
            ..CardData::default()
        };
        let v3 = to_v3_json(&data, Some(&original));
        assert_eq!(v3["spec"], "chara_card_v3");
        assert_eq!(v3["spec_version"], "3.0");
        assert_eq!(v3["x_top"], 1);
        assert_eq!(v3["name"], "New");
        assert_eq!(v3["data"]["name"], "New");
        assert_eq!(v3["data"]["x_data"], json!([1]));
        assert!(v3["data"].get("nickname").is_none());
        let v2 = to_v2_json(&data, Some(&v3));
        assert_eq!(v2["spec"], "chara_card_v2");
        assert_eq!(v2["data"]["x_data"], json!([1]));
    }

    #[test]
    fn v1_output_is_flat() {
        let data = CardData {
            name: "A".into(),
            creator_notes: "c".into(),
            ..CardData::default()
        };
        let v: Value = serde_json::from_slice(&write_json(&data, None, CardSpec::V1)).unwrap();
        assert_eq!(v["name"], "A");
        assert_eq!(v["creatorcomment"], "c");
        assert!(v.get("data").is_none());
    }
}
