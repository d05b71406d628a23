//! RisuAI lorebook exports (`{"type": "risu", "ver": 1, "data": [...]}`, import only).
//!
//! Mapping (as SillyTavern's importer, plus the flags it drops): `key`
//! (comma-separated) -> keys, `secondkey` -> secondary keys, `comment` ->
//! comment, `content` -> content, `alwaysActive` (or `mode: "constant"`) ->
//! constant, `selective` -> selective, `insertorder` -> insertion order (same
//! direction: higher goes later and wins the budget), `activationPercent` ->
//! probability, `extentions.risu_case_sensitive` -> case sensitivity. With
//! `useRegex` the whole `key` is one regex: written `/key/` unless it is
//! already `/pattern/flags`. Folder headers (`mode: "folder"`) are imported
//! disabled, since they only group entries in RisuAI. Every original field not
//! mapped one-to-one (`mode`, `folder`, `useRegex`, `bookVersion`, `id`,
//! `extentions`, ...) is kept in `Entry::extensions["risu"]`; `type` and `ver`
//! in `Book::extensions["risu"]`. RisuAI's `{{...}}` scripting in content is
//! kept as text, not run.

use serde_json::{Map, Value};

use super::value::{kind, leftovers, split_commas, Ctx};
use super::{too_many_entries, MAX_BOOK_ENTRIES};
use crate::error::Error;
use crate::lore::model::{Book, BookSettings, Entry};

const ENTRY_FIELDS: &[&str] = &[
    "key",
    "secondkey",
    "comment",
    "content",
    "alwaysActive",
    "selective",
    "insertorder",
    "activationPercent",
];

pub(crate) fn read(
    root: &Map<String, Value>,
    name_fallback: &str,
    file: &str,
) -> Result<Book, Error> {
    let ctx = Ctx::book(file);
    let list: &[Value] = match root.get("data") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(a)) => a,
        Some(other) => {
            return Err(ctx.err(
                "data",
                format!("must be a list of lorebook entries, not {}", kind(other)),
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
        let use_regex = ectx.bool_or(obj, "useRegex", false)?;
        let mode = ectx.string_or(obj, "mode", "normal")?;
        let key = ectx.string_or(obj, "key", "")?;
        e.keys = if use_regex {
            let k = key.trim();
            if k.is_empty() {
                Vec::new()
            } else if is_slash_regex(k) {
                vec![k.to_owned()]
            } else {
                vec![format!("/{k}/")]
            }
        } else {
            split_commas(&key)
        };
        e.secondary_keys = split_commas(&ectx.string_or(obj, "secondkey", "")?);
        e.comment = ectx.string_or(obj, "comment", "")?;
        e.content = ectx.string_or(obj, "content", "")?;
        e.constant = ectx.bool_or(obj, "alwaysActive", false)? || mode == "constant";
        e.selective = ectx.bool_or(obj, "selective", false)?;
        e.insertion_order = ectx.i32_or(obj, "insertorder", e.insertion_order)?;
        if let Some(p) = ectx.u32_opt(obj, "activationPercent")? {
            e.probability = p.min(100);
            e.use_probability = true;
        }
        if let Some(x) = ectx.object_opt(obj, "extentions")? {
            e.case_sensitive = ectx.bool_value(
                x.get("risu_case_sensitive"),
                "extentions.risu_case_sensitive",
            )?;
        }
        if mode == "folder" {
            e.enabled = false;
        }
        let rest = leftovers(obj, ENTRY_FIELDS);
        if !rest.is_empty() {
            e.extensions.insert("risu".into(), Value::Object(rest));
        }
        entries.push(e);
    }
    let mut extensions = Map::new();
    let rest = leftovers(root, &["data"]);
    if !rest.is_empty() {
        extensions.insert("risu".into(), Value::Object(rest));
    }
    Ok(Book {
        name: name_fallback.to_owned(),
        description: String::new(),
        settings: BookSettings::default(),
        entries,
        extensions,
    })
}

/// `/pattern/flags` with only letters after the last slash.
fn is_slash_regex(k: &str) -> bool {
    let Some(rest) = k.strip_prefix('/') else {
        return false;
    };
    match rest.rfind('/') {
        Some(end) => rest[end + 1..].chars().all(|c| c.is_ascii_alphabetic()),
        None => false,
    }
}
