//! Assembly: a [`PromptInput`] becomes the messages to send, in the contract's order.
//!
//! The messages, in order (each only when it has text):
//!
//! 1. **System message**, sections joined by [`SECTION_SEPARATOR`] (`"\n---\n"`):
//!    1. the primary context;
//!    2. the card's system prompt. `{{original}}` in it is the primary context
//!       (after macros); when it is used, the primary context appears only
//!       there, not also as section 1;
//!    3. the character section, pieces joined by `"\n"`: world info placed
//!       before the character (`BeforeCharacter`, `ExampleMessagesTop`), then
//!       the description block (`description`, then `Personality: …`, then
//!       `Scenario: …`, each line only when non-empty), then world info placed
//!       after it (`AfterCharacter`, `AuthorsNote*`, `ExampleMessagesBottom`),
//!       each group in the activations' order;
//!    4. the persona description;
//!    5. the USER PREFERENCE MODIFIERS block.
//! 2. **History**, oldest first, roles as given, trimmed from the oldest end
//!    to fit. `AtDepth` world info goes in as one message per (depth, role),
//!    entries joined by `"\n"`, with `depth` kept history messages after it
//!    (0 = after the last history message, before the post-history message);
//!    a depth beyond the kept history puts it before the oldest kept message.
//!    At one place, deeper entries come first, then system, user, assistant.
//! 3. **Post-history system message**: the card's post-history instructions
//!    (`{{original}}` = the global post-history prompt, then not repeated),
//!    then the global post-history prompt, joined by [`SECTION_SEPARATOR`].
//! 4. **The new user message**, if given and not blank.
//!
//! `Outlet` world info is not placed: its parts come last, with
//! `message_index` [`NOT_PLACED`].
//!
//! Every text goes through the macros; system-message sections and
//! post-history pieces are trimmed, history and the new message are not.
//! Tokens: each part and each message is counted on its own with the given
//! counter; `total_tokens` is the sum over messages, with no per-message
//! overhead (providers' framing differs; the reply reserve absorbs it).

use std::cmp::Reverse;
use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::lore::{Activation, EntryPosition, EntryRole};
use crate::session::Role;
use crate::tokens::TokenCounter;

use super::explain::{fixed_label, history_label, world_info_label, NOT_PLACED};
use super::macros::{expand, substitute_macros, MacroContext};
use super::model::{AssembledPrompt, PromptInput, PromptMessage, PromptPart, PromptSource};
use super::preferences::preference_block;
use super::trim::fit_history;

/// Between the sections of the system message and of the post-history message.
pub const SECTION_SEPARATOR: &str = "\n---\n";

/// The primary context used when the user has saved none.
pub const DEFAULT_PRIMARY_CONTEXT: &str = "Write {{char}}'s next reply in a fictional chat between {{char}} and {{user}}. \
Stay in character: write as {{char}} would, with their personality, knowledge, voice and way of speaking. \
Be creative and proactive, and move the story and the conversation forward. \
Describe actions, feelings and surroundings vividly but concisely. \
Never write {{user}}'s words, thoughts or actions, and never speak for {{user}}. \
Keep everything consistent with the character, the world and what has happened so far.";

/// A piece of a message before it is counted.
struct Piece {
    source: PromptSource,
    label: String,
    text: String,
}

impl Piece {
    fn fixed(source: PromptSource, text: String) -> Piece {
        Piece {
            source,
            label: fixed_label(source).to_owned(),
            text,
        }
    }
}

/// `AtDepth` entries sharing a depth and role: one history message.
struct DepthGroup {
    depth: u32,
    role: EntryRole,
    pieces: Vec<Piece>,
}

/// Assembles the prompt for `input`, counting tokens with `counter`.
///
/// Fails with [`Error::InvalidInput`] when the preferences contradict each
/// other, or when the parts that are never trimmed (system message, world
/// info at depth, post-history, new message) do not fit in
/// `context_window - reply_reserve`.
pub fn assemble(input: &PromptInput, counter: &dyn TokenCounter) -> Result<AssembledPrompt> {
    let ctx = MacroContext::from_input(input);
    let sections = system_sections(input, &ctx)?;
    let system_text = join_sections(&sections);
    let depth_groups = depth_groups(&input.world_info, &ctx);
    let post = post_history(input, &ctx);
    let post_text = join(&post, SECTION_SEPARATOR);
    let new_message = input
        .new_message
        .as_deref()
        .map(|m| substitute_macros(m, &ctx))
        .filter(|m| !m.trim().is_empty());

    let count = |text: &str| {
        if text.is_empty() {
            0
        } else {
            counter.count(text)
        }
    };
    let system_tokens = count(&system_text);
    let group_texts: Vec<String> = depth_groups.iter().map(|g| join(&g.pieces, "\n")).collect();
    let group_tokens: Vec<u32> = group_texts.iter().map(|t| count(t)).collect();
    let post_tokens = count(&post_text);
    let new_tokens = new_message.as_deref().map_or(0, count);
    let fixed = u64::from(system_tokens)
        + group_tokens.iter().map(|&t| u64::from(t)).sum::<u64>()
        + u64::from(post_tokens)
        + u64::from(new_tokens);
    let budget = u64::from(input.context_window.saturating_sub(input.reply_reserve));
    if fixed > budget {
        return Err(Error::InvalidInput(format!(
            "the context window is too small for the fixed parts of the prompt: the system message, \
             world info at depth, post-history instructions and new message need {fixed} tokens, \
             but a {} token window with {} kept for the reply leaves {budget}",
            input.context_window, input.reply_reserve
        )));
    }
    let kept = fit_history(&input.history, &ctx, counter, budget - fixed);

    let mut out = Output::default();
    if !system_text.is_empty() {
        let at = out.message(Role::System, system_text, system_tokens);
        for piece in sections.into_iter().flatten() {
            out.part(piece, at, counter);
        }
    }
    let kept_len = kept.texts.len();
    let mut groups = depth_groups
        .into_iter()
        .zip(group_texts.into_iter().zip(group_tokens))
        .peekable();
    let mut history = kept.texts.into_iter().enumerate();
    for offset in 0..=kept_len {
        // Groups whose (clamped) depth leaves exactly `kept_len - offset` messages after them.
        while let Some((group, _)) = groups.peek() {
            if (group.depth as usize).min(kept_len) != kept_len - offset {
                break;
            }
            let Some((group, (text, tokens))) = groups.next() else {
                break;
            };
            let single = group.pieces.len() == 1;
            let at = out.message(role_of(group.role), text, tokens);
            for piece in group.pieces {
                if single {
                    out.counted_part(piece, at, tokens);
                } else {
                    out.part(piece, at, counter);
                }
            }
        }
        if let Some((k, (text, tokens))) = history.next() {
            let index = kept.start + k;
            let role = input.history.get(index).map_or(Role::User, |m| m.role);
            let at = out.message(role, text.clone(), tokens);
            out.counted_part(
                Piece {
                    source: PromptSource::History,
                    label: history_label(index),
                    text,
                },
                at,
                tokens,
            );
        }
    }
    if !post_text.is_empty() {
        let at = out.message(Role::System, post_text, post_tokens);
        for piece in post {
            out.part(piece, at, counter);
        }
    }
    if let Some(text) = new_message {
        let at = out.message(Role::User, text.clone(), new_tokens);
        out.counted_part(Piece::fixed(PromptSource::NewMessage, text), at, new_tokens);
    }
    for a in &input.world_info {
        if a.position == EntryPosition::Outlet {
            let text = clean(substitute_macros(&a.content, &ctx));
            if !text.is_empty() {
                out.part(world_info_piece(a, text), NOT_PLACED, counter);
            }
        }
    }
    Ok(AssembledPrompt {
        messages: out.messages,
        parts: out.parts,
        total_tokens: u32::try_from(out.total).unwrap_or(u32::MAX),
        dropped_history: u32::try_from(kept.start).unwrap_or(u32::MAX),
    })
}

/// Messages and parts as they are appended.
#[derive(Default)]
struct Output {
    messages: Vec<PromptMessage>,
    parts: Vec<PromptPart>,
    total: u64,
}

impl Output {
    fn message(&mut self, role: Role, content: String, tokens: u32) -> u32 {
        self.messages.push(PromptMessage { role, content });
        self.total += u64::from(tokens);
        u32::try_from(self.messages.len() - 1).unwrap_or(NOT_PLACED)
    }

    fn part(&mut self, piece: Piece, message_index: u32, counter: &dyn TokenCounter) {
        let tokens = counter.count(&piece.text);
        self.counted_part(piece, message_index, tokens);
    }

    fn counted_part(&mut self, piece: Piece, message_index: u32, tokens: u32) {
        self.parts.push(PromptPart {
            source: piece.source,
            label: piece.label,
            message_index,
            text: piece.text,
            tokens,
        });
    }
}

/// The system message's sections, each a list of pieces joined by `"\n"`.
fn system_sections(input: &PromptInput, ctx: &MacroContext) -> Result<Vec<Vec<Piece>>> {
    let card = &input.character;
    let mut sections = Vec::new();
    let primary = clean(substitute_macros(&input.primary_context, ctx));
    let (card_system, wraps) = expand(&card.system_prompt, &ctx.with_original(&primary));
    let card_system = clean(card_system);
    if !wraps && !primary.is_empty() {
        sections.push(vec![Piece::fixed(PromptSource::PrimaryContext, primary)]);
    }
    if !card_system.is_empty() {
        let mut piece = Piece::fixed(PromptSource::CharacterSystemPrompt, card_system);
        if wraps {
            piece.label.push_str(" (with the primary context)");
        }
        sections.push(vec![piece]);
    }

    let mut character = Vec::new();
    let placed = |before: bool| {
        input
            .world_info
            .iter()
            .filter(move |a| placed_before(a.position) == Some(before))
    };
    for a in placed(true) {
        push_world_info(&mut character, a, ctx);
    }
    let description = description_block(input, ctx);
    if !description.is_empty() {
        character.push(Piece::fixed(
            PromptSource::CharacterDescription,
            description,
        ));
    }
    for a in placed(false) {
        push_world_info(&mut character, a, ctx);
    }
    if !character.is_empty() {
        sections.push(character);
    }

    let persona = clean(substitute_macros(&input.persona_description, ctx));
    if !persona.is_empty() {
        sections.push(vec![Piece::fixed(
            PromptSource::PersonaDescription,
            persona,
        )]);
    }
    if let Some(prefs) = &input.preferences {
        let block = preference_block(prefs, &ctx.char_name, &ctx.user_name)?;
        // The user's own words (custom relationship, summary) may use macros too.
        let block = clean(substitute_macros(&block, ctx));
        if !block.is_empty() {
            sections.push(vec![Piece::fixed(PromptSource::Preferences, block)]);
        }
    }
    Ok(sections)
}

/// `Some(true)` before the description, `Some(false)` after it, `None` elsewhere.
fn placed_before(position: EntryPosition) -> Option<bool> {
    match position {
        EntryPosition::BeforeCharacter | EntryPosition::ExampleMessagesTop => Some(true),
        EntryPosition::AfterCharacter
        | EntryPosition::AuthorsNoteTop
        | EntryPosition::AuthorsNoteBottom
        | EntryPosition::ExampleMessagesBottom => Some(false),
        EntryPosition::AtDepth | EntryPosition::Outlet => None,
    }
}

fn push_world_info(into: &mut Vec<Piece>, a: &Activation, ctx: &MacroContext) {
    let text = clean(substitute_macros(&a.content, ctx));
    if !text.is_empty() {
        into.push(world_info_piece(a, text));
    }
}

fn world_info_piece(a: &Activation, text: String) -> Piece {
    Piece {
        source: PromptSource::WorldInfo,
        label: world_info_label(a),
        text,
    }
}

/// `description`, `Personality: …`, `Scenario: …`, one per line, blanks left out.
fn description_block(input: &PromptInput, ctx: &MacroContext) -> String {
    let card = &input.character;
    let mut lines = Vec::new();
    let description = clean(substitute_macros(&card.description, ctx));
    if !description.is_empty() {
        lines.push(description);
    }
    for (prefix, field) in [
        ("Personality: ", &card.personality),
        ("Scenario: ", &card.scenario),
    ] {
        let text = clean(substitute_macros(field, ctx));
        if !text.is_empty() {
            lines.push(format!("{prefix}{text}"));
        }
    }
    lines.join("\n")
}

/// `AtDepth` entries grouped by depth (deepest first) and role (system, user, assistant).
fn depth_groups(world_info: &[Activation], ctx: &MacroContext) -> Vec<DepthGroup> {
    let mut groups: BTreeMap<(Reverse<u32>, u8), DepthGroup> = BTreeMap::new();
    for a in world_info {
        if a.position != EntryPosition::AtDepth {
            continue;
        }
        let text = clean(substitute_macros(&a.content, ctx));
        if text.is_empty() {
            continue;
        }
        let rank = match a.role {
            EntryRole::System => 0,
            EntryRole::User => 1,
            EntryRole::Assistant => 2,
        };
        groups
            .entry((Reverse(a.depth), rank))
            .or_insert_with(|| DepthGroup {
                depth: a.depth,
                role: a.role,
                pieces: Vec::new(),
            })
            .pieces
            .push(world_info_piece(a, text));
    }
    groups.into_values().collect()
}

/// The card's post-history instructions, then the global post-history prompt.
fn post_history(input: &PromptInput, ctx: &MacroContext) -> Vec<Piece> {
    let global = clean(substitute_macros(&input.global_post_history, ctx));
    let (card, wraps) = expand(
        &input.character.post_history_instructions,
        &ctx.with_original(&global),
    );
    let card = clean(card);
    let mut pieces = Vec::new();
    if !card.is_empty() {
        let mut piece = Piece::fixed(PromptSource::PostHistoryInstructions, card);
        if wraps {
            piece.label.push_str(" (with the global post-history)");
        }
        pieces.push(piece);
    }
    if !wraps && !global.is_empty() {
        pieces.push(Piece::fixed(PromptSource::GlobalPostHistory, global));
    }
    pieces
}

fn role_of(role: EntryRole) -> Role {
    match role {
        EntryRole::System => Role::System,
        EntryRole::User => Role::User,
        EntryRole::Assistant => Role::Assistant,
    }
}

fn clean(text: String) -> String {
    let trimmed = text.trim();
    if trimmed.len() == text.len() {
        text
    } else {
        trimmed.to_owned()
    }
}

fn join(pieces: &[Piece], separator: &str) -> String {
    let texts: Vec<&str> = pieces.iter().map(|p| p.text.as_str()).collect();
    texts.join(separator)
}

fn join_sections(sections: &[Vec<Piece>]) -> String {
    let texts: Vec<String> = sections.iter().map(|s| join(s, "\n")).collect();
    texts.join(SECTION_SEPARATOR)
}
