//! Chat transcripts: SillyTavern JSONL in and out, Markdown and JSON out, dates.

use confab_core::session::transcript::{
    parse_send_date, read_sillytavern_jsonl, write_json, write_markdown, write_sillytavern_jsonl,
    Transcript, TranscriptMessage,
};
use confab_core::session::Role;
use confab_core::{Error, ErrorCode};
use serde_json::{json, Value};

const SWIPES: &str = "st_chat_swipes__seraphina_backup.jsonl";
const LEGACY: &str = "st_chat_legacy__Aqua_2023.jsonl";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/chats/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read(text: &str) -> Result<Transcript, Error> {
    read_sillytavern_jsonl(text.as_bytes(), "chat.jsonl")
}

fn invalid(text: &str) -> String {
    match read(text) {
        Err(Error::InvalidInput(m)) => m,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

/// Every non-empty line of a JSONL file, as JSON values.
fn lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .trim_start_matches('\u{feff}')
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const HEADER: &str = r#"{"user_name":"You","character_name":"Aqua","create_date":"2023-1-8 @12h 32m 26s 0ms","chat_metadata":{}}"#;

fn msg(mes: &str) -> String {
    format!(
        r#"{{"name":"Aqua","is_user":false,"send_date":"January 8, 2023 12:32pm","mes":{mes}}}"#
    )
}

// ---------------------------------------------------------------------------
// Fixtures

#[test]
fn the_swipes_fixture_reads() {
    let t = read_sillytavern_jsonl(&fixture(SWIPES), SWIPES).unwrap();
    assert_eq!(t.user_name, "User");
    assert_eq!(t.character_name, "Seraphina");
    assert_eq!(t.create_date.as_deref(), Some("2025-05-05@17h17m32s"));
    assert_eq!(
        t.metadata["integrity"],
        "580ffb47-f2e0-4a76-ac69-97a705413610"
    );
    assert!(t.header_extra.is_empty());
    assert_eq!(t.messages.len(), 7);

    let roles: Vec<Role> = t.messages.iter().map(|m| m.role).collect();
    use Role::{Assistant as A, User as U};
    assert_eq!(roles, [A, U, A, U, A, U, A]);

    let greeting = &t.messages[0];
    assert_eq!(greeting.name, "Seraphina");
    assert!(greeting.content.starts_with("*You wake with a start"));
    assert!(greeting.swipes.is_empty());
    assert_eq!(greeting.send_date.as_deref(), Some("May 5, 2025 5:17pm"));
    assert_eq!(greeting.send_time_ms, Some(1_746_465_420_000));

    let user = &t.messages[1];
    assert_eq!((user.name.as_str(), user.content.as_str()), ("User", "hi"));
    assert_eq!(user.extra["force_avatar"], "User Avatars/user-default.png");
    assert_eq!(user.extra["extra"]["token_count"], 3);

    for reply in [&t.messages[2], &t.messages[4], &t.messages[6]] {
        assert_eq!(reply.swipes.len(), 1);
        assert_eq!(reply.swipe_index, 0);
        assert_eq!(reply.swipes[0], reply.content);
        assert_eq!(
            reply.extra["swipe_info"][0]["extra"]["model"],
            "deepseek-v3-0324"
        );
        assert!(reply.extra["gen_started"].is_string());
        assert!(!reply.extra.contains_key("swipes"));
        assert!(!reply.extra.contains_key("swipe_id"));
    }
    assert_eq!(
        t.messages[2].extra["gen_started"],
        "2025-05-05T10:17:34.221Z"
    );
    assert_eq!(t.messages[6].send_time_ms, Some(1_746_465_540_000));
}

#[test]
fn the_legacy_fixture_reads_with_numeric_dates() {
    let t = read_sillytavern_jsonl(&fixture(LEGACY), LEGACY).unwrap();
    assert_eq!(t.user_name, "You");
    assert_eq!(t.character_name, "Aqua");
    assert_eq!(t.create_date.as_deref(), Some("1674559896839"));
    assert!(t.metadata.is_empty());
    assert_eq!(t.messages.len(), 1);
    let m = &t.messages[0];
    assert_eq!(m.role, Role::Assistant);
    assert_eq!(m.send_date.as_deref(), Some("1674563371558"));
    assert_eq!(m.send_time_ms, Some(1_674_563_371_558));
    assert_eq!(m.extra["is_name"], true);
}

#[test]
fn both_fixtures_round_trip_without_losing_a_field() {
    for name in [SWIPES, LEGACY] {
        let original = fixture(name);
        let first = read_sillytavern_jsonl(&original, name).unwrap();
        let written = write_sillytavern_jsonl(&first);
        // Value for value, line for line: nothing added, nothing dropped.
        assert_eq!(lines(&written), lines(&original), "{name}");
        let second = read_sillytavern_jsonl(&written, name).unwrap();
        assert_eq!(second, first, "{name}");
        assert_eq!(write_sillytavern_jsonl(&second), written, "{name}");
    }
}

// ---------------------------------------------------------------------------
// Rules

#[test]
fn roles_come_from_is_user_then_is_system() {
    let text = [
        HEADER,
        r#"{"name":"You","is_user":true,"mes":"a"}"#,
        r#"{"name":"System","is_user":false,"is_system":true,"mes":"b"}"#,
        r#"{"name":"Aqua","mes":"c"}"#,
        // A hidden user message: SillyTavern sets is_system on it too.
        r#"{"name":"You","is_user":true,"is_system":true,"mes":"d"}"#,
    ]
    .join("\n");
    let t = read(&text).unwrap();
    let roles: Vec<Role> = t.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [Role::User, Role::System, Role::Assistant, Role::User]
    );
    // The hidden flag survives the round trip.
    let out = lines(&write_sillytavern_jsonl(&t));
    assert_eq!(out[4]["is_system"], true);
    assert_eq!(out[4]["is_user"], true);
    assert_eq!(out[2]["is_system"], true);
    assert!(out[3].get("is_system").is_none());
}

#[test]
fn swipes_without_swipe_id_show_the_first_and_out_of_range_is_clamped() {
    let text = [
        HEADER,
        r#"{"name":"Aqua","mes":"one","swipes":["one","two","three"]}"#,
        r#"{"name":"Aqua","mes":"three","swipes":["one","two","three"],"swipe_id":9}"#,
        r#"{"name":"Aqua","mes":"one","swipes":["one","two"],"swipe_id":-1}"#,
        r#"{"name":"Aqua","mes":"two","swipes":["one","two"],"swipe_id":1}"#,
    ]
    .join("\n");
    let t = read(&text).unwrap();
    let indexes: Vec<u32> = t.messages.iter().map(|m| m.swipe_index).collect();
    assert_eq!(indexes, [0, 2, 0, 1]);
    assert_eq!(t.messages[0].swipes, ["one", "two", "three"]);
    let out = lines(&write_sillytavern_jsonl(&t));
    assert_eq!(out[2]["swipe_id"], 2);
}

#[test]
fn numbers_are_accepted_as_text() {
    let t = read(&[HEADER, r#"{"name":7,"mes":42,"swipes":[42,"x"]}"#].join("\n")).unwrap();
    assert_eq!(t.messages[0].name, "7");
    assert_eq!(t.messages[0].content, "42");
    assert_eq!(t.messages[0].swipes, ["42", "x"]);
}

#[test]
fn a_bom_crlf_and_empty_lines_are_tolerated() {
    let text = format!("\u{feff}{HEADER}\r\n\r\n{}\r\n\n", msg("\"hi\""));
    let t = read(&text).unwrap();
    assert_eq!(t.messages.len(), 1);
    assert_eq!(t.messages[0].content, "hi");
}

#[test]
fn a_file_without_a_header_takes_its_names_from_the_messages() {
    let text = [
        r#"{"name":"Aqua","is_user":false,"mes":"Hello!"}"#,
        r#"{"name":"Kazuma","is_user":true,"mes":"Hi."}"#,
    ]
    .join("\n");
    let t = read(&text).unwrap();
    assert_eq!(t.messages.len(), 2);
    assert_eq!(t.user_name, "Kazuma");
    assert_eq!(t.character_name, "Aqua");
    assert!(t.metadata.is_empty());
    // Written back it gains a header, and reads the same.
    let written = write_sillytavern_jsonl(&t);
    assert_eq!(lines(&written).len(), 3);
    assert_eq!(read_sillytavern_jsonl(&written, "x").unwrap(), t);
}

#[test]
fn a_header_alone_is_a_chat_with_no_messages() {
    let t = read(HEADER).unwrap();
    assert!(t.messages.is_empty());
    assert_eq!(t.character_name, "Aqua");
}

#[test]
fn unknown_and_odd_fields_survive_a_round_trip() {
    let text = [
        r#"{"user_name":"You","character_name":"Aqua","create_date":null,"chat_metadata":{"note_prompt":"x","variables":{"hp":3}},"future_header":[1,2]}"#,
        r#"{"name":"Aqua","is_user":false,"is_system":false,"send_date":null,"mes":"a","swipes":[],"swipe_id":3,"extra":{"bias":null},"future":{"deep":[true]}}"#,
        r#"{"name":"You","is_user":1,"send_date":"2024-07-12@01h31m37s123ms","mes":"b","swipes":null}"#,
        r#"{"name":"Aqua","is_user":false,"send_date":1.5,"mes":"c","create_date":"007"}"#,
    ]
    .join("\n");
    let t = read(&text).unwrap();
    assert_eq!(t.header_extra["future_header"], json!([1, 2]));
    assert_eq!(t.metadata["variables"]["hp"], 3);
    assert_eq!(t.messages[1].role, Role::User);
    assert_eq!(t.messages[1].send_time_ms, Some(1_720_747_897_123));
    assert_eq!(t.messages[2].send_date, None);

    let written = write_sillytavern_jsonl(&t);
    assert_eq!(lines(&written), lines(text.as_bytes()));
    assert_eq!(read_sillytavern_jsonl(&written, "x").unwrap(), t);
}

#[test]
fn a_message_built_by_hand_is_written_as_sillytavern_expects() {
    let mut reply = TranscriptMessage::new(Role::Assistant, "Aqua", "two");
    reply.swipes = vec!["one".into(), "two".into()];
    reply.swipe_index = 1;
    let mut note = TranscriptMessage::new(Role::System, "System", "A note.");
    note.send_time_ms = Some(1_674_563_371_558);
    let t = Transcript {
        user_name: "You".into(),
        character_name: "Aqua".into(),
        messages: vec![TranscriptMessage::new(Role::User, "You", "hi"), reply, note],
        ..Transcript::default()
    };
    let out = lines(&write_sillytavern_jsonl(&t));
    assert_eq!(
        out[0],
        json!({"user_name": "You", "character_name": "Aqua"})
    );
    assert_eq!(out[1], json!({"name": "You", "is_user": true, "mes": "hi"}));
    assert_eq!(
        out[2],
        json!({"name": "Aqua", "is_user": false, "mes": "two", "swipes": ["one", "two"], "swipe_id": 1})
    );
    assert_eq!(
        out[3],
        json!({"name": "System", "is_user": false, "is_system": true, "mes": "A note.", "send_date": 1_674_563_371_558_i64})
    );
}

// ---------------------------------------------------------------------------
// Malformed files

#[test]
fn bad_json_names_its_line_and_column() {
    let text = [
        HEADER,
        &msg("\"a\""),
        &msg("\"b\""),
        &msg("\"c\""),
        r#"{"name":"Aqua","mes":"d",}"#,
    ]
    .join("\n");
    let m = invalid(&text);
    assert!(m.starts_with("chat.jsonl, line 5, column "), "{m}");
    assert!(m.contains("not valid JSON"), "{m}");
}

#[test]
fn line_numbers_count_empty_lines() {
    let text = format!("{HEADER}\n\n\n{}\n{{oops", msg("\"a\""));
    assert!(invalid(&text).starts_with("chat.jsonl, line 5,"));
}

#[test]
fn mes_as_an_object_names_the_line_and_field() {
    let text = [HEADER, &msg("\"a\""), &msg(r#"{"text":"b"}"#)].join("\n");
    assert_eq!(
        invalid(&text),
        "chat.jsonl, line 3: `mes` must be text, found an object"
    );
    assert!(invalid(&[HEADER, &msg("null")].join("\n")).contains("line 2: `mes` must be text"));
}

#[test]
fn other_bad_fields_name_the_line() {
    let cases = [
        (
            r#"{"name":"A"}"#,
            "line 2: `mes` (the message text) is missing",
        ),
        (
            r#"{"name":["A"],"mes":"x"}"#,
            "line 2: `name` must be text, found a list",
        ),
        (
            r#"{"name":"A","mes":"x","swipes":["x",{}]}"#,
            "line 2: `swipes` item 2 must be text",
        ),
        (r#"[1,2]"#, "line 2: expected a JSON object, found a list"),
    ];
    for (line, want) in cases {
        let m = invalid(&[HEADER, line].join("\n"));
        assert!(m.contains(want), "{line}: {m}");
    }
    let m = invalid(r#"{"user_name":{"a":1},"character_name":"A"}"#);
    assert!(m.contains("line 1: `user_name` must be text"), "{m}");
}

#[test]
fn a_truncated_last_line_says_the_file_is_cut_short() {
    let text = [
        HEADER,
        &msg("\"a\""),
        r#"{"name":"Aqua","mes":"half a mess"#,
    ]
    .join("\n");
    let m = invalid(&text);
    assert!(m.starts_with("chat.jsonl, line 3, column"), "{m}");
    assert!(m.contains("cut short"), "{m}");
}

#[test]
fn an_empty_file_is_a_clear_error() {
    for text in ["", "\u{feff}", "\n\n  \r\n"] {
        assert_eq!(invalid(text), "chat.jsonl is empty: there is no chat in it");
    }
}

// ---------------------------------------------------------------------------
// Hostile input

#[test]
fn a_very_long_line_is_too_large() {
    let long = format!(
        r#"{{"name":"A","mes":"{}"}}"#,
        "x".repeat(10 * 1024 * 1024 + 1)
    );
    let err = read(&[HEADER, &long].join("\n")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooLarge);
    assert!(err.to_string().contains("chat.jsonl, line 2"), "{err}");
    assert!(err.to_string().contains("10 MB"), "{err}");
}

#[test]
fn a_file_over_100_mb_is_too_large() {
    let big = vec![b' '; 100 * 1024 * 1024 + 1];
    let err = read_sillytavern_jsonl(&big, "huge.jsonl").unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooLarge);
    assert!(
        err.to_string().starts_with("huge.jsonl is too large"),
        "{err}"
    );
}

#[test]
fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
    let deep = format!(
        r#"{{"name":"A","mes":"x","extra":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let m = invalid(&[HEADER, &deep].join("\n"));
    assert!(m.starts_with("chat.jsonl, line 2, column"), "{m}");
}

#[test]
fn random_bytes_never_panic() {
    // A small xorshift generator keeps the test deterministic without a dependency.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b"{}[]\":,\n\\ amesnuli0123456789truefalsenull_swipe_id\xEF\xBB\xBF\xff";
    let seed = fixture(SWIPES);
    for round in 0..2_000 {
        let bytes: Vec<u8> = if round % 2 == 0 {
            let len = (next() % 300) as usize;
            (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect()
        } else {
            // Mutate a real file: flips, cuts and duplications.
            let mut b = seed.clone();
            for _ in 0..(next() % 8) {
                let i = (next() % b.len() as u64) as usize;
                match next() % 3 {
                    0 => b[i] = next() as u8,
                    1 => b.truncate(i),
                    _ => b.insert(i, alphabet[(next() % alphabet.len() as u64) as usize]),
                }
                if b.is_empty() {
                    break;
                }
            }
            b
        };
        if let Ok(t) = read_sillytavern_jsonl(&bytes, "fuzz.jsonl") {
            // Whatever reads must write, and read back the same.
            let again = read_sillytavern_jsonl(&write_sillytavern_jsonl(&t), "fuzz.jsonl").unwrap();
            assert_eq!(again, t);
            let _ = write_markdown(&t);
            let _ = write_json(&t);
        }
    }
}

// ---------------------------------------------------------------------------
// Dates

#[test]
fn every_sillytavern_date_format_parses() {
    let cases: [(&str, i64); 16] = [
        ("January 8, 2023 12:32pm", 1_673_181_120_000),
        ("Jan 8, 2023 12:32 PM", 1_673_181_120_000),
        ("May 5, 2025 5:17pm", 1_746_465_420_000),
        (
            "January 8, 2023 12:32am",
            1_673_181_120_000 - 12 * 3_600_000,
        ),
        ("2023-1-8 @12h 32m 26s 0ms", 1_673_181_146_000),
        ("2023-01-08 @12h 32m 26s 5ms", 1_673_181_146_005),
        ("2025-05-05@17h17m32s", 1_746_465_452_000),
        ("2024-07-12@01h31m37s123ms", 1_720_747_897_123),
        ("1674563371558", 1_674_563_371_558),
        ("2025-05-05T10:17:34.221Z", 1_746_440_254_221),
        ("2025-05-05T10:17:34.221456Z", 1_746_440_254_221),
        ("2025-05-05T12:17:34.221+02:00", 1_746_440_254_221),
        ("2025-05-05T05:17:34.221-0500", 1_746_440_254_221),
        ("2023-01-08 12:32:26", 1_673_181_146_000),
        ("2024-02-29", 1_709_164_800_000),
        ("  2023-01-08T12:32  ", 1_673_181_120_000),
    ];
    for (text, want) in cases {
        assert_eq!(parse_send_date(text), Some(want), "{text}");
    }
}

#[test]
fn nonsense_dates_are_none() {
    for text in [
        "",
        "yesterday",
        "Sun",
        "Smarch 8, 2023 12:32pm",
        "February 30, 2023 1:00pm",
        "January 8, 2023 13:32pm",
        "2023-13-01",
        "2023-02-29",
        "2023-01-08T25:00Z",
        "2023-01-08@12h",
        "2023-01-08T12:32:26+99:00",
        "2023-01-08T12:32:26 trailing",
        "99999999999999999999999",
        "-5",
        "٣",
    ] {
        assert_eq!(parse_send_date(text), None, "{text:?}");
    }
}

// ---------------------------------------------------------------------------
// Markdown and JSON

fn small_chat() -> Transcript {
    let text = [
        HEADER,
        &msg("\"*waves* Hello!\""),
        r#"{"name":"You","is_user":true,"send_date":"January 8, 2023 12:33pm","mes":"Hi."}"#,
        r#"{"name":"Aqua","is_user":false,"send_date":1674563371558,"mes":"Second!","swipes":["First","Second!","Third"],"swipe_id":1}"#,
    ]
    .join("\n");
    read(&text).unwrap()
}

#[test]
fn markdown_is_readable() {
    let md = write_markdown(&small_chat());
    assert_eq!(
        md,
        "# Aqua — 2023-01-08 12:32\n\
         \n\
         **Aqua:** *waves* Hello!\n\
         \n\
         **You:** Hi.\n\
         \n\
         **Aqua (2 of 3):** Second!\n"
    );
    let untitled = write_markdown(&Transcript::default());
    assert_eq!(untitled, "# Chat\n");
}

#[test]
fn markdown_escapes_names_but_not_text() {
    let t = Transcript {
        character_name: "B".into(),
        messages: vec![TranscriptMessage::new(Role::User, "*star*", "**bold**")],
        ..Transcript::default()
    };
    assert!(write_markdown(&t).contains("**\\*star\\*:** **bold**"));
}

#[test]
fn json_is_a_clean_document() {
    let doc = write_json(&small_chat());
    assert_eq!(
        doc,
        json!({
            "format": "confab-chat",
            "version": 1,
            "userName": "You",
            "characterName": "Aqua",
            "createDate": "2023-1-8 @12h 32m 26s 0ms",
            "messages": [
                {"role": "assistant", "name": "Aqua", "content": "*waves* Hello!", "sendDate": "January 8, 2023 12:32pm", "swipes": [], "swipeIndex": 0},
                {"role": "user", "name": "You", "content": "Hi.", "sendDate": "January 8, 2023 12:33pm", "swipes": [], "swipeIndex": 0},
                {"role": "assistant", "name": "Aqua", "content": "Second!", "sendDate": "1674563371558", "swipes": ["First", "Second!", "Third"], "swipeIndex": 1},
            ]
        })
    );
}
