//! The context template: the story string and the lines around the example dialogue and the chat.
//!
//! SillyTavern's "Context Template" files; as with instruct templates, keys
//! Confab does not use (`always_force_name2`, `trim_sentences`, …) are kept in
//! [`ContextTemplate::extra`] so an export gives back what was imported.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::session::Role;

use super::parse_template_json;

/// Where the story string goes (SillyTavern's `story_string_position`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StoryStringPosition {
    /// At the top of the prompt, wrapped in the instruct template's story-string prefix and suffix (0).
    #[default]
    InPrompt,
    /// In the chat at `story_string_depth`, as a turn of `story_string_role` (1).
    InChat,
    /// At the very top, before anything else (2); rendered like `InPrompt`.
    BeforePrompt,
}

impl StoryStringPosition {
    fn code(self) -> u64 {
        match self {
            StoryStringPosition::InPrompt => 0,
            StoryStringPosition::InChat => 1,
            StoryStringPosition::BeforePrompt => 2,
        }
    }
}

impl Serialize for StoryStringPosition {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_u64(self.code())
    }
}

impl<'de> Deserialize<'de> for StoryStringPosition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        // A number (SillyTavern writes one); anything unreadable means the default.
        let v = Value::deserialize(d)?;
        Ok(match v.as_u64().or_else(|| v.as_str()?.parse().ok()) {
            Some(1) => StoryStringPosition::InChat,
            Some(2) => StoryStringPosition::BeforePrompt,
            _ => StoryStringPosition::InPrompt,
        })
    }
}

/// A SillyTavern context template (field names as in its JSON files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContextTemplate {
    /// The preset's name.
    pub name: String,
    /// The story string: a small Handlebars-style template over the card's fields (see [`super::render_story_string`]).
    pub story_string: String,
    /// The line that opens each block of example dialogue.
    pub example_separator: String,
    /// The line between the example dialogue and the chat.
    pub chat_start: String,
    /// Also stop on `chat_start` and `example_separator`.
    pub use_stop_strings: bool,
    /// Stop when the model starts a line with another speaker's name (`\nUser:`).
    pub names_as_stop_strings: bool,
    /// Where the story string goes.
    pub story_string_position: StoryStringPosition,
    /// For `InChat`: how many chat turns come after it.
    pub story_string_depth: u32,
    /// For `InChat`: the role of its turn (0 system, 1 user, 2 assistant, as SillyTavern numbers them).
    pub story_string_role: u32,
    /// Every other key of the file, kept as it was for export.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for ContextTemplate {
    fn default() -> Self {
        ContextTemplate {
            name: String::new(),
            story_string: String::new(),
            example_separator: String::new(),
            chat_start: String::new(),
            use_stop_strings: false,
            names_as_stop_strings: true,
            story_string_position: StoryStringPosition::InPrompt,
            story_string_depth: 1,
            story_string_role: 0,
            extra: Map::new(),
        }
    }
}

impl ContextTemplate {
    /// Reads a SillyTavern context template file (bounded in size and nesting).
    pub fn from_st_json(json: &str) -> Result<ContextTemplate> {
        let value = parse_template_json(json, "context template")?;
        let template: ContextTemplate = serde_json::from_value(value)
            .map_err(|e| Error::InvalidInput(format!("not a readable context template: {e}")))?;
        super::story::check_story_string(&template.story_string)?;
        Ok(template)
    }

    /// The template as SillyTavern JSON (every imported key included).
    pub fn to_st_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map_err(|e| Error::Internal(format!("context template to JSON: {e}")))
    }

    /// The role of the story string's turn when it is placed in the chat.
    pub fn story_role(&self) -> Role {
        match self.story_string_role {
            1 => Role::User,
            2 => Role::Assistant,
            _ => Role::System,
        }
    }
}
