//! The world-book activation engine, mode by mode (books built in code).
//!
//! This file: keys and matching (case, whole words, regex keys and their
//! budget, secondary logic, scan depth, match sources), several books in one
//! pool and the order of the output. Which matched entries fire is in
//! lore_engine_selection.rs, recursion and minimum activations in
//! lore_engine_recursion.rs, triggers, character filters and decorators in
//! lore_engine_filters.rs.

mod lore_engine_support;

use confab_core::lore::regex_keys::BOOK_REGEX_BUDGET;
use confab_core::lore::{
    compile, scan, ActivationReason, BookSettings, DropReason, Entry, KeyErrorKind, MatchedIn,
    ScanSources, SelectiveLogic, TimedState,
};
use lore_engine_support::{book, book_with, chat, compiled, counter, drop_of, entry, fired, run};

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
