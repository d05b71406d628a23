//! Chat dictionaries: plain and regex rules, case, scope, order, JSON round trip.

use std::borrow::Cow;

use confab_core::lore::dictionary::{
    apply_all, dictionary_from_json, dictionary_to_json, Dictionary,
};
use confab_core::lore::{DictionaryRule, DictionaryScope};
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

fn compile(rules: &[DictionaryRule]) -> Dictionary {
    let (d, problems) = Dictionary::compile(rules);
    assert!(problems.is_empty(), "{problems:?}");
    d
}

#[test]
fn plain_rules_replace_literally() {
    let d = compile(&[rule("Mr. Smith", "$1 Agent (.*)")]);
    assert_eq!(
        d.apply("Hello Mr. Smith and mr. smith", DictionaryScope::Prompt),
        "Hello $1 Agent (.*) and mr. smith"
    );
}

#[test]
fn plain_rules_can_ignore_case_with_unicode_folding() {
    let d = compile(&[DictionaryRule {
        case_sensitive: false,
        ..rule("straße", "road $&")
    }]);
    assert_eq!(
        d.apply("STRASSE, Straße, STRAẞE.", DictionaryScope::Display),
        "STRASSE, road $&, road $&."
    );
    let d = compile(&[DictionaryRule {
        case_sensitive: false,
        ..rule("ΣΊΣΥΦΟΣ", "Sisyphus")
    }]);
    assert_eq!(
        d.apply("σίσυφος rolls", DictionaryScope::Prompt),
        "Sisyphus rolls"
    );
}

#[test]
fn regex_rules_understand_javascript_replacements() {
    let cases = [
        (r"(\w+)@(\w+)", "$2 at $1", "me@home", "home at me"),
        (r"(\w+)", "[$&]", "a b", "[a] [b]"),
        (r"(\w)(\w)", "$1a$2", "xy", "xay"),
        (
            r"(?P<first>\w+) (?P<last>\w+)",
            "$<last>, $<first>",
            "Ada Lovelace",
            "Lovelace, Ada",
        ),
        (
            r"(?P<first>\w+) (?P<last>\w+)",
            "${last} ${first}",
            "Ada Lovelace",
            "Lovelace Ada",
        ),
        (r"(\d+)", "$$$1", "costs 5", "costs $5"),
        (r"x", "$9 $0 $z $<nope> $", "x", "$9 $0 $z $<nope> $"),
        (
            r"(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)",
            "$11-$10-$1",
            "abcdefghijk",
            "k-j-a",
        ),
        (r"(a)", "$12", "a", "a2"),
    ];
    for (find, replace, input, expected) in cases {
        let d = compile(&[regex(find, replace)]);
        assert_eq!(
            d.apply(input, DictionaryScope::Prompt),
            expected,
            "{find} -> {replace}"
        );
    }
}

#[test]
fn regex_case_option() {
    let d = compile(&[DictionaryRule {
        case_sensitive: false,
        ..regex("cat(s?)", "dog$1")
    }]);
    assert_eq!(d.apply("Cats CAT", DictionaryScope::Prompt), "dogs dog");
    let d = compile(&[regex("cat", "dog")]);
    assert_eq!(d.apply("Cat cat", DictionaryScope::Prompt), "Cat dog");
}

#[test]
fn scope_and_enabled_decide_which_rules_run() {
    let rules = [
        DictionaryRule {
            scope: DictionaryScope::Prompt,
            ..rule("a", "P")
        },
        DictionaryRule {
            scope: DictionaryScope::Display,
            ..rule("b", "D")
        },
        rule("c", "B"),
        DictionaryRule {
            enabled: false,
            ..rule("d", "X")
        },
    ];
    let d = compile(&rules);
    assert_eq!(d.len(), 3);
    assert_eq!(d.apply("abcd", DictionaryScope::Prompt), "PbBd");
    assert_eq!(d.apply("abcd", DictionaryScope::Display), "aDBd");
    assert_eq!(d.apply("abcd", DictionaryScope::Both), "PDBd");
}

#[test]
fn rules_chain_in_order_and_untouched_text_is_borrowed() {
    let d = compile(&[rule("a", "b"), rule("b", "c")]);
    assert_eq!(d.apply("a", DictionaryScope::Prompt), "c");
    assert!(matches!(
        d.apply("zzz", DictionaryScope::Prompt),
        Cow::Borrowed("zzz")
    ));
    let empty = Dictionary::default();
    assert!(empty.is_empty());
    assert!(matches!(
        empty.apply("x", DictionaryScope::Display),
        Cow::Borrowed(_)
    ));
}

#[test]
fn character_rules_run_before_global_rules() {
    let character = compile(&[rule("Bob", "Robert")]);
    let global = compile(&[rule("Robert", "R."), rule("Bob", "never")]);
    assert_eq!(
        apply_all(&character, &global, "Bob says hi", DictionaryScope::Prompt),
        "R. says hi"
    );
}

#[test]
fn bad_rules_are_skipped_and_reported_in_plain_words() {
    let rules = [
        regex("(unclosed", "x"),
        rule("ok", "fine"),
        rule("", "everywhere"),
        regex(r"(?=ahead)", "x"),
        regex(r"(a)\1", "x"),
        DictionaryRule {
            enabled: false,
            ..regex("(also bad but off", "x")
        },
    ];
    let (d, problems) = Dictionary::compile(&rules);
    assert_eq!(d.len(), 1);
    assert_eq!(d.apply("ok", DictionaryScope::Prompt), "fine");
    let indexes: Vec<usize> = problems.iter().map(|(i, _)| *i).collect();
    assert_eq!(indexes, [0, 2, 3, 4]);
    assert!(
        problems[0].1.contains("not a valid regular expression"),
        "{}",
        problems[0].1
    );
    assert!(
        problems[0].1.contains("unclosed group"),
        "{}",
        problems[0].1
    );
    assert!(
        !problems[0].1.contains('^'),
        "no caret diagram: {}",
        problems[0].1
    );
    assert!(problems[1].1.contains("empty"), "{}", problems[1].1);
    assert!(problems[2].1.contains("look-around"), "{}", problems[2].1);
    assert!(
        problems[3].1.contains("back-references"),
        "{}",
        problems[3].1
    );

    let (_, problems) = Dictionary::compile(&[regex(r"\w{1000}{1000}", "x")]);
    assert_eq!(problems.len(), 1);
    assert!(problems[0].1.contains("too complex"), "{}", problems[0].1);
}

#[test]
fn dictionaries_round_trip_through_json() {
    let rules = vec![
        rule("a", "b"),
        DictionaryRule {
            case_sensitive: false,
            enabled: false,
            scope: DictionaryScope::Display,
            ..regex("x(\\d)", "$1")
        },
        DictionaryRule {
            scope: DictionaryScope::Prompt,
            ..rule("p", "")
        },
    ];
    let json = dictionary_to_json(&rules);
    assert_eq!(json["version"], 1);
    assert_eq!(json["rules"][1]["scope"], "display");
    assert_eq!(json["rules"][1]["caseSensitive"], false);
    assert_eq!(dictionary_from_json(&json).unwrap(), rules);
    // A bare list with defaults.
    let got = dictionary_from_json(&json!([{"find": "x"}])).unwrap();
    assert_eq!(
        got,
        [DictionaryRule {
            find: "x".into(),
            replace: String::new(),
            regex: false,
            case_sensitive: false,
            enabled: true,
            scope: DictionaryScope::Both,
        }]
    );
    assert!(dictionary_from_json(&json!(null)).unwrap().is_empty());
    assert!(dictionary_from_json(&json!({})).unwrap().is_empty());
}

#[test]
fn malformed_dictionaries_name_the_rule_and_field() {
    let cases = [
        (
            json!({"rules": [{"find": "a"}, {"replace": "b"}]}),
            "rule 2: `find` is missing",
        ),
        (
            json!({"rules": [{"find": 5}]}),
            "rule 1: `find` must be text",
        ),
        (
            json!([{"find": "a", "regex": "yes"}]),
            "rule 1: `regex` must be true or false",
        ),
        (
            json!([{"find": "a", "scope": "everywhere"}]),
            "rule 1: `scope` must be",
        ),
        (json!([3]), "rule 1: must be an object"),
        (json!({"rules": "all"}), "`rules` must be a list"),
        (json!("text"), "must be an object with `rules`"),
    ];
    for (v, expected) in cases {
        let err = dictionary_from_json(&v).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{v}");
        assert!(err.to_string().contains(expected), "{v}: {err}");
    }
    let many: Vec<_> = (0..10_001).map(|_| json!({"find": "a"})).collect();
    let err = dictionary_from_json(&json!(many)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooLarge);
}
