//! World-book round trips: every SillyTavern fixture and every field through
//! both exports, default settings left unwritten, a trip through a card, and
//! character filters written back as they were read.

mod lore_formats_support;

use confab_core::lore::formats::{
    from_character_book, to_character_book, to_sillytavern_json, BookFormat,
};
use confab_core::lore::{
    Book, BookSettings, CharacterFilter, Entry, EntryPosition, EntryRole, MatchSources,
    SelectiveLogic,
};
use lore_formats_support::{fixture, read, read_json, seraphina_book_json, ST_FIXTURES, ST_KNOWN};
use serde_json::{json, Value};

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
