//! World-book import/export: every fixture format, round trips, accepted
//! sloppiness, and malformed files that name the entry and field at fault.
//!
//! This file: reading SillyTavern world info, sloppy and malformed files,
//! limits, hostile input. Round trips are in lore_formats_round_trips.rs, card
//! books in lore_formats_card_books.rs, NovelAI, Agnai and RisuAI books in
//! lore_formats_other_apps.rs.

mod lore_formats_support;

use confab_core::lore::formats::{from_character_book, read_book, BookFormat};
use confab_core::lore::{BookSettings, Entry, EntryPosition, EntryRole, SelectiveLogic};
use confab_core::ErrorCode;
use lore_formats_support::{fixture, invalid_parts, read, read_json, ALL_FIXTURES, ST_KNOWN};
use serde_json::{json, Value};

// ---------------------------------------------------------------- SillyTavern

#[test]
fn official_eldoria_reads_every_field() {
    let (book, format) = read("st_worldinfo_official__Eldoria.json");
    assert_eq!(format, BookFormat::SillyTavern);
    assert_eq!(book.name, "st_worldinfo_official__Eldoria");
    assert_eq!(book.entries.len(), 4);
    let e = &book.entries[0];
    assert_eq!(e.uid, 0);
    assert_eq!(e.keys, ["eldoria", "wood", "forest", "magical forest"]);
    assert_eq!(e.comment, "eldoria");
    assert!(e.content.starts_with("{{user}}: \"What is Eldoria?\""));
    assert!(e.selective && e.enabled && !e.constant);
    assert_eq!(e.insertion_order, 100);
    assert_eq!(e.position, EntryPosition::BeforeCharacter);
    assert_eq!(e.role, EntryRole::System, "role null is system");
    assert_eq!(e.display_index, Some(0));
    assert_eq!(e.case_sensitive, None);
    assert_eq!(e.extensions.get("addMemo"), Some(&json!(true)));
    let uids: Vec<u32> = book.entries.iter().map(|e| e.uid).collect();
    assert_eq!(uids, [0, 1, 2, 3]);
}

#[test]
fn vibetavern_book_reads_the_new_fields() {
    let (book, format) = read("st_worldinfo_newfields__vibetavern_complete_book.json");
    assert_eq!(format, BookFormat::SillyTavern);
    assert_eq!(book.name, "Test Fantasy Lorebook");
    assert_eq!(
        book.description,
        "A lorebook for testing TavernKit's ST compatibility"
    );
    assert_eq!(book.settings.scan_depth, 4);
    assert_eq!(book.settings.budget_cap, 2048);
    assert!(book.settings.recursive);
    assert_eq!(
        book.extensions.get("_comment").and_then(Value::as_str),
        Some("Complete ST World Info book export for integration testing")
    );
    assert_eq!(book.entries.len(), 6);

    let e0 = &book.entries[0];
    assert!(e0.constant);
    assert_eq!(e0.insertion_order, 10);
    assert!(e0.match_sources.character_description && e0.match_sources.scenario);
    assert!(!e0.match_sources.persona_description);

    let e1 = &book.entries[1];
    assert_eq!(e1.secondary_keys, ["ancient", "fire", "ice"]);
    assert_eq!(e1.groups, ["creatures"]);
    assert_eq!(e1.match_whole_words, Some(true));
    assert_eq!(e1.sticky, 2);
    assert_eq!(e1.triggers, ["normal", "continue"]);
    assert_eq!(
        e1.extensions.get("characterFilterTags"),
        Some(&json!(["fantasy"]))
    );

    let e2 = &book.entries[2];
    assert_eq!(e2.probability, 80);
    assert_eq!(e2.depth, 6);
    assert_eq!(e2.group_weight, 150);
    assert_eq!(e2.case_sensitive, Some(false));
    assert_eq!(e2.use_group_scoring, Some(true));
    assert_eq!(e2.cooldown, 3);

    let e3 = &book.entries[3];
    assert_eq!(e3.selective_logic, SelectiveLogic::NotAny);
    assert_eq!(e3.position, EntryPosition::AfterCharacter);
    assert!(e3.prevent_recursion && e3.group_prioritize);
    assert_eq!(e3.group_weight, 200);
    assert_eq!(e3.scan_depth, Some(2));
    assert_eq!(e3.case_sensitive, Some(true));
    assert_eq!(e3.use_group_scoring, Some(false));
    assert_eq!(e3.delay, 1);

    let e4 = &book.entries[4];
    assert!(e4.exclude_recursion && e4.match_sources.persona_description);
    assert_eq!(e4.keys, ["{{user}}"]);

    assert!(!book.entries[5].enabled, "disable: true");
}

#[test]
fn legacy_toaru_takes_sillytavern_defaults_for_missing_fields() {
    let (book, format) = read("st_worldinfo_legacy__Toaru_2023.json");
    assert_eq!(format, BookFormat::SillyTavern);
    assert_eq!(book.entries.len(), 18);
    let uids: Vec<u32> = book.entries.iter().map(|e| e.uid).collect();
    assert_eq!(uids, (0..18).collect::<Vec<_>>(), "numeric key order");
    let e = &book.entries[0];
    assert_eq!(e.keys, ["Tokiwadai Middle School", "Tokiwadai"]);
    assert_eq!(e.insertion_order, 8);
    assert!(!e.selective);
    let d = Entry::new(0);
    assert_eq!(e.enabled, d.enabled);
    assert_eq!(e.probability, d.probability);
    assert_eq!(e.use_probability, d.use_probability);
    assert_eq!(e.depth, d.depth);
    assert_eq!(e.position, d.position);
    assert_eq!(e.group_weight, d.group_weight);
    assert!(e.extensions.is_empty());
    assert_eq!(book.settings, BookSettings::default());
}

#[test]
fn sloppy_sillytavern_files_are_accepted() {
    let v = json!({
        "entries": [
            {"uid": "3", "key": "dragon, wyrm ,, drake", "keysecondary": null, "comment": null,
             "content": "A", "order": "25", "depth": "2", "probability": "50.4",
             "selective": "true", "disable": 0, "role": null, "scanDepth": "", "group": null,
             "delayUntilRecursion": true, "sticky": null, "position": "1"},
            {"key": ["x", 5, null], "content": 12, "delayUntilRecursion": 2, "probability": 250},
            {"uid": 3, "key": [], "content": "dup uid", "delayUntilRecursion": "3"},
            {"uid": 0, "key": "y", "enabled": false}
        ]
    });
    let (book, format) = read_json(&v, "sloppy.json").unwrap();
    assert_eq!(format, BookFormat::SillyTavern);
    let uids: Vec<u32> = book.entries.iter().map(|e| e.uid).collect();
    assert_eq!(
        uids,
        [3, 1, 2, 0],
        "missing and repeated uids get the lowest free"
    );
    let a = &book.entries[0];
    assert_eq!(a.keys, ["dragon", "wyrm", "drake"]);
    assert!(a.secondary_keys.is_empty());
    assert_eq!(a.insertion_order, 25);
    assert_eq!(a.depth, 2);
    assert_eq!(a.probability, 50);
    assert!(a.selective && a.enabled);
    assert_eq!(a.scan_depth, None);
    assert_eq!(a.delay_until_recursion, 1);
    assert_eq!(a.position, EntryPosition::AfterCharacter);
    let b = &book.entries[1];
    assert_eq!(b.keys, ["x", "5"]);
    assert_eq!(b.content, "12");
    assert_eq!(b.delay_until_recursion, 2);
    assert_eq!(b.probability, 100, "over 100 counts as 100");
    assert_eq!(book.entries[2].delay_until_recursion, 3);
    assert!(
        !book.entries[3].enabled,
        "`enabled` is read when `disable` is missing"
    );

    // Object form with a non-numeric key and a missing uid.
    let v = json!({"entries": {"b": {"key": ["k"]}, "5": {"key": ["five"]}, "a": {"key": ["k2"]}}});
    let (book, _) = read_json(&v, "obj.json").unwrap();
    let got: Vec<(u32, &str)> = book
        .entries
        .iter()
        .map(|e| (e.uid, e.keys[0].as_str()))
        .collect();
    assert_eq!(got, [(5, "five"), (0, "k2"), (1, "k")]);

    // A BOM and an empty entries object.
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(br#"{"entries": {}}"#);
    let (book, _) = read_book(&bytes, "empty.json").unwrap();
    assert!(book.entries.is_empty());
    assert_eq!(book.name, "empty");
}

#[test]
fn malformed_sillytavern_entries_name_the_entry_and_field() {
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"entries": {"12": {"uid": 12, "comment": "Eldoria", "key": {"a": 1}}}}),
            "entry 12 (\"Eldoria\")",
            "key",
        ),
        (
            json!({"entries": {"0": {"key": ["k"], "keysecondary": [["nested"]]}}}),
            "entry 0 (\"k\")",
            "keysecondary",
        ),
        (
            json!({"entries": {"1": {"key": ["k"], "order": "soon"}}}),
            "entry 1",
            "order",
        ),
        (
            json!({"entries": {"1": {"key": ["k"], "selectiveLogic": 9}}}),
            "entry 1",
            "selectiveLogic",
        ),
        (
            json!({"entries": {"1": {"key": ["k"], "position": 12}}}),
            "entry 1",
            "position",
        ),
        (
            json!({"entries": {"1": {"key": ["k"], "depth": -1}}}),
            "entry 1",
            "depth",
        ),
        (
            json!({"entries": {"1": {"key": ["k"], "role": 5}}}),
            "entry 1",
            "role",
        ),
        (
            json!({"entries": {"1": {"key": ["k"], "disable": "maybe"}}}),
            "entry 1",
            "disable",
        ),
        (
            json!({"entries": {"1": {"key": ["k"], "content": ["not", "text"]}}}),
            "entry 1",
            "content",
        ),
        (
            json!({"entries": {"1": {"key": ["k"], "uid": -4}}}),
            "entry 1",
            "uid",
        ),
        (
            json!({"entries": {"1": {"key": ["k"], "sticky": 1e20}}}),
            "entry 1",
            "sticky",
        ),
        (
            json!({"entries": [{"key": ["k"]}, {"key": ["k"], "triggers": "normal"}, {"key": ["k"], "groupWeight": true}]}),
            "entry 2",
            "groupWeight",
        ),
    ];
    for (v, entry, field) in cases {
        let err = read_json(&v, "bad.json").unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidWorldBook, "{v}");
        let (e, f) = invalid_parts(&err);
        assert!(
            e.as_deref().unwrap_or("").starts_with(entry),
            "{v}: entry {e:?}"
        );
        assert_eq!(f.as_deref(), Some(field), "{v}");
        let msg = err.to_string();
        assert!(
            msg.starts_with("bad.json is not a readable world book: "),
            "{msg}"
        );
        assert!(msg.contains(&format!("field `{field}`")), "{msg}");
    }

    // An entry that is not an object.
    let err = read_json(&json!({"entries": {"3": 5}}), "bad.json").unwrap_err();
    assert_eq!(invalid_parts(&err).0.as_deref(), Some("entry 3"));
    // `entries` of the wrong kind.
    let err = read_json(&json!({"entries": "none"}), "bad.json").unwrap_err();
    assert_eq!(invalid_parts(&err), (None, Some("entries".to_owned())));
    // A bad book-level setting.
    let err = read_json(
        &json!({"entries": {}, "confab/settings": {"scanDepth": "deep"}}),
        "bad.json",
    )
    .unwrap_err();
    assert_eq!(
        invalid_parts(&err).1.as_deref(),
        Some("confab/settings.scanDepth")
    );
}

#[test]
fn files_that_are_no_world_book_are_refused_clearly() {
    let err = read_book(b"", "empty.json").unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidWorldBook);
    assert!(err.to_string().contains("empty"), "{err}");

    let err = read_book(b"{\"entries\": {\"0\": {\"key\": [}}}", "broken.json").unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidWorldBook);
    assert!(err.to_string().contains("not valid JSON (line 1"), "{err}");

    let err = read_book(b"[1, 2]", "list.json").unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnsupportedFormat);

    let err = read_book(br#"{"hello": "world"}"#, "other.json").unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnsupportedFormat);
    assert!(err.to_string().contains("no `entries`"), "{err}");

    let card =
        json!({"spec": "chara_card_v2", "data": {"name": "X", "character_book": {"entries": []}}});
    let err = read_json(&card, "card.json").unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnsupportedFormat);
    assert!(err.to_string().contains("character card"), "{err}");

    let err = read_book(b"\x89PNG\r\n\x1a\n\0\0", "image.png").unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidWorldBook);
}

#[test]
fn limits_give_typed_errors() {
    let deep = format!("{{\"entries\": {}{}}}", "[".repeat(150), "]".repeat(150));
    let err = read_book(deep.as_bytes(), "deep.json").unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooLarge);
    assert!(err.to_string().contains("100 levels"), "{err}");

    // Brackets inside strings do not count.
    let fine = format!(
        "{{\"entries\": {{\"0\": {{\"key\": [\"{}\"]}}}}}}",
        "[".repeat(500)
    );
    assert!(read_book(fine.as_bytes(), "fine.json").is_ok());

    let huge = vec![b' '; 50 * 1024 * 1024 + 1];
    let err = read_book(&huge, "huge.json").unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooLarge);
    assert!(err.to_string().contains("50 MB"), "{err}");

    let many = format!("{{\"entries\": [{}{{}}]}}", "{},".repeat(100_000));
    let err = read_book(many.as_bytes(), "many.json").unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooLarge);
    assert!(err.to_string().contains("100000 entries"), "{err}");

    let deep_value: Value = {
        let mut v = json!(1);
        for _ in 0..110 {
            v = json!([v]);
        }
        json!({"entries": [], "extensions": {"x": v}})
    };
    let err = from_character_book(&deep_value, "Deep").unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooLarge);
}

#[test]
fn no_input_panics() {
    for name in ALL_FIXTURES {
        let bytes = fixture(name);
        for cut in (0..bytes.len()).step_by(13) {
            let _ = read_book(&bytes[..cut], name);
        }
        let mut flipped = bytes.clone();
        for i in (0..flipped.len()).step_by(17) {
            flipped[i] = flipped[i].wrapping_add(7);
            let _ = read_book(&flipped, name);
        }
    }
    // Every kind of JSON value in every known field.
    let values = [
        json!(null),
        json!(true),
        json!(-1),
        json!(1.5e300),
        json!(u64::MAX),
        json!("x"),
        json!([]),
        json!([{}]),
        json!({}),
    ];
    for field in ST_KNOWN
        .iter()
        .chain(["keys", "extensions", "insertion_order", "id", "enabled"].iter())
    {
        for v in &values {
            let mut entry = serde_json::Map::new();
            entry.insert((*field).to_owned(), v.clone());
            let _ = read_json(&json!({"entries": {"0": entry.clone()}}), "f.json");
            let _ = from_character_book(&json!({"entries": [entry.clone()]}), "f");
            let _ = from_character_book(&json!({"entries": [{"extensions": entry}]}), "f");
        }
    }
}
