//! Writing SillyTavern world info JSON.
//!
//! The current ST entry layout with every field, keyed by uid, plus the
//! kept extension fields at the same level (Confab's own fields win a clash).
//! `delayUntilRecursion` is written `false` for 0 and as the level otherwise;
//! `sticky`/`cooldown`/`delay` as numbers (0 = off, which ST reads like `null`).

use serde_json::{json, Map, Value};

use super::fields::{
    character_filter_json, delay_until_recursion_json, logic_code, position_code, role_code,
};
use super::settings::{confab_settings_json, write_card_style_settings, SETTINGS_KEY};
use crate::lore::model::{Book, Entry};

/// SillyTavern world info JSON (`{"entries": {"<uid>": {...}}}`), with every
/// field Confab kept from the source written back unchanged.
pub fn to_sillytavern_json(book: &Book) -> Value {
    let mut root: Map<String, Value> = book.extensions.clone();
    // Settings live in Confab's key; stale card-style copies must not contradict it.
    for k in ["scan_depth", "token_budget", "recursive_scanning"] {
        root.remove(k);
    }
    root.insert("name".into(), Value::String(book.name.clone()));
    if book.description.is_empty() {
        root.remove("description");
    } else {
        root.insert(
            "description".into(),
            Value::String(book.description.clone()),
        );
    }
    write_card_style_settings(&book.settings, &mut root);
    match confab_settings_json(&book.settings) {
        Some(s) => {
            root.insert(SETTINGS_KEY.into(), s);
        }
        None => {
            root.remove(SETTINGS_KEY);
        }
    }
    let mut entries = Map::new();
    for entry in &book.entries {
        entries.insert(entry.uid.to_string(), Value::Object(entry_json(entry)));
    }
    root.insert("entries".into(), Value::Object(entries));
    Value::Object(root)
}

fn entry_json(e: &Entry) -> Map<String, Value> {
    let mut o = e.extensions.clone();
    let opt_bool = |b: Option<bool>| b.map_or(Value::Null, Value::Bool);
    let known = json!({
        "uid": e.uid,
        "key": e.keys,
        "keysecondary": e.secondary_keys,
        "comment": e.comment,
        "content": e.content,
        "constant": e.constant,
        "vectorized": e.vectorized,
        "selective": e.selective,
        "selectiveLogic": logic_code(e.selective_logic),
        "order": e.insertion_order,
        "position": position_code(e.position),
        "disable": !e.enabled,
        "ignoreBudget": e.ignore_budget,
        "excludeRecursion": e.exclude_recursion,
        "preventRecursion": e.prevent_recursion,
        "delayUntilRecursion": delay_until_recursion_json(e.delay_until_recursion),
        "probability": e.probability,
        "useProbability": e.use_probability,
        "depth": e.depth,
        "outletName": e.outlet_name,
        "group": e.groups.join(","),
        "groupOverride": e.group_prioritize,
        "groupWeight": e.group_weight,
        "scanDepth": e.scan_depth.map_or(Value::Null, Value::from),
        "caseSensitive": opt_bool(e.case_sensitive),
        "matchWholeWords": opt_bool(e.match_whole_words),
        "useGroupScoring": opt_bool(e.use_group_scoring),
        "automationId": e.automation_id,
        "role": role_code(e.role),
        "sticky": e.sticky,
        "cooldown": e.cooldown,
        "delay": e.delay,
        "triggers": e.triggers,
        "matchPersonaDescription": e.match_sources.persona_description,
        "matchCharacterDescription": e.match_sources.character_description,
        "matchCharacterPersonality": e.match_sources.character_personality,
        "matchCharacterDepthPrompt": e.match_sources.character_depth_prompt,
        "matchScenario": e.match_sources.scenario,
        "matchCreatorNotes": e.match_sources.creator_notes,
    });
    if let Value::Object(known) = known {
        o.extend(known);
    }
    match e.display_index {
        Some(i) => {
            o.insert("displayIndex".into(), i.into());
        }
        None => {
            o.remove("displayIndex");
        }
    }
    if let Some(filter) = &e.character_filter {
        o.insert("characterFilter".into(), character_filter_json(filter));
    }
    o
}
