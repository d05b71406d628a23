//! The world-book activation engine, mode by mode (books built in code).

use confab_core::lore::regex_keys::BOOK_REGEX_BUDGET;
use confab_core::lore::{
    compile, scan, ActivationReason, Book, BookSettings, CharacterFilter, CompiledBook, DropReason,
    Entry, KeyErrorKind, MatchedIn, ScanCharacter, ScanInput, ScanMessage, ScanReport, ScanSources,
    SelectiveLogic, TimedState, Trigger,
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

// ------------------------------------------------- regex keys under a budget

#[test]
fn a_huge_regex_key_is_its_own_error_and_the_rest_of_the_book_works() {
    // `\w{100}` is valid, but compiles to megabytes (Unicode word characters).
    let b = book(vec![
        entry(1, &[r"/\w{100}/", "wyrm"], "huge"),
        entry(2, &["dragon"], "plain"),
        entry(3, &["/drag(on|oon)s?/i"], "small regex"),
        entry(4, &[r"/\w{100}/"], "only the huge key"),
    ]);
    let c = compile(&b, "book", counter()).expect("the book compiles despite the huge key");
    let errors = c.errors();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!((errors[0].uid, errors[0].key.as_str()), (1, r"/\w{100}/"));
    assert_eq!(errors[0].kind, KeyErrorKind::TooLarge);
    assert!(errors[0].error.contains("1 MiB"), "{}", errors[0].error);
    assert_eq!(errors[1].uid, 4);
    assert!(c.regex_bytes() <= BOOK_REGEX_BUDGET);

    let r = scan(
        &[&c],
        &chat(&["a dragon and a wyrm"]),
        &mut TimedState::default(),
        0,
    );
    assert_eq!(
        fired(&r),
        [1, 2, 3],
        "its entry still fires on its other key"
    );
    assert!(matches!(
        drop_of(&r, 4),
        Some(DropReason::InvalidKey { key, error }) if key == r"/\w{100}/" && error.contains("MiB")
    ));
}

#[test]
fn a_thousand_heavy_regex_keys_stay_within_the_book_budget() {
    // Each key is a few hundred KiB compiled: far more than 32 MiB in all.
    let entries: Vec<Entry> = (0..1000u32)
        .map(|uid| entry(uid, &[&format!(r"/\w{{6}}q{uid}z/")], "heavy"))
        .collect();
    let b = book(entries);
    let c = compiled(&b);
    assert!(c.regex_bytes() <= BOOK_REGEX_BUDGET, "{}", c.regex_bytes());
    assert!(
        c.regex_bytes() > BOOK_REGEX_BUDGET / 2,
        "the budget is used"
    );
    let errors = c.errors();
    assert!(
        !errors.is_empty() && errors.len() < 1000,
        "{}",
        errors.len()
    );
    assert!(errors.iter().all(|e| e.kind == KeyErrorKind::BookBudget));
    // The budget goes to keys in book order: the first keys compiled, the last did not.
    let first_refused = errors[0].uid;
    assert!(first_refused > 10);
    assert_eq!(errors.len(), 1000 - first_refused as usize);
    assert_eq!(errors.last().map(|e| e.uid), Some(999));
    assert!(errors[0].error.contains("budget"), "{}", errors[0].error);

    let r = scan(
        &[&c],
        &chat(&["abcdefq0z and abcdefq999z"]),
        &mut TimedState::default(),
        0,
    );
    assert_eq!(
        fired(&r),
        [0],
        "a compiled key fires; the refused one is reported"
    );
    assert!(matches!(
        drop_of(&r, 999),
        Some(DropReason::InvalidKey { .. })
    ));

    // Each book has its own budget.
    let small = book(vec![entry(1, &[r"/\w{6}q1z/"], "heavy")]);
    assert!(compiled(&small).errors().is_empty());
}

#[test]
fn a_look_around_key_that_hits_its_backtracking_limit_is_reported() {
    // Exponential backtracking in fancy-regex's VM (a look-around inside the loop).
    let b = book(vec![
        entry(1, &["/(?:a(?=a)|a)*b/"], "never"),
        entry(2, &["aaaa"], "plain"),
    ]);
    let c = compiled(&b);
    assert!(c.errors().is_empty());
    let text = "a".repeat(40);
    let r = scan(&[&c], &chat(&[&text]), &mut TimedState::default(), 0);
    assert_eq!(fired(&r), [2], "the scan goes on");
    assert_eq!(r.key_errors.len(), 1, "{:?}", r.key_errors);
    assert_eq!(r.key_errors[0].uid, 1);
    assert_eq!(r.key_errors[0].key, "/(?:a(?=a)|a)*b/");
    assert_eq!(r.key_errors[0].kind, KeyErrorKind::Failed);
    assert!(matches!(
        drop_of(&r, 1),
        Some(DropReason::InvalidKey { .. })
    ));
}

// ------------------------------------------- triggers, character filters, decorators

fn for_character(mut input: ScanInput, name: &str, tags: &[&str]) -> ScanInput {
    input.character = Some(ScanCharacter {
        name: name.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
    });
    input
}

fn filter(exclude: bool, names: &[&str], tags: &[&str]) -> Option<CharacterFilter> {
    Some(CharacterFilter {
        exclude,
        names: names.iter().map(|n| n.to_string()).collect(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
    })
}

#[test]
fn character_filters_include_and_exclude_as_sillytavern_does() {
    let mut only_sera = entry(1, &["tower"], "x");
    // ST stores the avatar file name.
    only_sera.character_filter = filter(false, &["Seraphina.png"], &[]);
    let mut not_sera = entry(2, &["tower"], "x");
    not_sera.character_filter = filter(true, &["seraphina"], &[]);
    let mut fantasy = entry(3, &["tower"], "x");
    fantasy.character_filter = filter(false, &[], &["Fantasy"]);
    let mut no_scifi = entry(4, &["tower"], "x");
    no_scifi.character_filter = filter(true, &[], &["sci-fi"]);
    let mut both = entry(5, &["tower"], "x");
    both.character_filter = filter(false, &["Seraphina"], &["sci-fi"]);
    let mut empty_exclude = entry(6, &["tower"], "x");
    empty_exclude.character_filter = filter(true, &[], &[]);
    let b = book(vec![
        only_sera,
        not_sera,
        fantasy,
        no_scifi,
        both,
        empty_exclude,
    ]);
    let c = compiled(&b);
    let scan_for = |name: &str, tags: &[&str]| {
        scan(
            &[&c],
            &for_character(chat(&["the tower"]), name, tags),
            &mut TimedState::default(),
            0,
        )
    };

    let r = scan_for("Seraphina", &["fantasy"]);
    assert_eq!(fired(&r), [1, 3, 4, 6]);
    assert_eq!(
        drop_of(&r, 2),
        Some(&DropReason::CharacterFilter {
            character: "Seraphina".into(),
            exclude: true,
            by_tag: false
        })
    );
    // Names and tags must both let her in (ST checks them one after the other).
    assert_eq!(
        drop_of(&r, 5),
        Some(&DropReason::CharacterFilter {
            character: "Seraphina".into(),
            exclude: false,
            by_tag: true
        })
    );

    let r = scan_for("Ann", &["Sci-Fi"]);
    assert_eq!(fired(&r), [2, 6]);
    assert!(matches!(
        drop_of(&r, 1),
        Some(DropReason::CharacterFilter {
            exclude: false,
            by_tag: false,
            ..
        })
    ));
    assert!(matches!(
        drop_of(&r, 4),
        Some(DropReason::CharacterFilter {
            exclude: true,
            by_tag: true,
            ..
        })
    ));

    // Without a character (a book tested on its own) filters are not applied.
    assert_eq!(fired(&run(&b, &chat(&["the tower"]))), [1, 2, 3, 4, 5, 6]);
    // Entries the chat does not mention are not listed as filtered.
    assert!(scan(
        &[&c],
        &for_character(chat(&["nothing"]), "Ann", &[]),
        &mut TimedState::default(),
        0
    )
    .dropped
    .is_empty());
}

#[test]
fn a_character_filter_also_holds_back_constant_entries() {
    let mut e = entry(1, &[], "always, for Mira only");
    e.constant = true;
    e.character_filter = filter(false, &["Mira"], &[]);
    let b = book(vec![e]);
    assert_eq!(
        fired(&run(&b, &for_character(chat(&["hi"]), "mira", &[]))),
        [1]
    );
    let r = run(&b, &for_character(chat(&["hi"]), "Ann", &[]));
    assert!(fired(&r).is_empty());
    assert!(matches!(
        drop_of(&r, 1),
        Some(DropReason::CharacterFilter { .. })
    ));
}

#[test]
fn triggers_limit_entries_to_their_generation_types() {
    let mut on_continue = entry(1, &["sword"], "x");
    on_continue.triggers = vec!["continue".into()];
    let mut on_swipe = entry(2, &["sword"], "x");
    on_swipe.triggers = vec!["swipe".into()];
    let mut on_regenerate = entry(3, &["sword"], "x");
    on_regenerate.triggers = vec!["regenerate".into()];
    let mut normal_or_quiet = entry(4, &["sword"], "x");
    normal_or_quiet.triggers = vec!["normal".into(), "quiet".into()];
    let any = entry(5, &["sword"], "x");
    let b = book(vec![
        on_continue,
        on_swipe,
        on_regenerate,
        normal_or_quiet,
        any,
    ]);
    let c = compiled(&b);
    let fired_for = |trigger: Trigger| {
        let mut input = chat(&["a sword"]);
        input.trigger = trigger;
        scan(&[&c], &input, &mut TimedState::default(), 0)
    };
    assert_eq!(fired(&fired_for(Trigger::Normal)), [4, 5]);
    assert_eq!(fired(&fired_for(Trigger::Continue)), [1, 5]);
    assert_eq!(fired(&fired_for(Trigger::Impersonate)), [5]);
    assert_eq!(fired(&fired_for(Trigger::Swipe)), [2, 5]);
    // Confab's Regenerate writes a new swipe: entries for either fire.
    assert_eq!(fired(&fired_for(Trigger::Regenerate)), [2, 3, 5]);
    assert_eq!(fired(&fired_for(Trigger::Quiet)), [4, 5]);
    let r = fired_for(Trigger::Impersonate);
    assert_eq!(
        drop_of(&r, 1),
        Some(&DropReason::Trigger {
            trigger: Trigger::Impersonate,
            triggers: vec!["continue".into()]
        })
    );
    assert_eq!(r.dropped.len(), 4);
}

#[test]
fn a_sticky_entry_still_obeys_its_triggers() {
    let mut e = entry(1, &["explosion"], "boom");
    e.sticky = 3;
    e.triggers = vec!["normal".into()];
    let b = book(vec![e]);
    let c = compiled(&b);
    let mut state = TimedState::default();
    let first = scan(&[&c], &chat(&["an explosion"]), &mut state, 0);
    assert_eq!(fired(&first), [1]);
    let mut next = chat(&["an explosion", "ok", "continue please"]);
    next.trigger = Trigger::Continue;
    let r = scan(&[&c], &next, &mut state, 0);
    assert!(fired(&r).is_empty(), "ST checks triggers before sticky");
    assert!(matches!(drop_of(&r, 1), Some(DropReason::Trigger { .. })));
}

#[test]
fn activate_decorator_fires_without_a_key_and_is_not_sent() {
    let b = book(vec![
        entry(1, &["unmentioned"], "@@activate\nThe moon is red tonight."),
        entry(2, &[], "@@activate\n@@@dont_activate\nNo key at all."),
        entry(3, &["red"], "Red things."),
    ]);
    let r = run(&b, &chat(&["hello"]));
    assert_eq!(fired(&r), [1, 2]);
    assert_eq!(r.activated[0].reason, ActivationReason::Decorator);
    assert_eq!(r.activated[0].content, "The moon is red tonight.");
    assert_eq!(r.activated[1].content, "No key at all.");
    // Tokens are counted on what is sent.
    assert_eq!(
        r.activated[0].tokens,
        counter().count("The moon is red tonight.")
    );
}

#[test]
fn dont_activate_decorator_keeps_keyed_and_constant_entries_out() {
    let mut constant = entry(2, &[], "@@dont_activate\nconstant");
    constant.constant = true;
    let b = book(vec![
        entry(1, &["tower"], "@@dont_activate\nThe tower."),
        constant,
        entry(3, &["bell"], "@@something_new\n@@@dont_activate\nRings."),
        entry(4, &["tower"], "@@dont_activate"),
    ]);
    let r = run(&b, &chat(&["the tower bell"]));
    assert!(fired(&r).is_empty(), "{:?}", fired(&r));
    for uid in [1, 2, 3, 4] {
        assert_eq!(
            drop_of(&r, uid),
            Some(&DropReason::DontActivate),
            "entry {uid}"
        );
    }
    // Entries nothing would have fired are not listed.
    assert!(run(&b, &chat(&["nothing"]))
        .dropped
        .iter()
        .all(|d| d.uid == 2));
}

#[test]
fn recursion_scans_content_without_its_decorators() {
    let settings = BookSettings {
        recursive: true,
        ..BookSettings::default()
    };
    let b = book_with(
        settings,
        vec![
            entry(1, &["start"], "@@activate\nplain text"),
            entry(2, &["activate"], "found the decorator"),
        ],
    );
    let r = run(&b, &chat(&["start"]));
    assert_eq!(fired(&r), [1], "the decorator line is not scanned");
}
