//! The world-book activation engine: which matched entries fire: seeded
//! probability rolls, inclusion groups (weights, priority, scoring), timed
//! effects across scans (sticky, cooldown, delay), the token budget.

mod lore_engine_support;

use confab_core::lore::{scan, ActivationReason, BookSettings, DropReason, Entry, TimedState};
use lore_engine_support::{book, book_with, chat, compiled, drop_of, entry, fired, run};

#[test]
fn probability_rolls_are_seeded() {
    let mut e = entry(1, &["coin"], "x");
    e.probability = 50;
    let b = book(vec![e]);
    let c = compiled(&b);
    let input = chat(&["a coin"]);
    let mut outcomes = Vec::new();
    for seed in 0..40 {
        let r = scan(&[&c], &input, &mut TimedState::default(), seed);
        let again = scan(&[&c], &input, &mut TimedState::default(), seed);
        assert_eq!(r, again, "same seed, same report");
        match drop_of(&r, 1) {
            Some(DropReason::Probability { probability, roll }) => {
                assert_eq!(*probability, 50);
                assert!(*roll >= 50);
                outcomes.push(false);
            }
            None => {
                assert_eq!(fired(&r), [1]);
                outcomes.push(true);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(outcomes.contains(&true) && outcomes.contains(&false));
    let mut never = entry(2, &["coin"], "x");
    never.probability = 0;
    let mut unused = entry(3, &["coin"], "x");
    unused.probability = 0;
    unused.use_probability = false;
    assert_eq!(fired(&run(&book(vec![never, unused]), &input)), [3]);
}

fn grouped(uid: u32, group: &str, weight: u32) -> Entry {
    let mut e = entry(uid, &["tavern"], "x");
    e.groups = vec![group.into()];
    e.group_weight = weight;
    e
}

#[test]
fn groups_draw_one_winner_by_weight_reproducibly() {
    let b = book(vec![
        grouped(1, "inn", 100),
        grouped(2, "inn", 100),
        grouped(3, "inn", 100),
    ]);
    let c = compiled(&b);
    let input = chat(&["the tavern"]);
    let mut winners = std::collections::BTreeSet::new();
    for seed in 0..30 {
        let r = scan(&[&c], &input, &mut TimedState::default(), seed);
        assert_eq!(r, scan(&[&c], &input, &mut TimedState::default(), seed));
        assert_eq!(r.activated.len(), 1);
        let w = r.activated[0].uid;
        assert_eq!(r.activated[0].group_won.as_deref(), Some("inn"));
        for d in &r.dropped {
            assert_eq!(
                d.reason,
                DropReason::Group {
                    group: "inn".into(),
                    winner: w
                }
            );
        }
        winners.insert(w);
    }
    assert_eq!(winners.len(), 3, "every member wins for some seed");
    // Weight 0 never wins against weight 100.
    let b = book(vec![grouped(1, "inn", 0), grouped(2, "inn", 100)]);
    let c = compiled(&b);
    for seed in 0..20 {
        assert_eq!(
            fired(&scan(&[&c], &input, &mut TimedState::default(), seed)),
            [2]
        );
    }
}

#[test]
fn group_prioritize_and_scoring() {
    let mut a = grouped(1, "inn", 100);
    a.group_prioritize = true;
    a.insertion_order = 10;
    let mut b2 = grouped(2, "inn", 100);
    b2.group_prioritize = true;
    b2.insertion_order = 50;
    let c = grouped(3, "inn", 1000);
    for seed in 0..10 {
        let r = scan(
            &[&compiled(&book(vec![a.clone(), b2.clone(), c.clone()]))],
            &chat(&["tavern"]),
            &mut TimedState::default(),
            seed,
        );
        assert_eq!(fired(&r), [2], "highest-order prioritised entry wins");
    }
    let mut one = grouped(1, "inn", 100);
    one.keys = vec!["tavern".into()];
    let mut two = grouped(2, "inn", 100);
    two.keys = vec!["tavern".into(), "ale".into()];
    let settings = BookSettings {
        use_group_scoring: true,
        ..BookSettings::default()
    };
    let scored = compiled(&book_with(settings, vec![one, two]));
    for seed in 0..10 {
        let r = scan(
            &[&scored],
            &chat(&["tavern ale"]),
            &mut TimedState::default(),
            seed,
        );
        assert_eq!(fired(&r), [2], "more key matches survive scoring");
    }
}

#[test]
fn sticky_cooldown_and_delay_across_scans() {
    let mut sticky = entry(1, &["storm"], "x");
    sticky.sticky = 2;
    let mut cool = entry(2, &["storm"], "x");
    cool.cooldown = 2;
    let mut delayed = entry(3, &["storm"], "x");
    delayed.delay = 3;
    let c = compiled(&book(vec![sticky, cool, delayed]));
    let mut state = TimedState::default();
    let mut turn = |texts: &[&str]| scan(&[&c], &chat(texts), &mut state, 0);

    let r1 = turn(&["a storm"]);
    assert_eq!(fired(&r1), [1, 2]);
    assert_eq!(drop_of(&r1, 3), Some(&DropReason::Delay { needed: 3 }));

    let r2 = turn(&["a storm", "calm"]);
    assert_eq!(
        fired(&r2),
        [1],
        "sticky without its key; others not matched"
    );
    assert_eq!(
        r2.activated[0].reason,
        ActivationReason::Sticky { remaining: 1 }
    );

    let r3 = turn(&["a storm", "calm", "storm again"]);
    assert_eq!(
        fired(&r3),
        [1, 2, 3],
        "sticky over, cooldown over, delay reached"
    );

    let r4 = turn(&["a storm", "calm", "storm again", "storm"]);
    assert!(matches!(
        drop_of(&r4, 2),
        Some(DropReason::Cooldown { remaining: 1 })
    ));

    let json = serde_json::to_string(&state).expect("serialises");
    let back: TimedState = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, state);
    assert!(state.entries.contains_key("book:1"));
}

#[test]
fn budget_percent_cap_and_ignore_budget() {
    // EstimateCounter: 40 bytes = 10 tokens.
    let ten = "x".repeat(40);
    let mk = |uid, order| {
        let mut e = entry(uid, &["gem"], &ten);
        e.insertion_order = order;
        e
    };
    let settings = BookSettings {
        budget_percent: 25,
        ..BookSettings::default()
    };
    let b = book_with(settings.clone(), vec![mk(1, 100), mk(2, 300), mk(3, 200)]);
    let mut input = chat(&["a gem"]);
    input.context_tokens = 100; // budget 25: two entries fit
    let r = run(&b, &input);
    assert_eq!(r.budget, 25);
    assert_eq!(fired(&r), [3, 2], "highest insertion order is kept first");
    assert_eq!(r.tokens_used, 20);
    assert_eq!(drop_of(&r, 1), Some(&DropReason::Budget { budget: 25 }));

    let mut free = mk(1, 100);
    free.ignore_budget = true;
    let r = run(
        &book_with(settings.clone(), vec![free, mk(2, 300), mk(3, 200)]),
        &input,
    );
    assert_eq!(fired(&r), [1, 3, 2]);

    let capped = BookSettings {
        budget_percent: 100,
        budget_cap: 15,
        ..settings
    };
    let r = run(&book_with(capped, vec![mk(1, 100), mk(2, 300)]), &input);
    assert_eq!(r.budget, 15);
    assert_eq!(fired(&r), [2]);
}
