//! Reading one file off the async runtime: a character card, with its
//! embedded world book and chat dictionary read out of it, or a world book.

use std::path::Path;

use crate::card::{self, Limits, ParsedCard};
use crate::library::{content_hash, make_thumbnail};
use crate::lore::formats;
use crate::lore::{Book, DictionaryRule};
use crate::store::Thumbnail;
use crate::{Error, Result};

/// A file read off the async runtime, ready to store.
pub(super) enum Prepared {
    /// A character card, with its embedded world book and chat dictionary read out of it.
    Card {
        parsed: Box<ParsedCard>,
        thumbnail: Option<Thumbnail>,
        hash: String,
        embedded_book: Option<Book>,
        dictionary: Vec<DictionaryRule>,
    },
    /// A world book file.
    Book(Book),
    /// A SillyTavern group definition: becomes a group chat of the members the library has.
    Group(Vec<u8>),
}

pub(super) fn prepare_file(path: &Path, limits: &Limits) -> Result<Prepared> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !may_be_world_book(&name) {
        return prepare_card(card::read_card_file(path, limits)?);
    }
    // Through a capped reader: a metadata size is only a hint (`/dev/zero` says 0).
    let bytes = crate::files::read_regular_file(path, limits.max_file_bytes)?;
    prepare_bytes(&bytes, &name, limits)
}

pub(super) fn prepare_bytes(bytes: &[u8], name: &str, limits: &Limits) -> Result<Prepared> {
    if may_be_world_book(name) && is_group_definition(bytes) {
        return Ok(Prepared::Group(bytes.to_vec()));
    }
    if may_be_world_book(name) && is_world_book(bytes, name) {
        let (book, _format) = formats::read_book(bytes, name)?;
        return Ok(Prepared::Book(book));
    }
    prepare_card(card::read_card(bytes, name, limits)?)
}

/// Only JSON and NovelAI files can be world books; cards in images never are.
fn may_be_world_book(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower.ends_with(".json") || lower.ends_with(".lorebook")
}

/// A JSON file is a SillyTavern group definition when it lists members (card
/// files) and says how they take turns, with none of a card's or a book's shape.
fn is_group_definition(bytes: &[u8]) -> bool {
    if bytes.len() > crate::session::group_files::MAX_GROUP_FILE_BYTES {
        return false;
    }
    let text = String::from_utf8_lossy(bytes);
    let Ok(serde_json::Value::Object(root)) =
        serde_json::from_str::<serde_json::Value>(text.trim_start_matches('\u{feff}'))
    else {
        return false;
    };
    let members = root
        .get("members")
        .and_then(|m| m.as_array())
        .is_some_and(|m| m.iter().all(|v| v.is_string()));
    members
        && (root.contains_key("activation_strategy") || root.contains_key("generation_mode"))
        && !root.contains_key("first_mes")
        && !root.contains_key("entries")
        && !root.contains_key("spec")
}

/// A JSON file is a world book when it has entries and none of a card's shape.
fn is_world_book(bytes: &[u8], name: &str) -> bool {
    if name.to_lowercase().ends_with(".lorebook") {
        return true;
    }
    let text = String::from_utf8_lossy(bytes);
    let Ok(serde_json::Value::Object(root)) =
        serde_json::from_str::<serde_json::Value>(text.trim_start_matches('\u{feff}'))
    else {
        return false;
    };
    let spec = root.get("spec").and_then(|s| s.as_str()).unwrap_or("");
    if spec.starts_with("chara_card") || root.contains_key("first_mes") {
        return false;
    }
    root.contains_key("entries")
        || root.contains_key("lorebookVersion")
        || root.get("kind").and_then(|k| k.as_str()) == Some("memory")
        || spec.starts_with("lorebook")
        || matches!(
            root.get("type").and_then(|t| t.as_str()),
            Some("risu" | "risuLorebook")
        )
}

/// Reads the embedded world book and the chat dictionary out of a card, and
/// stores the card's copy of the book in its canonical form, so an export
/// (which writes the linked book back) is the same card again. A book or a
/// dictionary that cannot be read fails the card: importing it without them
/// would lose them for good (a re-import is "already in library").
fn prepare_card(mut parsed: ParsedCard) -> Result<Prepared> {
    let embedded_book = match &parsed.data.character_book {
        Some(value) => Some(formats::from_character_book(value, &parsed.data.name)?),
        None => None,
    };
    if let Some(book) = &embedded_book {
        parsed.data.character_book = Some(formats::to_character_book(book));
    }
    let dictionary = match parsed
        .data
        .extensions
        .get(crate::library::DICTIONARY_EXTENSION)
    {
        Some(value) => {
            crate::lore::dictionary::dictionary_from_json(value).map_err(|e| match e {
                Error::InvalidInput(detail) => Error::InvalidInput(format!(
                    "the chat dictionary in the card of {} cannot be read: {detail}",
                    parsed.data.name
                )),
                other => other,
            })?
        }
        None => Vec::new(),
    };
    let thumbnail = parsed.avatar.as_ref().and_then(make_thumbnail);
    let hash = content_hash(&parsed.data);
    Ok(Prepared::Card {
        parsed: Box::new(parsed),
        thumbnail,
        hash,
        embedded_book,
        dictionary,
    })
}
