//! The world-book activation engine: which entries fire for a chat, and why.
//!
//! [`compile`] a book once per revision (plain keys into Aho-Corasick automata,
//! regex keys within per-key and per-book limits, see [`regex_keys`], decorators,
//! content token counts), then [`scan`] it for each generation.
//! Behaviour follows SillyTavern's `world-info.js` (`checkWorldInfo`), with
//! Unicode-aware whole words and case folding where ST is ASCII-only.

mod budget;
mod buffer;
mod compile;
mod decorators;
mod filters;
mod groups;
mod matcher;
pub mod regex_keys;
mod scan;
mod timed;

use serde::{Deserialize, Serialize};

use super::model::BookSettings;
use super::report::ScanMessage;

pub use budget::budget_tokens;
pub use compile::{compile, CompiledBook};
pub use scan::scan;
pub use timed::{timed_key, TimedEntry, TimedSpan, TimedState};

/// Texts besides the chat that entries may opt into matching (`match_sources`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct ScanSources {
    /// The user's persona description.
    pub persona_description: String,
    /// The character's description.
    pub character_description: String,
    /// The character's personality.
    pub character_personality: String,
    /// The character's depth prompt.
    pub character_depth_prompt: String,
    /// The scenario.
    pub scenario: String,
    /// The creator's notes.
    pub creator_notes: String,
}

/// The kind of generation a scan is for (SillyTavern's generation-type triggers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum Trigger {
    /// A new message (ST `normal`).
    #[default]
    Normal,
    /// Continuing the last reply (ST `continue`).
    Continue,
    /// Writing the user's message for them (ST `impersonate`).
    Impersonate,
    /// A new swipe of the last reply (ST `swipe`).
    Swipe,
    /// Regenerating the last reply (ST `regenerate`).
    Regenerate,
    /// A background generation the chat does not show (ST `quiet`).
    Quiet,
}

impl Trigger {
    /// The name SillyTavern writes in an entry's `triggers`.
    pub fn st_name(self) -> &'static str {
        match self {
            Trigger::Normal => "normal",
            Trigger::Continue => "continue",
            Trigger::Impersonate => "impersonate",
            Trigger::Swipe => "swipe",
            Trigger::Regenerate => "regenerate",
            Trigger::Quiet => "quiet",
        }
    }
}

/// The character a scan is for: entries' character filters are matched against it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct ScanCharacter {
    /// The character's name.
    pub name: String,
    /// The names of its tags.
    pub tags: Vec<String>,
}

/// What a scan looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct ScanInput {
    /// The chat, oldest first.
    pub messages: Vec<ScanMessage>,
    /// Other texts entries may match.
    pub sources: ScanSources,
    /// The model's context window in tokens (the budget is a percent of it).
    pub context_tokens: u32,
    /// Settings that replace every book's scan settings (the CLI's `--settings`);
    /// case and whole-word matching are fixed at compile time and ignored here.
    pub settings: Option<BookSettings>,
    /// The kind of generation (entries with triggers fire only for theirs).
    pub trigger: Trigger,
    /// The character chatted with; `None` leaves character filters unapplied
    /// (a book tested on its own).
    pub character: Option<ScanCharacter>,
}
