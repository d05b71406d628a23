//! Sessions and messages as the UI, the CLI and prompt assembly see them.

use serde::{Deserialize, Serialize};

#[cfg(feature = "specta")]
use crate::TsNumber;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum Role {
    /// The person using Confab.
    User,
    /// The character (the model).
    Assistant,
    /// A narrator or system note.
    System,
}

impl Role {
    /// The role as stored and as providers name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::System => "system",
        }
    }
}

/// Whether a message is finished.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum MessageStatus {
    /// Written in full.
    #[default]
    Complete,
    /// Still streaming.
    Partial,
    /// The provider failed; what arrived is kept.
    Failed,
    /// The user stopped it; what arrived is kept.
    Cancelled,
    /// The app stopped while it streamed; what arrived is kept.
    Interrupted,
}

/// What the provider said about a reply (filled by the streaming engine).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct MessageMeta {
    /// The model that wrote it.
    pub model: Option<String>,
    /// The provider that served it.
    pub provider: Option<String>,
    /// Prompt tokens billed.
    pub prompt_tokens: Option<u32>,
    /// Completion tokens billed.
    pub completion_tokens: Option<u32>,
    /// Why the model stopped.
    pub finish_reason: Option<String>,
    /// Milliseconds until the first token.
    pub time_to_first_token_ms: Option<u32>,
    /// Milliseconds until the last token.
    pub duration_ms: Option<u32>,
    /// The model's reasoning ("thinking"), kept apart from the reply text.
    pub reasoning: Option<String>,
}

/// An image attached to a user message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MessageImage {
    /// Its id (served as `attachment://localhost/<id>`).
    pub id: String,
    /// Its MIME type.
    pub mime: String,
    /// Its file name.
    pub name: String,
}

/// One message on a session's active path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// UUID.
    pub id: String,
    /// The message it answers (`None` for the first).
    pub parent_id: Option<String>,
    /// Who wrote it.
    pub role: Role,
    /// The speaker's name when it was written.
    pub name: String,
    /// In a group chat, the member who wrote a reply (`None`: the user, or the chat's one character).
    pub speaker_id: Option<String>,
    /// The text (Markdown).
    pub content: String,
    /// Whether it is finished.
    pub status: MessageStatus,
    /// Provider details for replies.
    pub meta: MessageMeta,
    /// Attached images.
    pub images: Vec<MessageImage>,
    /// Which of its siblings (swipes) this is, from 0.
    pub swipe_index: u32,
    /// How many siblings (swipes) there are, itself included.
    pub swipe_count: u32,
    /// Earlier texts kept by edits, oldest first.
    pub edit_count: u32,
    /// When it was written, Unix milliseconds.
    #[cfg_attr(feature = "specta", specta(type = TsNumber))]
    pub created_at: f64,
}

/// A page of the active path, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    /// Messages, oldest first.
    pub messages: Vec<Message>,
    /// Pass this to get the page before; `None` at the start of the chat.
    pub older_cursor: Option<String>,
    /// Messages on the whole active path.
    pub total: u32,
}

/// A group chat's member as the chat list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SessionMember {
    /// The character.
    pub character_id: String,
    /// Its name.
    pub name: String,
    /// Its avatar key (see `CharacterSummary::avatar_key`).
    pub avatar_key: Option<String>,
    /// Whether it is in the scene and may speak.
    pub presence: super::group::Presence,
}

/// A session in the recent list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    /// UUID.
    pub id: String,
    /// Its title (the character's name until renamed).
    pub title: String,
    /// The character.
    pub character_id: String,
    /// The character's name.
    pub character_name: String,
    /// The character's avatar key (see `CharacterSummary::avatar_key`).
    pub character_avatar_key: Option<String>,
    /// The character's collections.
    pub collections: Vec<String>,
    /// The persona used, or the default.
    pub persona_id: Option<String>,
    /// Hidden from the recent list unless asked for.
    pub archived: bool,
    /// The last message on the active path, shortened.
    pub preview: String,
    /// Who wrote the previewed message (a group's member, the persona, or the character).
    pub preview_name: String,
    /// Messages on the active path.
    pub message_count: u32,
    /// A group chat's members in their order (the leading character first); empty for a 1:1 chat.
    pub members: Vec<SessionMember>,
    /// Created, Unix milliseconds.
    #[cfg_attr(feature = "specta", specta(type = TsNumber))]
    pub created_at: f64,
    /// Last activity, Unix milliseconds.
    #[cfg_attr(feature = "specta", specta(type = TsNumber))]
    pub updated_at: f64,
}

/// A user profile: who `{{user}}` is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Persona {
    /// UUID.
    pub id: String,
    /// The name `{{user}}` becomes.
    pub name: String,
    /// Who they are, for the system prompt.
    pub description: String,
    /// Changes when the avatar does; `None` without one.
    pub avatar_key: Option<String>,
    /// Used by sessions that chose none.
    pub is_default: bool,
}

/// How the character relates to the user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum RelationshipMode {
    /// Strangers.
    #[default]
    Stranger,
    /// Friends.
    Friend,
    /// Siblings.
    Sibling,
    /// The character is the user's parent.
    Parent,
    /// The character is the user's child.
    Child,
    /// Partners.
    Partner,
    /// Described in `custom`.
    Custom,
}

/// How the character speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SpeechModifier {
    /// Shorter replies.
    TalkLess,
    /// No analogies or metaphors.
    NoAnalogies,
    /// Plain words.
    UseSimpleWords,
    /// Formal register.
    BeFormal,
    /// Casual register.
    BeInformal,
}

/// How the character behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum BehaviourModifier {
    /// Humour.
    BeFunny,
    /// Seriousness.
    BeSerious,
    /// Flirting.
    BeFlirty,
    /// Protectiveness.
    BeProtective,
    /// Warmth.
    BeWarm,
    /// Coldness.
    BeCold,
}

/// How a character should treat the user; compiled into the USER PREFERENCE MODIFIERS block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CharacterPreferences {
    /// The relationship.
    pub relationship: RelationshipMode,
    /// The relationship in the user's words, for `Custom`.
    pub custom_relationship: String,
    /// Speech modifiers.
    pub speech: Vec<SpeechModifier>,
    /// Behavioural modifiers.
    pub behaviour: Vec<BehaviourModifier>,
    /// Free text that, when set, replaces every other preference.
    pub summary: String,
}

/// One saved version of the primary context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ContextVersion {
    /// UUID.
    pub id: String,
    /// The text.
    pub text: String,
    /// When it was saved, Unix milliseconds.
    #[cfg_attr(feature = "specta", specta(type = TsNumber))]
    pub created_at: f64,
}
