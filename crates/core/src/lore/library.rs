//! World books as the library keeps them: what the UI and the CLI see.

use serde::{Deserialize, Serialize};

use super::engine::{ScanCharacter, Trigger};
use super::model::{BookSettings, Entry};
use super::report::KeyError;
use super::report::ScanMessage;

#[cfg(feature = "specta")]
use crate::TsNumber;

/// A character a book is attached to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CharacterRef {
    /// The character's id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// One world book in the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct WorldBookSummary {
    /// UUID.
    pub id: String,
    /// The book's name.
    pub name: String,
    /// What it is about.
    pub description: String,
    /// Entries in all.
    pub entry_count: u32,
    /// Entries switched on.
    pub enabled_count: u32,
    /// Applies to every chat, not only attached characters.
    pub global: bool,
    /// Characters it is attached to.
    pub characters: Vec<CharacterRef>,
    /// Last change, Unix milliseconds.
    #[cfg_attr(feature = "specta", specta(type = TsNumber))]
    pub updated_at: f64,
}

/// A world book with its settings and every entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct WorldBookDetail {
    /// The list fields.
    pub summary: WorldBookSummary,
    /// How it scans.
    pub settings: BookSettings,
    /// Every entry, in the book's order.
    pub entries: Vec<Entry>,
    /// Keys that do not compile.
    pub key_errors: Vec<KeyError>,
}

/// A format to export a world book in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum WorldBookFormat {
    /// SillyTavern world info JSON.
    SillyTavern,
    /// The V2/V3 `character_book` object.
    CharacterBook,
}

/// What to test against which books.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TestActivationRequest {
    /// The books to scan with.
    pub book_ids: Vec<String>,
    /// The chat, oldest first.
    pub messages: Vec<ScanMessage>,
    /// Settings to use instead of the first book's.
    pub settings: Option<BookSettings>,
    /// Seed for probability and group draws; random when absent.
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub seed: Option<u64>,
    /// The model's context window in tokens (the budget is a percent of it).
    pub context_tokens: u32,
    /// The kind of generation to test for (entries' triggers); normal when absent.
    #[serde(default)]
    pub trigger: Trigger,
    /// The character to test for (entries' character filters); filters are not
    /// applied when absent.
    #[serde(default)]
    pub character: Option<ScanCharacter>,
    /// A real chat to scan instead of `messages`, as its next turn would be scanned:
    /// its persona and card texts as match sources, its character for filters,
    /// its sticky and cooldown state (`character` is then ignored).
    #[serde(default)]
    pub session_id: Option<String>,
    /// With `session_id`: a new user message, as if it were being sent.
    #[serde(default)]
    pub message: Option<String>,
}
