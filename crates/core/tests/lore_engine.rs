//! The world-book activation engine, mode by mode (books built in code).

use confab_core::lore::{
    compile, scan, ActivationReason, Book, BookSettings, CompiledBook, DropReason, Entry,
    MatchedIn, ScanInput, ScanMessage, ScanReport, ScanSources, SelectiveLogic, TimedState,
};
use confab_core::tokens::{EstimateCounter, TokenCounter};

fn entry(uid: u32, keys: &[&str], content: &str) -> Entry {
    let mut e = Entry::new(uid);
    e.keys = keys.iter().map(|k| k.to_string()).collect();
    e.content = content.to_owned();
    e.comment = format!("entry {uid}");
    e
}

fn book(entries: Vec<Entry>) -> Book {
    book_with(BookSettings::default(), entries)
}

fn book_with(settings: BookSettings, entries: Vec<Entry>) -> Book {
    Book {
        name: "test".into(),
        description: String::new(),
        settings,
        entries,
        extensions: Default::default(),
    }
}

fn counter() -> &'static dyn TokenCounter {
    static C: EstimateCounter = EstimateCounter;
    &C
}

fn compiled(b: &Book) -> CompiledBook {
    compile(b, "book", counter()).expect("compiles")
}

/// Messages oldest first, alternating user "Ann" / assistant "Mira".
fn chat(texts: &[&str]) -> ScanInput {
    ScanInput {
        messages: texts
            .iter()
            .enumerate()
            .map(|(i, t)| ScanMessage {
                role: if i % 2 == 0 { "user" } else { "assistant" }.into(),
                name: if i % 2 == 0 { "Ann" } else { "Mira" }.into(),
                content: t.to_string(),
            })
            .collect(),
        context_tokens: 100_000,
        ..ScanInput::default()
    }
}

fn run(b: &Book, input: &ScanInput) -> ScanReport {
    let c = compiled(b);
    scan(&[&c], input, &mut TimedState::default(), 1)
}

fn fired(r: &ScanReport) -> Vec<u32> {
    r.activated.iter().map(|a| a.uid).collect()
}

fn drop_of(r: &ScanReport, uid: u32) -> Option<&DropReason> {
    r.dropped.iter().find(|d| d.uid == uid).map(|d| &d.reason)
}

#[test]
fn plain_keys_match_case_insensitively_and_report_where() {
    let b = book(vec![entry(1, &["Dragon", "wyrm"], "lore")]);
    let r = run(&b, &chat(&["hello", "a DRAGON appears"]));
    assert_eq!(fired(&r), [1]);
    assert_eq!(
        r.activated[0].reason,
        ActivationReason::Key {
            key: "Dragon".into(),
            secondary: None,
            matched_in: MatchedIn::Message { index: 0 }
        }
    );
    assert!(fired(&run(&b, &chat(&["nothing here"]))).is_empty());
}

#[test]
fn case_sensitivity_book_default_and_entry_override() {
    let settings = BookSettings {
        case_sensitive: true,
        ..BookSettings::default()
    };
    let mut loose = entry(2, &["Dragon"], "x");
    loose.case_sensitive = Some(false);
    let b = book_with(settings, vec![entry(1, &["Dragon"], "x"), loose]);
    assert_eq!(fired(&run(&b, &chat(&["a dragon"]))), [2]);
    assert_eq!(fired(&run(&b, &chat(&["a Dragon"]))), [1, 2]);
}

#[test]
fn whole_words_are_unicode_aware() {
    let settings = BookSettings {
        match_whole_words: true,
        ..BookSettings::default()
    };
    let mut partial = entry(9, &["cat"], "x");
    partial.match_whole_words = Some(false);
    let b = book_with(
        settings,
        vec![
            entry(1, &["cat"], "x"),
            entry(2, &["кот"], "x"),
            entry(3, &["猫"], "x"),
            partial,
        ],
    );
    assert_eq!(fired(&run(&b, &chat(&["concatenate"]))), [9]);
    assert_eq!(fired(&run(&b, &chat(&["the cat."]))), [1, 9]);
    assert!(fired(&run(&b, &chat(&["вкусная котлета"]))).is_empty());
    assert_eq!(fired(&run(&b, &chat(&["КОТ спит"]))), [2]);
    assert_eq!(fired(&run(&b, &chat(&["黑猫很可爱"]))), [3]);
}

#[test]
fn regex_keys_use_their_own_flags() {
    let b = book(vec![
        entry(1, &["/drag(on|oon)s?/i"], "x"),
        entry(2, &["/Elf\\b/"], "x"),
    ]);
    assert_eq!(fired(&run(&b, &chat(&["DRAGOONS and elf"]))), [1]);
    assert_eq!(fired(&run(&b, &chat(&["an Elf"]))), [2]);
    assert!(fired(&run(&b, &chat(&["Elfish"]))).is_empty());
}

#[test]
fn look_around_regex_falls_back_to_fancy_regex() {
    let b = book(vec![entry(1, &["/cat(?!fish)/"], "x")]);
    assert!(compiled(&b).errors().is_empty());
    assert!(fired(&run(&b, &chat(&["a catfish"]))).is_empty());
    assert_eq!(fired(&run(&b, &chat(&["a cat"]))), [1]);
}

#[test]
fn an_invalid_regex_marks_only_its_entry() {
    let b = book(vec![
        entry(1, &["/(unclosed/"], "x"),
        entry(2, &["/[z-a]/", "goblin"], "x"),
        entry(3, &["goblin"], "x"),
    ]);
    let c = compiled(&b);
    assert_eq!(c.errors().len(), 2);
    assert_eq!(c.errors()[0].uid, 1);
    let r = scan(&[&c], &chat(&["a goblin"]), &mut TimedState::default(), 0);
    assert_eq!(fired(&r), [2, 3]);
    assert!(matches!(
        drop_of(&r, 1),
        Some(DropReason::InvalidKey { key, .. }) if key == "/(unclosed/"
    ));
}

#[test]
fn secondary_logic_all_four() {
    let mk = |uid, logic| {
        let mut e = entry(uid, &["sword"], "x");
        e.secondary_keys = vec!["fire".into(), "ice".into()];
        e.selective_logic = logic;
        e
    };
    let b = book(vec![
        mk(1, SelectiveLogic::AndAny),
        mk(2, SelectiveLogic::NotAll),
        mk(3, SelectiveLogic::NotAny),
        mk(4, SelectiveLogic::AndAll),
    ]);
    assert_eq!(fired(&run(&b, &chat(&["a sword"]))), [2, 3]);
    assert_eq!(fired(&run(&b, &chat(&["a sword of fire"]))), [1, 2]);
    assert_eq!(fired(&run(&b, &chat(&["a sword of fire and ice"]))), [1, 4]);
    let r = run(&b, &chat(&["a sword of fire"]));
    assert_eq!(drop_of(&r, 3), Some(&DropReason::SecondaryKeys));
    match &r.activated[0].reason {
        ActivationReason::Key { secondary, .. } => assert_eq!(secondary.as_deref(), Some("fire")),
        other => panic!("unexpected {other:?}"),
    }
    // Not selective: secondary keys are ignored.
    let mut plain = mk(5, SelectiveLogic::AndAll);
    plain.selective = false;
    assert_eq!(fired(&run(&book(vec![plain]), &chat(&["a sword"]))), [5]);
}

#[test]
fn constant_always_disabled_never() {
    let mut c = entry(1, &[], "always");
    c.constant = true;
    let mut off = entry(2, &["x"], "never");
    off.enabled = false;
    off.constant = true;
    let r = run(&book(vec![c, off]), &chat(&["x"]));
    assert_eq!(fired(&r), [1]);
    assert_eq!(r.activated[0].reason, ActivationReason::Constant);
}

#[test]
fn scan_depth_book_and_entry_override() {
    let settings = BookSettings {
        scan_depth: 1,
        ..BookSettings::default()
    };
    let mut deep = entry(2, &["orc"], "x");
    deep.scan_depth = Some(3);
    let b = book_with(settings, vec![entry(1, &["orc"], "x"), deep]);
    let r = run(&b, &chat(&["an orc", "hm", "ok"]));
    assert_eq!(fired(&r), [2]);
    assert!(matches!(
        &r.activated[0].reason,
        ActivationReason::Key {
            matched_in: MatchedIn::Message { index: 2 },
            ..
        }
    ));
    assert_eq!(fired(&run(&b, &chat(&["ok", "an orc"]))), [1, 2]);
}

#[test]
fn include_names_puts_speakers_in_the_text() {
    let b = book(vec![entry(1, &["Mira:"], "x")]);
    assert_eq!(fired(&run(&b, &chat(&["hi", "hello"]))), [1]);
    let off = book_with(
        BookSettings {
            include_names: false,
            ..BookSettings::default()
        },
        vec![entry(1, &["Mira:"], "x")],
    );
    assert!(fired(&run(&off, &chat(&["hi", "hello"]))).is_empty());
}

#[test]
fn match_sources_opt_in_per_entry() {
    let mut with = entry(2, &["castle"], "x");
    with.match_sources.scenario = true;
    let b = book(vec![entry(1, &["castle"], "x"), with]);
    let mut input = chat(&["hello"]);
    input.sources = ScanSources {
        scenario: "A castle on a hill".into(),
        ..ScanSources::default()
    };
    let r = run(&b, &input);
    assert_eq!(fired(&r), [2]);
    assert!(matches!(
        &r.activated[0].reason,
        ActivationReason::Key { matched_in: MatchedIn::Source { name }, .. } if name == "scenario"
    ));
}

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

#[test]
fn output_is_in_insertion_order_then_uid() {
    let mk = |uid, order| {
        let mut e = entry(uid, &["x"], "c");
        e.insertion_order = order;
        e
    };
    let r = run(
        &book(vec![mk(5, 20), mk(4, 10), mk(3, 20), mk(1, 30)]),
        &chat(&["x"]),
    );
    assert_eq!(fired(&r), [4, 3, 5, 1]);
    assert_eq!(r.activated[0].order, 10);
    assert_eq!(r.activated[0].tokens, 1);
    assert_eq!(r.activated[0].content, "c");
}

#[test]
fn multiple_books_merge_into_one_pool() {
    let a = compile(&book(vec![entry(1, &["elf"], "a")]), "character", counter()).expect("a");
    let mut g = entry(1, &["elf"], "g");
    g.insertion_order = 50;
    let b = compile(&book(vec![g]), "global", counter()).expect("b");
    let r = scan(&[&a, &b], &chat(&["an elf"]), &mut TimedState::default(), 0);
    let books: Vec<(&str, u32)> = r
        .activated
        .iter()
        .map(|a| (a.book.as_str(), a.uid))
        .collect();
    assert_eq!(books, [("global", 1), ("character", 1)]);
}

#[test]
fn settings_override_replaces_book_settings() {
    let b = book(vec![entry(1, &["orc"], "x")]);
    let mut input = chat(&["an orc", "b", "c"]);
    assert!(fired(&run(&b, &input)).is_empty());
    input.settings = Some(BookSettings {
        scan_depth: 3,
        ..BookSettings::default()
    });
    assert_eq!(fired(&run(&b, &input)), [1]);
}
