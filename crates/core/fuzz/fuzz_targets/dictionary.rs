//! Chat dictionaries: arbitrary rules (plain and regex, any case, scope and
//! replacement syntax) compiled, then applied to arbitrary text, alone and as
//! character + global dictionaries.
//!
//! Invariants: the result is never longer than `output_limit` of the input;
//! compile reports problems only for rules that exist, and `check_rules`
//! accepts exactly the rules compile has no problem with; applying is
//! deterministic; rules survive the card JSON round trip.
#![no_main]

use arbitrary::Arbitrary;
use confab_core::lore::dictionary::{
    apply_all_checked, check_rules, dictionary_from_json, dictionary_to_json, output_limit,
    rule_problems, Dictionary,
};
use confab_core::lore::{DictionaryRule, DictionaryScope};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Rule {
    find: String,
    replace: String,
    regex: bool,
    case_sensitive: bool,
    enabled: bool,
    scope: u8,
}

#[derive(Debug, Arbitrary)]
struct Input {
    character: Vec<Rule>,
    global: Vec<Rule>,
    scope: u8,
    text: String,
}

fn scope(n: u8) -> DictionaryScope {
    match n % 3 {
        0 => DictionaryScope::Prompt,
        1 => DictionaryScope::Display,
        _ => DictionaryScope::Both,
    }
}

fn rules(list: Vec<Rule>) -> Vec<DictionaryRule> {
    list.into_iter()
        .take(32)
        .map(|r| DictionaryRule {
            find: r.find,
            replace: r.replace,
            regex: r.regex,
            case_sensitive: r.case_sensitive,
            enabled: r.enabled,
            scope: scope(r.scope),
        })
        .collect()
}

fn compiled(rules: &[DictionaryRule]) -> Dictionary {
    let (d, problems) = Dictionary::compile(rules);
    assert!(d.len() <= rules.len());
    for (i, _) in &problems {
        assert!(
            *i < rules.len(),
            "a problem with rule {i} of {}",
            rules.len()
        );
    }
    assert_eq!(
        check_rules(rules).is_ok(),
        problems.is_empty(),
        "check_rules agrees with compile"
    );
    for p in rule_problems(rules) {
        assert!((p.index as usize) < rules.len());
    }
    let back = dictionary_from_json(&dictionary_to_json(rules)).expect("written rules read back");
    assert_eq!(back, rules, "rules change through card JSON");
    d
}

fuzz_target!(|input: Input| {
    let character = rules(input.character);
    let global = rules(input.global);
    let scope = scope(input.scope);
    let text = input.text.as_str();
    let limit = output_limit(text.len());

    let c = compiled(&character);
    let g = compiled(&global);

    let alone = c.apply_checked(text, scope);
    assert!(
        alone.text.len() <= limit,
        "{} bytes from {} (limit {limit})",
        alone.text.len(),
        text.len()
    );
    assert_eq!(
        c.apply(text, scope),
        alone.text,
        "applying is deterministic"
    );

    let both = apply_all_checked(&c, &g, text, scope);
    assert!(
        both.text.len() <= limit,
        "{} bytes from {} (limit {limit})",
        both.text.len(),
        text.len()
    );
    for s in &both.skipped {
        let n = if s.global {
            global.len()
        } else {
            character.len()
        };
        assert!(s.rule < n, "a skipped rule that does not exist");
    }
});
