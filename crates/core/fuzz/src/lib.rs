//! What the fuzz targets share: JSON shaped like the formats they read (so the
//! fuzzer reaches the fields, not only the JSON parser), and the invariants
//! every reader promises (typed errors, round trips).

use arbitrary::{Result, Unstructured};
use confab_core::card::{normalize, read_card, write_json, CardSpec, Limits, ParsedCard};
use confab_core::lore::formats::{
    from_character_book, read_book, to_character_book, to_sillytavern_json, BookFormat,
};
use confab_core::lore::{compile, scan, Book, ScanInput, ScanMessage, TimedState};
use confab_core::tokens::EstimateCounter;
use confab_core::{Error, ErrorCode};
use serde_json::{Map, Number, Value};

/// Panics with the lines that differ (pretty `Debug`) unless `got == want`.
#[track_caller]
pub fn assert_same<T: PartialEq + std::fmt::Debug>(got: &T, want: &T, what: &str) {
    if got == want {
        return;
    }
    let (g, w) = (format!("{got:#?}"), format!("{want:#?}"));
    let (g, w): (Vec<&str>, Vec<&str>) = (g.lines().collect(), w.lines().collect());
    let first = g
        .iter()
        .zip(&w)
        .position(|(a, b)| a != b)
        .unwrap_or(g.len().min(w.len()));
    let from = first.saturating_sub(6);
    let show = |lines: &[&str]| {
        lines
            .iter()
            .skip(from)
            .take(14)
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    };
    panic!(
        "{what}\n--- got (from line {from}):\n{}--- want:\n{}",
        show(&g),
        show(&w)
    );
}

/// Panics unless `err` has one of the `allowed` codes: readers answer bad input
/// with the errors they document, never `internal` or an unrelated kind.
pub fn assert_code(err: &Error, allowed: &[ErrorCode], what: &str) {
    assert!(
        allowed.contains(&err.code()),
        "{what}: unexpected error kind {:?}: {err}",
        err.code()
    );
}

/// Texts that mean something to the readers: flags written as text, numbers as
/// text, regex keys, positions, dates, macros, URIs inside a CHARX.
const STRINGS: &[&str] = &[
    "",
    " ",
    "true",
    "false",
    "yes",
    "0",
    "1",
    "-1",
    "100",
    "1e400",
    "NaN",
    " 12 ",
    "a, b,,c",
    ",",
    "/a+/i",
    "/(/",
    "/\\w{100}/",
    "/(?<=a)b/",
    "/x/gimsuy",
    "constant",
    "folder",
    "normal",
    "before_char",
    "after_char",
    "an_top",
    "at_depth",
    "outlet",
    "user",
    "assistant",
    "system",
    "memory",
    "risu",
    "risuLorebook",
    "lorebook_v3",
    "chara_card_v3",
    "chara_card_v2",
    "3.0",
    "{{char}}",
    "{{user}}",
    "@@activate",
    "@@dont_activate\ntext",
    "@@depth 4",
    "2023-01-08T12:32:26.123Z",
    "2025-05-05@17h17m32s",
    "2023-1-8 @12h 32m 26s 0ms",
    "January 8, 2023 12:32pm",
    "1674563371558",
    "9999-12-31T23:59:59+23:59",
    "embeded://assets/icon/images/main.png",
    "embedded://./x.webp",
    "embeded://../../etc/passwd",
    "embeded://C:/x.png",
    "ccdefault:",
    "icon",
    "emotion",
    "background",
    "main",
    "png",
    "webp",
    "\u{FFFD}",
    "é",
    "\u{1F600}",
    "\0",
    "\r\n",
];

/// A JSON value: usually an object with keys from `vocab`, values of every
/// kind (with the edge cases readers trip on), nested at most `depth` deep.
pub fn json_value(u: &mut Unstructured<'_>, vocab: &[&str], depth: usize) -> Result<Value> {
    let choices = if depth == 0 { 5 } else { 8 };
    Ok(match u.choose_index(choices)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::Number(number(u)?),
        3 | 4 => Value::String(string(u)?),
        5 => {
            let n = u.int_in_range(0..=4)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(json_value(u, vocab, depth - 1)?);
            }
            Value::Array(items)
        }
        _ => Value::Object(json_object(u, vocab, depth - 1)?),
    })
}

/// An object whose keys mostly come from `vocab`.
pub fn json_object(
    u: &mut Unstructured<'_>,
    vocab: &[&str],
    depth: usize,
) -> Result<Map<String, Value>> {
    let n = u.int_in_range(0..=8)?;
    let mut map = Map::new();
    for _ in 0..n {
        let key = if !vocab.is_empty() && u.ratio(7, 8)? {
            (*u.choose(vocab)?).to_owned()
        } else {
            u.arbitrary::<String>()?
        };
        map.insert(key, json_value(u, vocab, depth)?);
    }
    Ok(map)
}

/// A list of `n` objects built by `item`.
pub fn json_list(
    u: &mut Unstructured<'_>,
    max: usize,
    mut item: impl FnMut(&mut Unstructured<'_>) -> Result<Value>,
) -> Result<Vec<Value>> {
    let n = u.int_in_range(0..=max)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(item(u)?);
    }
    Ok(out)
}

fn number(u: &mut Unstructured<'_>) -> Result<Number> {
    const EDGES: &[i64] = &[
        0,
        1,
        -1,
        2,
        100,
        400,
        1000,
        i32::MAX as i64,
        i64::MIN,
        i64::MAX,
    ];
    Ok(match u.choose_index(5)? {
        0 => Number::from(*u.choose(EDGES)?),
        1 => Number::from(u.arbitrary::<i64>()?),
        2 => Number::from(u.arbitrary::<u64>()?),
        3 => {
            let f = *u.choose(&[0.5, -0.5, 1.5, 2.5, 1e300, -1e300, 9.3e18, -9.3e18, 4e9])?;
            Number::from_f64(f).unwrap_or_else(|| Number::from(0))
        }
        _ => Number::from_f64(u.arbitrary::<f64>()?).unwrap_or_else(|| Number::from(0)),
    })
}

/// A text: one the readers know, or anything.
pub fn string(u: &mut Unstructured<'_>) -> Result<String> {
    if u.ratio(1, 2)? {
        Ok((*u.choose(STRINGS)?).to_owned())
    } else {
        u.arbitrary()
    }
}

/// The JSON the input bytes hold, or else JSON built from them by `shape`.
pub fn json_or_shaped(
    data: &[u8],
    shape: impl FnOnce(&mut Unstructured<'_>) -> Result<Value>,
) -> Option<Value> {
    match serde_json::from_slice::<Value>(data) {
        Ok(v) => Some(v),
        Err(_) => shape(&mut Unstructured::new(data)).ok(),
    }
}

// ---------------------------------------------------------------------------
// World books

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

// ---------------------------------------------------------------------------
// Cards

/// The errors a card reader may give.
pub const CARD_ERRORS: &[ErrorCode] = &[
    ErrorCode::InvalidCard,
    ErrorCode::TooLarge,
    ErrorCode::UnsupportedFormat,
    ErrorCode::NoCardData,
];

/// Limits small enough to keep each run fast; the code paths are the same.
pub fn small_limits() -> Limits {
    Limits {
        max_json_bytes: 1 << 20,
        max_charx_total_bytes: 8 << 20,
        ..Limits::default()
    }
}

/// Card fields (V1, V2, V3, CHARX assets, the embedded book and dictionary).
pub const CARD_FIELDS: &[&str] = &[
    "spec",
    "spec_version",
    "data",
    "name",
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
    "creator_notes",
    "system_prompt",
    "post_history_instructions",
    "alternate_greetings",
    "character_book",
    "tags",
    "creator",
    "character_version",
    "extensions",
    "nickname",
    "creator_notes_multilingual",
    "source",
    "group_only_greetings",
    "creation_date",
    "modification_date",
    "assets",
    "type",
    "uri",
    "ext",
    "depth_prompt",
    "prompt",
    "depth",
    "role",
    "talkativeness",
    "fav",
    "world",
    "confab/dictionary",
    "rules",
    "find",
    "replace",
    "regex",
    "caseSensitive",
    "enabled",
    "scope",
    "version",
    "char_name",
    "char_persona",
    "world_scenario",
    "char_greeting",
    "example_dialogue",
    "entries",
    "keys",
    "content",
    "insertion_order",
];

/// A card-shaped JSON value.
pub fn shaped_card(u: &mut Unstructured<'_>) -> Result<Value> {
    let mut data = json_object(u, CARD_FIELDS, 3)?;
    if u.ratio(1, 2)? {
        data.insert("name".into(), Value::String(string(u)?));
    }
    if u.ratio(1, 2)? {
        let assets = json_list(u, 4, |u| Ok(Value::Object(json_object(u, CARD_FIELDS, 1)?)))?;
        data.insert("assets".into(), Value::Array(assets));
    }
    if u.ratio(1, 3)? {
        return Ok(Value::Object(data)); // V1: flat
    }
    let mut root = Map::new();
    let spec = if u.arbitrary()? {
        "chara_card_v3"
    } else {
        "chara_card_v2"
    };
    root.insert("spec".into(), Value::from(spec));
    root.insert(
        "spec_version".into(),
        Value::from(if spec.ends_with('3') { "3.0" } else { "2.0" }),
    );
    root.insert("data".into(), Value::Object(data));
    Ok(Value::Object(root))
}

/// A card read result: a typed error, or a card whose JSON writes and reads back the same.
pub fn check_card(result: std::result::Result<ParsedCard, Error>, what: &str) {
    let card = match result {
        Ok(card) => card,
        Err(e) => return assert_code(&e, CARD_ERRORS, what),
    };
    for spec in [CardSpec::V3, CardSpec::V2] {
        let bytes = write_json(&card.data, Some(&card.original), spec);
        let value: Value = serde_json::from_slice(&bytes).expect("written card JSON parses");
        let (again, _) = normalize(&value, "again.json")
            .unwrap_or_else(|e| panic!("{what}: a written card reads back: {e}"));
        assert_same(
            &again,
            &card.data,
            &format!("{what}: {spec:?} JSON changed the card"),
        );
        let reread = read_card(&bytes, "again.json", &Limits::default())
            .unwrap_or_else(|e| panic!("{what}: written card JSON reads as a file: {e}"));
        assert_same(
            &reread.data,
            &card.data,
            &format!("{what}: {spec:?} file changed the card"),
        );
    }
}
