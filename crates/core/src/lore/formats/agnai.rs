//! Agnai memory books (`kind: "memory"`, import only).
//!
//! Mapping: `name` -> comment, `entry` -> content, `keywords` -> keys,
//! `priority` -> insertion order (both: higher goes in first when the budget is
//! short), `enabled` -> enabled. Agnai has no secondary keys, so entries are
//! not selective; they go before the character. `weight` (Agnai's ordering
//! hint; SillyTavern's importer uses it as the order instead) and every other
//! field (including card-style copies some exporters add: `keys`, `content`,
//! `position`, ...) are kept in `Entry::extensions["agnai"]`. The book's
//! `name` and `description` map; its other fields (`kind`, `userId`,
//! `scan_depth`, `token_budget`, ...) are kept in `Book::extensions["agnai"]`
//! and not applied (Agnai's scan depth and budget are per user, not per book).

use serde_json::{Map, Value};

use super::value::{kind, leftovers, Ctx};
use super::{too_many_entries, MAX_BOOK_ENTRIES};
use crate::error::Error;
use crate::lore::model::{Book, BookSettings, Entry};

const ENTRY_FIELDS: &[&str] = &["name", "entry", "keywords", "priority", "enabled"];

pub(crate) fn read(
    root: &Map<String, Value>,
    name_fallback: &str,
    file: &str,
) -> Result<Book, Error> {
    let ctx = Ctx::book(file);
    let list: &[Value] = match root.get("entries") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(ctx.err(
                "entries",
                format!("must be a list of entries, not {}", kind(other)),
            ))
        }
    };
    if list.len() > MAX_BOOK_ENTRIES {
        return Err(too_many_entries(file, list.len()));
    }
    let mut entries = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let Value::Object(obj) = v else {
            return Err(Error::InvalidWorldBook {
                file: file.to_owned(),
                entry: Some(format!("entry {i}")),
                field: None,
                detail: format!("must be an object with the entry's fields, not {}", kind(v)),
            });
        };
        let ectx = Ctx::entry(file, &i.to_string(), obj);
        let mut e = Entry::new(u32::try_from(i).unwrap_or(u32::MAX));
        e.comment = ectx.string_or(obj, "name", "")?;
        e.content = ectx.string_or(obj, "entry", "")?;
        e.keys = ectx.string_list(obj, "keywords")?;
        e.insertion_order = ectx.i32_or(obj, "priority", e.insertion_order)?;
        e.enabled = ectx.bool_or(obj, "enabled", true)?;
        e.selective = false;
        let rest = leftovers(obj, ENTRY_FIELDS);
        if !rest.is_empty() {
            e.extensions.insert("agnai".into(), Value::Object(rest));
        }
        entries.push(e);
    }
    let name = match root.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => name_fallback.to_owned(),
    };
    let mut extensions = Map::new();
    let rest = leftovers(root, &["entries", "name", "description"]);
    if !rest.is_empty() {
        extensions.insert("agnai".into(), Value::Object(rest));
    }
    Ok(Book {
        name,
        description: ctx.string_or(root, "description", "")?,
        settings: BookSettings::default(),
        entries,
        extensions,
    })
}
