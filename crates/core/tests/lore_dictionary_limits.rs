//! Chat dictionaries as hostile input: growth bombs, too many rules, heavy
//! patterns; the compile cache; the Display scope as the UI asks for it.

use std::borrow::Cow;

use confab_core::card::{CardData, CardFormat, CardSpec};
use confab_core::library::content_hash;
use confab_core::lore::books;
use confab_core::lore::dictionary::{
    apply_all, apply_all_checked, dictionary_from_json, display_texts, output_limit, rule_problems,
    CompiledDictionaries, Dictionary, SkippedRule, MAX_DICTIONARY_REGEX_MEMORY,
    MAX_DICTIONARY_RULES, MAX_DISPLAY_TEXTS, MAX_GROWTH_FACTOR, MAX_OUTPUT_BYTES,
};
use confab_core::lore::{DictionaryRule, DictionaryScope};
use confab_core::store::{Inserted, NewCharacter, Store};
use confab_core::ErrorCode;
use serde_json::json;

fn rule(find: &str, replace: &str) -> DictionaryRule {
    DictionaryRule {
        find: find.into(),
        replace: replace.into(),
        regex: false,
        case_sensitive: true,
        enabled: true,
        scope: DictionaryScope::Both,
    }
}

fn regex(find: &str, replace: &str) -> DictionaryRule {
    DictionaryRule {
        regex: true,
        ..rule(find, replace)
    }
}

fn scoped(scope: DictionaryScope, r: DictionaryRule) -> DictionaryRule {
    DictionaryRule { scope, ..r }
}

fn compile(rules: &[DictionaryRule]) -> Dictionary {
    let (d, problems) = Dictionary::compile(rules);
    assert!(problems.is_empty(), "{problems:?}");
    d
}

async fn character(store: &Store, name: &str) -> String {
    let card = CardData {
        name: name.into(),
        ..Default::default()
    };
    let hash = content_hash(&card);
    match store
        .insert_character(NewCharacter {
            card: &card,
            original: &json!({}),
            spec: CardSpec::V3,
            format: CardFormat::Json,
            source_file: "x.json",
            content_hash: &hash,
            avatar: None,
            assets: &[],
            collections: &[],
        })
        .await
        .unwrap()
    {
        Inserted::New { id } => id,
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_growth_bomb_ends_with_bounded_output() {
    // Ten rules "a" → ten a's would make one "a" ten billion.
    let bomb: Vec<DictionaryRule> = (0..10).map(|_| rule("a", &"a".repeat(10))).collect();
    let d = compile(&bomb);
    let global = compile(&bomb);
    for input in ["a".to_owned(), "a".repeat(1000), "ba".repeat(100_000)] {
        let limit = output_limit(input.len());
        let applied = apply_all_checked(&d, &global, &input, DictionaryScope::Prompt);
        assert!(
            applied.text.len() <= limit,
            "{} > {limit}",
            applied.text.len()
        );
        assert!(!applied.skipped.is_empty(), "the rest were skipped");
        // The infallible form gives the same text.
        assert_eq!(
            apply_all(&d, &global, &input, DictionaryScope::Prompt),
            applied.text
        );
    }
    // Exactly which: on 1,000 a's, the first rule makes 10,000 bytes (under
    // the 64 KB allowance), every later one would make 100,000.
    let thousand = "a".repeat(1000);
    let applied = d.apply_checked(&thousand, DictionaryScope::Display);
    assert_eq!(applied.text.len(), 10_000);
    assert_eq!(
        applied.skipped,
        (1..10)
            .map(|rule| SkippedRule {
                global: false,
                rule
            })
            .collect::<Vec<_>>()
    );
    // A regex bomb (an empty match everywhere) and a huge replacement are capped too.
    let d = compile(&[
        regex("x*", &"y".repeat(60_000)),
        rule("b", &"c".repeat(60_000)),
    ]);
    let input = "b".repeat(200_000);
    let applied = d.apply_checked(&input, DictionaryScope::Prompt);
    assert!(applied.text.len() <= output_limit(input.len()));
    assert_eq!(applied.skipped.len(), 2);
    assert!(matches!(applied.text, Cow::Borrowed(_)));
}

#[test]
fn output_limit_allows_growth_within_bounds() {
    assert_eq!(output_limit(0), 64 * 1024);
    assert_eq!(output_limit(1_000_000), 1_000_000 * MAX_GROWTH_FACTOR);
    assert_eq!(output_limit(10_000_000), MAX_OUTPUT_BYTES);
    assert_eq!(output_limit(MAX_OUTPUT_BYTES * 2), MAX_OUTPUT_BYTES * 2);
    // Growth within the limit is untouched: a short text may grow a lot.
    let d = compile(&[rule("HP", "hit points")]);
    assert_eq!(
        d.apply("HP: 5, max HP: 9", DictionaryScope::Prompt),
        "hit points: 5, max hit points: 9"
    );
    // Shrinking is never limited.
    let d = compile(&[regex(r"\s+", " ")]);
    let input = " \n ".repeat(2_000_000);
    assert_eq!(d.apply(&input, DictionaryScope::Prompt), " ");
}

#[test]
fn at_most_ten_thousand_rules_are_read_or_compiled() {
    let many: Vec<DictionaryRule> = (0..MAX_DICTIONARY_RULES + 5)
        .map(|i| rule(&format!("w{i}w"), "z"))
        .collect();
    let (d, problems) = Dictionary::compile(&many);
    assert_eq!(d.len(), MAX_DICTIONARY_RULES);
    assert_eq!(problems.len(), 5);
    assert_eq!(problems[0].0, MAX_DICTIONARY_RULES);
    assert!(problems[0].1.contains("at most"), "{}", problems[0].1);
    assert_eq!(
        d.apply("w9999w w10000w", DictionaryScope::Prompt),
        "z w10000w"
    );

    let json = json!((0..MAX_DICTIONARY_RULES + 1)
        .map(|_| json!({"find": "a"}))
        .collect::<Vec<_>>());
    assert_eq!(
        dictionary_from_json(&json).unwrap_err().code(),
        ErrorCode::TooLarge
    );
}

#[test]
fn heavy_patterns_share_one_memory_budget() {
    // Each `\w{40}` needs about 2 MB compiled (Unicode word characters).
    let heavy: Vec<DictionaryRule> = (0..20)
        .map(|i| regex(&format!(r"\w{{40}}{i}"), "x"))
        .collect();
    let (d, problems) = Dictionary::compile(&heavy);
    assert!(!d.is_empty(), "some fit");
    assert!(!problems.is_empty(), "not all twenty fit");
    assert!(
        problems
            .iter()
            .all(|(_, why)| why.contains(&format!("{} MB", MAX_DICTIONARY_REGEX_MEMORY >> 20))),
        "{problems:?}"
    );
}

#[tokio::test]
async fn saving_refuses_too_many_rules_or_too_long_texts_and_keeps_the_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let aqua = character(&store, "Aqua").await;
    books::set_dictionary(&store, Some(&aqua), vec![rule("a", "b")])
        .await
        .unwrap();

    let many: Vec<DictionaryRule> = (0..MAX_DICTIONARY_RULES + 1)
        .map(|i| rule(&format!("{i}"), "x"))
        .collect();
    let err = books::set_dictionary(&store, Some(&aqua), many)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooLarge);
    assert!(err.to_string().contains("10000 rules"), "{err}");

    let long = vec![rule("a", &"b".repeat(100 * 1024))];
    let err = books::set_dictionary(&store, None, long).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooLarge);
    assert!(err.to_string().contains("rule 1"), "{err}");

    let bad = vec![rule("ok", "fine"), regex("(unclosed", "x")];
    let err = books::set_dictionary(&store, None, bad).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("rule 2"), "{err}");

    assert_eq!(
        store.dictionary(Some(&aqua)).await.unwrap(),
        [rule("a", "b")]
    );
    assert!(store.dictionary(None).await.unwrap().is_empty());
    // Exactly the limit is fine.
    let most: Vec<DictionaryRule> = (0..MAX_DICTIONARY_RULES)
        .map(|i| rule(&format!("{i}"), "x"))
        .collect();
    books::set_dictionary(&store, None, most).await.unwrap();
}

#[tokio::test]
async fn dictionaries_compile_once_until_their_rules_change() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let aqua = character(&store, "Aqua").await;
    let cache = CompiledDictionaries::default();

    // No rules anywhere: empty dictionaries, nothing compiled.
    let (c, g) = cache.for_character(&store, &aqua).await.unwrap();
    assert!(c.is_empty() && g.is_empty());
    assert_eq!(cache.compile_count(), 0);

    books::set_dictionary(&store, Some(&aqua), vec![rule("Bob", "Robert")])
        .await
        .unwrap();
    books::set_dictionary(&store, None, vec![rule("Robert", "R.")])
        .await
        .unwrap();
    for _ in 0..5 {
        let (c, g) = cache.for_character(&store, &aqua).await.unwrap();
        assert_eq!(apply_all(&c, &g, "Bob", DictionaryScope::Prompt), "R.");
    }
    assert_eq!(
        cache.compile_count(),
        2,
        "one each, then served from the cache"
    );

    // A change (through any writer) is seen at once; the other dictionary stays cached.
    store
        .set_dictionary(Some(&aqua), &[rule("Bob", "Bobby")])
        .await
        .unwrap();
    let (c, g) = cache.for_character(&store, &aqua).await.unwrap();
    assert_eq!(apply_all(&c, &g, "Bob", DictionaryScope::Prompt), "Bobby");
    assert_eq!(cache.compile_count(), 3);
    let again = cache.get(&store, Some(&aqua)).await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&again, &c));
    assert_eq!(cache.compile_count(), 3);

    // A deleted character's rules are gone from the cache too.
    store.delete_character(&aqua).await.unwrap();
    assert!(cache.get(&store, Some(&aqua)).await.unwrap().is_empty());
}

#[tokio::test]
async fn display_rules_change_what_is_shown_not_what_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let aqua = character(&store, "Aqua").await;
    let cache = CompiledDictionaries::default();

    let none = display_texts(&cache, &store, &aqua, vec!["hi".into()])
        .await
        .unwrap();
    assert_eq!(none.rules, 0);
    assert_eq!(none.texts, [None]);

    books::set_dictionary(
        &store,
        Some(&aqua),
        vec![
            scoped(
                DictionaryScope::Display,
                rule("Cinderjaw", "Cinderjaw the Old"),
            ),
            scoped(DictionaryScope::Prompt, rule("secret", "SECRET")),
        ],
    )
    .await
    .unwrap();
    books::set_dictionary(
        &store,
        None,
        vec![DictionaryRule {
            case_sensitive: false,
            ..regex(r"\bsmirk(s|ed)?\b", "smile$1")
        }],
    )
    .await
    .unwrap();

    let probe = display_texts(&cache, &store, &aqua, Vec::new())
        .await
        .unwrap();
    assert_eq!(probe.rules, 2, "the display rule and the global Both rule");
    assert!(probe.texts.is_empty());

    let shown = display_texts(
        &cache,
        &store,
        &aqua,
        vec![
            "Cinderjaw Smirked at the secret.".into(),
            "Nothing to change.".into(),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        shown.texts,
        [
            Some("Cinderjaw the Old smileed at the secret.".to_owned()),
            None
        ]
    );

    // Display rules have the same growth limit as the prompt's.
    books::set_dictionary(
        &store,
        None,
        (0..10)
            .map(|_| scoped(DictionaryScope::Display, rule("a", &"a".repeat(10))))
            .collect(),
    )
    .await
    .unwrap();
    let bomb = display_texts(&cache, &store, &aqua, vec!["a".repeat(1000)])
        .await
        .unwrap();
    let text = bomb.texts[0].as_ref().unwrap();
    assert!(text.len() <= output_limit(1000));

    let err = display_texts(
        &cache,
        &store,
        &aqua,
        vec![String::new(); MAX_DISPLAY_TEXTS + 1],
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooLarge);
}

#[test]
fn the_editor_is_told_what_the_core_reads() {
    let rules = [
        // The regex crate's syntax, which a JavaScript RegExp refuses.
        regex(r"(?i)cat(?P<tail>s?)", "dog$<tail>"),
        regex(r"\p{Greek}+", "greek"),
        // And what JavaScript accepts but the core cannot run.
        regex(r"(?<=a)b", "x"),
        DictionaryRule {
            enabled: false,
            ..regex("(unclosed", "x")
        },
        rule("", "nothing yet"),
        rule("ok", &"x".repeat(70 * 1024)),
    ];
    let problems = rule_problems(&rules);
    let indexes: Vec<u32> = problems.iter().map(|p| p.index).collect();
    assert_eq!(indexes, [2, 3, 5], "{problems:?}");
    assert!(problems[0].message.contains("look-around"), "{problems:?}");
    assert!(
        problems[1].message.contains("unclosed group"),
        "{problems:?}"
    );
    assert!(problems[2].message.contains("64 KB"), "{problems:?}");
    let d = compile(&rules[..2]);
    // The named group keeps what it matched ("S"), as the regex crate replaces it.
    assert_eq!(
        d.apply("CATS and λόγος", DictionaryScope::Prompt),
        "dogS and greek"
    );
}
