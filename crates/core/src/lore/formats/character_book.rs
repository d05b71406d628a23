//! The V2/V3 card `character_book`, both ways, the way SillyTavern maps it.
//!
//! Spec fields map directly (`keys`, `secondary_keys`, `content`, `comment`,
//! `constant`, `selective`, `insertion_order`, `enabled`, `id` -> uid,
//! `case_sensitive`). SillyTavern's extra entry fields live in the entry's
//! `extensions` under ST's snake_case names (`position` 0..7, `depth`, `role`,
//! `probability`, `useProbability`, `selectiveLogic`, `group`, `group_override`,
//! `group_weight`, `sticky`, `cooldown`, `delay`, `match_*`, `triggers`, ...);
//! they are read from there and written there. Without `extensions.position`,
//! `"before_char"` is before the character and anything else after it (as in
//! ST). A missing `comment` falls back to the spec's `name`.
//!
//! Kept verbatim: other top-level entry fields (`name`, `priority`,
//! `use_regex`, ...) in [`Entry::extensions`]; the character filter, which ST
//! writes beside the spec fields as `character_filter` (`{isExclude, names, tags}`),
//! is read from there (or from `extensions.character_filter`) and written there; other keys of the entry's
//! `extensions` in `Entry::extensions["extensions"]` (which is also where ST's
//! world-info files keep a card entry's extensions); other book fields in
//! [`Book::extensions`], the book's `extensions` object under `"extensions"`.
//!
//! Lossy on export: `use_regex` is written back only if the source had it
//! (ST writes `true` everywhere and ignores it on import, as Confab does: a key
//! is a regex when written `/pattern/flags`). A world-info file's
//! `originalData` (ST's copy of the card book it came from) is never written
//! into a card, nor a stray top-level `confab/settings` (Confab's key, used
//! only inside `extensions`). Book settings without a spec field travel in
//! `extensions["confab/settings"]`; `token_budget` is the budget cap in tokens.

use serde_json::{json, Map, Value};

use super::sillytavern::{
    assign_uids, character_filter, character_filter_json, confab_settings_json,
    delay_until_recursion, delay_until_recursion_json, keep_unread_filter, logic_code, position,
    position_code, position_from_code, read_card_style_settings, read_confab_settings, role,
    role_code, selective_logic, write_card_style_settings, SETTINGS_KEY,
};
use super::value::{kind, leftovers, Ctx};
use super::{too_deep, too_many_entries, value_too_deep, MAX_BOOK_ENTRIES, MAX_BOOK_JSON_DEPTH};
use crate::error::Error;
use crate::lore::model::{Book, BookSettings, Entry, EntryPosition, MatchSources};

const BOOK_FIELDS: &[&str] = &[
    "name",
    "description",
    "scan_depth",
    "token_budget",
    "recursive_scanning",
    "extensions",
    "entries",
];

const ENTRY_FIELDS: &[&str] = &[
    "id",
    "keys",
    "secondary_keys",
    "comment",
    "content",
    "constant",
    "selective",
    "insertion_order",
    "enabled",
    "position",
    "case_sensitive",
    "character_filter",
    "extensions",
];

/// ST's entry fields inside a card entry's `extensions`.
const ST_EXTENSION_FIELDS: &[&str] = &[
    "position",
    "exclude_recursion",
    "display_index",
    "probability",
    "useProbability",
    "depth",
    "selectiveLogic",
    "outlet_name",
    "group",
    "group_override",
    "group_weight",
    "prevent_recursion",
    "delay_until_recursion",
    "scan_depth",
    "match_whole_words",
    "use_group_scoring",
    "case_sensitive",
    "automation_id",
    "role",
    "vectorized",
    "sticky",
    "cooldown",
    "delay",
    "match_persona_description",
    "match_character_description",
    "match_character_personality",
    "match_character_depth_prompt",
    "match_scenario",
    "match_creator_notes",
    "triggers",
    "ignore_budget",
    "character_filter",
];

/// Reads a card's `character_book` object; `name_fallback` names a book that
/// has no `name` and the book in error messages.
pub fn from_character_book(value: &Value, name_fallback: &str) -> Result<Book, Error> {
    let label = format!("the character book of {name_fallback}");
    read(value, name_fallback, &label)
}

/// Reads a `character_book` object; `file` names it in errors.
pub(crate) fn read(value: &Value, name_fallback: &str, file: &str) -> Result<Book, Error> {
    if value_too_deep(value, MAX_BOOK_JSON_DEPTH) {
        return Err(too_deep(file));
    }
    let ctx = Ctx::book(file);
    let Value::Object(root) = value else {
        return Err(ctx.err_whole(format!(
            "a character book must be an object with `entries`, not {}",
            kind(value)
        )));
    };
    let raw: Vec<(String, &Value)> = match root.get("entries") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Some(other) => {
            return Err(ctx.err(
                "entries",
                format!("must be a list of entries, not {}", kind(other)),
            ))
        }
    };
    if raw.len() > MAX_BOOK_ENTRIES {
        return Err(too_many_entries(file, raw.len()));
    }
    let mut parsed = Vec::with_capacity(raw.len());
    for (at, v) in raw {
        let Value::Object(obj) = v else {
            return Err(Error::InvalidWorldBook {
                file: file.to_owned(),
                entry: Some(format!("entry {at}")),
                field: None,
                detail: format!("must be an object with the entry's fields, not {}", kind(v)),
            });
        };
        let ectx = Ctx::entry(file, &at, obj);
        // A non-numeric id (some tools write UUIDs) just gets a fresh uid.
        let uid = ectx.u32_value(obj.get("id"), "id").ok().flatten();
        parsed.push((uid, read_entry(&ectx, obj)?));
    }

    let mut settings = BookSettings::default();
    read_card_style_settings(&ctx, root, &mut settings)?;
    let mut extensions = leftovers(root, BOOK_FIELDS);
    if let Some(ext) = ctx.object_opt(root, "extensions")? {
        read_confab_settings(&ctx, ext.get(SETTINGS_KEY), &mut settings)?;
        let rest = leftovers(ext, &[SETTINGS_KEY]);
        if !rest.is_empty() {
            extensions.insert("extensions".into(), Value::Object(rest));
        }
    }
    let name = match root.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => name_fallback.to_owned(),
    };
    Ok(Book {
        name,
        description: ctx.string_or(root, "description", "")?,
        settings,
        entries: assign_uids(parsed),
        extensions,
    })
}

fn read_entry(ctx: &Ctx<'_>, obj: &Map<String, Value>) -> Result<Entry, Error> {
    let d = Entry::new(0);
    let empty = Map::new();
    let ext = ctx.object_opt(obj, "extensions")?.unwrap_or(&empty);
    // Fields inside `extensions` are named `extensions.x` in errors.
    let x = |k: &str| format!("extensions.{k}");

    let position = match ext.get("position") {
        Some(v) if !v.is_null() => position(ctx, Some(v), &x("position"))?,
        _ => match obj.get("position") {
            Some(Value::String(s)) if s.trim() == "before_char" => EntryPosition::BeforeCharacter,
            Some(Value::Number(n)) => n
                .as_i64()
                .and_then(position_from_code)
                .unwrap_or(EntryPosition::AfterCharacter),
            _ => EntryPosition::AfterCharacter,
        },
    };
    let case_sensitive = if ext.contains_key("case_sensitive") {
        ctx.bool_value(ext.get("case_sensitive"), &x("case_sensitive"))?
    } else {
        ctx.bool_opt(obj, "case_sensitive")?
    };
    let mut comment = ctx.string_or(obj, "comment", "")?;
    if comment.is_empty() {
        if let Some(Value::String(name)) = obj.get("name") {
            comment = name.clone();
        }
    }
    let flag = |k: &str, default: bool| -> Result<bool, Error> {
        Ok(ctx.bool_value(ext.get(k), &x(k))?.unwrap_or(default))
    };
    let count = |k: &str, default: u32| -> Result<u32, Error> {
        Ok(ctx.u32_value(ext.get(k), &x(k))?.unwrap_or(default))
    };

    // ST writes the filter beside the spec fields; some tools put it in `extensions`.
    let top_filter = obj.get("character_filter");
    let ext_filter = ext.get("character_filter");
    let character_filter = match character_filter(ctx, top_filter, "character_filter")? {
        Some(f) => Some(f),
        None => character_filter(ctx, ext_filter, &x("character_filter"))?,
    };
    let mut extensions = leftovers(obj, ENTRY_FIELDS);
    let mut rest = leftovers(ext, ST_EXTENSION_FIELDS);
    keep_unread_filter(
        &mut extensions,
        "character_filter",
        top_filter,
        &character_filter,
    );
    keep_unread_filter(&mut rest, "character_filter", ext_filter, &character_filter);
    if !rest.is_empty() {
        extensions.insert("extensions".into(), Value::Object(rest));
    }
    Ok(Entry {
        uid: 0,
        keys: ctx.string_list(obj, "keys")?,
        secondary_keys: ctx.string_list(obj, "secondary_keys")?,
        selective: ctx.bool_or(obj, "selective", false)?,
        selective_logic: selective_logic(ctx, ext.get("selectiveLogic"), &x("selectiveLogic"))?,
        comment,
        content: ctx.string_or(obj, "content", "")?,
        enabled: ctx.bool_or(obj, "enabled", true)?,
        constant: ctx.bool_or(obj, "constant", false)?,
        insertion_order: ctx.i32_or(obj, "insertion_order", d.insertion_order)?,
        position,
        depth: count("depth", d.depth)?,
        role: role(ctx, ext.get("role"), &x("role"))?,
        outlet_name: ctx.string_value(ext.get("outlet_name"), &x("outlet_name"), "")?,
        case_sensitive,
        match_whole_words: ctx.bool_value(ext.get("match_whole_words"), &x("match_whole_words"))?,
        scan_depth: ctx.u32_value(ext.get("scan_depth"), &x("scan_depth"))?,
        use_group_scoring: ctx.bool_value(ext.get("use_group_scoring"), &x("use_group_scoring"))?,
        probability: count("probability", d.probability)?.min(100),
        use_probability: flag("useProbability", d.use_probability)?,
        groups: ctx.group_list_value(ext.get("group"), &x("group"))?,
        group_prioritize: flag("group_override", false)?,
        group_weight: count("group_weight", d.group_weight)?,
        exclude_recursion: flag("exclude_recursion", false)?,
        prevent_recursion: flag("prevent_recursion", false)?,
        delay_until_recursion: delay_until_recursion(
            ctx,
            ext.get("delay_until_recursion"),
            &x("delay_until_recursion"),
        )?,
        sticky: count("sticky", 0)?,
        cooldown: count("cooldown", 0)?,
        delay: count("delay", 0)?,
        ignore_budget: flag("ignore_budget", false)?,
        match_sources: MatchSources {
            persona_description: flag("match_persona_description", false)?,
            character_description: flag("match_character_description", false)?,
            character_personality: flag("match_character_personality", false)?,
            character_depth_prompt: flag("match_character_depth_prompt", false)?,
            scenario: flag("match_scenario", false)?,
            creator_notes: flag("match_creator_notes", false)?,
        },
        vectorized: flag("vectorized", false)?,
        automation_id: ctx.string_value(ext.get("automation_id"), &x("automation_id"), "")?,
        triggers: ctx.string_list_value(ext.get("triggers"), &x("triggers"))?,
        display_index: ctx.u32_value(ext.get("display_index"), &x("display_index"))?,
        character_filter,
        extensions,
    })
}

/// The V2/V3 `character_book` object for a card, with SillyTavern's entry
/// fields in each entry's `extensions` (as ST writes them).
pub fn to_character_book(book: &Book) -> Value {
    let mut root = book.extensions.clone();
    root.remove("originalData");
    root.remove(SETTINGS_KEY);
    let mut ext = match root.remove("extensions") {
        Some(Value::Object(o)) => o,
        _ => Map::new(),
    };
    match confab_settings_json(&book.settings) {
        Some(s) => {
            ext.insert(SETTINGS_KEY.into(), s);
        }
        None => {
            ext.remove(SETTINGS_KEY);
        }
    }
    for k in ["scan_depth", "token_budget", "recursive_scanning"] {
        root.remove(k);
    }
    root.insert("name".into(), Value::String(book.name.clone()));
    if book.description.is_empty() {
        root.remove("description");
    } else {
        root.insert("description".into(), book.description.clone().into());
    }
    write_card_style_settings(&book.settings, &mut root);
    root.insert("extensions".into(), Value::Object(ext));
    root.insert(
        "entries".into(),
        Value::Array(book.entries.iter().map(entry_json).collect()),
    );
    Value::Object(root)
}

fn entry_json(e: &Entry) -> Value {
    let mut o = e.extensions.clone();
    let mut ext = match o.remove("extensions") {
        Some(Value::Object(x)) => x,
        _ => Map::new(),
    };
    let opt_bool = |b: Option<bool>| b.map_or(Value::Null, Value::Bool);
    let st = json!({
        "position": position_code(e.position),
        "exclude_recursion": e.exclude_recursion,
        "probability": e.probability,
        "useProbability": e.use_probability,
        "depth": e.depth,
        "selectiveLogic": logic_code(e.selective_logic),
        "outlet_name": e.outlet_name,
        "group": e.groups.join(","),
        "group_override": e.group_prioritize,
        "group_weight": e.group_weight,
        "prevent_recursion": e.prevent_recursion,
        "delay_until_recursion": delay_until_recursion_json(e.delay_until_recursion),
        "scan_depth": e.scan_depth.map_or(Value::Null, Value::from),
        "match_whole_words": opt_bool(e.match_whole_words),
        "use_group_scoring": opt_bool(e.use_group_scoring),
        "case_sensitive": opt_bool(e.case_sensitive),
        "automation_id": e.automation_id,
        "role": role_code(e.role),
        "vectorized": e.vectorized,
        "sticky": e.sticky,
        "cooldown": e.cooldown,
        "delay": e.delay,
        "match_persona_description": e.match_sources.persona_description,
        "match_character_description": e.match_sources.character_description,
        "match_character_personality": e.match_sources.character_personality,
        "match_character_depth_prompt": e.match_sources.character_depth_prompt,
        "match_scenario": e.match_sources.scenario,
        "match_creator_notes": e.match_sources.creator_notes,
        "triggers": e.triggers,
        "ignore_budget": e.ignore_budget,
    });
    if let Value::Object(st) = st {
        ext.extend(st);
    }
    match e.display_index {
        Some(i) => {
            ext.insert("display_index".into(), i.into());
        }
        None => {
            ext.remove("display_index");
        }
    }
    let spec = json!({
        "id": e.uid,
        "keys": e.keys,
        "secondary_keys": e.secondary_keys,
        "comment": e.comment,
        "content": e.content,
        "constant": e.constant,
        "selective": e.selective,
        "insertion_order": e.insertion_order,
        "enabled": e.enabled,
        "position": if e.position == EntryPosition::BeforeCharacter { "before_char" } else { "after_char" },
    });
    if let Value::Object(spec) = spec {
        o.extend(spec);
    }
    match e.case_sensitive {
        Some(b) => {
            o.insert("case_sensitive".into(), b.into());
        }
        None => {
            o.remove("case_sensitive");
        }
    }
    if let Some(filter) = &e.character_filter {
        o.insert("character_filter".into(), character_filter_json(filter));
    }
    o.insert("extensions".into(), Value::Object(ext));
    Value::Object(o)
}
