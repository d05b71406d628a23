//! App-wide settings the user picks in the Settings screen.

use serde::{Deserialize, Serialize};

/// A language the UI is translated into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English.
    En,
    /// Russian.
    Ru,
}

impl Language {
    /// The BCP 47 tag stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Ru => "ru",
        }
    }

    /// Parses a stored tag; unknown tags (a newer build's language) read as `None`.
    pub fn parse(tag: &str) -> Option<Language> {
        match tag {
            "en" => Some(Language::En),
            "ru" => Some(Language::Ru),
            _ => None,
        }
    }
}

/// Light, dark, or whatever the OS uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum ThemePreference {
    /// Follow the operating system, live.
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl ThemePreference {
    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ThemePreference::System => "system",
            ThemePreference::Light => "light",
            ThemePreference::Dark => "dark",
        }
    }

    /// Parses a stored value; anything unknown falls back to following the OS.
    pub fn parse(value: &str) -> ThemePreference {
        match value {
            "light" => ThemePreference::Light,
            "dark" => ThemePreference::Dark,
            _ => ThemePreference::System,
        }
    }
}

/// The user's app-wide settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// The UI language; `None` follows the OS language.
    pub language: Option<Language>,
    /// The colour theme.
    pub theme: ThemePreference,
    /// How the card's example dialogue is sent.
    #[serde(default)]
    pub example_dialogue: crate::prompt::ExampleDialogue,
    /// Keyword-triggered world info placed before or after the character goes
    /// into the chat at depth 4 instead, so the system message stays the same
    /// from turn to turn and the provider's prompt cache keeps working.
    #[serde(default)]
    pub keyword_world_info_at_depth: bool,
}

/// How Confab backs the library up on its own (Settings → Backups).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct BackupSettings {
    /// Scheduled backups to keep (and manual ones, counted apart).
    pub keep: u32,
    /// Hours between scheduled backups; 0 turns them off.
    pub interval_hours: u32,
    /// Copies taken before a schema upgrade to keep.
    pub keep_before_upgrade: u32,
}

impl Default for BackupSettings {
    fn default() -> Self {
        BackupSettings {
            keep: 7,
            interval_hours: 24,
            keep_before_upgrade: 3,
        }
    }
}

impl BackupSettings {
    /// The most backups of one kind Confab keeps.
    pub const MAX_KEEP: u32 = 100;
    /// The longest interval: thirty days.
    pub const MAX_INTERVAL_HOURS: u32 = 24 * 30;

    /// Checks the values are in range: at least one backup kept, at most
    /// [`Self::MAX_KEEP`]; an interval of at most thirty days.
    pub fn check(&self) -> crate::Result<()> {
        let keep_range = 1..=Self::MAX_KEEP;
        if !keep_range.contains(&self.keep) || !keep_range.contains(&self.keep_before_upgrade) {
            return Err(crate::Error::InvalidInput(format!(
                "keep between 1 and {} backups",
                Self::MAX_KEEP
            )));
        }
        if self.interval_hours > Self::MAX_INTERVAL_HOURS {
            return Err(crate::Error::InvalidInput(format!(
                "back up at least every {} hours (or 0 for never)",
                Self::MAX_INTERVAL_HOURS
            )));
        }
        Ok(())
    }
}
