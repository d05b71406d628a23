//! The system message's sections and the post-history message.

use crate::card::CardData;
use crate::error::Result;
use crate::lore::{Activation, EntryPosition};

use super::explain::{fixed_label, world_info_label};
use super::model::{PromptInput, PromptSource};
use super::preferences::preference_block;
use super::text::{Piece, Prep};

/// Between the sections of the system message and of the post-history message.
pub const SECTION_SEPARATOR: &str = "\n---\n";

/// The system message's sections, each a list of pieces joined by `"\n"`.
pub(crate) fn sections(input: &PromptInput, prep: &Prep<'_>) -> Result<Vec<Vec<Piece>>> {
    let card = &input.character;
    let mut sections = Vec::new();
    let (primary, primary_used) = prep.text(&input.primary_context);
    let (card_system, card_used) =
        prep.text_in(&card.system_prompt, &prep.ctx.with_original(&primary));
    let wraps = card_used.original;
    if !wraps && !primary.is_empty() {
        sections.push(vec![
            fixed(PromptSource::PrimaryContext, primary).using(primary_used)
        ]);
    }
    if !card_system.is_empty() {
        let mut piece = fixed(PromptSource::CharacterSystemPrompt, card_system).using(card_used);
        if wraps {
            piece.label.push_str(" (with the primary context)");
        }
        sections.push(vec![piece]);
    }

    let mut character = Vec::new();
    for a in placed(input, EntryPosition::BeforeCharacter) {
        push_world_info(&mut character, a, prep);
    }
    let (description, used) = description_block(input, prep);
    if !description.is_empty() {
        character.push(fixed(PromptSource::CharacterDescription, description).using(used));
    }
    for other in input.group.iter().flat_map(|g| &g.others) {
        let (text, used) = member_block(other, prep);
        if !text.is_empty() {
            let label = format!("group member {}", other.name);
            character.push(Piece::new(PromptSource::GroupMember, label, text).using(used));
        }
    }
    for a in placed(input, EntryPosition::AfterCharacter) {
        push_world_info(&mut character, a, prep);
    }
    if !character.is_empty() {
        sections.push(character);
    }

    let (persona, used) = prep.text(&input.persona_description);
    if !persona.is_empty() {
        sections.push(vec![
            fixed(PromptSource::PersonaDescription, persona).using(used)
        ]);
    }
    if let Some(prefs) = &input.preferences {
        let block = preference_block(prefs, &prep.ctx.char_name, &prep.ctx.user_name)?;
        // The user's own words (custom relationship, summary) may use macros too.
        let (block, used) = prep.text(&block);
        if !block.is_empty() {
            sections.push(vec![fixed(PromptSource::Preferences, block).using(used)]);
        }
    }
    Ok(sections)
}

/// The card's post-history instructions, then the global post-history prompt.
pub(crate) fn post_history(input: &PromptInput, prep: &Prep<'_>) -> Vec<Piece> {
    let (global, global_used) = prep.text(&input.global_post_history);
    let (card, card_used) = prep.text_in(
        &input.character.post_history_instructions,
        &prep.ctx.with_original(&global),
    );
    let wraps = card_used.original;
    let mut pieces = Vec::new();
    if !card.is_empty() {
        let mut piece = fixed(PromptSource::PostHistoryInstructions, card).using(card_used);
        if wraps {
            piece.label.push_str(" (with the global post-history)");
        }
        pieces.push(piece);
    }
    if !wraps && !global.is_empty() {
        pieces.push(fixed(PromptSource::GlobalPostHistory, global).using(global_used));
    }
    pieces
}

/// The activated entries placed at `position`, in insertion order.
pub(crate) fn placed(
    input: &PromptInput,
    position: EntryPosition,
) -> impl Iterator<Item = &Activation> {
    input
        .world_info
        .iter()
        .filter(move |a| a.position == position)
}

/// Adds an entry's text (after macros) as a piece, unless it is blank.
pub(crate) fn push_world_info(into: &mut Vec<Piece>, a: &Activation, prep: &Prep<'_>) {
    let (text, used) = prep.text(&a.content);
    if !text.is_empty() {
        into.push(world_info_piece(a, text).using(used));
    }
}

pub(crate) fn world_info_piece(a: &Activation, text: String) -> Piece {
    Piece::new(PromptSource::WorldInfo, world_info_label(a), text)
}

pub(crate) fn fixed(source: PromptSource, text: String) -> Piece {
    Piece::new(source, fixed_label(source), text)
}

/// Another group member's card as the speaker's prompt shows it: `Name: description`
/// and `Name's personality: …`, with `{{char}}` that member (the scenario is the speaker's).
fn member_block(card: &CardData, prep: &Prep<'_>) -> (String, super::macros::Used) {
    let name = display_name(card);
    let ctx = super::macros::MacroContext {
        char_name: name.to_owned(),
        ..prep.ctx.clone()
    };
    let mut lines = Vec::new();
    let mut all = super::macros::Used::default();
    for (prefix, field) in [
        (format!("{name}: "), &card.description),
        (format!("{name}'s personality: "), &card.personality),
    ] {
        let (text, used) = prep.text_in(field, &ctx);
        all.outlets.extend(used.outlets);
        if !text.is_empty() {
            lines.push(format!("{prefix}{text}"));
        }
    }
    (lines.join("\n"), all)
}

/// A card's nickname if set, else its name (what `{{char}}` becomes).
pub fn display_name(card: &CardData) -> &str {
    card.nickname
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(&card.name)
}

/// `description`, `Personality: …`, `Scenario: …`, one per line, blanks left out.
fn description_block(input: &PromptInput, prep: &Prep<'_>) -> (String, super::macros::Used) {
    let card = &input.character;
    let mut lines = Vec::new();
    let mut all = super::macros::Used::default();
    for (prefix, field) in [
        ("", &card.description),
        ("Personality: ", &card.personality),
        ("Scenario: ", &card.scenario),
    ] {
        let (text, used) = prep.text(field);
        all.outlets.extend(used.outlets);
        if !text.is_empty() {
            lines.push(format!("{prefix}{text}"));
        }
    }
    (lines.join("\n"), all)
}
