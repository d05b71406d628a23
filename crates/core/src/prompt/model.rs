//! What prompt assembly takes and gives.

use serde::{Deserialize, Serialize};

use crate::card::CardData;
use crate::lore::Activation;
use crate::session::{CharacterPreferences, Role};

/// A message of the history, oldest first, as assembly needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct HistoryMessage {
    /// Who wrote it.
    pub role: Role,
    /// The speaker's name.
    pub name: String,
    /// The text.
    pub content: String,
}

/// Everything a prompt is made of; assembly is a pure function of this.
#[derive(Debug, Clone)]
pub struct PromptInput {
    /// The global primary context (opens the system message).
    pub primary_context: String,
    /// The character.
    pub character: CardData,
    /// The user's name (`{{user}}`).
    pub user_name: String,
    /// The user's persona description.
    pub persona_description: String,
    /// The character's preferences, if set.
    pub preferences: Option<CharacterPreferences>,
    /// Activated world-info entries (from the lore engine), in insertion order.
    pub world_info: Vec<Activation>,
    /// The active path, oldest first, without the new message.
    pub history: Vec<HistoryMessage>,
    /// The global post-history prompt.
    pub global_post_history: String,
    /// The new user message, if any (absent for regenerate/continue).
    pub new_message: Option<String>,
    /// The model's context window in tokens.
    pub context_window: u32,
    /// Tokens kept free for the reply.
    pub reply_reserve: u32,
    /// Local time for `{{time}}`, `{{date}}`, `{{weekday}}` (RFC 3339 with offset).
    pub now: String,
    /// Seed for `{{random}}` and `{{roll}}`, so a preview and a send agree.
    pub seed: u64,
}

/// One provider-neutral message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PromptMessage {
    /// `system`, `user` or `assistant`.
    pub role: Role,
    /// The text.
    pub content: String,
}

/// Where a piece of the prompt came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum PromptSource {
    /// The primary context.
    PrimaryContext,
    /// The character's system prompt.
    CharacterSystemPrompt,
    /// Description, personality and scenario.
    CharacterDescription,
    /// The persona.
    PersonaDescription,
    /// A world-info entry.
    WorldInfo,
    /// The USER PREFERENCE MODIFIERS block.
    Preferences,
    /// A message of the history.
    History,
    /// The character's post-history instructions.
    PostHistoryInstructions,
    /// The global post-history prompt.
    GlobalPostHistory,
    /// The new user message.
    NewMessage,
}

/// One piece of the prompt, and why it is where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PromptPart {
    /// Where it came from.
    pub source: PromptSource,
    /// A short label ("world info #12 Eldoria", "message 41").
    pub label: String,
    /// The index in `AssembledPrompt::messages` it went into.
    pub message_index: u32,
    /// Its text after macros.
    pub text: String,
    /// Its tokens.
    pub tokens: u32,
}

/// The messages to send, and the explanation of every piece.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct AssembledPrompt {
    /// What the provider gets.
    pub messages: Vec<PromptMessage>,
    /// Every piece, in prompt order.
    pub parts: Vec<PromptPart>,
    /// Tokens of the whole prompt.
    pub total_tokens: u32,
    /// History messages left out (oldest first) to fit the window.
    pub dropped_history: u32,
}
