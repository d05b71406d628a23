//! NovelAI `.lorebook` files (import only).
//!
//! Mapping: `text` -> content, `keys` -> keys (NovelAI writes regex keys as
//! `/pattern/flags` too, so they keep their meaning), `displayName` -> comment,
//! `enabled` -> enabled, `forceActivation` -> constant. Approximations:
//! - `searchRange` (characters of story text searched, NovelAI default 1000)
//!   becomes the entry's scan depth in messages at about 500 characters a
//!   message, rounded up (1000 -> 2, SillyTavern's default depth).
//! - `contextConfig.budgetPriority` (NovelAI default 400) becomes the insertion
//!   order unchanged: in both, a higher number is placed with higher priority
//!   (SillyTavern's own importer does the same).
//!
//! NovelAI has no secondary keys (entries are not selective) and no per-entry
//! position Confab can honour, so entries go before the character. Everything
//! not mapped (the whole `contextConfig`, `searchRange`, `keyRelative`,
//! `nonStoryActivatable`, `category`, `loreBiasGroups`, `id`, ...) is kept in
//! `Entry::extensions["novelai"]`; the book's `lorebookVersion`, `settings`
//! and `categories` in `Book::extensions["novelai"]`.

use serde_json::{Map, Value};

use super::value::{kind, leftovers, Ctx};
use super::{too_many_entries, MAX_BOOK_ENTRIES};
use crate::error::Error;
use crate::lore::model::{Book, BookSettings, Entry};

/// Characters of story text taken as one chat message when converting `searchRange`.
pub const NOVELAI_CHARS_PER_MESSAGE: u32 = 500;

const ENTRY_FIELDS: &[&str] = &["text", "keys", "displayName", "enabled", "forceActivation"];

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
        let uid = u32::try_from(i).unwrap_or(u32::MAX);
        let mut e = Entry::new(uid);
        e.keys = ectx.string_list(obj, "keys")?;
        e.content = ectx.string_or(obj, "text", "")?;
        e.comment = ectx.string_or(obj, "displayName", "")?;
        e.enabled = ectx.bool_or(obj, "enabled", true)?;
        e.constant = ectx.bool_or(obj, "forceActivation", false)?;
        e.selective = false;
        if let Some(range) = ectx.u32_opt(obj, "searchRange")? {
            e.scan_depth = Some(range.div_ceil(NOVELAI_CHARS_PER_MESSAGE).max(1));
        }
        if let Some(cc) = ectx.object_opt(obj, "contextConfig")? {
            let priority = ectx
                .int_value(cc.get("budgetPriority"), "contextConfig.budgetPriority")?
                .unwrap_or(400);
            e.insertion_order = i32::try_from(priority).map_err(|_| {
                ectx.err(
                    "contextConfig.budgetPriority",
                    format!("is out of range ({priority})"),
                )
            })?;
        } else {
            e.insertion_order = 400;
        }
        let rest = leftovers(obj, ENTRY_FIELDS);
        if !rest.is_empty() {
            e.extensions.insert("novelai".into(), Value::Object(rest));
        }
        entries.push(e);
    }
    let mut extensions = Map::new();
    let rest = leftovers(root, &["entries"]);
    if !rest.is_empty() {
        extensions.insert("novelai".into(), Value::Object(rest));
    }
    Ok(Book {
        name: name_fallback.to_owned(),
        description: String::new(),
        settings: BookSettings::default(),
        entries,
        extensions,
    })
}
