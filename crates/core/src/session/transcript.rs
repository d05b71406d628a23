//! Chat transcripts as files carry them: SillyTavern JSONL in and out, plus
//! Markdown and a clean JSON document out.
//!
//! Pure functions over a small model; no storage. A SillyTavern chat file is
//! one JSON object per line: a header (`user_name`, `character_name`,
//! `create_date`, `chat_metadata`), then one message per line. Reading keeps
//! every field Confab does not model, so writing the file back loses nothing
//! a reader of the file would notice.

use serde_json::{Map, Value};

use crate::error::Error;
use crate::session::Role;

/// The largest chat file read (a year of daily chatting is a few MB).
pub const MAX_FILE_BYTES: usize = 100 * 1024 * 1024;
/// The largest single line read (one message, its swipes and their metadata).
pub const MAX_LINE_BYTES: usize = 10 * 1024 * 1024;

/// A chat as files carry it: the active path with each message's alternatives.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transcript {
    /// The user's name as the chat knows it (header `user_name`).
    pub user_name: String,
    /// The character's name (header `character_name`).
    pub character_name: String,
    /// When the chat was started, exactly as written (a number is kept as its digits).
    pub create_date: Option<String>,
    /// SillyTavern's `chat_metadata`, verbatim (author's note, variables, ...).
    pub metadata: Map<String, Value>,
    /// Header fields Confab does not model, verbatim.
    pub header_extra: Map<String, Value>,
    /// The messages, oldest first.
    pub messages: Vec<TranscriptMessage>,
}

/// One message of a [`Transcript`].
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptMessage {
    /// Who wrote it: `is_user` makes it the user's, else `is_system` a system note.
    pub role: Role,
    /// The speaker's name as shown.
    pub name: String,
    /// The text shown (`mes`): normally the chosen swipe.
    pub content: String,
    /// When it was sent, exactly as written (a number is kept as its digits).
    pub send_date: Option<String>,
    /// `send_date` in ms since the Unix epoch, when it can be read.
    pub send_time_ms: Option<i64>,
    /// Every alternative, the shown one included; empty when the message has none.
    pub swipes: Vec<String>,
    /// Which of `swipes` is shown (0 when there are none).
    pub swipe_index: u32,
    /// Every other field of the line, verbatim: SillyTavern's own `extra`,
    /// `swipe_info`, `force_avatar`, `gen_started`, ... and `is_system` (which
    /// SillyTavern also sets on hidden messages, so it is kept as written; the
    /// writer corrects it only when it contradicts `role`).
    pub extra: Map<String, Value>,
}

impl TranscriptMessage {
    /// A plain message with no swipes, date or extra fields.
    pub fn new(role: Role, name: impl Into<String>, content: impl Into<String>) -> Self {
        TranscriptMessage {
            role,
            name: name.into(),
            content: content.into(),
            send_date: None,
            send_time_ms: None,
            swipes: Vec::new(),
            swipe_index: 0,
            extra: Map::new(),
        }
    }
}

/// Reads a SillyTavern chat file (`.jsonl`).
///
/// `file_name` is only used in messages. A file whose first line is already a
/// message (no header) is accepted: the names are then taken from the first
/// user and the first non-user, non-system message. Any malformed line fails
/// the whole read, naming the line; nothing partial is returned.
pub fn read_sillytavern_jsonl(bytes: &[u8], file_name: &str) -> Result<Transcript, Error> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Error::TooLarge {
            what: file_name.to_owned(),
            limit: "100 MB".into(),
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);

    let mut transcript = Transcript::default();
    let mut seen_first = false;
    let mut header_names = (false, false);
    // Line numbers count every physical line, empty ones too, so they match an editor's.
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line_no = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let at = |detail: &str| format!("{file_name}, line {line_no}: {detail}");
        if raw.len() > MAX_LINE_BYTES {
            return Err(Error::TooLarge {
                what: format!("{file_name}, line {line_no}"),
                limit: "10 MB".into(),
            });
        }
        let value: Value =
            serde_json::from_slice(raw).map_err(|e| json_error(file_name, line_no, &e))?;
        let Value::Object(obj) = value else {
            return Err(Error::InvalidInput(at(&format!(
                "expected a JSON object, found {}",
                kind_of(&value)
            ))));
        };
        if !seen_first {
            seen_first = true;
            if is_header(&obj) {
                header_names =
                    read_header(obj, &mut transcript).map_err(|d| Error::InvalidInput(at(&d)))?;
                continue;
            }
        }
        let message = read_message(obj).map_err(|d| Error::InvalidInput(at(&d)))?;
        transcript.messages.push(message);
    }
    if !seen_first {
        return Err(Error::InvalidInput(format!(
            "{file_name} is empty: there is no chat in it"
        )));
    }

    // Without names in a header, the messages say who spoke.
    if !header_names.0 {
        if let Some(m) = transcript.messages.iter().find(|m| m.role == Role::User) {
            transcript.user_name = m.name.clone();
        }
    }
    if !header_names.1 {
        if let Some(m) = transcript
            .messages
            .iter()
            .find(|m| m.role == Role::Assistant)
        {
            transcript.character_name = m.name.clone();
        }
    }
    Ok(transcript)
}

/// Writes a chat as a SillyTavern `.jsonl` file: a header line, then one line per message.
///
/// Fields kept in `header_extra` and `extra` are written back as they were
/// read, so `read(write(read(x))) == read(x)`. JSON key order is not kept
/// (values are): SillyTavern does not depend on it.
pub fn write_sillytavern_jsonl(t: &Transcript) -> Vec<u8> {
    let mut header = t.header_extra.clone();
    header.insert("user_name".into(), Value::String(t.user_name.clone()));
    header.insert(
        "character_name".into(),
        Value::String(t.character_name.clone()),
    );
    if let Some(date) = &t.create_date {
        header.insert("create_date".into(), date_value(date));
    }
    // An absent and an empty `chat_metadata` mean the same to SillyTavern; old files have none.
    if !t.metadata.is_empty() {
        header.insert("chat_metadata".into(), Value::Object(t.metadata.clone()));
    }

    let mut out = Vec::new();
    push_json_line(&mut out, header);
    for m in &t.messages {
        out.push(b'\n');
        push_json_line(&mut out, message_object(m));
    }
    out
}

/// Writes a chat as readable Markdown: a title, then `**Name:** text` per
/// message, with the swipe shown noted as `(2 of 3)` when there are several.
pub fn write_markdown(t: &Transcript) -> String {
    let title = if t.character_name.is_empty() {
        "Chat".to_owned()
    } else {
        t.character_name.clone()
    };
    let mut out = match t.create_date.as_deref().map(readable_date) {
        Some(date) => format!("# {title} — {date}\n"),
        None => format!("# {title}\n"),
    };
    for m in &t.messages {
        out.push('\n');
        let name = escape_markdown(&m.name);
        let note = if m.swipes.len() > 1 {
            let shown = (m.swipe_index as usize).min(m.swipes.len() - 1) + 1;
            format!(" ({shown} of {})", m.swipes.len())
        } else {
            String::new()
        };
        out.push_str(&format!("**{name}{note}:** {}\n", m.content.trim_end()));
    }
    out
}

/// Writes a chat as a clean JSON document for other tools:
/// `{format: "confab-chat", version: 1, userName, characterName, createDate, messages}`.
pub fn write_json(t: &Transcript) -> Value {
    let messages: Vec<Value> = t
        .messages
        .iter()
        .map(|m| {
            serde_json::json!({
                "role": m.role.as_str(),
                "name": m.name,
                "content": m.content,
                "sendDate": m.send_date,
                "swipes": m.swipes,
                "swipeIndex": m.swipe_index,
            })
        })
        .collect();
    serde_json::json!({
        "format": "confab-chat",
        "version": 1,
        "userName": t.user_name,
        "characterName": t.character_name,
        "createDate": t.create_date,
        "messages": messages,
    })
}

/// Reads a SillyTavern date into ms since the Unix epoch.
///
/// Accepts every format SillyTavern has written: Unix ms (`1674563371558`),
/// ISO 8601 (`2025-05-05T10:17:34.221Z`), "humanized" (`2025-05-05@17h17m32s`,
/// `2024-07-12@01h31m37s123ms`, `2023-1-8 @12h 32m 26s 0ms`) and
/// `January 8, 2023 12:32pm`. Times without an offset are taken as UTC (the
/// files do not say which zone they meant).
pub fn parse_send_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let first = s.bytes().next()?;
    if first.is_ascii_digit() {
        parse_numeric_date(s)
    } else {
        parse_month_name_date(s)
    }
}

// ---------------------------------------------------------------------------
// Reading

/// The first line is a header when it is not a message: it has no `mes` but
/// does have one of the header's fields.
fn is_header(obj: &Map<String, Value>) -> bool {
    !obj.contains_key("mes")
        && [
            "user_name",
            "character_name",
            "create_date",
            "chat_metadata",
        ]
        .iter()
        .any(|k| obj.contains_key(*k))
}

/// Fills the header fields; returns whether each name was given.
fn read_header(mut obj: Map<String, Value>, t: &mut Transcript) -> Result<(bool, bool), String> {
    let user = take_text(&mut obj, "user_name")?;
    let character = take_text(&mut obj, "character_name")?;
    let given = (user.is_some(), character.is_some());
    t.user_name = user.unwrap_or_default();
    t.character_name = character.unwrap_or_default();
    t.create_date = take_date(&mut obj, "create_date");
    // Anything but an object is not metadata Confab can use: it stays verbatim.
    if let Some(Value::Object(_)) = obj.get("chat_metadata") {
        if let Some(Value::Object(meta)) = obj.remove("chat_metadata") {
            t.metadata = meta;
        }
    }
    t.header_extra = obj;
    Ok(given)
}

fn read_message(mut obj: Map<String, Value>) -> Result<TranscriptMessage, String> {
    let content = match obj.remove("mes") {
        None => return Err("`mes` (the message text) is missing".into()),
        Some(v) => {
            text_of(&v).ok_or_else(|| format!("`mes` must be text, found {}", kind_of(&v)))?
        }
    };
    let name = take_text(&mut obj, "name")?.unwrap_or_default();

    // A plain bool `is_user` is fully described by `role`; anything odder stays as written.
    let is_user = truthy(obj.get("is_user"));
    if matches!(obj.get("is_user"), Some(Value::Bool(_))) {
        obj.remove("is_user");
    }
    let role = if is_user {
        Role::User
    } else if truthy(obj.get("is_system")) {
        Role::System
    } else {
        Role::Assistant
    };

    let send_date = take_date(&mut obj, "send_date");
    let send_time_ms = send_date.as_deref().and_then(parse_send_date);

    // Only a non-empty list of texts is swipes; `[]` or `null` stay verbatim.
    let mut swipes = Vec::new();
    let mut swipe_index = 0;
    if let Some(Value::Array(items)) = obj.get("swipes") {
        if !items.is_empty() {
            for (i, item) in items.iter().enumerate() {
                swipes.push(text_of(item).ok_or_else(|| {
                    format!(
                        "`swipes` item {} must be text, found {}",
                        i + 1,
                        kind_of(item)
                    )
                })?);
            }
            obj.remove("swipes");
            let last = swipes.len() - 1;
            // Missing or unreadable means the first; out of range means the nearest end.
            let index = match obj.remove("swipe_id") {
                Some(Value::Number(n)) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                    (Some(u), _, _) => u.min(last as u64) as usize,
                    (None, Some(_), _) => 0, // negative
                    (None, None, Some(f)) if f > 0.0 => (f as usize).min(last),
                    _ => 0,
                },
                Some(Value::String(s)) => s
                    .trim()
                    .parse::<u64>()
                    .map(|u| u.min(last as u64) as usize)
                    .unwrap_or(0),
                _ => 0,
            };
            swipe_index = u32::try_from(index).unwrap_or(u32::MAX);
        }
    }

    Ok(TranscriptMessage {
        role,
        name,
        content,
        send_date,
        send_time_ms,
        swipes,
        swipe_index,
        extra: obj,
    })
}

/// Takes a text field: text, or a number as its digits; absent or `null` is `None`.
fn take_text(obj: &mut Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => text_of(&v)
            .map(Some)
            .ok_or_else(|| format!("`{key}` must be text, found {}", kind_of(&v))),
    }
}

/// Takes a date field written as text or as an integer; any other value stays
/// in `obj` verbatim so that writing the file back keeps it.
fn take_date(obj: &mut Map<String, Value>, key: &str) -> Option<String> {
    let text = match obj.get(key)? {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        _ => return None,
    };
    obj.remove(key);
    Some(text)
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// JavaScript's truthiness, because SillyTavern tests these flags with it.
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(_)) | Some(Value::Object(_)) => true,
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn json_error(file_name: &str, line_no: usize, e: &serde_json::Error) -> Error {
    let column = e.column();
    let detail = if e.is_eof() {
        "the line ends before its JSON does (is the file cut short?)".to_owned()
    } else {
        // serde_json appends " at line 1 column N"; the column is reported separately.
        let text = e.to_string();
        let text = text
            .rfind(" at line ")
            .map_or(text.as_str(), |i| &text[..i])
            .to_owned();
        format!("this is not valid JSON ({text})")
    };
    Error::InvalidInput(format!(
        "{file_name}, line {line_no}, column {column}: {detail}"
    ))
}

// ---------------------------------------------------------------------------
// Writing

fn message_object(m: &TranscriptMessage) -> Map<String, Value> {
    let mut obj = m.extra.clone();
    obj.insert("name".into(), Value::String(m.name.clone()));

    // Keep an odd but agreeing `is_user`; otherwise write the plain bool.
    let want_user = m.role == Role::User;
    if truthy(obj.get("is_user")) != want_user || !obj.contains_key("is_user") {
        obj.insert("is_user".into(), Value::Bool(want_user));
    }
    // `is_system` stays as written unless it contradicts the role.
    match m.role {
        Role::System if !truthy(obj.get("is_system")) => {
            obj.insert("is_system".into(), Value::Bool(true));
        }
        Role::Assistant if truthy(obj.get("is_system")) => {
            obj.insert("is_system".into(), Value::Bool(false));
        }
        _ => {}
    }

    match (&m.send_date, m.send_time_ms) {
        (Some(date), _) => {
            obj.insert("send_date".into(), date_value(date));
        }
        (None, Some(ms)) => {
            obj.insert("send_date".into(), Value::from(ms));
        }
        (None, None) => {}
    }
    obj.insert("mes".into(), Value::String(m.content.clone()));
    if !m.swipes.is_empty() {
        let index = (m.swipe_index as usize).min(m.swipes.len() - 1);
        obj.insert("swipe_id".into(), Value::from(index));
        obj.insert(
            "swipes".into(),
            Value::Array(m.swipes.iter().cloned().map(Value::String).collect()),
        );
    }
    obj
}

/// A date as written: an integer goes back as a number (old files wrote Unix
/// ms as numbers; SillyTavern reads a digit string and a number alike).
fn date_value(date: &str) -> Value {
    // Only the number's own spelling: "007" must come back as "007".
    if let Ok(n) = date.parse::<u64>() {
        if n.to_string() == date {
            return Value::from(n);
        }
    }
    Value::String(date.to_owned())
}

fn push_json_line(out: &mut Vec<u8>, obj: Map<String, Value>) {
    // Serialising a `Value` into memory cannot fail; should it ever, an empty
    // object keeps the file readable rather than panicking.
    match serde_json::to_vec(&Value::Object(obj)) {
        Ok(bytes) => out.extend_from_slice(&bytes),
        Err(_) => out.extend_from_slice(b"{}"),
    }
}

fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '*' | '_' | '`' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `2025-05-05 17:17` for a readable date, or the text as written.
fn readable_date(s: &str) -> String {
    match parse_send_date(s) {
        Some(ms) => {
            let (y, mo, d, h, mi) = civil_from_ms(ms);
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}")
        }
        None => s.to_owned(),
    }
}

// ---------------------------------------------------------------------------
// Dates

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A tiny cursor over ASCII; every step checks bounds, so no input panics.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor {
            s: s.as_bytes(),
            i: 0,
        }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn eat_ci(&mut self, word: &str) -> bool {
        let end = self.i + word.len();
        match self.s.get(self.i..end) {
            Some(got) if got.eq_ignore_ascii_case(word.as_bytes()) => {
                self.i = end;
                true
            }
            _ => false,
        }
    }
    fn spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }
    /// Between `min` and `max` digits, as a number.
    fn num(&mut self, min: usize, max: usize) -> Option<i64> {
        let start = self.i;
        let mut n: i64 = 0;
        while self.i - start < max {
            match self.peek() {
                Some(c @ b'0'..=b'9') => {
                    n = n * 10 + i64::from(c - b'0');
                    self.i += 1;
                }
                _ => break,
            }
        }
        (self.i - start >= min).then_some(n)
    }
    fn letters(&mut self) -> &'a [u8] {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.i += 1;
        }
        &self.s[start..self.i]
    }
}

/// ISO 8601 (`2025-05-05T10:17:34.221Z`, `2023-01-08`, `2023-01-08 12:32:26+01:00`)
/// and the humanized forms (`2025-05-05@17h17m32s`, `2023-1-8 @12h 32m 26s 0ms`).
fn parse_numeric_date(s: &str) -> Option<i64> {
    let mut c = Cursor::new(s);
    let year = c.num(4, 4)?;
    if !c.eat(b'-') {
        return None;
    }
    let month = c.num(1, 2)?;
    if !c.eat(b'-') {
        return None;
    }
    let day = c.num(1, 2)?;
    if c.done() {
        return to_ms(year, month, day, 0, 0, 0, 0);
    }
    c.spaces();
    if c.eat(b'@') {
        // Humanized: the numbers carry their units; spaces between them are optional.
        c.spaces();
        let hour = c.num(1, 2)?;
        (c.eat(b'h')).then_some(())?;
        c.spaces();
        let minute = c.num(1, 2)?;
        (c.eat(b'm')).then_some(())?;
        c.spaces();
        let second = c.num(1, 2)?;
        (c.eat(b's')).then_some(())?;
        c.spaces();
        let mut ms = 0;
        if !c.done() {
            ms = c.num(1, 3)?;
            c.eat_ci("ms").then_some(())?;
        }
        c.spaces();
        if !c.done() {
            return None;
        }
        return to_ms(year, month, day, hour, minute, second, ms);
    }
    // ISO: `T` or a space before the time (the space was eaten above).
    if !c.eat(b'T') {
        c.eat(b't');
    }
    let hour = c.num(1, 2)?;
    c.eat(b':').then_some(())?;
    let minute = c.num(2, 2)?;
    let mut second = 0;
    let mut ms = 0;
    if c.eat(b':') {
        second = c.num(2, 2)?;
        if c.eat(b'.') || c.eat(b',') {
            let start = c.i;
            let digits = c.num(1, 9)?;
            let len = (c.i - start) as u32;
            // Keep milliseconds; finer digits are dropped.
            ms = if len >= 3 {
                digits / 10_i64.pow(len - 3)
            } else {
                digits * 10_i64.pow(3 - len)
            };
        }
    }
    c.spaces();
    let offset_min = if c.done() || c.eat(b'Z') || c.eat(b'z') {
        0
    } else {
        let sign = if c.eat(b'+') {
            1
        } else if c.eat(b'-') {
            -1
        } else {
            return None;
        };
        let oh = c.num(2, 2)?;
        c.eat(b':');
        let om = c.num(0, 2)?;
        if oh > 23 || om > 59 {
            return None;
        }
        sign * (oh * 60 + om)
    };
    if !c.done() {
        return None;
    }
    to_ms(year, month, day, hour, minute, second, ms).map(|t| t - offset_min * 60_000)
}

/// `January 8, 2023 12:32pm` (also `Jan 8, 2023 12:32 PM`).
fn parse_month_name_date(s: &str) -> Option<i64> {
    let mut c = Cursor::new(s);
    let word = c.letters().to_ascii_lowercase();
    if word.len() < 3 {
        return None;
    }
    let month = MONTHS
        .iter()
        .position(|m| m.as_bytes().starts_with(&word))? as i64
        + 1;
    c.spaces();
    let day = c.num(1, 2)?;
    c.eat(b',');
    c.spaces();
    let year = c.num(4, 4)?;
    c.spaces();
    if c.done() {
        return to_ms(year, month, day, 0, 0, 0, 0);
    }
    let hour = c.num(1, 2)?;
    c.eat(b':').then_some(())?;
    let minute = c.num(1, 2)?;
    let mut second = 0;
    if c.eat(b':') {
        second = c.num(1, 2)?;
    }
    c.spaces();
    let hour = if c.eat_ci("am") {
        (1..=12).contains(&hour).then_some(hour % 12)?
    } else if c.eat_ci("pm") {
        (1..=12).contains(&hour).then_some(hour % 12 + 12)?
    } else {
        hour
    };
    c.spaces();
    if !c.done() {
        return None;
    }
    to_ms(year, month, day, hour, minute, second, 0)
}

fn to_ms(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, ms: i64) -> Option<i64> {
    let valid = (1..=12).contains(&mo)
        && (1..=days_in_month(y, mo)).contains(&d)
        && (0..=23).contains(&h)
        && (0..=59).contains(&mi)
        && (0..=59).contains(&s)
        && (0..=999).contains(&ms);
    valid.then(|| days_from_civil(y, mo, d) * 86_400_000 + ((h * 60 + mi) * 60 + s) * 1000 + ms)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day, hour, minute) of a time in ms since the epoch, UTC.
fn civil_from_ms(ms: i64) -> (i64, i64, i64, i64, i64) {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000) / 60_000;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 60, rem % 60)
}
