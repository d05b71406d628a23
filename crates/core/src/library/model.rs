//! What the library hands to the UI and the CLI.

use serde::{Deserialize, Serialize};

use crate::card::{CardData, CardFormat, CardSpec};
use crate::AppError;

#[cfg(feature = "specta")]
use crate::TsNumber;

/// One character as the library grid shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CharacterSummary {
    /// UUID.
    pub id: String,
    /// The character's name.
    pub name: String,
    /// Who made the card.
    pub creator: String,
    /// Tags, in the card's order.
    pub tags: Vec<String>,
    /// Collections (the pack or folder it came from).
    pub collections: Vec<String>,
    /// Changes whenever the avatar changes (a content hash); `None` without an avatar.
    pub avatar_key: Option<String>,
    /// When it was imported, Unix milliseconds.
    #[cfg_attr(feature = "specta", specta(type = TsNumber))]
    pub created_at: f64,
    /// Last edit, Unix milliseconds.
    #[cfg_attr(feature = "specta", specta(type = TsNumber))]
    pub updated_at: f64,
    /// Last chat with it, Unix milliseconds.
    #[cfg_attr(feature = "specta", specta(type = Option<TsNumber>))]
    pub last_used_at: Option<f64>,
}

/// Everything about one character, for the detail view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CharacterDetail {
    /// The grid fields.
    pub summary: CharacterSummary,
    /// Every card field.
    pub card: CardData,
    /// The spec of the imported file.
    pub spec: CardSpec,
    /// The format of the imported file.
    pub format: CardFormat,
    /// The imported file's name.
    pub source_file: String,
    /// Assets kept with the character (CHARX), besides the avatar.
    pub assets: Vec<StoredAsset>,
    /// Chat-dictionary rules the card brought that the user has not reviewed:
    /// they do not apply until accepted (saved into the character's dictionary).
    pub pending_dictionary: Vec<crate::lore::DictionaryRule>,
}

/// An asset file kept with a character.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct StoredAsset {
    /// `background`, `emotion`, `user_icon`, ...
    pub kind: String,
    /// The asset's name.
    pub name: String,
    /// File extension without the dot.
    pub ext: String,
    /// Size in bytes.
    pub size: u32,
}

/// How the library grid is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum CharacterSort {
    /// A to Z, case- and accent-insensitive.
    #[default]
    Name,
    /// Most recently chatted with first, then most recently added.
    RecentlyUsed,
    /// Newest import first.
    RecentlyAdded,
}

/// Which characters to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct CharacterQuery {
    /// Words that must appear in the name, creator or tags (case-insensitive).
    pub search: String,
    /// Only characters with this tag.
    pub tag: Option<String>,
    /// Only characters in this collection.
    pub collection: Option<String>,
    /// The order.
    pub sort: CharacterSort,
}

/// A tag or collection with how many characters have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Facet {
    /// The tag or collection.
    pub name: String,
    /// Characters that have it.
    pub count: u32,
}

/// The filters the library offers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct LibraryFacets {
    /// Tags, most used first.
    pub tags: Vec<Facet>,
    /// Collections, by name.
    pub collections: Vec<Facet>,
}

/// What happened to one file of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ImportStatus {
    /// A new character.
    Imported,
    /// The same card is already in the library; nothing was added.
    AlreadyInLibrary,
    /// The file could not be imported; see `error`.
    Failed,
}

/// The result for one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ImportOutcome {
    /// The file, as the user named it (path or file name).
    pub file: String,
    /// What happened.
    pub status: ImportStatus,
    /// The character imported, or the one already in the library.
    pub character_id: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// Another character with the same name that was already there (the user may replace it).
    pub same_name_as: Option<String>,
    /// The world book imported: the file itself, or the one embedded in the card.
    pub world_book_id: Option<String>,
    /// The group chat a SillyTavern group definition became.
    pub session_id: Option<String>,
    /// Chat-dictionary rules the card brought, waiting for the user's review
    /// on the character's page (they apply only once accepted).
    pub pending_dictionary_rules: u32,
    /// Why it failed.
    pub error: Option<AppError>,
}

/// Counts and per-file results of a whole import.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    /// New characters.
    pub imported: u32,
    /// Files whose card was already in the library.
    pub already_in_library: u32,
    /// Files that failed.
    pub failed: u32,
    /// One entry per file, in order.
    pub outcomes: Vec<ImportOutcome>,
}

/// Progress of an import, streamed to the UI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum ImportEvent {
    /// The files were counted (folders expanded).
    Started {
        /// Files to import.
        total: u32,
    },
    /// One more file is done.
    Progress {
        /// Files done so far.
        done: u32,
        /// Files in all.
        total: u32,
        /// This file's result.
        outcome: ImportOutcome,
    },
    /// All files are done.
    Finished {
        /// The whole result.
        summary: ImportSummary,
    },
}

/// A format to export a character in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ExportFormat {
    /// PNG with `chara` (V2) and `ccv3` (V3) chunks.
    Png,
    /// Character Card V3 JSON.
    Json,
    /// Character Card V2 JSON, for older tools.
    JsonV2,
    /// CHARX zip with assets.
    Charx,
}

/// Where an export was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ExportedFile {
    /// Full path of the new file.
    pub path: String,
    /// Its file name.
    pub file_name: String,
}
