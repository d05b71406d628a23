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
}
