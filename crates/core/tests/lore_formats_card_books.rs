//! World books embedded in cards (`character_book`): Seraphina's imported and
//! exported back, spec-only books read like SillyTavern's, malformed ones
//! naming the entry and field at fault.

mod lore_formats_support;

use confab_core::lore::formats::{from_character_book, to_character_book, BookFormat};
use confab_core::lore::{EntryPosition, EntryRole};
use confab_core::ErrorCode;
use lore_formats_support::{invalid_parts, read, read_json, seraphina_book_json};
use serde_json::{json, Value};

// ------------------------------------------------------------- character_book

#[test]
fn seraphina_embedded_book_imports() {
    let cb = seraphina_book_json();
    let book = from_character_book(&cb, "Seraphina").unwrap();
    assert_eq!(book.name, "Eldoria");
    assert_eq!(book.entries.len(), 4);
    let e = &book.entries[1];
    assert_eq!(e.uid, 1);
    assert_eq!(
        e.keys,
        ["shadowfang", "beast", "monster", "monsters", "beasts"]
    );
    assert_eq!(e.comment, "shadowfang");
    assert_eq!(e.position, EntryPosition::BeforeCharacter);
    assert_eq!(e.depth, 4);
    assert_eq!(e.display_index, Some(1));
    assert_eq!(
        e.use_group_scoring,
        Some(false),
        "ST writes false, not null"
    );
    assert_eq!(e.case_sensitive, None);
    assert_eq!(e.extensions.get("use_regex"), Some(&json!(true)));

    // The same book as the official world-info file, entry for entry.
    let (official, _) = read("st_worldinfo_official__Eldoria.json");
    for (a, b) in book.entries.iter().zip(&official.entries) {
        assert_eq!(
            (a.uid, &a.keys, &a.comment, &a.content),
            (b.uid, &b.keys, &b.comment, &b.content)
        );
        assert_eq!(
            (a.position, a.depth, a.insertion_order, a.selective),
            (b.position, b.depth, b.insertion_order, b.selective)
        );
    }
}

#[test]
fn seraphina_embedded_book_exports_back_equal_in_meaning() {
    let original = seraphina_book_json();
    let book = from_character_book(&original, "Seraphina").unwrap();
    let exported = to_character_book(&book);
    assert_eq!(from_character_book(&exported, "Seraphina").unwrap(), book);
    assert_eq!(to_character_book(&book), exported, "stable");

    // Every field the card had is written back with the same value.
    for (field, v) in original.as_object().unwrap() {
        if field != "entries" {
            assert_eq!(&exported[field], v, "book field {field}");
        }
    }
    let orig_entries = original["entries"].as_array().unwrap();
    let out_entries = exported["entries"].as_array().unwrap();
    assert_eq!(orig_entries.len(), out_entries.len());
    for (i, (o, x)) in orig_entries.iter().zip(out_entries).enumerate() {
        for (field, v) in o.as_object().unwrap() {
            if field == "extensions" {
                for (k, ev) in v.as_object().unwrap() {
                    assert_eq!(&x["extensions"][k], ev, "entry {i} extensions.{k}");
                }
            } else {
                assert_eq!(&x[field], v, "entry {i} field {field}");
            }
        }
    }
}

#[test]
fn spec_only_character_books_import_like_sillytavern() {
    let cb = json!({
        "name": "Spec",
        "description": "only spec fields",
        "scan_depth": 3,
        "token_budget": 500,
        "recursive_scanning": true,
        "extensions": {"other/tool": {"a": 1}},
        "entries": [
            {"keys": ["a"], "content": "A", "extensions": {}, "enabled": true,
             "insertion_order": 5, "position": "before_char", "case_sensitive": true,
             "name": "Named", "priority": 10, "id": 4},
            {"keys": ["b"], "content": "B", "extensions": {"x/y": 2}, "enabled": false,
             "insertion_order": 1, "selective": true, "secondary_keys": ["c"]},
            {"keys": "d, e", "content": "C", "extensions": {"position": 4, "depth": 2, "role": 1},
             "enabled": true, "insertion_order": 1, "id": 4}
        ]
    });
    let book = from_character_book(&cb, "Card").unwrap();
    assert_eq!(book.name, "Spec");
    assert_eq!(book.description, "only spec fields");
    assert_eq!(book.settings.scan_depth, 3);
    assert_eq!(book.settings.budget_cap, 500);
    assert!(book.settings.recursive);
    assert_eq!(
        book.extensions["extensions"],
        json!({"other/tool": {"a": 1}})
    );

    let a = &book.entries[0];
    assert_eq!(a.uid, 4);
    assert_eq!(a.comment, "Named", "`name` fills a missing comment");
    assert_eq!(a.case_sensitive, Some(true));
    assert_eq!(a.position, EntryPosition::BeforeCharacter);
    assert_eq!(a.extensions.get("priority"), Some(&json!(10)));
    assert!(!a.selective, "spec `selective` defaults to false, as in ST");

    let b = &book.entries[1];
    assert_eq!(b.uid, 0);
    assert_eq!(
        b.position,
        EntryPosition::AfterCharacter,
        "no position: after, as ST"
    );
    assert!(!b.enabled && b.selective);
    assert_eq!(b.extensions["extensions"], json!({"x/y": 2}));

    let c = &book.entries[2];
    assert_eq!(c.uid, 1, "repeated id gets a fresh uid");
    assert_eq!(c.keys, ["d", "e"]);
    assert_eq!(c.position, EntryPosition::AtDepth);
    assert_eq!(c.role, EntryRole::User);

    let out = to_character_book(&book);
    assert_eq!(out["extensions"]["other/tool"], json!({"a": 1}));
    assert_eq!(out["entries"][1]["extensions"]["x/y"], 2);
    assert_eq!(out["entries"][0]["priority"], 10);
    assert_eq!(from_character_book(&out, "Card").unwrap(), book);

    // A standalone CCv3 lorebook file reads through read_book.
    let file = json!({"spec": "lorebook_v3", "data": cb});
    let (from_file, format) = read_json(&file, "spec.json").unwrap();
    assert_eq!(format, BookFormat::CharacterBook);
    assert_eq!(from_file, book);
    // So does a bare character_book saved as JSON.
    let (bare, format) = read_json(&cb, "bare.json").unwrap();
    assert_eq!(format, BookFormat::CharacterBook);
    assert_eq!(bare, book);
}

#[test]
fn malformed_character_books_name_the_entry_and_field() {
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"entries": [{"keys": 5, "comment": "Five"}]}),
            "entry 0 (\"Five\")",
            "keys",
        ),
        (
            json!({"entries": [{"keys": ["a"]}, {"keys": ["b"], "extensions": {"position": 99}}]}),
            "entry 1 (\"b\")",
            "extensions.position",
        ),
        (
            json!({"entries": [{"keys": ["a"], "extensions": {"depth": "deep"}}]}),
            "entry 0",
            "extensions.depth",
        ),
        (
            json!({"entries": [{"keys": ["a"], "extensions": []}]}),
            "entry 0",
            "extensions",
        ),
        (
            json!({"entries": [{"keys": ["a"], "insertion_order": {}}]}),
            "entry 0",
            "insertion_order",
        ),
    ];
    for (v, entry, field) in cases {
        let err = from_character_book(&v, "Seraphina").unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidWorldBook, "{v}");
        let (e, f) = invalid_parts(&err);
        assert!(e.as_deref().unwrap_or("").starts_with(entry), "{v}: {e:?}");
        assert_eq!(f.as_deref(), Some(field), "{v}");
        assert!(
            err.to_string()
                .starts_with("the character book of Seraphina is not a readable world book"),
            "{err}"
        );
    }
    let err = from_character_book(&json!("text"), "X").unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidWorldBook);
    let err = from_character_book(&json!({"entries": 3}), "X").unwrap_err();
    assert_eq!(invalid_parts(&err).1.as_deref(), Some("entries"));
    let err = from_character_book(&json!({"entries": [null]}), "X").unwrap_err();
    assert_eq!(invalid_parts(&err).0.as_deref(), Some("entry 0"));
}
