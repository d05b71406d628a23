//! Labels for the parts of a prompt, so a preview can say what each piece is.
//!
//! Labels are for people and may change wording; match on `PromptPart::source`.

use crate::lore::{Activation, EntryPosition, EntryRole};

use super::model::{
    AssembledPrompt, AuthorsNote, CharacterNote, NotePosition, PromptPart, PromptSource,
};

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
    let place = place_words(a, a.position);
    match a.moved_from {
        Some(from) => format!(
            "world info #{}{title} ({place}; moved from {} to keep the cached start of the prompt stable)",
            a.uid,
            place_words(a, from)
        ),
        None => format!("world info #{}{title} ({place})", a.uid),
    }
}

/// Where an entry goes at `position`, in a label's words.
fn place_words(a: &Activation, position: EntryPosition) -> String {
    match position {
        EntryPosition::BeforeCharacter => "before character".to_owned(),
        EntryPosition::AfterCharacter => "after character".to_owned(),
        EntryPosition::ExampleMessagesTop => "before the example dialogue".to_owned(),
        EntryPosition::ExampleMessagesBottom => "after the example dialogue".to_owned(),
        EntryPosition::AuthorsNoteTop => "top of the Author's Note".to_owned(),
        EntryPosition::AuthorsNoteBottom => "bottom of the Author's Note".to_owned(),
        EntryPosition::AtDepth => format!("at depth {}, {}", a.depth, entry_role_name(a.role)),
        EntryPosition::Outlet => format!("outlet {}", a.outlet),
    }
}

fn entry_role_name(role: EntryRole) -> &'static str {
    match role {
        EntryRole::System => "system",
        EntryRole::User => "user",
        EntryRole::Assistant => "assistant",
    }
}

/// `Author's Note (at depth 4, system)` or `Author's Note (after the system prompt)`.
pub(crate) fn authors_note_label(note: &AuthorsNote) -> String {
    match note.position {
        NotePosition::BeforeSystem => "Author's Note (before the system prompt)".to_owned(),
        NotePosition::AfterSystem => "Author's Note (after the system prompt)".to_owned(),
        NotePosition::InChat => format!(
            "Author's Note (at depth {}, {})",
            note.depth,
            note.role.as_str()
        ),
    }
}

/// `Character's note (at depth 4, system)`.
pub(crate) fn character_note_label(note: &CharacterNote) -> String {
    format!(
        "Character's note (at depth {}, {})",
        note.depth,
        note.role.as_str()
    )
}

/// `example chat 2`: the 1-based block of the card's example dialogue.
pub(crate) fn example_label(block: usize) -> String {
    format!("example chat {block}")
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
        PromptSource::ExampleDialogue => "example dialogue",
        PromptSource::ChatStart => "start of the chat",
        PromptSource::CharacterNote => "Character's note",
        PromptSource::AuthorsNote => "Author's Note",
        PromptSource::ContinuePrefill => "reply so far (continue)",
        PromptSource::ImpersonationInstruction => "impersonation instruction",
        PromptSource::GroupMember => "group member",
        PromptSource::GroupNudge => "group nudge",
        PromptSource::Summary => "summary",
        PromptSource::RetrievedMemory => "retrieved memory",
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
        "{} messages, {} tokens, {} history messages dropped, {} example chats dropped\n",
        prompt.messages.len(),
        prompt.total_tokens,
        prompt.dropped_history,
        prompt.dropped_examples
    ));
    out
}
