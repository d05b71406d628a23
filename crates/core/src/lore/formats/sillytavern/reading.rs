//! Reading SillyTavern world info JSON.
//!
//! `{"entries": {"<uid>": {...}}}` (or `entries` as a list), every ST
//! entry field mapped to [`Entry`] (`characterFilter` too); fields missing in older files take
//! [`Entry::new`]'s defaults (SillyTavern's). Fields Confab does not model
//! (`addMemo`, `extensions`, future fields) go verbatim to
//! [`Entry::extensions`]; book-level ones (`originalData`, ...) to
//! [`Book::extensions`]. Object-form entries are taken in numeric key order
//! (the file keys them by uid, so a book comes back in uid order; ST's own
//! editor order is `displayIndex`, which is kept).
//! A missing or repeated `uid` gets the lowest free number.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::fields::{
    character_filter, delay_until_recursion, keep_unread_filter, position, role, selective_logic,
};
use super::settings::{read_card_style_settings, read_confab_settings, SETTINGS_KEY};
use crate::error::Error;
use crate::lore::formats::value::{leftovers, Ctx};
use crate::lore::formats::{too_many_entries, MAX_BOOK_ENTRIES};
use crate::lore::model::{Book, BookSettings, Entry, MatchSources};

/// Entry fields mapped to [`Entry`]; everything else is kept in `extensions`.
const ENTRY_FIELDS: &[&str] = &[
    "uid",
    "key",
    "keysecondary",
    "comment",
    "content",
    "constant",
    "selective",
    "selectiveLogic",
    "order",
    "position",
    "disable",
    "excludeRecursion",
    "preventRecursion",
    "delayUntilRecursion",
    "probability",
    "useProbability",
    "depth",
    "group",
    "groupOverride",
    "groupWeight",
    "scanDepth",
    "caseSensitive",
    "matchWholeWords",
    "useGroupScoring",
    "sticky",
    "cooldown",
    "delay",
    "ignoreBudget",
    "role",
    "outletName",
    "vectorized",
    "automationId",
    "triggers",
    "displayIndex",
    "characterFilter",
    "matchPersonaDescription",
    "matchCharacterDescription",
    "matchCharacterPersonality",
    "matchCharacterDepthPrompt",
    "matchScenario",
    "matchCreatorNotes",
];

/// Book fields mapped to [`Book`]; everything else is kept in `extensions`.
const BOOK_FIELDS: &[&str] = &[
    "entries",
    "name",
    "description",
    "scan_depth",
    "token_budget",
    "recursive_scanning",
    SETTINGS_KEY,
];

/// Reads a SillyTavern world-info object.
pub(crate) fn read(
    root: &Map<String, Value>,
    name_fallback: &str,
    file: &str,
) -> Result<Book, Error> {
    let ctx = Ctx::book(file);
    let mut raw: Vec<(String, &Value)> = match root.get("entries") {
        Some(Value::Object(map)) => {
            if map.len() > MAX_BOOK_ENTRIES {
                return Err(too_many_entries(file, map.len()));
            }
            let mut v: Vec<(String, &Value)> = map.iter().map(|(k, v)| (k.clone(), v)).collect();
            // Numeric keys in numeric order ("2" before "10"), then the rest.
            v.sort_by(
                |(a, _), (b, _)| match (a.trim().parse::<u64>(), b.trim().parse::<u64>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
                    (Ok(_), Err(_)) => std::cmp::Ordering::Less,
                    (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
                    (Err(_), Err(_)) => a.cmp(b),
                },
            );
            v
        }
        Some(Value::Array(list)) => {
            if list.len() > MAX_BOOK_ENTRIES {
                return Err(too_many_entries(file, list.len()));
            }
            list.iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect()
        }
        None | Some(Value::Null) => Vec::new(),
        Some(other) => {
            return Err(ctx.err(
                "entries",
                format!(
                    "must be an object or a list of entries, not {}",
                    crate::lore::formats::value::kind(other)
                ),
            ))
        }
    };

    let mut parsed: Vec<(Option<u32>, Entry)> = Vec::with_capacity(raw.len());
    for (at, value) in raw.drain(..) {
        let Value::Object(obj) = value else {
            return Err(Error::InvalidWorldBook {
                file: file.to_owned(),
                entry: Some(format!("entry {at}")),
                field: None,
                detail: format!(
                    "must be an object with the entry's fields, not {}",
                    crate::lore::formats::value::kind(value)
                ),
            });
        };
        let ectx = Ctx::entry(file, &at, obj);
        let uid = match ectx.u32_opt(obj, "uid")? {
            Some(u) => Some(u),
            None => at
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|_| root_is_object(root)),
        };
        parsed.push((uid, read_entry(&ectx, obj)?));
    }
    let entries = assign_uids(parsed);

    let mut settings = BookSettings::default();
    read_card_style_settings(&ctx, root, &mut settings)?;
    read_confab_settings(&ctx, root.get(SETTINGS_KEY), &mut settings)?;

    let name = match root.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => name_fallback.to_owned(),
    };
    Ok(Book {
        name,
        description: ctx.string_or(root, "description", "")?,
        settings,
        entries,
        extensions: leftovers(root, BOOK_FIELDS),
    })
}

fn root_is_object(root: &Map<String, Value>) -> bool {
    matches!(root.get("entries"), Some(Value::Object(_)))
}

/// Gives each entry its uid, or the lowest free one when it has none or a repeated one.
pub(crate) fn assign_uids(parsed: Vec<(Option<u32>, Entry)>) -> Vec<Entry> {
    let mut used: BTreeSet<u32> = BTreeSet::new();
    let mut needs: Vec<bool> = Vec::with_capacity(parsed.len());
    for (uid, _) in &parsed {
        needs.push(match uid {
            Some(u) => !used.insert(*u),
            None => true,
        });
    }
    let mut next = 0u32;
    parsed
        .into_iter()
        .zip(needs)
        .map(|((uid, mut entry), need)| {
            if need {
                while used.contains(&next) {
                    next = next.saturating_add(1);
                }
                used.insert(next);
                entry.uid = next;
            } else {
                entry.uid = uid.unwrap_or_default();
            }
            entry
        })
        .collect()
}

fn read_entry(ctx: &Ctx<'_>, obj: &Map<String, Value>) -> Result<Entry, Error> {
    let d = Entry::new(0);
    let enabled = match ctx.bool_opt(obj, "disable")? {
        Some(disable) => !disable,
        None => ctx.bool_opt(obj, "enabled")?.unwrap_or(d.enabled),
    };
    let filter = obj.get("characterFilter");
    let character_filter = character_filter(ctx, filter, "characterFilter")?;
    let mut extensions = leftovers(obj, ENTRY_FIELDS);
    keep_unread_filter(
        &mut extensions,
        "characterFilter",
        filter,
        &character_filter,
    );
    Ok(Entry {
        uid: 0,
        keys: ctx.string_list(obj, "key")?,
        secondary_keys: ctx.string_list(obj, "keysecondary")?,
        selective: ctx.bool_or(obj, "selective", d.selective)?,
        selective_logic: selective_logic(ctx, obj.get("selectiveLogic"), "selectiveLogic")?,
        comment: ctx.string_or(obj, "comment", "")?,
        content: ctx.string_or(obj, "content", "")?,
        enabled,
        constant: ctx.bool_or(obj, "constant", d.constant)?,
        insertion_order: ctx.i32_or(obj, "order", d.insertion_order)?,
        position: position(ctx, obj.get("position"), "position")?,
        depth: ctx.u32_or(obj, "depth", d.depth)?,
        role: role(ctx, obj.get("role"), "role")?,
        outlet_name: ctx.string_or(obj, "outletName", "")?,
        case_sensitive: ctx.bool_opt(obj, "caseSensitive")?,
        match_whole_words: ctx.bool_opt(obj, "matchWholeWords")?,
        scan_depth: ctx.u32_opt(obj, "scanDepth")?,
        use_group_scoring: ctx.bool_opt(obj, "useGroupScoring")?,
        probability: ctx.percent_or(obj, "probability", d.probability)?,
        use_probability: ctx.bool_or(obj, "useProbability", d.use_probability)?,
        groups: ctx.group_list_value(obj.get("group"), "group")?,
        group_prioritize: ctx.bool_or(obj, "groupOverride", false)?,
        group_weight: ctx.u32_or(obj, "groupWeight", d.group_weight)?,
        exclude_recursion: ctx.bool_or(obj, "excludeRecursion", false)?,
        prevent_recursion: ctx.bool_or(obj, "preventRecursion", false)?,
        delay_until_recursion: delay_until_recursion(
            ctx,
            obj.get("delayUntilRecursion"),
            "delayUntilRecursion",
        )?,
        sticky: ctx.u32_or(obj, "sticky", 0)?,
        cooldown: ctx.u32_or(obj, "cooldown", 0)?,
        delay: ctx.u32_or(obj, "delay", 0)?,
        ignore_budget: ctx.bool_or(obj, "ignoreBudget", false)?,
        match_sources: MatchSources {
            persona_description: ctx.bool_or(obj, "matchPersonaDescription", false)?,
            character_description: ctx.bool_or(obj, "matchCharacterDescription", false)?,
            character_personality: ctx.bool_or(obj, "matchCharacterPersonality", false)?,
            character_depth_prompt: ctx.bool_or(obj, "matchCharacterDepthPrompt", false)?,
            scenario: ctx.bool_or(obj, "matchScenario", false)?,
            creator_notes: ctx.bool_or(obj, "matchCreatorNotes", false)?,
        },
        vectorized: ctx.bool_or(obj, "vectorized", false)?,
        automation_id: ctx.string_or(obj, "automationId", "")?,
        triggers: ctx.string_list(obj, "triggers")?,
        display_index: ctx.u32_opt(obj, "displayIndex")?,
        character_filter,
        extensions,
    })
}
