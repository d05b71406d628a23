//! World books: JSON shaped like each format, and the round trips every book read keeps.

use arbitrary::{Result, Unstructured};
use confab_core::lore::formats::{
    from_character_book, read_book, to_character_book, to_sillytavern_json, BookFormat,
};
use confab_core::lore::{compile, scan, Book, ScanInput, ScanMessage, TimedState};
use confab_core::tokens::EstimateCounter;
use confab_core::ErrorCode;
use serde_json::{Map, Value};

use crate::{assert_code, assert_same, json_list, json_object, json_or_shaped};

/// Field names of every world-book format Confab reads.
pub const BOOK_FIELDS: &[&str] = &[
    // SillyTavern
    "entries",
    "uid",
    "key",
    "keysecondary",
    "comment",
    "content",
    "constant",
    "vectorized",
    "selective",
    "selectiveLogic",
    "addMemo",
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
    "automationId",
    "role",
    "sticky",
    "cooldown",
    "delay",
    "displayIndex",
    "characterFilter",
    "isExclude",
    "names",
    "tags",
    "triggers",
    "outletName",
    "ignoreBudget",
    "matchPersonaDescription",
    "matchCharacterDescription",
    "matchCharacterPersonality",
    "matchCharacterDepthPrompt",
    "matchScenario",
    "matchCreatorNotes",
    "originalData",
    "extensions",
    "confab/settings",
    "scan_depth",
    "token_budget",
    "recursive_scanning",
    "budgetCap",
    "budgetPercent",
    "includeNames",
    "minActivations",
    "minActivationsDepthMax",
    "maxRecursionSteps",
    "recursive",
    "name",
    "description",
    // character_book
    "keys",
    "secondary_keys",
    "insertion_order",
    "enabled",
    "priority",
    "id",
    "case_sensitive",
    "match_whole_words",
    "use_regex",
    "selective_logic",
    "group_weight",
    "display_index",
    "character_filter",
    // NovelAI
    "lorebookVersion",
    "text",
    "displayName",
    "forceActivation",
    "searchRange",
    "contextConfig",
    "budgetPriority",
    "keyRelative",
    "nonStoryActivatable",
    "category",
    "categories",
    "settings",
    // Agnai
    "kind",
    "entry",
    "keywords",
    "weight",
    "userId",
    // RisuAI
    "type",
    "ver",
    "data",
    "secondkey",
    "alwaysActive",
    "insertorder",
    "activationPercent",
    "extentions",
    "risu_case_sensitive",
    "useRegex",
    "mode",
    "folder",
    "bookVersion",
];

/// Which book format a target aims at (the marker it forces into the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookTarget {
    /// SillyTavern world info (`entries` as an object).
    SillyTavern,
    /// A NovelAI `.lorebook`.
    NovelAi,
    /// An Agnai memory book.
    Agnai,
    /// A RisuAI lorebook export.
    Risu,
    /// A CCv3 `lorebook_v3` file (a `character_book`).
    CharacterBook,
}

/// One world-book target: the raw bytes through `read_book`, then JSON shaped
/// like `target`'s format (the input's own JSON, or JSON built from it) with
/// the format's marker forced, through `read_book` and every invariant.
pub fn fuzz_book(data: &[u8], target: BookTarget) {
    check_book_file(data, None);
    let Some(value) = json_or_shaped(data, |u| shaped_book(u, target)) else {
        return;
    };
    if target == BookTarget::CharacterBook {
        match from_character_book(&value, "fuzz") {
            Ok(book) => check_book(&book, BookFormat::CharacterBook),
            Err(e) => assert_code(&e, BOOK_ERRORS, "from_character_book"),
        }
    }
    let root = force_format(value, target);
    let bytes = serde_json::to_vec(&root).expect("a Value serialises");
    let expected = match target {
        BookTarget::SillyTavern => BookFormat::SillyTavern,
        BookTarget::NovelAi => BookFormat::NovelAi,
        BookTarget::Agnai => BookFormat::Agnai,
        BookTarget::Risu => BookFormat::Risu,
        BookTarget::CharacterBook => BookFormat::CharacterBook,
    };
    check_book_file(&bytes, Some(expected));
}

/// The errors a world-book reader may give.
pub const BOOK_ERRORS: &[ErrorCode] = &[
    ErrorCode::InvalidWorldBook,
    ErrorCode::TooLarge,
    ErrorCode::UnsupportedFormat,
];

fn shaped_book(u: &mut Unstructured<'_>, target: BookTarget) -> Result<Value> {
    let entries = json_list(u, 6, |u| Ok(Value::Object(json_object(u, BOOK_FIELDS, 2)?)))?;
    let mut root = json_object(u, BOOK_FIELDS, 2)?;
    match target {
        BookTarget::SillyTavern => {
            let mut map = Map::new();
            for (i, e) in entries.into_iter().enumerate() {
                let key = if u.ratio(1, 4)? {
                    u.arbitrary::<String>()?
                } else {
                    i.to_string()
                };
                map.insert(key, e);
            }
            root.insert("entries".into(), Value::Object(map));
        }
        BookTarget::Risu => {
            root.insert("data".into(), Value::Array(entries));
        }
        _ => {
            root.insert("entries".into(), Value::Array(entries));
        }
    }
    Ok(Value::Object(root))
}

/// Makes `value` a file `read_book` takes for `target`'s format.
fn force_format(value: Value, target: BookTarget) -> Value {
    let mut root = match value {
        Value::Object(m) => m,
        other => {
            let mut m = Map::new();
            m.insert("entries".into(), other);
            m
        }
    };
    if target != BookTarget::NovelAi {
        root.remove("lorebookVersion");
    }
    if target != BookTarget::Agnai && root.get("kind").and_then(Value::as_str) == Some("memory") {
        root.remove("kind");
    }
    if target != BookTarget::Risu {
        root.remove("type");
    }
    // An object of entries makes any file a SillyTavern one: the others list them.
    if target != BookTarget::SillyTavern {
        if let Some(Value::Object(map)) = root.remove("entries") {
            root.insert(
                "entries".into(),
                Value::Array(map.into_iter().map(|(_, v)| v).collect()),
            );
        }
    }
    match target {
        BookTarget::SillyTavern => {
            root.remove("spec");
            if !matches!(root.get("entries"), Some(Value::Object(_))) {
                let list = match root.remove("entries") {
                    Some(Value::Array(a)) => a,
                    _ => Vec::new(),
                };
                let map = list
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (i.to_string(), v))
                    .collect();
                root.insert("entries".into(), Value::Object(map));
            }
        }
        BookTarget::NovelAi => {
            root.entry("lorebookVersion").or_insert(Value::from(5));
        }
        BookTarget::Agnai => {
            root.insert("kind".into(), Value::from("memory"));
        }
        BookTarget::Risu => {
            if !matches!(
                root.get("type").and_then(Value::as_str),
                Some("risu" | "risuLorebook")
            ) {
                root.insert("type".into(), Value::from("risu"));
            }
        }
        BookTarget::CharacterBook => {
            let mut file = Map::new();
            file.insert("spec".into(), Value::from("lorebook_v3"));
            file.insert("data".into(), Value::Object(root));
            return Value::Object(file);
        }
    }
    Value::Object(root)
}

fn check_book_file(bytes: &[u8], expected: Option<BookFormat>) {
    match read_book(bytes, "fuzz.json") {
        Ok((book, format)) => {
            if let Some(f) = expected {
                assert_eq!(format, f, "the marker decides the format");
            }
            check_book(&book, format);
        }
        Err(e) => assert_code(&e, BOOK_ERRORS, "read_book"),
    }
}

/// What a book that was read (in `source` format) must allow: export both
/// ways and read back. Back in its own format it must be the same book; a
/// conversion to the other format may settle fields the two formats spell
/// alike (another format's unknown `characterFilter` or `name` becomes a real
/// one), but must then be stable. And it compiles and scans.
pub fn check_book(book: &Book, source: BookFormat) {
    let via_st = |b: &Book| -> Book {
        let st = to_sillytavern_json(b);
        let bytes = serde_json::to_vec(&st).expect("a Value serialises");
        let (again, format) = read_book(&bytes, "again.json")
            .unwrap_or_else(|e| panic!("an exported world book must read back: {e}"));
        assert_eq!(format, BookFormat::SillyTavern);
        again
    };
    let via_card = |b: &Book| -> Book {
        let cb = to_character_book(b);
        let mut back = from_character_book(&cb, "unused")
            .unwrap_or_else(|e| panic!("a book exported into a card must read back: {e}"));
        // An empty book-level `extensions` object is not kept through a card.
        if back.extensions.get("extensions") == Some(&Value::Object(Map::new())) {
            back.extensions.remove("extensions");
        }
        back
    };
    let mut card_expected = book.clone();
    if card_expected.extensions.get("extensions") == Some(&Value::Object(Map::new())) {
        card_expected.extensions.remove("extensions");
    }
    // SillyTavern's `originalData` (its copy of the card book a world-info file
    // came from) is never written into a card, as `lore::formats::character_book`
    // documents.
    card_expected.extensions.remove("originalData");
    // `confab/settings` is Confab's own key: a card writes the book's settings
    // there (inside `extensions`), so a stray top-level one is not kept.
    card_expected.extensions.remove("confab/settings");
    let st = via_st(book);
    let settled = if source == BookFormat::SillyTavern {
        // The export keys entries by uid, so they come back in uid order (as
        // `lore::formats::sillytavern` documents); nothing else may change.
        let mut in_uid_order = book.clone();
        in_uid_order.entries.sort_by_key(|e| e.uid);
        assert_same(
            &st,
            &in_uid_order,
            "read -> SillyTavern JSON -> read changed the book",
        );
        in_uid_order
    } else {
        assert_same(
            &via_st(&st),
            &st,
            "a book converted to SillyTavern JSON is not stable",
        );
        st.clone()
    };
    assert_same(
        &to_sillytavern_json(&st),
        &to_sillytavern_json(&settled),
        "a second SillyTavern export differs",
    );
    let cb = via_card(book);
    if source == BookFormat::CharacterBook {
        assert_same(
            &cb,
            &card_expected,
            "read -> character_book -> read changed the book",
        );
    } else {
        assert_same(
            &via_card(&cb),
            &cb,
            "a book converted to a character_book is not stable",
        );
    }

    let compiled = compile(book, "fuzz", &EstimateCounter)
        .unwrap_or_else(|e| panic!("any book that was read compiles: {e}"));
    // A chat that says every key once, so the matchers run.
    let mut content = String::new();
    for e in book.entries.iter().take(16) {
        for k in e.keys.iter().chain(&e.secondary_keys).take(8) {
            content.extend(k.chars().take(200));
            content.push(' ');
        }
    }
    let input = ScanInput {
        messages: vec![ScanMessage {
            role: "user".into(),
            name: "User".into(),
            content,
        }],
        context_tokens: 8192,
        ..ScanInput::default()
    };
    let _ = scan(&[&compiled], &input, &mut TimedState::default(), 7);
}
