//! One scan: find the entries that fire for a chat, level by level, as SillyTavern's
//! `checkWorldInfo` does (timed effects, groups, probability, budget, recursion,
//! minimum activations), with matching done once per text batch.
//!
//! This file holds the scan itself; `state.rs` what it knows per book and how
//! text is matched into it; `evaluate.rs` one entry's verdict in one pass.

mod evaluate;
mod state;

use std::collections::HashMap;

use super::budget::budget_tokens;
use super::buffer::{Batch, Origin};
use super::compile::{CompiledBook, CompiledEntry};
use super::groups::filter_groups;
use super::timed::{begin, finish, TimedState, TimedView};
use super::ScanInput;
use crate::lore::report::{
    Activation, ActivationReason, DropReason, Dropped, KeyError, KeyErrorKind, ScanReport,
};
use crate::rng::SplitMix64;
use evaluate::{evaluate, Eval, Pass, PassCtx};
use state::{message_text, record, BookRun, Failure, Status, NO_HIT};

/// ST never scans deeper than this many messages.
const MAX_SCAN_DEPTH: u32 = 1000;
/// Recursion stops after this many levels even when `max_recursion_steps` is 0.
const MAX_RECURSION_LEVELS: u32 = 100;

/// An entry that fired in this pass, before groups, probability and budget.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub book: usize,
    pub entry: u32,
    pub sticky: bool,
    pub reason: ActivationReason,
    /// Key matches, for group scoring.
    pub score: u32,
    pub alive: bool,
    pub group_won: Option<String>,
}

/// Scans the chat for the entries of `books` (merged into one pool, as ST merges
/// character and global books; earlier books come first on equal insertion order).
///
/// Pool-wide settings (budget, recursion, minimum activations, include names)
/// come from `input.settings` or else the first book; an entry's scan depth
/// comes from its own override, else `input.settings`, else its book. Case and
/// whole-word matching are fixed when a book is compiled. `state` carries
/// sticky/cooldown between scans of one chat; `rng_seed` makes probability
/// rolls and group draws reproducible.
pub fn scan(
    books: &[&CompiledBook],
    input: &ScanInput,
    state: &mut TimedState,
    rng_seed: u64,
) -> ScanReport {
    // Thousands of entries and regex keys: a scan on an async worker would stall IPC and streams.
    debug_assert!(
        crate::offload::is_off_workers(),
        "a world-info scan ran on an async worker: run it through offload::run"
    );
    let pool = input
        .settings
        .clone()
        .or_else(|| books.first().map(|b| b.settings.clone()))
        .unwrap_or_default();
    let chat_len = u32::try_from(input.messages.len()).unwrap_or(u32::MAX);
    let budget = budget_tokens(&pool, input.context_tokens);
    let mut rng = SplitMix64::new(rng_seed);
    let timed: TimedView = begin(state, books, chat_len);

    let mut runs: Vec<BookRun> = books
        .iter()
        .enumerate()
        .map(|(bi, b)| {
            let mut run = BookRun {
                settings: input.settings.clone().unwrap_or_else(|| b.settings.clone()),
                hits: vec![NO_HIT; b.slots.len()],
                status: vec![Status::Open; b.entries.len()],
                is_candidate: vec![false; b.entries.len()],
                candidates: Vec::new(),
            };
            for &c in &b.always {
                run.add_candidate(c);
            }
            for &(sb, se) in timed.sticky.keys() {
                if sb == bi {
                    run.add_candidate(se);
                }
            }
            run
        })
        .collect();

    // First batch: the messages any entry can see, and the match sources.
    let mut scanned = runs
        .iter()
        .zip(books)
        .map(|(r, b)| r.settings.scan_depth.max(b.max_entry_depth))
        .max()
        .unwrap_or(0)
        .min(chat_len)
        .min(MAX_SCAN_DEPTH);
    let mut batch = Batch::default();
    for i in 0..scanned {
        if let Some(text) = message_text(input, i, pool.include_names) {
            batch.push(Origin::Message(i), &text);
        }
    }
    let s = &input.sources;
    for (bit, text) in [
        &s.persona_description,
        &s.character_description,
        &s.character_personality,
        &s.character_depth_prompt,
        &s.scenario,
        &s.creator_notes,
    ]
    .into_iter()
    .enumerate()
    {
        if !text.is_empty() {
            batch.push(Origin::Source(bit as u32), text);
        }
    }
    let mut failures: Vec<Failure> = Vec::new();
    record(books, &mut runs, &batch, &mut failures);

    let mut delay_levels: Vec<u32> = books
        .iter()
        .flat_map(|b| b.entries.iter().map(|e| e.entry.delay_until_recursion))
        .filter(|d| *d > 0)
        .collect();
    delay_levels.sort_unstable();
    delay_levels.dedup();
    delay_levels.reverse(); // popped smallest first
    let mut ctx = PassCtx {
        pass: Pass::Initial,
        skew: 0,
        delay_level: delay_levels.pop().unwrap_or(0),
        recursive: pool.recursive,
        chat_len,
        trigger: input.trigger,
        character: input.character.as_ref(),
    };

    let mut activations: Vec<(usize, u32, Activation)> = Vec::new();
    let mut dropped: Vec<Dropped> = Vec::new();
    let mut soft: HashMap<(usize, u32), DropReason> = HashMap::new();
    let mut activated_groups: HashMap<String, u32> = HashMap::new();
    let mut tokens_used: u32 = 0;
    let mut overflowed = false;
    let mut passes = 0u32;
    let mut recursion_passes = 0u32;
    let mut recursion_batches = 0u32;

    let drop_of = |bi: usize, ce: &CompiledEntry, reason: DropReason| Dropped {
        book: books.get(bi).map_or(String::new(), |b| b.key.clone()),
        uid: ce.entry.uid,
        comment: ce.entry.comment.clone(),
        reason,
    };

    loop {
        if pool.max_recursion_steps > 0 && passes >= pool.max_recursion_steps {
            break;
        }
        passes += 1;
        if ctx.pass == Pass::Recursion {
            recursion_passes += 1;
        }

        let mut found: Vec<Found> = Vec::new();
        for (bi, (book, run)) in books.iter().zip(runs.iter_mut()).enumerate() {
            for ci in 0..run.candidates.len() {
                let Some(&ei) = run.candidates.get(ci) else {
                    continue;
                };
                if run.status.get(ei as usize) != Some(&Status::Open) {
                    continue;
                }
                let Some(ce) = book.entries.get(ei as usize) else {
                    continue;
                };
                let sticky = timed.sticky.get(&(bi, ei)).copied();
                let cooling = timed.cooldown.get(&(bi, ei)).copied();
                match evaluate(ce, book, run, &ctx, sticky, cooling) {
                    Eval::Skip => {}
                    Eval::Soft(reason) => {
                        soft.insert((bi, ei), reason);
                    }
                    Eval::Hard(reason) => {
                        if let Some(s) = run.status.get_mut(ei as usize) {
                            *s = Status::Closed;
                        }
                        dropped.push(drop_of(bi, ce, reason));
                    }
                    Eval::Fire {
                        reason,
                        sticky,
                        score,
                    } => found.push(Found {
                        book: bi,
                        entry: ei,
                        sticky,
                        reason,
                        score,
                        alive: true,
                        group_won: None,
                    }),
                }
            }
        }
        // ST's order for groups, rolls and the budget: sticky first, then highest insertion order.
        found.sort_by_key(|f| {
            let rank = books
                .get(f.book)
                .and_then(|b| b.entries.get(f.entry as usize))
                .map_or(u32::MAX, |e| e.rank);
            (!f.sticky, f.book, rank)
        });
        filter_groups(&mut found, books, &activated_groups, &mut rng, &mut dropped);

        let mut new_text: Vec<String> = Vec::new();
        for f in found {
            let (Some(book), Some(run)) = (books.get(f.book), runs.get_mut(f.book)) else {
                continue;
            };
            let Some(ce) = book.entries.get(f.entry as usize) else {
                continue;
            };
            let status = run.status.get_mut(f.entry as usize);
            if !f.alive {
                // Group losers may not come back at a deeper level (ST drops them again).
                if let Some(s) = status {
                    *s = Status::Closed;
                }
                continue;
            }
            let e = &ce.entry;
            if e.use_probability && e.probability < 100 && !f.sticky {
                let roll = rng.below(100) as u32;
                if roll >= e.probability {
                    if let Some(s) = status {
                        *s = Status::Closed;
                    }
                    dropped.push(drop_of(
                        f.book,
                        ce,
                        DropReason::Probability {
                            probability: e.probability,
                            roll,
                        },
                    ));
                    continue;
                }
            }
            let fits = tokens_used.saturating_add(ce.tokens) <= budget;
            if !e.ignore_budget && (overflowed || !fits) {
                overflowed = true;
                if let Some(s) = status {
                    *s = Status::Closed;
                }
                dropped.push(drop_of(f.book, ce, DropReason::Budget { budget }));
                continue;
            }
            if let Some(s) = status {
                *s = Status::Activated;
            }
            tokens_used = tokens_used.saturating_add(ce.tokens);
            for g in e.groups.iter().map(|g| g.trim()).filter(|g| !g.is_empty()) {
                activated_groups.entry(g.to_owned()).or_insert(e.uid);
            }
            if !e.prevent_recursion && !ce.content.is_empty() {
                new_text.push(ce.content.clone());
            }
            activations.push((
                f.book,
                ce.rank,
                Activation {
                    book: book.key.clone(),
                    uid: e.uid,
                    comment: e.comment.clone(),
                    position: e.position,
                    depth: e.depth,
                    role: e.role,
                    order: e.insertion_order,
                    tokens: ce.tokens,
                    reason: f.reason,
                    group_won: f.group_won,
                    content: ce.content.clone(),
                    outlet: e.outlet_name.clone(),
                    moved_from: None,
                },
            ));
        }

        // What runs next, in ST's order of rules.
        let mut next = None;
        if pool.recursive && !overflowed && !new_text.is_empty() {
            next = Some(Pass::Recursion);
        }
        if pool.recursive
            && !overflowed
            && ctx.pass == Pass::MinActivations
            && recursion_batches > 0
        {
            next = Some(Pass::Recursion);
        }
        let fired = activations.len() as u32;
        if next.is_none() && !overflowed && pool.min_activations > 0 && fired < pool.min_activations
        {
            let depth = pool.scan_depth.saturating_add(ctx.skew);
            let too_deep = (pool.min_activations_depth_max > 0
                && depth > pool.min_activations_depth_max)
                || depth > chat_len;
            if !too_deep {
                next = Some(Pass::MinActivations);
                ctx.skew += 1;
                // Scan the messages the deeper pass can now see.
                let want = runs
                    .iter()
                    .map(|r| r.settings.scan_depth.saturating_add(ctx.skew))
                    .max()
                    .unwrap_or(0)
                    .min(chat_len)
                    .min(MAX_SCAN_DEPTH);
                let mut more = Batch::default();
                for i in scanned..want {
                    if let Some(text) = message_text(input, i, pool.include_names) {
                        more.push(Origin::Message(i), &text);
                    }
                }
                scanned = scanned.max(want);
                record(books, &mut runs, &more, &mut failures);
            }
        }
        if next.is_none() && !overflowed {
            if let Some(level) = delay_levels.pop() {
                next = Some(Pass::Recursion);
                ctx.delay_level = level;
            }
        }
        if next == Some(Pass::Recursion) && recursion_passes >= MAX_RECURSION_LEVELS {
            next = None;
        }
        let Some(pass) = next else { break };
        if !new_text.is_empty() {
            recursion_batches += 1;
            let mut more = Batch::default();
            for text in &new_text {
                more.push(Origin::Recursion(recursion_batches), text);
            }
            record(books, &mut runs, &more, &mut failures);
        }
        ctx.pass = pass;
    }

    // Keys whose search failed in this scan: reported, and like bad keys for their entries.
    let mut key_errors = Vec::new();
    for (bi, key, error) in &failures {
        let Some(book) = books.get(*bi) else { continue };
        let slots = match key.checked_sub(book.regexes.len()) {
            None => book.regex_slots.get(*key),
            Some(fancy) => book
                .fancy
                .get(fancy)
                .map_or(&[][..], |f| f.slots.as_slice()),
        };
        for slot in slots.iter().filter_map(|s| book.slots.get(*s as usize)) {
            let Some(ce) = book.entries.get(slot.entry as usize) else {
                continue;
            };
            let error = KeyError {
                uid: ce.entry.uid,
                key: slot.text.clone(),
                kind: KeyErrorKind::Failed,
                error: error.clone(),
            };
            soft.entry((*bi, slot.entry))
                .or_insert(DropReason::InvalidKey {
                    key: error.key.clone(),
                    error: error.error.clone(),
                });
            key_errors.push(error);
        }
    }
    // Entries that matched but were waiting (secondary keys, delay until recursion) or had bad keys.
    for (bi, book) in books.iter().enumerate() {
        for err in &book.errors {
            if let Some(&ei) = book.by_uid.get(&err.uid) {
                soft.entry((bi, ei)).or_insert(DropReason::InvalidKey {
                    key: err.key.clone(),
                    error: err.error.clone(),
                });
            }
        }
    }
    let mut soft: Vec<((usize, u32), DropReason)> = soft.into_iter().collect();
    soft.sort_by_key(|(k, _)| *k);
    for ((bi, ei), reason) in soft {
        let (Some(book), Some(run)) = (books.get(bi), runs.get(bi)) else {
            continue;
        };
        if run.status.get(ei as usize) != Some(&Status::Open) {
            continue;
        }
        if let Some(ce) = book.entries.get(ei as usize) {
            if ce.entry.enabled {
                dropped.push(drop_of(bi, ce, reason));
            }
        }
    }

    let fired: Vec<(usize, u32)> = runs
        .iter()
        .enumerate()
        .flat_map(|(bi, r)| {
            r.status
                .iter()
                .enumerate()
                .filter(|(_, s)| **s == Status::Activated)
                .map(move |(ei, _)| (bi, ei as u32))
        })
        .collect();
    finish(state, books, &fired, chat_len);

    activations.sort_by_key(|(book, _, a)| (a.order, *book, a.uid));
    ScanReport {
        activated: activations.into_iter().map(|(_, _, a)| a).collect(),
        dropped,
        tokens_used,
        budget,
        recursion_levels: recursion_passes,
        key_errors,
    }
}
