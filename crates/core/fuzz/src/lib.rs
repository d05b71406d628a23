//! What the fuzz targets share: JSON shaped like the formats they read (so the
//! fuzzer reaches the fields, not only the JSON parser), and the invariants
//! every reader promises (typed errors, round trips).

use arbitrary::{Result, Unstructured};
use confab_core::{Error, ErrorCode};
use serde_json::{Map, Number, Value};

mod books;
mod cards;

pub use books::*;
pub use cards::*;

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
