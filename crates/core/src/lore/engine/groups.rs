//! Inclusion groups: one winner per group per scan, as in ST's `filterByInclusionGroups`.
//!
//! Order of rules: sticky members win outright; then group scoring drops members
//! with fewer key matches; a group that already has an activated entry (from an
//! earlier recursion level) takes no more; a prioritised member with the highest
//! insertion order wins; otherwise a weighted draw by `group_weight`.

use std::collections::HashMap;

use super::compile::CompiledBook;
use super::scan::Found;
use crate::lore::report::{DropReason, Dropped};
use crate::rng::SplitMix64;

/// Marks losers in `found` dead (adding a `Group` drop for each) and winners with `group_won`.
pub(crate) fn filter_groups(
    found: &mut [Found],
    books: &[&CompiledBook],
    activated_groups: &HashMap<String, u32>,
    rng: &mut SplitMix64,
    dropped: &mut Vec<Dropped>,
) {
    // Groups in order of first appearance, so draws are reproducible.
    let mut order: Vec<&str> = Vec::new();
    let mut members: HashMap<&str, Vec<usize>> = HashMap::new();
    let entry_of = |f: &Found| {
        books
            .get(f.book)
            .and_then(|b| b.entries.get(f.entry as usize))
    };
    for (i, f) in found.iter().enumerate() {
        let Some(ce) = entry_of(f) else { continue };
        for g in ce
            .entry
            .groups
            .iter()
            .map(|g| g.trim())
            .filter(|g| !g.is_empty())
        {
            let list = members.entry(g).or_insert_with(|| {
                order.push(g);
                Vec::new()
            });
            if !list.contains(&i) {
                list.push(i);
            }
        }
    }
    let mut losers: Vec<(usize, String, u32)> = Vec::new();
    for group in order {
        let Some(all) = members.get(group) else {
            continue;
        };
        let mut alive: Vec<usize> = all
            .iter()
            .copied()
            .filter(|i| found.get(*i).is_some_and(|f| f.alive))
            .collect();
        if alive.is_empty() {
            continue;
        }
        let mut kill = |found: &mut [Found], i: usize, winner: u32| {
            if let Some(f) = found.get_mut(i) {
                f.alive = false;
            }
            losers.push((i, group.to_owned(), winner));
        };

        let sticky: Vec<usize> = alive
            .iter()
            .copied()
            .filter(|i| found.get(*i).is_some_and(|f| f.sticky))
            .collect();
        if let Some(&first) = sticky.first() {
            for &i in &alive {
                if !sticky.contains(&i) {
                    let w = uid_of(found, books, first);
                    kill(found, i, w);
                }
            }
            continue;
        }
        if let Some(&winner) = activated_groups.get(group) {
            for &i in &alive {
                kill(found, i, winner);
            }
            continue;
        }

        // Scoring: only members that use it can lose by score.
        let scored = |i: usize| {
            found.get(i).and_then(|f| {
                let book = books.get(f.book)?;
                let ce = book.entries.get(f.entry as usize)?;
                Some(
                    ce.entry
                        .use_group_scoring
                        .unwrap_or(book.settings.use_group_scoring),
                )
            }) == Some(true)
        };
        let mut score_losers = Vec::new();
        if alive.iter().any(|i| scored(*i)) {
            let max = alive
                .iter()
                .filter_map(|i| found.get(*i).map(|f| f.score))
                .max()
                .unwrap_or(0);
            alive.retain(|i| {
                let lose = scored(*i) && found.get(*i).is_some_and(|f| f.score < max);
                if lose {
                    score_losers.push(*i);
                }
                !lose
            });
        }

        let winner = if alive.len() <= 1 {
            alive.first().copied()
        } else if let Some(w) = prioritised_winner(found, books, &alive) {
            Some(w)
        } else {
            let weight = |i: &usize| {
                found
                    .get(*i)
                    .and_then(&entry_of)
                    .map_or(0, |e| u64::from(e.entry.group_weight))
            };
            let total: u64 = alive.iter().map(weight).sum();
            if total == 0 {
                alive.first().copied()
            } else {
                let roll = rng.below(total);
                let mut acc = 0;
                alive.iter().copied().find(|i| {
                    acc += weight(i);
                    roll < acc
                })
            }
        };
        let Some(winner) = winner else { continue };
        let winner_uid = uid_of(found, books, winner);
        for i in score_losers
            .into_iter()
            .chain(alive.iter().copied().filter(|i| *i != winner))
        {
            kill(found, i, winner_uid);
        }
        if let Some(f) = found.get_mut(winner) {
            f.group_won.get_or_insert_with(|| group.to_owned());
        }
    }
    for (i, group, winner) in losers {
        if let Some(f) = found.get(i) {
            if let Some(ce) = entry_of(f) {
                dropped.push(Dropped {
                    book: books.get(f.book).map_or(String::new(), |b| b.key.clone()),
                    uid: ce.entry.uid,
                    comment: ce.entry.comment.clone(),
                    reason: DropReason::Group { group, winner },
                });
            }
        }
    }
}

fn uid_of(found: &[Found], books: &[&CompiledBook], i: usize) -> u32 {
    found
        .get(i)
        .and_then(|f| books.get(f.book)?.entries.get(f.entry as usize))
        .map_or(0, |e| e.entry.uid)
}

/// Among prioritised members, the highest insertion order wins (ties: scan order).
fn prioritised_winner(found: &[Found], books: &[&CompiledBook], alive: &[usize]) -> Option<usize> {
    let mut best: Option<(usize, i32)> = None;
    for &i in alive {
        let Some(f) = found.get(i) else { continue };
        let Some(ce) = books
            .get(f.book)
            .and_then(|b| b.entries.get(f.entry as usize))
        else {
            continue;
        };
        if !ce.entry.group_prioritize {
            continue;
        }
        let order = ce.entry.insertion_order;
        if best.is_none_or(|(_, o)| order > o) {
            best = Some((i, order));
        }
    }
    best.map(|(i, _)| i)
}
