//! A card as read from a file, with its images.

use super::model::{CardData, CardFormat, CardSpec};

/// Limits that keep hostile files from costing memory or time.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest file read at all.
    pub max_file_bytes: u64,
    /// Largest decoded card JSON.
    pub max_json_bytes: usize,
    /// Deepest JSON nesting.
    pub max_json_depth: usize,
    /// Most entries in a CHARX zip.
    pub max_charx_entries: usize,
    /// Most bytes a CHARX may unpack to.
    pub max_charx_total_bytes: u64,
    /// Highest compression ratio of a CHARX entry.
    pub max_charx_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 50 * 1024 * 1024,
            max_json_bytes: 20 * 1024 * 1024,
            max_json_depth: 128,
            max_charx_entries: 2_000,
            max_charx_total_bytes: 512 * 1024 * 1024,
            max_charx_ratio: 200,
        }
    }
}

/// An embedded image, original bytes untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Its MIME type.
    pub mime: &'static str,
}

/// An asset file kept with a card (CHARX).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedAsset {
    /// `background`, `emotion`, ...
    pub kind: String,
    /// The asset's name.
    pub name: String,
    /// Extension without the dot.
    pub ext: String,
    /// Path inside the CHARX.
    pub path: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// A card as read from a file.
#[derive(Debug, Clone)]
pub struct ParsedCard {
    /// The normalised card.
    pub data: CardData,
    /// The spec of the card JSON that won.
    pub spec: CardSpec,
    /// The container.
    pub format: CardFormat,
    /// The winning card JSON exactly as found.
    pub original: serde_json::Value,
    /// The avatar.
    pub avatar: Option<Image>,
    /// Other assets.
    pub assets: Vec<EmbeddedAsset>,
    /// Recoveries performed, in plain words.
    pub warnings: Vec<String>,
}
