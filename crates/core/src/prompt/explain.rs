//! Labels for the parts of a prompt, so a preview can say what each piece is.
//!
//! Labels are for people and may change wording; match on `PromptPart::source`.

use crate::lore::{Activation, EntryPosition, EntryRole};

use super::model::{AssembledPrompt, PromptPart, PromptSource};

/// `PromptPart::message_index` of a piece that is in no message (an outlet entry).
pub const NOT_PLACED: u32 = u32::MAX;

/// `world info #12 Eldoria (before character)`; the title is left out when empty.
pub(crate) fn world_info_label(a: &Activation) -> String {
    let title = a.comment.trim();
    let title = if title.is_empty() {
        String::new()
    } else {
        format!(" {title}")
    };
    let place = match a.position {
        EntryPosition::BeforeCharacter | EntryPosition::ExampleMessagesTop => {
            "before character".to_owned()
        }
        EntryPosition::AfterCharacter
        | EntryPosition::AuthorsNoteTop
        | EntryPosition::AuthorsNoteBottom
        | EntryPosition::ExampleMessagesBottom => "after character".to_owned(),
        EntryPosition::AtDepth => format!("at depth {}, {}", a.depth, role_name(a.role)),
        EntryPosition::Outlet => "outlet, not placed".to_owned(),
    };
    format!("world info #{}{title} ({place})", a.uid)
}

fn role_name(role: EntryRole) -> &'static str {
    match role {
        EntryRole::System => "system",
        EntryRole::User => "user",
        EntryRole::Assistant => "assistant",
    }
}

/// `message 41`: the 1-based position in `PromptInput::history`.
pub(crate) fn history_label(index: usize) -> String {
    format!("message {}", index + 1)
}

/// The fixed label of a source that has one part.
pub(crate) fn fixed_label(source: PromptSource) -> &'static str {
    match source {
        PromptSource::PrimaryContext => "primary context",
        PromptSource::CharacterSystemPrompt => "character system prompt",
        PromptSource::CharacterDescription => "character description",
        PromptSource::PersonaDescription => "persona",
        PromptSource::WorldInfo => "world info",
        PromptSource::Preferences => "preferences",
        PromptSource::History => "message",
        PromptSource::PostHistoryInstructions => "post-history instructions",
        PromptSource::GlobalPostHistory => "global post-history",
        PromptSource::NewMessage => "new message",
    }
}

/// A plain-text account of the prompt: one line per part, then the totals.
pub fn explain(prompt: &AssembledPrompt) -> String {
    let mut out = String::new();
    for PromptPart {
        label,
        message_index,
        tokens,
        ..
    } in &prompt.parts
    {
        let at = if *message_index == NOT_PLACED {
            "  -".to_owned()
        } else {
            format!("{message_index:>3}")
        };
        out.push_str(&format!("{at} {tokens:>6}  {label}\n"));
    }
    out.push_str(&format!(
        "{} messages, {} tokens, {} history messages dropped\n",
        prompt.messages.len(),
        prompt.total_tokens,
        prompt.dropped_history
    ));
    out
}
