//! SillyTavern chat files (`read_sillytavern_jsonl`): the raw bytes, then a
//! JSONL file built from them (a header and messages with the fields
//! SillyTavern writes). Invariants: errors are `invalid_input`/`too_large`; a
//! chat that was read writes back and reads the same (`read(write(read(x))) ==
//! read(x)`, as the writer promises); Markdown and JSON exports stay in
//! proportion to the file.
#![no_main]

use arbitrary::{Result, Unstructured};
use confab_core::session::transcript::{
    parse_send_date, read_sillytavern_jsonl, write_json, write_markdown, write_sillytavern_jsonl,
};
use confab_core::ErrorCode;
use confab_core_fuzz::{assert_code, assert_same, json_object, json_value, string};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

const HEADER_FIELDS: &[&str] = &[
    "user_name",
    "character_name",
    "create_date",
    "chat_metadata",
];
const MESSAGE_FIELDS: &[&str] = &[
    "name",
    "is_user",
    "is_system",
    "send_date",
    "mes",
    "swipes",
    "swipe_id",
    "swipe_info",
    "extra",
    "force_avatar",
    "gen_started",
    "gen_finished",
    "title",
];

fn check(bytes: &[u8]) {
    let t = match read_sillytavern_jsonl(bytes, "fuzz.jsonl") {
        Ok(t) => t,
        Err(e) => return assert_code(&e, &[ErrorCode::InvalidInput, ErrorCode::TooLarge], "read"),
    };
    let written = write_sillytavern_jsonl(&t);
    let back = read_sillytavern_jsonl(&written, "back.jsonl")
        .unwrap_or_else(|e| panic!("a written chat reads back: {e}"));
    assert_same(&back, &t, "read -> write -> read changed the chat");
    assert_eq!(
        write_sillytavern_jsonl(&back),
        written,
        "a second write differs"
    );
    let md = write_markdown(&t);
    assert!(
        md.len() <= 4 * bytes.len() + 256,
        "Markdown of {} bytes from {} bytes",
        md.len(),
        bytes.len()
    );
    let _ = write_json(&t);
    for m in &t.messages {
        if m.swipes.is_empty() {
            assert_eq!(m.swipe_index, 0);
        } else {
            assert!(
                (m.swipe_index as usize) < m.swipes.len(),
                "the shown swipe exists"
            );
        }
        if let Some(d) = &m.send_date {
            assert_eq!(m.send_time_ms, parse_send_date(d));
        }
    }
}

fn line(u: &mut Unstructured<'_>, header: bool) -> Result<Value> {
    let mut obj: Map<String, Value> = json_object(
        u,
        if header {
            HEADER_FIELDS
        } else {
            MESSAGE_FIELDS
        },
        2,
    )?;
    if !header && u.ratio(7, 8)? {
        let mes = if u.ratio(7, 8)? {
            Value::String(string(u)?)
        } else {
            json_value(u, &[], 1)?
        };
        obj.insert("mes".into(), mes);
    }
    if !header && u.ratio(1, 3)? {
        let n = u.int_in_range(0..=3)?;
        let mut swipes = Vec::new();
        for _ in 0..n {
            swipes.push(Value::String(string(u)?));
        }
        obj.insert("swipes".into(), Value::Array(swipes));
    }
    Ok(Value::Object(obj))
}

fn shaped(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    if u.ratio(1, 8)? {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    let with_header = u.ratio(3, 4)?;
    let n = u.int_in_range(0..=6)?;
    for i in 0..=n {
        if i == 0 && !with_header {
            continue;
        }
        let v = line(u, i == 0)?;
        out.extend_from_slice(&serde_json::to_vec(&v).expect("a Value serialises"));
        out.extend_from_slice(match u.choose_index(4)? {
            0 => b"\r\n".as_slice(),
            1 => b"\n\n",
            _ => b"\n",
        });
    }
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Ok(bytes) = shaped(&mut Unstructured::new(data)) {
        check(&bytes);
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parse_send_date(s);
    }
});
