//! One entry's verdict in one pass: skipped, dropped for now (it may fire at a
//! deeper level), dropped for good, or fired, and why, in SillyTavern's order
//! of checks.

use super::state::{BookRun, KeyHit, NONE};
use super::MAX_SCAN_DEPTH;
use crate::lore::engine::compile::{source_name, CompiledBook, CompiledEntry};
use crate::lore::engine::filters::{filtered_out, trigger_allows};
use crate::lore::engine::{ScanCharacter, Trigger};
use crate::lore::model::SelectiveLogic;
use crate::lore::report::{ActivationReason, DropReason, MatchedIn};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pass {
    Initial,
    Recursion,
    MinActivations,
}

pub(super) struct PassCtx<'a> {
    pub(super) pass: Pass,
    pub(super) skew: u32,
    pub(super) delay_level: u32,
    pub(super) recursive: bool,
    pub(super) chat_len: u32,
    pub(super) trigger: Trigger,
    pub(super) character: Option<&'a ScanCharacter>,
}

pub(super) enum Eval {
    Skip,
    Soft(DropReason),
    Hard(DropReason),
    Fire {
        reason: ActivationReason,
        sticky: bool,
        score: u32,
    },
}

fn visible(hit: &KeyHit, depth: u32, sources: u8, recursion: bool) -> Option<MatchedIn> {
    if hit.message < depth {
        return Some(MatchedIn::Message { index: hit.message });
    }
    let common = hit.sources & sources;
    if common != 0 {
        return Some(MatchedIn::Source {
            name: source_name(common.trailing_zeros()).to_owned(),
        });
    }
    if recursion && hit.recursion != NONE {
        return Some(MatchedIn::Recursion {
            level: hit.recursion,
        });
    }
    None
}

pub(super) fn evaluate(
    ce: &CompiledEntry,
    book: &CompiledBook,
    run: &BookRun,
    ctx: &PassCtx<'_>,
    sticky_left: Option<u32>,
    cooling: Option<u32>,
) -> Eval {
    let e = &ce.entry;
    if !e.enabled {
        return Eval::Skip;
    }
    let sticky = sticky_left.is_some();
    let base_depth = run.settings.scan_depth.saturating_add(ctx.skew);
    let depth = e.scan_depth.unwrap_or(base_depth).min(MAX_SCAN_DEPTH);
    // Min-activation passes look deeper into the chat only, not at recursed content (ST).
    let recursion = ctx.pass != Pass::MinActivations;
    let slot_hit = |i: u32| {
        run.hits
            .get((ce.first_slot + i) as usize)
            .and_then(|h| visible(h, depth, ce.sources, recursion))
    };
    let slot_text = |i: u32| {
        book.slots
            .get((ce.first_slot + i) as usize)
            .map_or(String::new(), |s| s.text.clone())
    };

    let mut score = 0;
    let mut secondary_failed = false;
    // What would make it fire; ST's order: `@@activate`, constant, sticky, then keys.
    let reason = if ce.decorators.activate {
        ActivationReason::Decorator
    } else if e.constant {
        ActivationReason::Constant
    } else if let Some(remaining) = sticky_left {
        ActivationReason::Sticky { remaining }
    } else {
        let mut primary = None;
        for i in 0..ce.primary {
            if let Some(m) = slot_hit(i) {
                score += 1;
                primary.get_or_insert((i, m));
            }
        }
        let Some((key_slot, matched_in)) = primary else {
            return match &ce.invalid {
                Some(err) => Eval::Soft(DropReason::InvalidKey {
                    key: err.key.clone(),
                    error: err.error.clone(),
                }),
                None => Eval::Skip,
            };
        };
        let mut secondary = None;
        if e.selective && ce.secondary > 0 {
            let results: Vec<bool> = (0..ce.secondary)
                .map(|i| slot_hit(ce.primary + i).is_some())
                .collect();
            let matched = results.iter().filter(|m| **m).count() as u32;
            let first = |want: bool| {
                results
                    .iter()
                    .position(|m| *m == want)
                    .map(|i| slot_text(ce.primary + i as u32))
            };
            let ok = match e.selective_logic {
                SelectiveLogic::AndAny => {
                    secondary = first(true);
                    score += matched;
                    matched > 0
                }
                SelectiveLogic::NotAll => {
                    secondary = first(false);
                    matched < ce.secondary
                }
                SelectiveLogic::NotAny => matched == 0,
                SelectiveLogic::AndAll => {
                    score += matched;
                    matched == ce.secondary
                }
            };
            secondary_failed = !ok;
        }
        match matched_in {
            MatchedIn::Message { index }
                if ctx.pass == Pass::MinActivations
                    && e.scan_depth.is_none()
                    && index >= run.settings.scan_depth =>
            {
                ActivationReason::MinActivations { depth }
            }
            matched_in => ActivationReason::Key {
                key: slot_text(key_slot),
                secondary,
                matched_in,
            },
        }
    };

    // Who and what it is for: ST checks these before anything can make it fire.
    if !trigger_allows(&e.triggers, ctx.trigger) {
        return Eval::Hard(DropReason::Trigger {
            trigger: ctx.trigger,
            triggers: e.triggers.clone(),
        });
    }
    if let (Some(filter), Some(character)) = (&e.character_filter, ctx.character) {
        if let Some(by_tag) = filtered_out(filter, character) {
            return Eval::Hard(DropReason::CharacterFilter {
                character: character.name.clone(),
                exclude: filter.exclude,
                by_tag,
            });
        }
    }
    if ce.decorators.dont_activate && !ce.decorators.activate {
        return Eval::Hard(DropReason::DontActivate);
    }
    if secondary_failed {
        return Eval::Soft(DropReason::SecondaryKeys);
    }

    if e.delay > 0 && ctx.chat_len < e.delay {
        return Eval::Hard(DropReason::Delay { needed: e.delay });
    }
    if let (Some(remaining), false) = (cooling, sticky) {
        return Eval::Hard(DropReason::Cooldown { remaining });
    }
    let wait = e.delay_until_recursion;
    if wait > 0 && !sticky && (ctx.pass != Pass::Recursion || wait > ctx.delay_level) {
        return Eval::Soft(DropReason::DelayUntilRecursion { level: wait });
    }
    if ctx.pass == Pass::Recursion && ctx.recursive && e.exclude_recursion && !sticky {
        return Eval::Skip;
    }
    Eval::Fire {
        reason,
        sticky,
        score,
    }
}
