//! Cards: JSON shaped like V1/V2/V3 cards, and what every card read promises.

use arbitrary::{Result, Unstructured};
use confab_core::card::{normalize, read_card, write_json, CardSpec, Limits, ParsedCard};
use confab_core::{Error, ErrorCode};
use serde_json::{Map, Value};

use crate::{assert_code, assert_same, json_list, json_object, string};

/// The errors a card reader may give.
pub const CARD_ERRORS: &[ErrorCode] = &[
    ErrorCode::InvalidCard,
    ErrorCode::TooLarge,
    ErrorCode::UnsupportedFormat,
    ErrorCode::NoCardData,
];

/// Limits small enough to keep each run fast; the code paths are the same.
pub fn small_limits() -> Limits {
    Limits {
        max_json_bytes: 1 << 20,
        max_charx_total_bytes: 8 << 20,
        ..Limits::default()
    }
}

/// Card fields (V1, V2, V3, CHARX assets, the embedded book and dictionary).
pub const CARD_FIELDS: &[&str] = &[
    "spec",
    "spec_version",
    "data",
    "name",
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
    "creator_notes",
    "system_prompt",
    "post_history_instructions",
    "alternate_greetings",
    "character_book",
    "tags",
    "creator",
    "character_version",
    "extensions",
    "nickname",
    "creator_notes_multilingual",
    "source",
    "group_only_greetings",
    "creation_date",
    "modification_date",
    "assets",
    "type",
    "uri",
    "ext",
    "depth_prompt",
    "prompt",
    "depth",
    "role",
    "talkativeness",
    "fav",
    "world",
    "confab/dictionary",
    "rules",
    "find",
    "replace",
    "regex",
    "caseSensitive",
    "enabled",
    "scope",
    "version",
    "char_name",
    "char_persona",
    "world_scenario",
    "char_greeting",
    "example_dialogue",
    "entries",
    "keys",
    "content",
    "insertion_order",
];

/// A card-shaped JSON value.
pub fn shaped_card(u: &mut Unstructured<'_>) -> Result<Value> {
    let mut data = json_object(u, CARD_FIELDS, 3)?;
    if u.ratio(1, 2)? {
        data.insert("name".into(), Value::String(string(u)?));
    }
    if u.ratio(1, 2)? {
        let assets = json_list(u, 4, |u| Ok(Value::Object(json_object(u, CARD_FIELDS, 1)?)))?;
        data.insert("assets".into(), Value::Array(assets));
    }
    if u.ratio(1, 3)? {
        return Ok(Value::Object(data)); // V1: flat
    }
    let mut root = Map::new();
    let spec = if u.arbitrary()? {
        "chara_card_v3"
    } else {
        "chara_card_v2"
    };
    root.insert("spec".into(), Value::from(spec));
    root.insert(
        "spec_version".into(),
        Value::from(if spec.ends_with('3') { "3.0" } else { "2.0" }),
    );
    root.insert("data".into(), Value::Object(data));
    Ok(Value::Object(root))
}

/// A card read result: a typed error, or a card whose JSON writes and reads back the same.
pub fn check_card(result: std::result::Result<ParsedCard, Error>, what: &str) {
    let card = match result {
        Ok(card) => card,
        Err(e) => return assert_code(&e, CARD_ERRORS, what),
    };
    for spec in [CardSpec::V3, CardSpec::V2] {
        let bytes = write_json(&card.data, Some(&card.original), spec);
        let value: Value = serde_json::from_slice(&bytes).expect("written card JSON parses");
        let (again, _) = normalize(&value, "again.json")
            .unwrap_or_else(|e| panic!("{what}: a written card reads back: {e}"));
        assert_same(
            &again,
            &card.data,
            &format!("{what}: {spec:?} JSON changed the card"),
        );
        let reread = read_card(&bytes, "again.json", &Limits::default())
            .unwrap_or_else(|e| panic!("{what}: written card JSON reads as a file: {e}"));
        assert_same(
            &reread.data,
            &card.data,
            &format!("{what}: {spec:?} file changed the card"),
        );
    }
}
