//! What a text prompt is rendered from, and how the engine gets it from an assembled prompt.

use serde::{Deserialize, Serialize};

use crate::prompt::{AssembledPrompt, PromptSource, EXAMPLE_CHAT_LINE};
use crate::session::Role;

/// The fields a story string reads (SillyTavern's names in brackets).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct StoryFields {
    /// The system prompt (`system`); from an assembled prompt, Confab's whole system block.
    pub system: String,
    /// The character's description (`description`).
    pub description: String,
    /// The character's personality (`personality`).
    pub personality: String,
    /// The scenario (`scenario`).
    pub scenario: String,
    /// The user's persona (`persona`).
    pub persona: String,
    /// World info placed before the character (`wiBefore`, `loreBefore`).
    pub wi_before: String,
    /// World info placed after the character (`wiAfter`, `loreAfter`).
    pub wi_after: String,
}

/// One turn of the chat or of an example dialogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Turn {
    /// Who speaks; `System` for notes placed in the chat (Author's Note, Character's note).
    pub role: Role,
    /// The speaker's name (empty for system turns).
    pub name: String,
    /// The text.
    pub content: String,
}

impl Turn {
    /// A turn of `role` by `name`.
    pub fn new(role: Role, name: impl Into<String>, content: impl Into<String>) -> Turn {
        Turn {
            role,
            name: name.into(),
            content: content.into(),
        }
    }
}

/// What the prompt ends with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum TextEnding {
    /// The opening of the character's next turn: the model writes the reply.
    #[default]
    Reply,
    /// The last history turn is the one being written: it is left open (no suffix) for the model to go on.
    Continue,
    /// The opening of the user's next turn: the model writes as the user.
    Impersonate,
}

/// Everything [`super::render_text_prompt`] needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TextPromptInput {
    /// What the story string reads.
    pub story: StoryFields,
    /// Example dialogue, one list of turns per block (`<START>`).
    pub examples: Vec<Vec<Turn>>,
    /// The chat, oldest first, with notes placed at their depths as system turns.
    pub history: Vec<Turn>,
    /// The character who speaks next (`{{char}}`).
    pub char_name: String,
    /// The user (`{{user}}`).
    pub user_name: String,
    /// In a group chat, the other members in the scene (not `char_name`); empty outside groups.
    pub group_members: Vec<String>,
    /// What the prompt ends with.
    pub ending: TextEnding,
}

impl TextPromptInput {
    /// Whether this is a group chat (names are then forced under [`super::NamesBehavior::Force`]).
    pub fn is_group(&self) -> bool {
        !self.group_members.is_empty()
    }

    /// Builds the input from an assembled prompt, so a text backend gets exactly the parts a chat backend would.
    ///
    /// The leading system messages (Confab's system block, and an Author's
    /// Note placed before or after it) become `story.system`, joined by a line
    /// break, and the other story fields stay empty: Confab's frame already
    /// orders the description, persona and world info, and a story string
    /// that opens with `{{system}}` sends it as is. Example-dialogue messages
    /// become `examples` (a block at each `[Example Chat]` line); the
    /// `[Start a new Chat]` line is dropped (the context template's
    /// `chat_start` replaces it); everything after is `history`, user turns
    /// named `user_name`, the character's `char_name` (in a group, the
    /// member whose `Name:` opens the text), system turns unnamed.
    /// A continue's prefill makes the ending [`TextEnding::Continue`], an
    /// impersonation's instruction [`TextEnding::Impersonate`] (the
    /// instruction stays in the history as a system turn).
    pub fn from_assembled(
        prompt: &AssembledPrompt,
        char_name: &str,
        user_name: &str,
        group_members: &[String],
    ) -> TextPromptInput {
        let mut sources: Vec<Vec<PromptSource>> = vec![Vec::new(); prompt.messages.len()];
        for part in &prompt.parts {
            if let Some(s) = sources.get_mut(part.message_index as usize) {
                s.push(part.source);
            }
        }
        let mut input = TextPromptInput {
            char_name: char_name.to_owned(),
            user_name: user_name.to_owned(),
            group_members: group_members.to_vec(),
            ..TextPromptInput::default()
        };
        let mut system: Vec<&str> = Vec::new();
        let mut in_story = true;
        for (message, sources) in prompt.messages.iter().zip(&sources) {
            let is = |s: PromptSource| sources.contains(&s);
            if is(PromptSource::ExampleDialogue) {
                in_story = false;
                if message.role == Role::System && message.content.trim() == EXAMPLE_CHAT_LINE {
                    input.examples.push(Vec::new());
                } else {
                    if input.examples.is_empty() {
                        input.examples.push(Vec::new());
                    }
                    let name = turn_name(message.role, char_name, user_name);
                    if let Some(block) = input.examples.last_mut() {
                        block.push(Turn::new(message.role, name, message.content.clone()));
                    }
                }
                continue;
            }
            if is(PromptSource::ChatStart) {
                in_story = false;
                continue;
            }
            // Summaries open the chat (a system turn of their own), as history does.
            if in_story
                && message.role == Role::System
                && !is(PromptSource::History)
                && !is(PromptSource::Summary)
            {
                system.push(&message.content);
                continue;
            }
            in_story = false;
            if is(PromptSource::ContinuePrefill) {
                input.ending = TextEnding::Continue;
            }
            if is(PromptSource::ImpersonationInstruction) {
                input.ending = TextEnding::Impersonate;
            }
            let name = match message.role {
                // In a group the history carries each speaker's name in its
                // text ("Carol: …"); that speaker, not the one replying, wrote it.
                Role::Assistant => group_members
                    .iter()
                    .find(|m| names_itself(&message.content, m))
                    .cloned()
                    .unwrap_or_else(|| char_name.to_owned()),
                role => turn_name(role, char_name, user_name),
            };
            input
                .history
                .push(Turn::new(message.role, name, message.content.clone()));
        }
        input.story.system = system.join("\n");
        input.examples.retain(|b| !b.is_empty());
        input
    }
}

/// Whether `content` opens with `name:`.
fn names_itself(content: &str, name: &str) -> bool {
    let name = name.trim();
    !name.is_empty()
        && content
            .strip_prefix(name)
            .is_some_and(|rest| rest.starts_with(':'))
}

fn turn_name(role: Role, char_name: &str, user_name: &str) -> String {
    match role {
        Role::User => user_name.to_owned(),
        Role::Assistant => char_name.to_owned(),
        Role::System => String::new(),
    }
}
