//! SillyTavern world info JSON, both ways.
//!
//! Read: `{"entries": {"<uid>": {...}}}` (or `entries` as a list), every ST
//! entry field mapped to [`Entry`] (`characterFilter` too); fields missing in older files take
//! [`Entry::new`]'s defaults (SillyTavern's). Fields Confab does not model
//! (`addMemo`, `extensions`, future fields) go verbatim to
//! [`Entry::extensions`]; book-level ones (`originalData`, ...) to
//! [`Book::extensions`]. Object-form entries are taken in numeric key order
//! (the file keys them by uid, so a book comes back in uid order; ST's own
//! editor order is `displayIndex`, which is kept).
//! A missing or repeated `uid` gets the lowest free number.
//!
//! Write: the current ST entry layout with every field, keyed by uid, plus the
//! kept extension fields at the same level (Confab's own fields win a clash).
//! `delayUntilRecursion` is written `false` for 0 and as the level otherwise;
//! `sticky`/`cooldown`/`delay` as numbers (0 = off, which ST reads like `null`).

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::value::{leftovers, Ctx};
use super::{too_many_entries, MAX_BOOK_ENTRIES};
use crate::error::Error;
use crate::lore::model::{
    Book, BookSettings, CharacterFilter, Entry, EntryPosition, EntryRole, MatchSources,
    SelectiveLogic,
};

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

/// Where Confab keeps the book settings SillyTavern has no per-book place for.
pub(crate) const SETTINGS_KEY: &str = "confab/settings";

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
                    super::value::kind(other)
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
                    super::value::kind(value)
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

/// ST `characterFilter` (`{isExclude, names, tags}`); `None` when absent or not an
/// object (ST, too, ignores a filter of another shape).
pub(crate) fn character_filter(
    ctx: &Ctx<'_>,
    v: Option<&Value>,
    field: &str,
) -> Result<Option<CharacterFilter>, Error> {
    let Some(Value::Object(o)) = v else {
        return Ok(None);
    };
    let x = |k: &str| format!("{field}.{k}");
    Ok(Some(CharacterFilter {
        exclude: ctx
            .bool_value(o.get("isExclude"), &x("isExclude"))?
            .unwrap_or(false),
        names: ctx.string_list_value(o.get("names"), &x("names"))?,
        tags: ctx.string_list_value(o.get("tags"), &x("tags"))?,
    }))
}

/// A filter value that was not read (not an object) stays in `extensions` as it was.
pub(crate) fn keep_unread_filter(
    extensions: &mut Map<String, Value>,
    field: &str,
    raw: Option<&Value>,
    read: &Option<CharacterFilter>,
) {
    if let (None, Some(v)) = (read, raw) {
        if !v.is_null() {
            extensions.insert(field.to_owned(), v.clone());
        }
    }
}

/// A character filter as ST writes it.
pub(crate) fn character_filter_json(f: &CharacterFilter) -> Value {
    json!({ "isExclude": f.exclude, "names": f.names, "tags": f.tags })
}

/// ST `selectiveLogic` 0..3.
pub(crate) fn selective_logic(
    ctx: &Ctx<'_>,
    v: Option<&Value>,
    field: &str,
) -> Result<SelectiveLogic, Error> {
    match ctx.int_value(v, field)? {
        None | Some(0) => Ok(SelectiveLogic::AndAny),
        Some(1) => Ok(SelectiveLogic::NotAll),
        Some(2) => Ok(SelectiveLogic::NotAny),
        Some(3) => Ok(SelectiveLogic::AndAll),
        Some(n) => Err(ctx.err(
            field,
            format!("must be 0 (and any), 1 (not all), 2 (not any) or 3 (and all), not {n}"),
        )),
    }
}

/// ST `position` 0..7 (also "before_char"/"after_char").
pub(crate) fn position(
    ctx: &Ctx<'_>,
    v: Option<&Value>,
    field: &str,
) -> Result<EntryPosition, Error> {
    if let Some(Value::String(s)) = v {
        match s.trim() {
            "before_char" => return Ok(EntryPosition::BeforeCharacter),
            "after_char" => return Ok(EntryPosition::AfterCharacter),
            _ => {}
        }
    }
    match ctx.int_value(v, field)? {
        None => Ok(EntryPosition::BeforeCharacter),
        Some(n) => position_from_code(n).ok_or_else(|| {
            ctx.err(
                field,
                format!("must be a SillyTavern position from 0 to 7, not {n}"),
            )
        }),
    }
}

pub(crate) fn position_from_code(n: i64) -> Option<EntryPosition> {
    Some(match n {
        0 => EntryPosition::BeforeCharacter,
        1 => EntryPosition::AfterCharacter,
        2 => EntryPosition::AuthorsNoteTop,
        3 => EntryPosition::AuthorsNoteBottom,
        4 => EntryPosition::AtDepth,
        5 => EntryPosition::ExampleMessagesTop,
        6 => EntryPosition::ExampleMessagesBottom,
        7 => EntryPosition::Outlet,
        _ => return None,
    })
}

pub(crate) fn position_code(p: EntryPosition) -> u32 {
    match p {
        EntryPosition::BeforeCharacter => 0,
        EntryPosition::AfterCharacter => 1,
        EntryPosition::AuthorsNoteTop => 2,
        EntryPosition::AuthorsNoteBottom => 3,
        EntryPosition::AtDepth => 4,
        EntryPosition::ExampleMessagesTop => 5,
        EntryPosition::ExampleMessagesBottom => 6,
        EntryPosition::Outlet => 7,
    }
}

pub(crate) fn logic_code(l: SelectiveLogic) -> u32 {
    match l {
        SelectiveLogic::AndAny => 0,
        SelectiveLogic::NotAll => 1,
        SelectiveLogic::NotAny => 2,
        SelectiveLogic::AndAll => 3,
    }
}

pub(crate) fn role_code(r: EntryRole) -> u32 {
    match r {
        EntryRole::System => 0,
        EntryRole::User => 1,
        EntryRole::Assistant => 2,
    }
}

/// ST `role` 0..2; `null` is system.
pub(crate) fn role(ctx: &Ctx<'_>, v: Option<&Value>, field: &str) -> Result<EntryRole, Error> {
    if let Some(Value::String(s)) = v {
        match s.trim().to_ascii_lowercase().as_str() {
            "system" => return Ok(EntryRole::System),
            "user" => return Ok(EntryRole::User),
            "assistant" => return Ok(EntryRole::Assistant),
            _ => {}
        }
    }
    match ctx.int_value(v, field)? {
        None | Some(0) => Ok(EntryRole::System),
        Some(1) => Ok(EntryRole::User),
        Some(2) => Ok(EntryRole::Assistant),
        Some(n) => Err(ctx.err(
            field,
            format!("must be 0 (system), 1 (user) or 2 (assistant), not {n}"),
        )),
    }
}

/// ST `delayUntilRecursion`: `false`/`true` or a recursion level.
pub(crate) fn delay_until_recursion(
    ctx: &Ctx<'_>,
    v: Option<&Value>,
    field: &str,
) -> Result<u32, Error> {
    match v {
        Some(Value::Bool(b)) => Ok(u32::from(*b)),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("true") => Ok(1),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("false") => Ok(0),
        other => Ok(ctx.u32_value(other, field)?.unwrap_or(0)),
    }
}

pub(crate) fn delay_until_recursion_json(level: u32) -> Value {
    if level == 0 {
        Value::Bool(false)
    } else {
        Value::from(level)
    }
}

/// `scan_depth`, `token_budget`, `recursive_scanning` (card-book names, also
/// found at the top of some world-info files).
pub(crate) fn read_card_style_settings(
    ctx: &Ctx<'_>,
    obj: &Map<String, Value>,
    settings: &mut BookSettings,
) -> Result<(), Error> {
    if let Some(d) = ctx.u32_opt(obj, "scan_depth")? {
        settings.scan_depth = d;
    }
    if let Some(b) = ctx.u32_opt(obj, "token_budget")? {
        settings.budget_cap = b;
    }
    if let Some(r) = ctx.bool_opt(obj, "recursive_scanning")? {
        settings.recursive = r;
    }
    Ok(())
}

/// Writes the card-book names of the settings that differ from the defaults.
pub(crate) fn write_card_style_settings(settings: &BookSettings, out: &mut Map<String, Value>) {
    let d = BookSettings::default();
    if settings.scan_depth != d.scan_depth {
        out.insert("scan_depth".into(), settings.scan_depth.into());
    }
    if settings.budget_cap != d.budget_cap {
        out.insert("token_budget".into(), settings.budget_cap.into());
    }
    if settings.recursive != d.recursive {
        out.insert("recursive_scanning".into(), settings.recursive.into());
    }
}

/// Applies a `"confab/settings"` object over `settings`; unknown keys are ignored.
pub(crate) fn read_confab_settings(
    ctx: &Ctx<'_>,
    v: Option<&Value>,
    settings: &mut BookSettings,
) -> Result<(), Error> {
    let obj = match v {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(ctx.err(
                SETTINGS_KEY,
                format!("must be an object, not {}", super::value::kind(other)),
            ))
        }
    };
    let field = |k: &str| format!("{SETTINGS_KEY}.{k}");
    let num = |k: &str, slot: &mut u32| -> Result<(), Error> {
        if let Some(x) = ctx.u32_value(obj.get(k), &field(k))? {
            *slot = x;
        }
        Ok(())
    };
    let flag = |k: &str, slot: &mut bool| -> Result<(), Error> {
        if let Some(x) = ctx.bool_value(obj.get(k), &field(k))? {
            *slot = x;
        }
        Ok(())
    };
    num("scanDepth", &mut settings.scan_depth)?;
    num("budgetPercent", &mut settings.budget_percent)?;
    num("budgetCap", &mut settings.budget_cap)?;
    flag("recursive", &mut settings.recursive)?;
    num("maxRecursionSteps", &mut settings.max_recursion_steps)?;
    num("minActivations", &mut settings.min_activations)?;
    num(
        "minActivationsDepthMax",
        &mut settings.min_activations_depth_max,
    )?;
    flag("caseSensitive", &mut settings.case_sensitive)?;
    flag("matchWholeWords", &mut settings.match_whole_words)?;
    flag("includeNames", &mut settings.include_names)?;
    flag("useGroupScoring", &mut settings.use_group_scoring)?;
    Ok(())
}

/// The `"confab/settings"` object, or `None` when the settings are the defaults.
pub(crate) fn confab_settings_json(settings: &BookSettings) -> Option<Value> {
    if *settings == BookSettings::default() {
        return None;
    }
    Some(json!({
        "scanDepth": settings.scan_depth,
        "budgetPercent": settings.budget_percent,
        "budgetCap": settings.budget_cap,
        "recursive": settings.recursive,
        "maxRecursionSteps": settings.max_recursion_steps,
        "minActivations": settings.min_activations,
        "minActivationsDepthMax": settings.min_activations_depth_max,
        "caseSensitive": settings.case_sensitive,
        "matchWholeWords": settings.match_whole_words,
        "includeNames": settings.include_names,
        "useGroupScoring": settings.use_group_scoring,
    }))
}

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
