//! World books from other apps: NovelAI lorebooks (whole, truncated, regex
//! keys and bad fields), Agnai memory books, RisuAI lorebooks.

mod lore_formats_support;

use confab_core::lore::formats::{read_book, to_sillytavern_json, BookFormat};
use confab_core::ErrorCode;
use lore_formats_support::{fixture, invalid_parts, read, read_json};
use serde_json::json;

// ------------------------------------------------------ NovelAI, Agnai, RisuAI

#[test]
fn novelai_lorebook_imports() {
    let (book, format) = read("novelai__Ripple.lorebook");
    assert_eq!(format, BookFormat::NovelAi);
    assert_eq!(book.name, "novelai__Ripple");
    assert_eq!(book.entries.len(), 1);
    let e = &book.entries[0];
    assert_eq!(e.comment, "Rome Burning");
    assert_eq!(e.keys, ["Rome", "Emperor", "476 AD"]);
    assert!(e.content.starts_with("The Roman Empire burned"));
    assert!(e.enabled && !e.constant && !e.selective);
    assert_eq!(e.insertion_order, 400, "budgetPriority");
    assert_eq!(e.scan_depth, Some(2), "searchRange 1000 characters");
    let nai = &e.extensions["novelai"];
    assert_eq!(nai["contextConfig"]["insertionPosition"], -1);
    assert_eq!(nai["id"], "642723d1-a4a1-47a3-a63f-d36aee33de1b");
    assert_eq!(nai["searchRange"], 1000);
    assert_eq!(book.extensions["novelai"]["lorebookVersion"], 4);

    // It exports to SillyTavern and comes back the same.
    let (again, _) = read_json(&to_sillytavern_json(&book), "x.json").unwrap();
    assert_eq!(again, book);
}

#[test]
fn truncated_novelai_lorebook_is_a_clear_error() {
    let err = read_book(
        &fixture("novelai_truncated__Ripple.lorebook"),
        "novelai_truncated__Ripple.lorebook",
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidWorldBook);
    let msg = err.to_string();
    assert!(
        msg.starts_with("novelai_truncated__Ripple.lorebook is not a readable world book"),
        "{msg}"
    );
    assert!(
        msg.contains("cut off") && msg.contains("NovelAI lorebook"),
        "{msg}"
    );
}

#[test]
fn novelai_regex_keys_and_bad_fields() {
    let v = json!({"lorebookVersion": 5, "entries": [
        {"text": "t", "keys": ["/drag(on|oness)/i"], "forceActivation": true, "searchRange": 2001,
         "contextConfig": {"budgetPriority": -100}}
    ]});
    let (book, _) = read_json(&v, "r.lorebook").unwrap();
    let e = &book.entries[0];
    assert_eq!(e.keys, ["/drag(on|oness)/i"]);
    assert!(e.constant);
    assert_eq!(e.scan_depth, Some(5));
    assert_eq!(e.insertion_order, -100);

    let v = json!({"lorebookVersion": 5, "entries": [{"text": "t", "displayName": "Bad", "keys": {"k": 1}}]});
    let err = read_json(&v, "r.lorebook").unwrap_err();
    let (entry, field) = invalid_parts(&err);
    assert_eq!(entry.as_deref(), Some("entry 0 (\"Bad\")"));
    assert_eq!(field.as_deref(), Some("keys"));

    let v = json!({"lorebookVersion": 5, "entries": [{"text": "t", "contextConfig": {"budgetPriority": "high"}}]});
    let err = read_json(&v, "r.lorebook").unwrap_err();
    assert_eq!(
        invalid_parts(&err).1.as_deref(),
        Some("contextConfig.budgetPriority")
    );
}

#[test]
fn agnai_memory_book_imports() {
    let (book, format) = read("agnai_memorybook__chub_hogwarts.json");
    assert_eq!(format, BookFormat::Agnai);
    assert_eq!(book.name, "Hogwarts Legacy Lore");
    assert_eq!(book.entries.len(), 4);
    let e = &book.entries[0];
    assert_eq!(e.comment, "0");
    assert_eq!(e.keys, ["Hogwarts", "castle"]);
    assert!(e.content.starts_with("Hogwarts is a school"));
    assert_eq!(e.insertion_order, 1, "priority");
    assert!(e.enabled && !e.selective);
    assert_eq!(e.extensions["agnai"]["weight"], 1);
    assert_eq!(book.extensions["agnai"]["kind"], "memory");
    assert_eq!(book.extensions["agnai"]["scan_depth"], 50);

    let v = json!({"kind": "memory", "name": "M", "entries": [{"name": "n", "entry": "e", "keywords": "a, b", "priority": "x"}]});
    let err = read_json(&v, "m.json").unwrap_err();
    let (entry, field) = invalid_parts(&err);
    assert_eq!(entry.as_deref(), Some("entry 0 (\"n\")"));
    assert_eq!(field.as_deref(), Some("priority"));
}

#[test]
fn risu_lorebook_imports() {
    let (book, format) = read("risu_lorebook__rpg_perks.json");
    assert_eq!(format, BookFormat::Risu);
    assert_eq!(book.name, "risu_lorebook__rpg_perks");
    assert_eq!(book.entries.len(), 2);
    let e = &book.entries[0];
    assert_eq!(e.comment, "✨ 퍽 / Perks");
    assert!(e.constant && !e.selective && e.enabled);
    assert!(e.keys.is_empty());
    assert_eq!(e.insertion_order, 800);
    assert!(e.content.contains("{{user}}"));
    assert_eq!(e.extensions["risu"]["mode"], "normal");
    assert_eq!(book.entries[1].insertion_order, 999);
    assert_eq!(book.extensions["risu"]["ver"], 1);

    let v = json!({"type": "risu", "ver": 1, "data": [
        {"key": "a, b", "secondkey": "c", "content": "x", "insertorder": 5, "alwaysActive": false,
         "selective": true, "mode": "normal", "activationPercent": 30,
         "extentions": {"risu_case_sensitive": true}},
        {"key": "dra(gon|ke)", "useRegex": true, "content": "y", "mode": "normal"},
        {"key": "f", "content": "", "mode": "folder", "alwaysActive": true}
    ]});
    let (book, _) = read_json(&v, "r.json").unwrap();
    let a = &book.entries[0];
    assert_eq!(a.keys, ["a", "b"]);
    assert_eq!(a.secondary_keys, ["c"]);
    assert_eq!(a.probability, 30);
    assert_eq!(a.case_sensitive, Some(true));
    assert_eq!(book.entries[1].keys, ["/dra(gon|ke)/"]);
    assert!(!book.entries[2].enabled, "folder headers are imported off");

    let v = json!({"type": "risu", "data": {"not": "a list"}});
    let err = read_json(&v, "r.json").unwrap_err();
    assert_eq!(invalid_parts(&err), (None, Some("data".to_owned())));
}
