//! A push decoder for Server-Sent Events, hardened for provider streams.
//!
//! Why not `eventsource-stream`: version 0.2.3 stalls for good on one invalid
//! UTF-8 byte, drops an event that is not followed by a blank line at EOF
//! (KoboldCpp's final `data: [DONE]`), and buffers without a limit. Wrapping it
//! to fix all three would take more code than this decoder, which follows the
//! WHATWG parsing rules directly. A push API (`feed` bytes, `finish` at EOF) also
//! keeps it synchronous: every chunking can be tested without a runtime.

use crate::error::Error;

/// The default cap on the bytes one event may buffer (8 MB).
pub const DEFAULT_MAX_EVENT_BYTES: usize = 8 * 1024 * 1024;

/// One thing the stream said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseEvent {
    /// A dispatched event: its `data:` lines joined with `\n`.
    Message {
        /// The `event:` field, when one was given.
        event: Option<String>,
        /// The `data:` lines joined with `\n`.
        data: String,
        /// The last `id:` seen on the stream, when any.
        id: Option<String>,
        /// A `retry:` value in milliseconds given with this event.
        retry: Option<u64>,
    },
    /// A comment line (`: OPENROUTER PROCESSING`), without the colon and one space.
    Comment(String),
    /// llama.cpp's non-standard `error: {...}` line, surfaced as soon as it is read.
    ErrorField(String),
}

/// Turns the bytes of a `text/event-stream` into [`SseEvent`]s.
///
/// Bad UTF-8 becomes U+FFFD and decoding goes on; a character split across
/// chunks decodes whole. Lines may end in CRLF, LF or CR. Memory stays under
/// the cap given to [`SseDecoder::with_max_event_bytes`] plus one chunk.
#[derive(Debug)]
pub struct SseDecoder {
    max_event_bytes: usize,
    /// The tail of a multi-byte character cut off by the end of a chunk (at most 3 bytes).
    utf8_tail: Vec<u8>,
    /// The line read so far.
    line: String,
    /// The last chunk ended in CR: a LF starting the next one ends no new line.
    after_cr: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    last_id: Option<String>,
    retry: Option<u64>,
    failed: bool,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl SseDecoder {
    /// A decoder with the default 8 MB cap per event.
    pub fn new() -> Self {
        Self::with_max_event_bytes(DEFAULT_MAX_EVENT_BYTES)
    }

    /// A decoder that fails once one event (or one line) buffers more than `max` bytes.
    pub fn with_max_event_bytes(max: usize) -> Self {
        SseDecoder {
            max_event_bytes: max,
            utf8_tail: Vec::new(),
            line: String::new(),
            after_cr: false,
            event: None,
            data: String::new(),
            has_data: false,
            last_id: None,
            retry: None,
            failed: false,
        }
    }

    /// Decodes the next chunk; returns the events it completed.
    ///
    /// After an error the decoder stays failed and yields nothing more.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, Error> {
        let mut out = Vec::new();
        if self.failed {
            return Ok(out);
        }
        let text = self.decode_lossy(bytes);
        if let Err(e) = self.push_text(&text, &mut out) {
            self.failed = true;
            return Err(e);
        }
        Ok(out)
    }

    /// Ends the stream: flushes a cut-off character, the last line and the last
    /// event, even without the blank line that should have followed them.
    pub fn finish(&mut self) -> Result<Vec<SseEvent>, Error> {
        let mut out = Vec::new();
        if self.failed {
            return Ok(out);
        }
        if !self.utf8_tail.is_empty() {
            self.utf8_tail.clear();
            if let Err(e) = self.push_text("\u{FFFD}", &mut out) {
                self.failed = true;
                return Err(e);
            }
        }
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, &mut out);
        }
        self.dispatch(&mut out);
        self.failed = true; // nothing may follow the end
        Ok(out)
    }

    /// UTF-8 decoding that never stops: bad bytes become U+FFFD, an incomplete
    /// character at the end waits for the next chunk.
    fn decode_lossy(&mut self, bytes: &[u8]) -> String {
        let joined;
        let mut rest: &[u8] = if self.utf8_tail.is_empty() {
            bytes
        } else {
            let mut v = std::mem::take(&mut self.utf8_tail);
            v.extend_from_slice(bytes);
            joined = v;
            &joined
        };
        let mut text = String::with_capacity(rest.len());
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    text.push_str(s);
                    break;
                }
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    // valid_up_to marks a checked UTF-8 prefix, so this cannot fail.
                    text.push_str(std::str::from_utf8(good).unwrap_or_default());
                    match e.error_len() {
                        Some(n) => {
                            text.push('\u{FFFD}');
                            rest = bad.get(n..).unwrap_or_default();
                        }
                        None => {
                            self.utf8_tail = bad.to_vec();
                            break;
                        }
                    }
                }
            }
        }
        text
    }

    fn push_text(&mut self, mut text: &str, out: &mut Vec<SseEvent>) -> Result<(), Error> {
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = text.strip_prefix('\n') {
                text = rest;
            }
        }
        while !text.is_empty() {
            match text.find(['\r', '\n']) {
                Some(i) => {
                    self.grow_line(&text[..i])?;
                    let line = std::mem::take(&mut self.line);
                    self.process_line(&line, out);
                    let bytes = text.as_bytes();
                    if bytes[i] == b'\r' {
                        match bytes.get(i + 1) {
                            Some(b'\n') => text = &text[i + 2..],
                            Some(_) => text = &text[i + 1..],
                            None => {
                                self.after_cr = true;
                                text = "";
                            }
                        }
                    } else {
                        text = &text[i + 1..];
                    }
                }
                None => {
                    self.grow_line(text)?;
                    text = "";
                }
            }
        }
        Ok(())
    }

    /// Appends to the current line unless the event would pass the cap.
    fn grow_line(&mut self, part: &str) -> Result<(), Error> {
        let buffered =
            self.line.len() + self.data.len() + self.event.as_ref().map_or(0, String::len);
        if buffered.saturating_add(part.len()) > self.max_event_bytes {
            self.line = String::new();
            self.data = String::new();
            return Err(Error::TooLarge {
                what: "one event of the provider's reply stream".into(),
                limit: limit_words(self.max_event_bytes),
            });
        }
        self.line.push_str(part);
        Ok(())
    }

    fn process_line(&mut self, line: &str, out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if let Some(comment) = line.strip_prefix(':') {
            out.push(SseEvent::Comment(strip_one_space(comment).to_owned()));
            return;
        }
        let (name, value) = match line.split_once(':') {
            Some((n, v)) => (n, strip_one_space(v)),
            None => (line, ""),
        };
        match name {
            "event" => self.event = Some(value.to_owned()),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry = value.parse().ok();
            }
            "error" => out.push(SseEvent::ErrorField(value.to_owned())),
            _ => {} // unknown fields are ignored, as the spec says
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = self.event.take();
        let retry = self.retry.take();
        if !self.has_data {
            return; // an event with no data is not dispatched (spec)
        }
        self.has_data = false;
        out.push(SseEvent::Message {
            event,
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
            retry,
        });
    }
}

fn strip_one_space(s: &str) -> &str {
    s.strip_prefix(' ').unwrap_or(s)
}

fn limit_words(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MB", bytes / (1024 * 1024))
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(bytes: &[u8]) -> Vec<SseEvent> {
        let mut d = SseDecoder::new();
        let mut out = d.feed(bytes).unwrap();
        out.extend(d.finish().unwrap());
        out
    }

    fn bytewise(bytes: &[u8]) -> Vec<SseEvent> {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for b in bytes {
            out.extend(d.feed(std::slice::from_ref(b)).unwrap());
        }
        out.extend(d.finish().unwrap());
        out
    }

    fn msg(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent::Message {
            event: event.map(str::to_owned),
            data: data.into(),
            id: None,
            retry: None,
        }
    }

    #[test]
    fn line_endings_of_every_kind() {
        let raw = b"data: a\r\n\r\ndata: b\r\rdata: c\n\nevent: x\rdata: d\r\n\n";
        let want = vec![
            msg(None, "a"),
            msg(None, "b"),
            msg(None, "c"),
            msg(Some("x"), "d"),
        ];
        assert_eq!(all(raw), want);
        assert_eq!(bytewise(raw), want);
    }

    #[test]
    fn multi_line_data_comments_and_fields() {
        let raw =
            b": OPENROUTER PROCESSING\n\nid: 7\nretry: 300\ndata: one\ndata:two\nfoo: bar\n\n";
        assert_eq!(
            bytewise(raw),
            vec![
                SseEvent::Comment("OPENROUTER PROCESSING".into()),
                SseEvent::Message {
                    event: None,
                    data: "one\ntwo".into(),
                    id: Some("7".into()),
                    retry: Some(300)
                }
            ]
        );
    }

    #[test]
    fn the_last_event_is_flushed_at_eof() {
        assert_eq!(bytewise(b"data: [DONE]"), vec![msg(None, "[DONE]")]);
        assert_eq!(bytewise(b"data: [DONE]\n"), vec![msg(None, "[DONE]")]);
        assert_eq!(bytewise(b"data: [DONE]\r"), vec![msg(None, "[DONE]")]);
        assert_eq!(bytewise(b"event: only\n"), vec![]);
    }

    #[test]
    fn invalid_utf8_never_stalls_and_split_characters_decode() {
        let raw = "data: h\u{e9}\u{1F600}\n\n".as_bytes();
        assert_eq!(bytewise(raw), vec![msg(None, "h\u{e9}\u{1F600}")]);
        let bad = b"data: a\xffb\n\ndata: c\xe2\x82\n\ndata: after\n\n";
        let want = vec![
            msg(None, "a\u{FFFD}b"),
            msg(None, "c\u{FFFD}"),
            msg(None, "after"),
        ];
        assert_eq!(all(bad), want);
        assert_eq!(bytewise(bad), want);
        assert_eq!(bytewise(b"data: x\xe2"), vec![msg(None, "x\u{FFFD}")]);
    }

    #[test]
    fn llama_cpp_error_field_is_surfaced() {
        assert_eq!(
            bytewise(b"error: {\"code\":500}\n\n"),
            vec![SseEvent::ErrorField("{\"code\":500}".into())]
        );
    }

    #[test]
    fn an_event_over_the_cap_is_a_typed_error_with_bounded_memory() {
        let mut d = SseDecoder::with_max_event_bytes(1024);
        let chunk = [b'a'; 100];
        assert!(d.feed(b"data: ").unwrap().is_empty());
        let mut failed = None;
        for _ in 0..100 {
            if let Err(e) = d.feed(&chunk) {
                failed = Some(e);
                break;
            }
            assert!(d.line.capacity() <= 2048);
        }
        let err = failed.expect("cap reached");
        assert_eq!(err.code(), crate::ErrorCode::TooLarge);
        assert!(d.feed(b"\n\ndata: x\n\n").unwrap().is_empty());
        // Many lines of one event count together.
        let mut d = SseDecoder::with_max_event_bytes(64);
        assert!(d.feed(&b"data: 0123456789\n".repeat(10)).is_err());
    }
}
