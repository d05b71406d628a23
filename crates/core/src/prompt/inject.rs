//! Texts placed in the chat at a depth: the Author's Note, the Character's note
//! and world info `@depth`, grouped as SillyTavern groups them.
//!
//! At one depth, each role gets one message, its texts joined by `"\n"` in the
//! order SillyTavern's extension prompts sort in: the Author's Note, then the
//! Character's note, then world info. The roles come assistant, user, system,
//! so the system message sits closest to the end ("most important go lower").
//! Deeper groups come first.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use crate::lore::{EntryPosition, EntryRole};
use crate::session::Role;

use super::explain::{authors_note_label, character_note_label};
use super::model::{NotePosition, PromptInput, PromptSource};
use super::system::{placed, push_world_info};
use super::text::{Piece, Prep};

/// Where a group goes: deepest first, then by role rank.
type Place = (Reverse<u32>, u8);

/// Texts sharing a depth and a role: one chat message.
pub(crate) struct DepthGroup {
    pub depth: u32,
    pub role: Role,
    pub pieces: Vec<Piece>,
}

/// The Author's Note with the world info placed at its top and bottom.
pub(crate) struct NoteBlock {
    pub position: NotePosition,
    pub depth: u32,
    pub role: Role,
    pub pieces: Vec<Piece>,
}

/// The Author's Note block, when it has anything to say this turn.
///
/// World info placed at the note goes in even on turns the note's own text
/// skips (its interval), with the note's placement, as in SillyTavern; with no
/// note at all, the note's defaults (in the chat at depth 4, as system) apply.
pub(crate) fn authors_note(input: &PromptInput, prep: &Prep<'_>) -> Option<NoteBlock> {
    let note = input.authors_note.clone().unwrap_or_default();
    let mut pieces = Vec::new();
    for a in placed(input, EntryPosition::AuthorsNoteTop) {
        push_world_info(&mut pieces, a, prep);
    }
    if note.due(input.user_turns) {
        let (text, used) = prep.text(&note.text);
        if !text.is_empty() {
            pieces.push(
                Piece::new(PromptSource::AuthorsNote, authors_note_label(&note), text).using(used),
            );
        }
    }
    for a in placed(input, EntryPosition::AuthorsNoteBottom) {
        push_world_info(&mut pieces, a, prep);
    }
    (!pieces.is_empty()).then_some(NoteBlock {
        position: note.position,
        depth: note.depth,
        role: note.role,
        pieces,
    })
}

/// Everything placed in the chat: the note (when it goes there), the
/// Character's note and world info at depth, grouped and ordered.
pub(crate) fn depth_groups(
    input: &PromptInput,
    prep: &Prep<'_>,
    note: Option<NoteBlock>,
) -> Vec<DepthGroup> {
    // (deepest first, role rank) -> (kind rank, piece): kinds sort AN, Character's note, world info.
    let mut groups: BTreeMap<Place, Vec<(u8, Piece)>> = BTreeMap::new();
    let mut add = |depth: u32, role: Role, kind: u8, piece: Piece| {
        groups
            .entry((Reverse(depth), role_rank(role)))
            .or_default()
            .push((kind, piece));
    };
    if let Some(note) = note {
        for piece in note.pieces {
            add(note.depth, note.role, 0, piece);
        }
    }
    if let Some(char_note) = &input.character_note {
        let (text, used) = prep.text(&char_note.text);
        if !text.is_empty() {
            let label = character_note_label(char_note);
            let piece = Piece::new(PromptSource::CharacterNote, label, text).using(used);
            add(char_note.depth, char_note.role, 1, piece);
        }
    }
    for a in placed(input, EntryPosition::AtDepth) {
        let mut one = Vec::new();
        push_world_info(&mut one, a, prep);
        for piece in one {
            add(a.depth, role_of(a.role), 2, piece);
        }
    }
    groups
        .into_iter()
        .map(|((Reverse(depth), rank), mut pieces)| {
            // Stable: within a kind, the order given (activations in insertion order).
            pieces.sort_by_key(|(kind, _)| *kind);
            DepthGroup {
                depth,
                role: role_from_rank(rank),
                pieces: pieces.into_iter().map(|(_, p)| p).collect(),
            }
        })
        .collect()
}

fn role_rank(role: Role) -> u8 {
    match role {
        Role::Assistant => 0,
        Role::User => 1,
        Role::System => 2,
    }
}

fn role_from_rank(rank: u8) -> Role {
    match rank {
        0 => Role::Assistant,
        1 => Role::User,
        _ => Role::System,
    }
}

/// The chat role of a world-info entry's role.
pub(crate) fn role_of(role: EntryRole) -> Role {
    match role {
        EntryRole::System => Role::System,
        EntryRole::User => Role::User,
        EntryRole::Assistant => Role::Assistant,
    }
}
