//! Where a provider's prompt cache should end its cached prefixes.
//!
//! Anthropic caches the prompt up to a block marked `cache_control` (at most
//! four per request) and, on the next request, finds a cached prefix by
//! looking back up to 20 blocks from each mark. A chat's prompt has three
//! kinds of stability: the system message changes only when the card or
//! settings do; the example dialogue and summaries before the history change
//! when a summary is written or an example block is pushed out; the history
//! grows at its end, but texts placed at a depth (the Author's Note, the
//! Character's note, world info `@depth`, retrieved memories, the
//! post-history instructions) move down with it every turn, so the prefix is
//! the same from turn to turn only up to the first of them. The marks follow
//! that: the end of the system message, the end of what comes before the
//! history, the end of the history before the first moving part, and the
//! newest message (so the next turn, where it is history, reads it when
//! nothing moving comes before it, and a regenerated reply, which sends the
//! same prompt again, reads all of it). Each turn's mark before the first
//! moving part is a few blocks after the last turn's, well within the lookback.
//!
//! A prefix shorter than [`MIN_CACHEABLE_TOKENS`] is not cached by any
//! provider (Anthropic silently skips it), so it gets no mark.
//!
//! What else can change the system message from turn to turn, by the user's
//! own choice and left alone: the time macros (`{{time}}`, `{{date}}`,
//! `{{weekday}}`, `{{isotime}}`), `{{random}}` and `{{roll}}` (seeded per
//! chat length), world info that fires by keyword before or after the
//! character (see [`relocate_keyword_world_info`], off by default), sticky and
//! cooldown entries, an Author's Note placed before or after the system prompt
//! with an interval, and in a group, the speaker.

use super::model::{AssembledPrompt, PromptSource};
use crate::lore::{Activation, ActivationReason, EntryPosition, EntryRole};

/// The shortest prefix worth a mark: Anthropic's smallest minimum (Claude
/// Sonnet and Opus 4.x; Haiku models need 2,048 or more, and are simply not
/// cached below that).
pub const MIN_CACHEABLE_TOKENS: u32 = 1024;

/// Anthropic's limit of `cache_control` marks per request.
pub const MAX_CACHE_BREAKPOINTS: usize = 4;

/// Indexes of the messages of `prompt` whose end should be marked for the
/// provider's prompt cache, ascending, at most [`MAX_CACHE_BREAKPOINTS`].
///
/// The marks are, when they exist and their prefix is long enough: the end
/// of the system message; the last message before the history (example
/// dialogue, the chat-start line, summaries); the last message before the
/// first part that moves each turn; the newest chat message.
pub fn cache_breakpoints(prompt: &AssembledPrompt) -> Vec<usize> {
    let n = prompt.messages.len();
    if n == 0 {
        return Vec::new();
    }
    let system_end = prompt
        .parts
        .iter()
        .filter(|p| is_system_source(p.source))
        .map(|p| p.message_index as usize)
        .filter(|&i| i < n)
        .max();
    // Whether each message holds only parts that stay put from turn to turn.
    let mut stable = vec![true; n];
    let mut history_start: Option<usize> = None;
    let mut newest: Option<usize> = None;
    for part in &prompt.parts {
        let i = part.message_index as usize;
        if i >= n {
            continue; // an outlet entry no message used
        }
        match part.source {
            PromptSource::History => {
                history_start = Some(history_start.map_or(i, |s| s.min(i)));
                newest = Some(newest.map_or(i, |s| s.max(i)));
            }
            PromptSource::NewMessage => newest = Some(newest.map_or(i, |s| s.max(i))),
            s if is_system_source(s) => {}
            PromptSource::ExampleDialogue | PromptSource::ChatStart | PromptSource::Summary => {}
            // World info in the system message goes with it (see `relocate_world_info`).
            PromptSource::WorldInfo if Some(i) == system_end => {}
            // Notes, world info at a depth, retrieved memories, post-history, endings.
            _ => stable[i] = false,
        }
    }
    let first_moving = (system_end.map_or(0, |s| s + 1)..n).find(|&i| !stable[i]);

    let mut marks = Vec::new();
    if let Some(s) = system_end {
        marks.push(s);
    }
    // Before the history, when nothing there moves (else the next mark covers it).
    if let Some(h) = history_start.filter(|&h| h > 0 && first_moving.is_none_or(|m| m >= h)) {
        marks.push(h - 1);
    }
    if let Some(m) = first_moving.filter(|&m| m > 0) {
        marks.push(m - 1);
    }
    if let Some(i) = newest {
        marks.push(i);
    }
    // Tokens up to the end of each message.
    let mut upto = vec![0u64; n];
    let mut per_message = vec![0u64; n];
    for part in &prompt.parts {
        if let Some(t) = per_message.get_mut(part.message_index as usize) {
            *t += u64::from(part.tokens);
        }
    }
    let mut sum = 0;
    for (i, t) in per_message.iter().enumerate() {
        sum += t;
        upto[i] = sum;
    }
    marks.retain(|&i| i < n && upto[i] >= u64::from(MIN_CACHEABLE_TOKENS));
    marks.sort_unstable();
    marks.dedup();
    // Over the limit (not with these four rules, but cheaply safe): keep the latest.
    if marks.len() > MAX_CACHE_BREAKPOINTS {
        marks.drain(..marks.len() - MAX_CACHE_BREAKPOINTS);
    }
    marks
}

fn is_system_source(source: PromptSource) -> bool {
    matches!(
        source,
        PromptSource::PrimaryContext
            | PromptSource::CharacterSystemPrompt
            | PromptSource::CharacterDescription
            | PromptSource::GroupMember
            | PromptSource::PersonaDescription
            | PromptSource::Preferences
    )
}

/// The depth keyword world info moves to with [`relocate_keyword_world_info`]
/// (SillyTavern's default `@depth` and Author's Note depth).
pub const MOVED_WORLD_INFO_DEPTH: u32 = 4;

/// Moves the world info that fired by keyword (anything not constant) from the
/// system message (before or after the character) into the chat as a system
/// message at `depth`, so the system message, and the cached prefix it opens,
/// stays the same from turn to turn. Constant entries stay where they are, and
/// each moved entry remembers where it asked to go (its prompt label says so).
/// Returns how many moved. Off by default: the documented prompt order keeps
/// every entry where its book puts it.
pub fn relocate_keyword_world_info(world_info: &mut [Activation], depth: u32) -> usize {
    let mut moved = 0;
    for a in world_info.iter_mut() {
        let in_system = matches!(
            a.position,
            EntryPosition::BeforeCharacter | EntryPosition::AfterCharacter
        );
        // `@@activate` entries fire every turn, as constant ones do.
        let fixed = matches!(
            a.reason,
            ActivationReason::Constant | ActivationReason::Decorator
        );
        if in_system && !fixed {
            a.moved_from = Some(a.position);
            a.position = EntryPosition::AtDepth;
            a.depth = depth;
            a.role = EntryRole::System;
            moved += 1;
        }
    }
    moved
}
