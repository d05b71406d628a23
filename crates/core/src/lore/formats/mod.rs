//! World-book files in and out: SillyTavern world info JSON (both ways), the
//! V2/V3 card `character_book` (both ways), and import-only NovelAI
//! `.lorebook`, Agnai memory books and RisuAI lorebook exports.
//!
//! Everything is a pure function of its input: on any error nothing is
//! imported, and no input makes these functions panic. Errors are
//! [`Error::InvalidWorldBook`] naming the entry and the field at fault,
//! [`Error::TooLarge`] for files over the [limits](MAX_BOOK_FILE_BYTES), and
//! [`Error::UnsupportedFormat`] for JSON that is no world book Confab knows.
//!
//! Fields Confab has no place for are kept verbatim: unknown entry fields in
//! [`Entry::extensions`](crate::lore::Entry::extensions), unknown book fields in
//! [`Book::extensions`](crate::lore::Book::extensions), both keyed as the file
//! spelled them and written back at the same level by either exporter. The
//! import-only formats keep their leftovers under one key per format
//! (`"novelai"`, `"agnai"`, `"risu"`) so they cannot collide with SillyTavern's
//! field names. Book settings that SillyTavern keeps globally travel in a
//! `"confab/settings"` object (top level of a world-info file, inside
//! `extensions` of a `character_book`), written only when not the defaults.

mod agnai;
mod character_book;
mod novelai;
mod risu;
mod sillytavern;
pub(crate) mod value;

use serde_json::Value;

use super::model::Book;
use crate::error::Error;

pub use character_book::{from_character_book, to_character_book};
pub use sillytavern::to_sillytavern_json;

/// Largest world-book file read at all.
pub const MAX_BOOK_FILE_BYTES: usize = 50 * 1024 * 1024;
/// Deepest nesting of objects and arrays accepted in a world-book file.
pub const MAX_BOOK_JSON_DEPTH: usize = 100;
/// Most entries one world book may have.
pub const MAX_BOOK_ENTRIES: usize = 100_000;

/// Which format a world-book file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum BookFormat {
    /// SillyTavern world info JSON (`{"entries": {"0": {...}}}`).
    SillyTavern,
    /// A V2/V3 card `character_book`, bare or as a CCv3 `lorebook_v3` file.
    CharacterBook,
    /// A NovelAI `.lorebook` (import only).
    NovelAi,
    /// An Agnai memory book (import only).
    Agnai,
    /// A RisuAI lorebook export (`{"type": "risu", "data": [...]}`, import only).
    Risu,
}

/// Reads any supported world-book file, recognised by its content; the file
/// name only names the book (when the file does not) and fills errors.
/// Imports nothing on error.
pub fn read_book(bytes: &[u8], file_name: &str) -> Result<(Book, BookFormat), Error> {
    let value = parse_json(bytes, file_name)?;
    let name = book_name_from_file(file_name);
    let Value::Object(root) = &value else {
        return Err(unsupported(
            file_name,
            "its JSON is not an object with `entries` (a SillyTavern world book), \
             `lorebookVersion` (NovelAI), `kind: \"memory\"` (Agnai) or `type: \"risu\"` (RisuAI)",
        ));
    };
    // `entries` as an object is SillyTavern's alone (the others list them), and
    // it wins over any other format's marker: Confab's own export keeps unknown
    // book fields, so a `kind: "memory"` or `spec: "lorebook_v3"` a book
    // carried must not make the exported file read as a different format.
    if let Some(Value::Object(_)) = root.get("entries") {
        return Ok((
            sillytavern::read(root, &name, file_name)?,
            BookFormat::SillyTavern,
        ));
    }
    if root.contains_key("lorebookVersion") {
        return Ok((novelai::read(root, &name, file_name)?, BookFormat::NovelAi));
    }
    if root.get("kind").and_then(Value::as_str) == Some("memory") {
        return Ok((agnai::read(root, &name, file_name)?, BookFormat::Agnai));
    }
    if matches!(
        root.get("type").and_then(Value::as_str),
        Some("risu" | "risuLorebook")
    ) {
        return Ok((risu::read(root, &name, file_name)?, BookFormat::Risu));
    }
    match root.get("spec").and_then(Value::as_str) {
        Some("lorebook_v3" | "lorebook_v2") => {
            let data = root.get("data").unwrap_or(&Value::Null);
            let book = character_book::read(data, &name, file_name)?;
            return Ok((book, BookFormat::CharacterBook));
        }
        Some(spec) if spec.starts_with("chara_card") => {
            return Err(unsupported(
                file_name,
                "it is a character card, not a world book; import it as a character to get its embedded world book",
            ));
        }
        _ => {}
    }
    match root.get("entries") {
        Some(Value::Array(entries)) => {
            if looks_like_novelai(entries) {
                Ok((novelai::read(root, &name, file_name)?, BookFormat::NovelAi))
            } else if looks_like_character_book(entries) {
                Ok((
                    character_book::read(&value, &name, file_name)?,
                    BookFormat::CharacterBook,
                ))
            } else {
                Ok((
                    sillytavern::read(root, &name, file_name)?,
                    BookFormat::SillyTavern,
                ))
            }
        }
        Some(other) => Err(Error::InvalidWorldBook {
            file: file_name.to_owned(),
            entry: None,
            field: Some("entries".to_owned()),
            detail: format!(
                "must be a list or an object of entries, not {}",
                value::kind(other)
            ),
        }),
        None => Err(unsupported(
            file_name,
            "its JSON has no `entries`, so it is not a SillyTavern, NovelAI, Agnai or RisuAI world book",
        )),
    }
}

/// Parses a world-book file's JSON under the size and nesting limits.
fn parse_json(bytes: &[u8], file_name: &str) -> Result<Value, Error> {
    if bytes.len() > MAX_BOOK_FILE_BYTES {
        return Err(Error::TooLarge {
            what: file_name.to_owned(),
            limit: "50 MB".to_owned(),
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(invalid(file_name, "the file is empty"));
    }
    check_json_depth(bytes, file_name)?;
    serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        let looks_novelai = bytes.windows(17).any(|w| w == b"\"lorebookVersion\"");
        let detail = match e.classify() {
            Category::Eof => {
                let what = if looks_novelai {
                    "this NovelAI lorebook"
                } else {
                    "the JSON"
                };
                format!(
                    "the file is cut off: {what} ends early (line {}, column {}), so it was not saved or downloaded completely",
                    e.line(),
                    e.column()
                )
            }
            Category::Io => format!("the file could not be read: {e}"),
            Category::Syntax | Category::Data => format!(
                "it is not valid JSON (line {}, column {}): {}",
                e.line(),
                e.column(),
                syntax_words(&e)
            ),
        };
        invalid(file_name, &detail)
    })
}

/// The parser's complaint without its trailing " at line L column C".
fn syntax_words(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

/// Refuses nesting deeper than [`MAX_BOOK_JSON_DEPTH`] before any parser recurses.
fn check_json_depth(bytes: &[u8], file_name: &str) -> Result<(), Error> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_BOOK_JSON_DEPTH {
                    return Err(too_deep(file_name));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

pub(crate) fn too_deep(file_name: &str) -> Error {
    Error::TooLarge {
        what: format!("The nesting of the JSON in {file_name}"),
        limit: format!("{MAX_BOOK_JSON_DEPTH} levels"),
    }
}

/// The nesting depth of a parsed value exceeds `max`, walked without recursion.
pub(crate) fn value_too_deep(value: &Value, max: usize) -> bool {
    let mut stack: Vec<(&Value, usize)> = vec![(value, 1)];
    while let Some((v, d)) = stack.pop() {
        let len = match v {
            Value::Array(a) => a.len(),
            Value::Object(o) => o.len(),
            _ => continue,
        };
        if d > max {
            return true;
        }
        if len == 0 {
            continue;
        }
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|c| (c, d + 1))),
            Value::Object(o) => stack.extend(o.values().map(|c| (c, d + 1))),
            _ => {}
        }
    }
    false
}

pub(crate) fn too_many_entries(file_name: &str, count: usize) -> Error {
    Error::TooLarge {
        what: format!("The world book {file_name} ({count} entries)"),
        limit: format!("{MAX_BOOK_ENTRIES} entries"),
    }
}

/// A book-level error (no entry, no field).
pub(crate) fn invalid(file_name: &str, detail: &str) -> Error {
    Error::InvalidWorldBook {
        file: file_name.to_owned(),
        entry: None,
        field: None,
        detail: detail.to_owned(),
    }
}

fn unsupported(file_name: &str, detail: &str) -> Error {
    Error::UnsupportedFormat {
        file: file_name.to_owned(),
        detail: detail.to_owned(),
    }
}

/// "Eldoria.json" -> "Eldoria"; a path keeps only its last part.
fn book_name_from_file(file_name: &str) -> String {
    let base = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(file_name)
        .trim();
    let stem = match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    };
    stem.to_owned()
}

/// Entries shaped like NovelAI's (`text` and `contextConfig`).
fn looks_like_novelai(entries: &[Value]) -> bool {
    entries.iter().take(50).any(|e| {
        e.get("contextConfig").is_some() && e.get("text").is_some() && e.get("key").is_none()
    })
}

/// Entries shaped like a `character_book`'s (`keys`/`insertion_order`, not ST's `key`/`uid`).
fn looks_like_character_book(entries: &[Value]) -> bool {
    let sample = entries.iter().take(50).filter(|e| e.is_object());
    let mut cb = 0usize;
    let mut st = 0usize;
    for e in sample {
        if e.get("keys").is_some()
            || e.get("insertion_order").is_some()
            || e.get("secondary_keys").is_some()
        {
            cb += 1;
        }
        if e.get("key").is_some()
            || e.get("uid").is_some()
            || e.get("keysecondary").is_some()
            || e.get("order").is_some()
        {
            st += 1;
        }
    }
    cb > st
}
