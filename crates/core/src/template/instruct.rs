//! The instruct template: the sequences that frame each turn for a text-completion model.
//!
//! The field set and JSON names are SillyTavern's ("Instruct Template" files), so
//! a file exported from SillyTavern imports here and exports back with every key
//! it had: fields Confab does not use (`bind_to_context`, `derived`, anything a
//! later version adds) are kept in [`InstructTemplate::extra`]. Older files'
//! spellings are read too: `system_sequence_prefix`/`_suffix` (now
//! `story_string_prefix`/`_suffix`), `separator_sequence` (now `output_suffix`)
//! and `names`/`names_force_groups` (now `names_behavior`); the old keys stay in
//! `extra`, so nothing the file held is dropped.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::error::Result;
use crate::session::Role;

use super::parse_template_json;

/// When a turn is written with its speaker's name (`Name: text`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum NamesBehavior {
    /// Never (system turns never carry a name either way).
    None,
    /// Only where a name is needed to tell speakers apart: in group chats, for everyone but the user.
    #[default]
    Force,
    /// Always.
    Always,
}

impl<'de> Deserialize<'de> for NamesBehavior {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        // Lenient like SillyTavern: an unknown word falls back to its default rather than failing the file.
        let s = String::deserialize(d)?;
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "none" => NamesBehavior::None,
            "always" => NamesBehavior::Always,
            _ => NamesBehavior::Force,
        })
    }
}

/// A SillyTavern instruct template (field names as in its JSON files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstructTemplate {
    /// The preset's name.
    pub name: String,
    /// Opens a user turn.
    pub input_sequence: String,
    /// Closes a user turn.
    pub input_suffix: String,
    /// Opens a character (assistant) turn.
    pub output_sequence: String,
    /// Closes a character turn.
    pub output_suffix: String,
    /// Opens a system turn (a note placed in the chat).
    pub system_sequence: String,
    /// Closes a system turn.
    pub system_suffix: String,
    /// Opens a system instruction at the very end (quiet prompts); kept for round trips.
    pub last_system_sequence: String,
    /// Opens the first user turn of the chat, when set.
    pub first_input_sequence: String,
    /// Opens the last user turn, when set.
    pub last_input_sequence: String,
    /// Opens the first character turn of the chat, when set.
    pub first_output_sequence: String,
    /// Opens the turn the model writes, when set (else `output_sequence`).
    pub last_output_sequence: String,
    /// Written before the story string (the system prompt block).
    pub story_string_prefix: String,
    /// Written after the story string.
    pub story_string_suffix: String,
    /// What the model emits to end its turn; each line becomes a stop string
    /// (a list, as some tools write it, is read as its lines).
    #[serde(deserialize_with = "string_or_lines")]
    pub stop_sequence: String,
    /// A user turn put before the chat when the chat does not open with one (models that need user first).
    pub user_alignment_message: String,
    /// A regular expression on the model's name that selects this template (SillyTavern's auto-select).
    pub activation_regex: String,
    /// Put a newline between a sequence and its text, and after a turn without a suffix.
    pub wrap: bool,
    /// Expand `{{char}}`, `{{user}}` and `{{name}}` in the sequences.
    #[serde(rename = "macro")]
    pub macros: bool,
    /// When turns carry their speaker's name.
    pub names_behavior: NamesBehavior,
    /// Write system turns with the user's sequences.
    pub system_same_as_user: bool,
    /// Send example dialogue as plain text instead of as turns.
    pub skip_examples: bool,
    /// Also stop on the turn sequences, not only on `stop_sequence`.
    pub sequences_as_stop_strings: bool,
    /// Every other key of the file, kept as it was for export.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for InstructTemplate {
    fn default() -> Self {
        InstructTemplate {
            name: String::new(),
            input_sequence: String::new(),
            input_suffix: String::new(),
            output_sequence: String::new(),
            output_suffix: String::new(),
            system_sequence: String::new(),
            system_suffix: String::new(),
            last_system_sequence: String::new(),
            first_input_sequence: String::new(),
            last_input_sequence: String::new(),
            first_output_sequence: String::new(),
            last_output_sequence: String::new(),
            story_string_prefix: String::new(),
            story_string_suffix: String::new(),
            stop_sequence: String::new(),
            user_alignment_message: String::new(),
            activation_regex: String::new(),
            wrap: true,
            macros: true,
            names_behavior: NamesBehavior::Force,
            system_same_as_user: false,
            skip_examples: false,
            // SillyTavern's default for files written before the field existed.
            sequences_as_stop_strings: true,
            extra: Map::new(),
        }
    }
}

impl InstructTemplate {
    /// Reads a SillyTavern instruct template file (bounded in size and nesting).
    pub fn from_st_json(json: &str) -> Result<InstructTemplate> {
        let value = parse_template_json(json, "instruct template")?;
        let spelled_names_behavior = value.get("names_behavior").is_some();
        let mut template: InstructTemplate = serde_json::from_value(value).map_err(|e| {
            crate::error::Error::InvalidInput(format!("not a readable instruct template: {e}"))
        })?;
        template.migrate_legacy(spelled_names_behavior);
        Ok(template)
    }

    /// The template as SillyTavern JSON (every imported key included).
    pub fn to_st_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map_err(|e| crate::error::Error::Internal(format!("instruct template to JSON: {e}")))
    }

    /// Fills the current fields from older spellings the file used (the old keys stay in `extra`).
    fn migrate_legacy(&mut self, spelled_names_behavior: bool) {
        let old = |extra: &Map<String, Value>, key: &str| {
            extra
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let has = |key: &str| self.extra.contains_key(key);
        if self.story_string_prefix.is_empty() {
            if let Some(v) = old(&self.extra, "system_sequence_prefix") {
                self.story_string_prefix = v;
            }
        }
        if self.story_string_suffix.is_empty() {
            if let Some(v) = old(&self.extra, "system_sequence_suffix") {
                self.story_string_suffix = v;
            }
        }
        if self.output_suffix.is_empty() {
            if let Some(v) = old(&self.extra, "separator_sequence") {
                self.output_suffix = v;
            }
        }
        // `names` (bool) predates `names_behavior`; it only decides when the new key is absent.
        if has("names") && !spelled_names_behavior {
            let names = self.extra.get("names").and_then(Value::as_bool);
            let force = self
                .extra
                .get("names_force_groups")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            self.names_behavior = match (names, force) {
                (Some(true), _) => NamesBehavior::Always,
                (_, true) => NamesBehavior::Force,
                (_, false) => NamesBehavior::None,
            };
        }
    }

    /// Whether `activation_regex` matches `model_name` (SillyTavern's auto-select).
    ///
    /// The pattern is a plain regular expression or `/pattern/flags` (flag `i`
    /// for any case, as SillyTavern reads it); an empty or invalid one, or one
    /// whose compiled form is over 1 MB, matches nothing.
    pub fn matches_model(&self, model_name: &str) -> bool {
        let raw = self.activation_regex.trim();
        if raw.is_empty() || raw.len() > 4096 {
            return false;
        }
        let (pattern, case_insensitive) =
            match raw.strip_prefix('/').and_then(|r| r.rsplit_once('/')) {
                Some((pattern, flags)) if flags.chars().all(|c| c.is_ascii_alphabetic()) => {
                    (pattern, flags.contains('i'))
                }
                _ => (raw, false),
            };
        regex::RegexBuilder::new(pattern)
            .case_insensitive(case_insensitive)
            .size_limit(1 << 20)
            .build()
            .is_ok_and(|re| re.is_match(model_name))
    }

    /// The text that opens a turn of `role` at `place` (first/last sequences fall back to the plain one).
    pub(crate) fn prefix(&self, role: Role, place: Place) -> &str {
        fn or<'a>(special: &'a str, plain: &'a str) -> &'a str {
            if special.is_empty() {
                plain
            } else {
                special
            }
        }
        match role {
            Role::System if self.system_same_as_user => &self.input_sequence,
            Role::System => &self.system_sequence,
            Role::User => match place {
                Place::First => or(&self.first_input_sequence, &self.input_sequence),
                Place::Last => or(&self.last_input_sequence, &self.input_sequence),
                Place::Middle => &self.input_sequence,
            },
            Role::Assistant => match place {
                Place::First => or(&self.first_output_sequence, &self.output_sequence),
                Place::Last => or(&self.last_output_sequence, &self.output_sequence),
                Place::Middle => &self.output_sequence,
            },
        }
    }

    /// The text that closes a turn of `role`.
    pub(crate) fn suffix(&self, role: Role) -> &str {
        match role {
            Role::System if self.system_same_as_user => &self.input_suffix,
            Role::System => &self.system_suffix,
            Role::User => &self.input_suffix,
            Role::Assistant => &self.output_suffix,
        }
    }
}

/// A string, or a list of strings read as lines.
fn string_or_lines<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Either::deserialize(d)? {
        Either::One(s) => s,
        Either::Many(v) => v.join("\n"),
    })
}

/// Reads a SillyTavern "master export" (one file with `instruct`, `context`,
/// `sysprompt`, …): the instruct and context templates it holds, if any.
pub fn templates_from_st_master_json(
    json: &str,
) -> Result<(Option<InstructTemplate>, Option<super::ContextTemplate>)> {
    let value = parse_template_json(json, "template file")?;
    let part = |key: &str| {
        value
            .get(key)
            .filter(|v| v.is_object())
            .map(|v| v.to_string())
    };
    let instruct = part("instruct")
        .map(|j| InstructTemplate::from_st_json(&j))
        .transpose()?;
    let context = part("context")
        .map(|j| super::ContextTemplate::from_st_json(&j))
        .transpose()?;
    Ok((instruct, context))
}

/// Where in the chat a turn stands, for the first/last sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// The chat's first turn.
    First,
    /// The last user turn, or the turn the model continues.
    Last,
    /// Anywhere else.
    Middle,
}
