//! The world-book activation engine: what holds entries back or lets them in
//! beside their keys: character filters, generation triggers, decorators.

mod lore_engine_support;

use confab_core::lore::{
    scan, ActivationReason, BookSettings, CharacterFilter, DropReason, ScanCharacter, ScanInput,
    TimedState, Trigger,
};
use lore_engine_support::{book, book_with, chat, compiled, counter, drop_of, entry, fired, run};

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
