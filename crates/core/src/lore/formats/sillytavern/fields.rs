//! SillyTavern's encodings of an entry's fields, both ways: character filters,
//! selective logic, positions, roles and `delayUntilRecursion`.

use serde_json::{json, Map, Value};

use crate::error::Error;
use crate::lore::formats::value::Ctx;
use crate::lore::model::{CharacterFilter, EntryPosition, EntryRole, SelectiveLogic};

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
