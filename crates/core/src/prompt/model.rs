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
    /// Its tokens as the prompt's counter counts `content`, when known; used
    /// as is when macros and the dictionary leave the text unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<u32>,
}

/// How the card's example dialogue is sent (SillyTavern's "Example Messages Behavior").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ExampleDialogue {
    /// Always kept: the examples take their room before the history does.
    Keep,
    /// Pushed out gradually: the history takes its room first, the examples what is left.
    #[default]
    Gradual,
    /// Never sent.
    Never,
}

/// A note placed in the chat at a depth: the card's Character's note (ST's depth prompt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CharacterNote {
    /// The text (macros allowed).
    pub text: String,
    /// How many chat messages come after it (0 = at the very end).
    pub depth: u32,
    /// The role of the message it becomes.
    pub role: Role,
}

/// Where a chat's Author's Note goes (ST's `note_position`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum NotePosition {
    /// A system message of its own just before the system prompt (ST 2).
    BeforeSystem,
    /// A system message of its own just after the system prompt (ST 0).
    AfterSystem,
    /// In the chat at `depth`, with `role` (ST 1, its default).
    #[default]
    InChat,
}

/// A chat's Author's Note: text kept close to the end of the prompt, every N user messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct AuthorsNote {
    /// The text (macros allowed); empty sends nothing but world info placed at the note.
    pub text: String,
    /// Where it goes.
    pub position: NotePosition,
    /// For `InChat`: how many chat messages come after it (ST default 4).
    pub depth: u32,
    /// For `InChat`: the role of the message it becomes.
    pub role: Role,
    /// Sent when the number of user messages is a multiple of this; 1 = always, 0 = never.
    pub interval: u32,
}

impl Default for AuthorsNote {
    fn default() -> Self {
        AuthorsNote {
            text: String::new(),
            position: NotePosition::InChat,
            depth: 4,
            role: Role::System,
            interval: 1,
        }
    }
}

impl AuthorsNote {
    /// Whether the note's text goes into a prompt when the chat has `user_turns` user messages.
    pub fn due(&self, user_turns: u32) -> bool {
        match self.interval {
            0 => false,
            1 => true,
            n => user_turns > 0 && user_turns.is_multiple_of(n),
        }
    }
}

/// What the prompt ends with, after the new message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PromptEnding {
    /// Nothing: the model writes the next reply.
    #[default]
    Reply,
    /// Continue: the reply so far, as the last assistant message (sent as written).
    Continue(String),
    /// Impersonate: the closing instruction to write as the user.
    Impersonate(String),
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
    /// How the card's example dialogue (`mes_example`) is sent.
    pub example_dialogue: ExampleDialogue,
    /// The Character's note (from the card's depth prompt), if any.
    pub character_note: Option<CharacterNote>,
    /// The chat's Author's Note, if any.
    pub authors_note: Option<AuthorsNote>,
    /// User messages in the chat, the new one included (for the note's interval).
    pub user_turns: u32,
    /// The active path, oldest first, without the new message.
    pub history: Vec<HistoryMessage>,
    /// The global post-history prompt.
    pub global_post_history: String,
    /// The new user message, if any (absent for regenerate/continue).
    pub new_message: Option<String>,
    /// Images sent with the new message: a blank new message still goes, to carry them.
    pub new_message_images: u32,
    /// What follows the new message (a continue's prefill, an impersonation's instruction).
    pub ending: PromptEnding,
    /// The model's context window in tokens.
    pub context_window: u32,
    /// Tokens kept free for the reply.
    pub reply_reserve: u32,
    /// Local time for `{{time}}`, `{{date}}`, `{{weekday}}` (RFC 3339 with offset).
    pub now: String,
    /// Seed for `{{random}}` and `{{roll}}`, so a preview and a send agree.
    pub seed: u64,
    /// In a group chat: who else is in the scene (`character` is the speaker).
    pub group: Option<crate::session::group::GroupScene>,
    /// What the chat remembers beyond the window (summaries, retrieved passages).
    pub memory: PromptMemory,
}

/// What a chat remembers beyond the window; empty when memory is off.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PromptMemory {
    /// Summaries of the active path's earlier messages, oldest first.
    pub summaries: Vec<SummaryInput>,
    /// Passages retrieved for this turn, best first.
    pub retrieved: Vec<RetrievedPassage>,
    /// How many chat messages come after the retrieved passages (0 = at the very end).
    pub retrieval_depth: u32,
    /// The most retrieved passages placed (0: all of `retrieved` that are not in the window).
    pub retrieval_count: u32,
}

/// A summary standing in for a stretch of the path's earlier messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryInput {
    /// The summary's id.
    pub id: String,
    /// Its text (macros allowed).
    pub text: String,
    /// How many messages of the path it covers.
    pub covers: u32,
    /// The 1-based position in the path of the first message it covers.
    pub first_position: u32,
    /// The 1-based position in the path of the last message it covers.
    pub last_position: u32,
    /// Pinned: always sent, never left out for room before the unpinned ones.
    pub pinned: bool,
}

/// A passage of the chat (or a note attached to it) found relevant to this turn.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrievedPassage {
    /// The passage's id.
    pub id: i64,
    /// Its text.
    pub text: String,
    /// Its similarity to the query, -1..1.
    pub score: f32,
    /// The message it came from; `None` for a note.
    pub message_id: Option<String>,
    /// The 1-based position of that message in the active path.
    pub position: Option<u32>,
    /// The index of that message in `PromptInput::history`, when it is there:
    /// assembly leaves the passage out when the message is inside the kept window.
    pub history_index: Option<u32>,
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
    /// In a group chat, another member's card (the "join cards" choice).
    GroupMember,
    /// The persona.
    PersonaDescription,
    /// A world-info entry.
    WorldInfo,
    /// The USER PREFERENCE MODIFIERS block.
    Preferences,
    /// A turn of the card's example dialogue, or the `[Example Chat]` line opening a block.
    ExampleDialogue,
    /// The `[Start a new Chat]` line between the example dialogue and the chat.
    ChatStart,
    /// The card's Character's note.
    CharacterNote,
    /// The chat's Author's Note.
    AuthorsNote,
    /// A message of the history.
    History,
    /// The character's post-history instructions.
    PostHistoryInstructions,
    /// The global post-history prompt.
    GlobalPostHistory,
    /// The new user message.
    NewMessage,
    /// Continue: the reply so far, written on by the model.
    ContinuePrefill,
    /// Impersonate: the instruction to write as the user.
    ImpersonationInstruction,
    /// In a group chat, the closing line naming who writes the reply.
    GroupNudge,
    /// A summary of earlier messages of the path.
    Summary,
    /// A passage retrieved from earlier in the chat or its notes.
    RetrievedMemory,
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
    /// Example-dialogue blocks left out (the last ones first) to fit the window.
    pub dropped_examples: u32,
}
