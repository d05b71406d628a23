//! The plain types of connections: profiles, template choices, pins.

use serde::{Deserialize, Serialize};

use crate::llm::GenerationSettings;

/// Which instruct template a text-completion connection renders its prompt with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum InstructChoice {
    /// The model's own chat template when the server reports one, else the
    /// preset that matches the model's name, else ChatML.
    #[default]
    Auto,
    /// The template of this name: a saved one, else the built-in preset.
    Named {
        /// Its name.
        name: String,
    },
}

/// A named provider, model, template and samplers, switched in one click.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ConnectionProfile {
    /// Stable id.
    pub id: String,
    /// The name the user gave it (unique).
    pub name: String,
    /// The provider it talks to.
    pub provider_id: String,
    /// The model (`None`: the provider's default model).
    #[serde(default)]
    pub model: Option<String>,
    /// The instruct template (`None`: the provider's choice).
    #[serde(default)]
    pub instruct: Option<InstructChoice>,
    /// The context template by name (`None`: the provider's choice, else "Default").
    #[serde(default)]
    pub context_template: Option<String>,
    /// Samplers set here win over the provider's; unset ones are the provider's.
    #[serde(default)]
    pub generation: GenerationSettings,
}

/// What a character is pinned to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CharacterPins {
    /// Its chats use this profile unless they chose one of their own.
    pub profile_id: Option<String>,
    /// Its prompts use this instruct template whatever the connection says.
    pub instruct: Option<String>,
}

/// Where a setting in force came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ChoiceSource {
    /// The chat chose it.
    Chat,
    /// The character is pinned to it.
    Character,
    /// The connection profile in force says so.
    Profile,
    /// The provider's own settings say so.
    Provider,
    /// Nothing chose: Confab's default.
    Default,
}

/// What chats reply with may have changed: a provider, profile or pin was
/// saved or deleted (`session_id: None`, any chat), or one chat chose anew.
/// Every window showing an affected chat reads its model again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ConnectionsChanged {
    /// The one chat that changed, or `None` when any may have.
    pub session_id: Option<String>,
}
