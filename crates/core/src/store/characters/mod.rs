//! The characters repository: cards, avatars, assets, tags and collections.
//!
//! This file holds the types the repository is handed and returns, and how a
//! card's columns are encoded; `saving.rs` adds, edits, replaces and deletes
//! characters; `reading.rs` lists them for the library and reads one in full.

mod reading;
mod saving;

use serde_json::Value;

use crate::card::{CardData, CardFormat, CardSpec, EmbeddedAsset, Image};
use crate::Error;

/// A small image for fast lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// Encoded bytes.
    pub bytes: Vec<u8>,
    /// Their MIME type.
    pub mime: &'static str,
}

/// Everything needed to add a character.
#[derive(Debug)]
pub struct NewCharacter<'a> {
    /// The normalised card.
    pub card: &'a CardData,
    /// The original card JSON.
    pub original: &'a Value,
    /// Its spec.
    pub spec: CardSpec,
    /// Its container format.
    pub format: CardFormat,
    /// The file it came from.
    pub source_file: &'a str,
    /// SHA-256 of the canonical card (see `library::content_hash`).
    pub content_hash: &'a str,
    /// The avatar and its thumbnail.
    pub avatar: Option<(&'a Image, Option<Thumbnail>)>,
    /// Other assets.
    pub assets: &'a [EmbeddedAsset],
    /// Collections to put it in.
    pub collections: &'a [String],
}

/// What adding a character did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// A new character with this id.
    New {
        /// Its id.
        id: String,
    },
    /// An identical card was already there; nothing changed.
    Duplicate {
        /// The existing character.
        id: String,
        /// Its name.
        name: String,
    },
}

/// A stored character in full, for export.
#[derive(Debug, Clone)]
pub struct StoredCharacter {
    /// The card.
    pub card: CardData,
    /// The JSON it was imported from, if any.
    pub original: Option<Value>,
    /// The avatar, original bytes.
    pub avatar: Option<Image>,
    /// Assets.
    pub assets: Vec<EmbeddedAsset>,
    /// The world book that came embedded in the card (edits included), if it still exists.
    pub world_book: Option<crate::lore::Book>,
    /// The character's chat-dictionary rules.
    pub dictionary: Vec<crate::lore::DictionaryRule>,
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

fn spec_str(spec: CardSpec) -> &'static str {
    match spec {
        CardSpec::V1 => "v1",
        CardSpec::V2 => "v2",
        CardSpec::V3 => "v3",
    }
}

fn parse_spec(s: &str) -> CardSpec {
    match s {
        "v1" => CardSpec::V1,
        "v2" => CardSpec::V2,
        _ => CardSpec::V3,
    }
}

fn format_str(format: CardFormat) -> &'static str {
    match format {
        CardFormat::Png => "png",
        CardFormat::Json => "json",
        CardFormat::Charx => "charx",
        CardFormat::Yaml => "yaml",
        CardFormat::Text => "text",
        CardFormat::Webp => "webp",
        CardFormat::Jpeg => "jpeg",
    }
}

fn parse_format(s: &str) -> CardFormat {
    match s {
        "png" => CardFormat::Png,
        "charx" => CardFormat::Charx,
        "yaml" => CardFormat::Yaml,
        "text" => CardFormat::Text,
        "webp" => CardFormat::Webp,
        "jpeg" => CardFormat::Jpeg,
        _ => CardFormat::Json,
    }
}

/// MIME types we store, as static strings (the DB holds text).
fn static_mime(mime: &str) -> &'static str {
    match mime {
        "image/png" => "image/png",
        "image/jpeg" => "image/jpeg",
        "image/webp" => "image/webp",
        "image/gif" => "image/gif",
        "image/avif" => "image/avif",
        _ => "application/octet-stream",
    }
}

fn not_found(id: &str) -> Error {
    Error::NotFound {
        what: format!("character {id}"),
    }
}

/// Reads `card_json`: strictly as Confab writes it, else leniently (rows from
/// before the library, hand-edited rows), else the name column alone.
fn decode_card(card_json: &str, name: &str) -> CardData {
    let mut card: CardData = serde_json::from_str(card_json).unwrap_or_else(|_| {
        serde_json::from_str::<Value>(card_json)
            .ok()
            .and_then(|data| {
                let wrapped = serde_json::json!({"spec": "chara_card_v3", "data": data});
                crate::card::normalize(&wrapped, name)
                    .ok()
                    .map(|(card, _)| card)
            })
            .unwrap_or_default()
    });
    if card.name.is_empty() {
        card.name = name.to_owned();
    }
    card
}

fn internal(e: serde_json::Error) -> Error {
    Error::Internal(format!("could not encode a card: {e}"))
}

/// Lowercase hex of some bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
