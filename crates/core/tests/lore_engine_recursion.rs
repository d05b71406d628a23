//! The world-book activation engine's later passes: recursion level by level,
//! its flags and step limit, delay until recursion, cycles, and minimum
//! activations scanning deeper.

mod lore_engine_support;

use confab_core::lore::{ActivationReason, BookSettings, DropReason, Entry, MatchedIn};
use lore_engine_support::{book, book_with, chat, drop_of, entry, fired, run};

fn chain_book() -> Vec<Entry> {
    vec![
        entry(1, &["alpha"], "mentions beta"),
        entry(2, &["beta"], "mentions gamma"),
        entry(3, &["gamma"], "the end"),
    ]
}

fn recursive() -> BookSettings {
    BookSettings {
        recursive: true,
        ..BookSettings::default()
    }
}

#[test]
fn recursion_goes_level_by_level() {
    let r = run(&book_with(recursive(), chain_book()), &chat(&["alpha"]));
    assert_eq!(fired(&r), [1, 2, 3]);
    let level = |uid: u32| match &r.activated.iter().find(|a| a.uid == uid).map(|a| &a.reason) {
        Some(ActivationReason::Key {
            matched_in: MatchedIn::Recursion { level },
            ..
        }) => *level,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!((level(2), level(3)), (1, 2));
    assert!(r.recursion_levels >= 2);
    // Not recursive: only the chat counts.
    assert_eq!(fired(&run(&book(chain_book()), &chat(&["alpha"]))), [1]);
}

#[test]
fn recursion_flags_prevent_exclude_and_max_steps() {
    let mut entries = chain_book();
    entries[0].prevent_recursion = true;
    assert_eq!(
        fired(&run(&book_with(recursive(), entries), &chat(&["alpha"]))),
        [1]
    );

    let mut entries = chain_book();
    entries[1].exclude_recursion = true;
    assert_eq!(
        fired(&run(&book_with(recursive(), entries), &chat(&["alpha"]))),
        [1]
    );
    // Excluded from recursion only: the chat still triggers it.
    let mut entries = chain_book();
    entries[1].exclude_recursion = true;
    assert_eq!(
        fired(&run(
            &book_with(recursive(), entries),
            &chat(&["alpha beta"])
        )),
        [1, 2, 3]
    );

    let steps = BookSettings {
        max_recursion_steps: 2,
        ..recursive()
    };
    assert_eq!(
        fired(&run(
            &book_with(steps.clone(), chain_book()),
            &chat(&["alpha"])
        )),
        [1, 2]
    );
}

#[test]
fn delay_until_recursion_waits_for_a_recursive_pass() {
    let mut late = entry(4, &["alpha"], "late");
    late.delay_until_recursion = 1;
    let mut entries = chain_book();
    entries.push(late);
    let r = run(&book_with(recursive(), entries), &chat(&["alpha"]));
    assert!(fired(&r).contains(&4));
    // Levels are ST's "delay levels": level 2 waits until level-1 recursion is done.
    let mut first = entry(5, &["alpha"], "first");
    first.delay_until_recursion = 1;
    let mut late = entry(4, &["alpha"], "late");
    late.delay_until_recursion = 2;
    let steps = BookSettings {
        max_recursion_steps: 2,
        ..recursive()
    };
    let mut entries = chain_book();
    entries.push(late);
    entries.push(first);
    let r = run(&book_with(steps, entries), &chat(&["alpha"]));
    assert!(fired(&r).contains(&5));
    assert!(!fired(&r).contains(&4));
    assert_eq!(
        drop_of(&r, 4),
        Some(&DropReason::DelayUntilRecursion { level: 2 })
    );
    // Never on the first pass: with no recursion steps at all it stays out.
    let mut late = entry(4, &["alpha"], "late");
    late.delay_until_recursion = 1;
    let once = BookSettings {
        max_recursion_steps: 1,
        ..recursive()
    };
    let r = run(&book_with(once, vec![late]), &chat(&["alpha"]));
    assert!(fired(&r).is_empty());
}

#[test]
fn a_recursion_cycle_terminates() {
    let b = book_with(
        recursive(),
        vec![entry(1, &["ping"], "pong"), entry(2, &["pong"], "ping")],
    );
    let r = run(&b, &chat(&["ping"]));
    assert_eq!(fired(&r), [1, 2]);
    assert!(r.recursion_levels <= 3);
}

#[test]
fn min_activations_scan_deeper() {
    let settings = BookSettings {
        scan_depth: 1,
        min_activations: 2,
        ..BookSettings::default()
    };
    let entries = vec![entry(1, &["near"], "x"), entry(2, &["far"], "x")];
    let input = chat(&["far", "b", "c", "near"]);
    let r = run(&book_with(settings.clone(), entries.clone()), &input);
    assert_eq!(fired(&r), [1, 2]);
    assert!(matches!(
        r.activated[1].reason,
        ActivationReason::MinActivations { depth: 4 }
    ));
    let off = BookSettings {
        min_activations: 0,
        ..settings.clone()
    };
    assert_eq!(fired(&run(&book_with(off, entries.clone()), &input)), [1]);
    let capped = BookSettings {
        min_activations_depth_max: 2,
        ..settings
    };
    assert_eq!(fired(&run(&book_with(capped, entries), &input)), [1]);
}
