//! World-book import/export: every fixture format, round trips, accepted
//! sloppiness, and malformed files that name the entry and field at fault.

use confab_core::card::{read_card_file, Limits};
use confab_core::lore::formats::{
    from_character_book, read_book, to_character_book, to_sillytavern_json, BookFormat,
};
use confab_core::lore::{
    Book, BookSettings, CharacterFilter, Entry, EntryPosition, EntryRole, MatchSources,
    SelectiveLogic,
};
use confab_core::{Error, ErrorCode};
use serde_json::{json, Value};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/lorebooks/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read(name: &str) -> (Book, BookFormat) {
    read_book(&fixture(name), name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn read_json(v: &Value, name: &str) -> Result<(Book, BookFormat), Error> {
    read_book(&serde_json::to_vec(v).unwrap(), name)
}

const ST_FIXTURES: &[&str] = &[
    "st_worldinfo_official__Eldoria.json",
    "st_worldinfo_newfields__vibetavern_complete_book.json",
    "st_worldinfo_legacy__Toaru_2023.json",
];

const ALL_FIXTURES: &[&str] = &[
    "st_worldinfo_official__Eldoria.json",
    "st_worldinfo_newfields__vibetavern_complete_book.json",
    "st_worldinfo_legacy__Toaru_2023.json",
    "novelai__Ripple.lorebook",
    "novelai_truncated__Ripple.lorebook",
    "agnai_memorybook__chub_hogwarts.json",
    "risu_lorebook__rpg_perks.json",
];

/// ST entry fields Confab maps (everything else must survive verbatim).
const ST_KNOWN: &[&str] = &[
    "uid",
    "key",
    "keysecondary",
    "comment",
    "content",
    "constant",
    "selective",
    "selectiveLogic",
    "order",
    "position",
    "disable",
    "excludeRecursion",
    "preventRecursion",
    "delayUntilRecursion",
    "probability",
    "useProbability",
    "depth",
    "group",
    "groupOverride",
    "groupWeight",
    "scanDepth",
    "caseSensitive",
    "matchWholeWords",
    "useGroupScoring",
    "sticky",
    "cooldown",
    "delay",
    "ignoreBudget",
    "role",
    "outletName",
    "vectorized",
    "automationId",
    "triggers",
    "displayIndex",
    "characterFilter",
    "matchPersonaDescription",
    "matchCharacterDescription",
    "matchCharacterPersonality",
    "matchCharacterDepthPrompt",
    "matchScenario",
    "matchCreatorNotes",
];

fn invalid_parts(err: &Error) -> (Option<String>, Option<String>) {
    match err {
        Error::InvalidWorldBook { entry, field, .. } => (entry.clone(), field.clone()),
        other => panic!("expected InvalidWorldBook, got {other:?}"),
    }
}

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
fn every_sillytavern_fixture_round_trips() {
    for name in ST_FIXTURES {
        let original: Value = serde_json::from_slice(&fixture(name)).unwrap();
        let (book, _) = read(name);
        let json = to_sillytavern_json(&book);
        let (again, format) = read_json(&json, "another name.json").unwrap();
        assert_eq!(format, BookFormat::SillyTavern, "{name}");
        assert_eq!(
            again, book,
            "{name}: read -> write -> read changed the book"
        );
        // Twice written is the same JSON.
        assert_eq!(to_sillytavern_json(&again), json, "{name}");

        // Every field Confab does not model survives with the same value.
        let orig_entries = original["entries"].as_object().unwrap();
        for (key, orig) in orig_entries {
            let uid = orig["uid"].as_u64().unwrap().to_string();
            let out = &json["entries"][&uid];
            assert!(out.is_object(), "{name}: entry {key} missing");
            for (field, v) in orig.as_object().unwrap() {
                if !ST_KNOWN.contains(&field.as_str()) {
                    assert_eq!(&out[field], v, "{name}: entry {key} field {field}");
                }
            }
            // Fields with the same meaning keep their value where ST has one spelling.
            for field in [
                "key",
                "keysecondary",
                "comment",
                "content",
                "order",
                "constant",
            ] {
                if let Some(v) = orig.get(field) {
                    assert_eq!(&out[field], v, "{name}: entry {key} field {field}");
                }
            }
        }
        for (field, v) in original.as_object().unwrap() {
            if ![
                "entries",
                "scan_depth",
                "token_budget",
                "recursive_scanning",
            ]
            .contains(&field.as_str())
            {
                assert_eq!(&json[field], v, "{name}: book field {field}");
            }
        }
    }
}

#[test]
fn every_field_survives_both_exports() {
    let mut e = Entry::new(7);
    e.keys = vec!["alpha".into(), "/be+ta/i".into()];
    e.secondary_keys = vec!["gamma".into()];
    e.selective = false;
    e.selective_logic = SelectiveLogic::AndAll;
    e.comment = "Title".into();
    e.content = "Text with \"quotes\" and\nlines".into();
    e.enabled = false;
    e.constant = true;
    e.insertion_order = -5;
    e.position = EntryPosition::AtDepth;
    e.depth = 9;
    e.role = EntryRole::Assistant;
    e.outlet_name = "outlet".into();
    e.case_sensitive = Some(true);
    e.match_whole_words = Some(false);
    e.scan_depth = Some(12);
    e.use_group_scoring = Some(true);
    e.probability = 42;
    e.use_probability = false;
    e.groups = vec!["g1".into(), "g2".into()];
    e.group_prioritize = true;
    e.group_weight = 7;
    e.exclude_recursion = true;
    e.prevent_recursion = true;
    e.delay_until_recursion = 3;
    e.sticky = 4;
    e.cooldown = 5;
    e.delay = 6;
    e.ignore_budget = true;
    e.match_sources = MatchSources {
        persona_description: true,
        character_description: true,
        character_personality: true,
        character_depth_prompt: true,
        scenario: true,
        creator_notes: true,
    };
    e.vectorized = true;
    e.automation_id = "auto".into();
    e.triggers = vec!["normal".into(), "swipe".into()];
    e.display_index = Some(3);
    e.character_filter = Some(CharacterFilter {
        exclude: true,
        names: vec!["Seraphina.png".into()],
        tags: vec!["fantasy".into()],
    });
    e.extensions
        .insert("futureField".into(), json!({"x": [1, 2]}));
    let mut second = Entry::new(2);
    second.delay_until_recursion = 1;
    second.position = EntryPosition::Outlet;
    second.role = EntryRole::User;
    let book = Book {
        name: "Everything".into(),
        description: "All of it".into(),
        settings: BookSettings {
            scan_depth: 5,
            budget_percent: 40,
            budget_cap: 1000,
            recursive: true,
            max_recursion_steps: 3,
            min_activations: 2,
            min_activations_depth_max: 10,
            case_sensitive: true,
            match_whole_words: true,
            include_names: false,
            use_group_scoring: true,
        },
        // In uid order: a world-info file keys entries by uid, so that is their order.
        entries: vec![second, e],
        extensions: serde_json::Map::from_iter([("bookThing".to_owned(), json!("kept"))]),
    };

    let st = to_sillytavern_json(&book);
    let (from_st, _) = read_json(&st, "x.json").unwrap();
    assert_eq!(from_st, book);

    let cb = to_character_book(&book);
    let from_cb = from_character_book(&cb, "fallback").unwrap();
    assert_eq!(from_cb, book);
    assert_eq!(cb["entries"][1]["position"], "after_char");
    assert_eq!(cb["entries"][1]["extensions"]["position"], 4);
    assert_eq!(cb["entries"][1]["extensions"]["role"], 2);
    assert_eq!(cb["entries"][1]["case_sensitive"], true);
    assert_eq!(cb["entries"][0]["extensions"]["position"], 7);
    assert_eq!(cb["scan_depth"], 5);
    assert_eq!(cb["token_budget"], 1000);
    assert_eq!(cb["recursive_scanning"], true);
    assert_eq!(cb["extensions"]["confab/settings"]["budgetPercent"], 40);
    assert_eq!(st["entries"]["2"]["delayUntilRecursion"], 1);
    // ST's own places for the character filter: the entry in world info, beside the
    // spec fields in a card's book.
    let st_filter = json!({"isExclude": true, "names": ["Seraphina.png"], "tags": ["fantasy"]});
    assert_eq!(st["entries"]["7"]["characterFilter"], st_filter);
    assert!(st["entries"]["2"].get("characterFilter").is_none());
    assert_eq!(cb["entries"][1]["character_filter"], st_filter);
    assert!(cb["entries"][1]["extensions"]
        .get("character_filter")
        .is_none());
    assert!(cb["entries"][0].get("character_filter").is_none());
    assert_eq!(st["entries"]["7"]["group"], "g1,g2");
}

#[test]
fn default_settings_write_no_settings_keys() {
    let (book, _) = read("st_worldinfo_official__Eldoria.json");
    let st = to_sillytavern_json(&book);
    assert!(st.get("confab/settings").is_none());
    assert!(st.get("scan_depth").is_none());
    let cb = to_character_book(&book);
    assert!(cb["extensions"].get("confab/settings").is_none());
}

#[test]
fn sillytavern_books_survive_a_trip_through_a_card() {
    for name in ST_FIXTURES {
        let (book, _) = read(name);
        let cb = to_character_book(&book);
        let mut back = from_character_book(&cb, "unused").unwrap();
        // An empty book-level `extensions` object is not kept through a card.
        let mut expected = book.clone();
        if expected.extensions.get("extensions") == Some(&json!({})) {
            expected.extensions.remove("extensions");
        }
        back.extensions.remove("extensions");
        expected.extensions.remove("extensions");
        assert_eq!(back, expected, "{name}");
    }
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

// ------------------------------------------------------------- character_book

fn seraphina_book_json() -> Value {
    let path = format!(
        "{}/tests/fixtures/cards/ccv3_plus_chara__st_default_Seraphina.png",
        env!("CARGO_MANIFEST_DIR")
    );
    let card = read_card_file(std::path::Path::new(&path), &Limits::default()).unwrap();
    card.data
        .character_book
        .expect("Seraphina's card embeds a world book")
}

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

// ------------------------------------------------------------ character filters

#[test]
fn sillytavern_character_filters_are_read_and_written_back_as_they_were() {
    // The shape SillyTavern's editor saves (`names` are avatar files, `tags` tag ids).
    let file = json!({
        "entries": {
            "0": {"uid": 0, "key": ["tower"], "content": "a",
                  "characterFilter": {"isExclude": false, "names": ["Seraphina.png", "Mira"], "tags": []}},
            "1": {"uid": 1, "key": ["tower"], "content": "b",
                  "characterFilter": {"isExclude": true, "names": [], "tags": ["1699712345"]}},
            "2": {"uid": 2, "key": ["tower"], "content": "c"},
            "3": {"uid": 3, "key": ["tower"], "content": "d", "characterFilter": "not a filter"},
            "4": {"uid": 4, "key": ["tower"], "content": "e",
                  "characterFilter": {"isExclude": false, "names": [], "tags": []}}
        }
    });
    let (book, _) = read_json(&file, "filters.json").unwrap();
    let filter = |i: usize| book.entries[i].character_filter.clone();
    assert_eq!(
        filter(0),
        Some(CharacterFilter {
            exclude: false,
            names: vec!["Seraphina.png".into(), "Mira".into()],
            tags: vec![],
        })
    );
    assert_eq!(
        filter(1),
        Some(CharacterFilter {
            exclude: true,
            names: vec![],
            tags: vec!["1699712345".into()],
        })
    );
    assert_eq!(filter(2), None);
    assert_eq!(filter(3), None, "ST ignores a filter of another shape");
    assert_eq!(filter(4), Some(CharacterFilter::default()));
    assert!(book.entries[0].extensions.get("characterFilter").is_none());

    let out = to_sillytavern_json(&book);
    for uid in ["0", "1", "3", "4"] {
        assert_eq!(
            out["entries"][uid]["characterFilter"], file["entries"][uid]["characterFilter"],
            "entry {uid}"
        );
    }
    assert!(out["entries"]["2"].get("characterFilter").is_none());
    let (again, _) = read_json(&out, "again.json").unwrap();
    assert_eq!(again, book);
}

#[test]
fn character_book_filters_are_read_from_where_sillytavern_writes_them() {
    let card_book = json!({
        "name": "Embedded",
        "entries": [
            {"id": 0, "keys": ["tower"], "content": "a", "enabled": true, "insertion_order": 100,
             "character_filter": {"isExclude": true, "names": ["alice.png"], "tags": ["tag-1"]},
             "extensions": {"position": 0}},
            {"id": 1, "keys": ["tower"], "content": "b", "enabled": true, "insertion_order": 100,
             "extensions": {"position": 1, "character_filter": {"isExclude": false, "names": ["Bob"], "tags": []}}},
            {"id": 2, "keys": ["tower"], "content": "c", "enabled": true, "insertion_order": 100}
        ]
    });
    let book = from_character_book(&card_book, "Embedded").unwrap();
    assert_eq!(
        book.entries[0].character_filter,
        Some(CharacterFilter {
            exclude: true,
            names: vec!["alice.png".into()],
            tags: vec!["tag-1".into()],
        })
    );
    assert_eq!(
        book.entries[1]
            .character_filter
            .as_ref()
            .map(|f| f.names.clone()),
        Some(vec!["Bob".to_owned()])
    );
    assert_eq!(book.entries[2].character_filter, None);
    assert!(book.entries[0].extensions.get("character_filter").is_none());

    let out = to_character_book(&book);
    assert_eq!(
        out["entries"][0]["character_filter"],
        card_book["entries"][0]["character_filter"]
    );
    assert_eq!(
        out["entries"][1]["character_filter"],
        json!({"isExclude": false, "names": ["Bob"], "tags": []})
    );
    assert!(out["entries"][1]["extensions"]
        .get("character_filter")
        .is_none());
    assert!(out["entries"][2].get("character_filter").is_none());
    assert_eq!(from_character_book(&out, "Embedded").unwrap(), book);

    // Through a world-info file and back into a card, the filter stays.
    let st = to_sillytavern_json(&book);
    let (via_st, _) = read_json(&st, "Embedded.json").unwrap();
    assert_eq!(
        via_st.entries[0].character_filter,
        book.entries[0].character_filter
    );
    assert_eq!(
        to_character_book(&via_st)["entries"][0]["character_filter"],
        card_book["entries"][0]["character_filter"]
    );
}

#[test]
fn seraphinas_book_with_a_filter_added_in_sillytavern_round_trips() {
    // The real embedded book has no filters; ST adds `character_filter` beside the
    // spec fields when one is set in its editor.
    let mut value = seraphina_book_json();
    let plain = from_character_book(&value, "Seraphina").unwrap();
    assert!(plain.entries.iter().all(|e| e.character_filter.is_none()));
    value["entries"][0]["character_filter"] =
        json!({"isExclude": false, "names": ["Seraphina.png"], "tags": []});
    let book = from_character_book(&value, "Seraphina").unwrap();
    assert_eq!(
        book.entries[0].character_filter,
        Some(CharacterFilter {
            exclude: false,
            names: vec!["Seraphina.png".into()],
            tags: vec![],
        })
    );
    let out = to_character_book(&book);
    assert_eq!(
        out["entries"][0]["character_filter"],
        value["entries"][0]["character_filter"]
    );
    assert_eq!(from_character_book(&out, "Seraphina").unwrap(), book);
}
