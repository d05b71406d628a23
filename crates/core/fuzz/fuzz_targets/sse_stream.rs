//! The SSE decoder under every chunking, then the OpenAI and Anthropic stream
//! parsers on what it decoded, driven as `llm::stream` drives them.
//!
//! Input: byte 0 picks the per-event cap, byte 1 seeds the chunk sizes, the
//! rest is the response body. Invariants: the events do not depend on how the
//! body was cut (up to where a cap error stops the stream); no event is larger
//! than the cap; the only decoder error is `too_large`; the parsers answer with
//! the provider error kinds, never report a cut stream's last event as a
//! protocol error, say nothing after `[DONE]`/`message_stop`, and emit no more
//! reply text than the events carried.
#![no_main]

use confab_core::llm::{
    AnthropicStream, OpenAiStream, SseDecoder, SseEvent, StreamParser, WireEvent,
    DEFAULT_MAX_EVENT_BYTES,
};
use confab_core::{Error, ErrorCode};
use confab_core_fuzz::assert_code;
use libfuzzer_sys::fuzz_target;

/// Events until the first error, which is returned beside them; `final_from`
/// is where the events `finish` flushed begin.
struct Decoded {
    events: Vec<SseEvent>,
    final_from: usize,
    error: Option<Error>,
}

fn decode(body: &[u8], cap: usize, cuts: &mut impl FnMut() -> usize) -> Decoded {
    let mut d = SseDecoder::with_max_event_bytes(cap);
    let mut events = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let n = cuts().clamp(1, rest.len());
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        match d.feed(chunk) {
            Ok(evs) => events.extend(evs),
            Err(e) => {
                let final_from = events.len();
                return Decoded {
                    events,
                    final_from,
                    error: Some(e),
                };
            }
        }
    }
    let final_from = events.len();
    match d.finish() {
        Ok(evs) => events.extend(evs),
        Err(e) => {
            return Decoded {
                events,
                final_from,
                error: Some(e),
            }
        }
    }
    // Nothing follows the end.
    assert!(d
        .feed(b"data: more\n\n")
        .expect("a finished decoder is quiet")
        .is_empty());
    Decoded {
        events,
        final_from,
        error: None,
    }
}

fn event_bytes(ev: &SseEvent) -> usize {
    match ev {
        SseEvent::Message { data, .. } => data.len(),
        SseEvent::Comment(c) => c.len(),
        SseEvent::ErrorField(e) => e.len(),
    }
}

const STREAM_ERRORS: &[ErrorCode] = &[
    ErrorCode::Protocol,
    ErrorCode::Truncated,
    ErrorCode::Upstream,
    ErrorCode::Unauthorized,
    ErrorCode::RateLimited,
    ErrorCode::Overloaded,
    ErrorCode::ContextTooLong,
    ErrorCode::Timeout,
    ErrorCode::BadRequest,
];

/// Runs `parser` over the decoded events the way `llm::stream` does.
fn interpret(mut parser: impl StreamParser, decoded: &Decoded, ends: &dyn Fn(&SseEvent) -> bool) {
    let mut text_bytes = 0usize;
    let mut ended = false;
    let mut failed = false;
    for (i, ev) in decoded.events.iter().enumerate() {
        let is_final = i >= decoded.final_from;
        let result = if is_final {
            parser.on_final_event(ev)
        } else {
            parser.on_event(ev)
        };
        match result {
            Ok(out) => {
                assert!(
                    !ended || out.is_empty(),
                    "events after the end of the reply: {out:?}"
                );
                for w in &out {
                    if let WireEvent::Text(t) | WireEvent::Reasoning(t) = w {
                        assert!(!t.is_empty(), "an empty text event");
                        text_bytes += t.len();
                    }
                }
            }
            Err(e) => {
                assert_code(&e, STREAM_ERRORS, "stream parser");
                if is_final {
                    assert_ne!(
                        e.code(),
                        ErrorCode::Protocol,
                        "a cut last event is `truncated`"
                    );
                }
                failed = true;
                break;
            }
        }
        ended = ended || ends(ev);
    }
    let carried: usize = decoded.events.iter().map(event_bytes).sum();
    assert!(
        text_bytes <= carried,
        "{text_bytes} bytes of text from {carried} bytes of events"
    );
    if !failed && decoded.error.is_none() {
        if let Err(e) = parser.on_eof() {
            assert_code(&e, &[ErrorCode::Truncated], "on_eof");
        }
    }
}

fn data_is(ev: &SseEvent, want: &str) -> bool {
    matches!(ev, SseEvent::Message { data, .. } if data.trim() == want)
}

fuzz_target!(|data: &[u8]| {
    let (cap, seed, body) = match data {
        [c, s, rest @ ..] => (*c, *s, rest),
        _ => return,
    };
    let cap = match cap % 4 {
        0 => 16,
        1 => 256,
        2 => 4096,
        _ => DEFAULT_MAX_EVENT_BYTES,
    };

    // The reference: one byte at a time.
    let reference = decode(body, cap, &mut || 1);
    // Some other chunking: sizes from a tiny PRNG, from 1 byte to the whole body.
    let mut state = u64::from(seed) | 1;
    let mut cuts = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        match state % 4 {
            0 => 1 + (state >> 8) as usize % 3,
            1 => 1 + (state >> 8) as usize % 64,
            2 => 1 + (state >> 8) as usize % 4096,
            _ => usize::MAX,
        }
    };
    let chunked = decode(body, cap, &mut cuts);
    let whole = decode(body, cap, &mut || usize::MAX);

    for d in [&reference, &chunked, &whole] {
        for ev in &d.events {
            assert!(event_bytes(ev) <= cap, "an event over the cap ({cap})");
        }
        if let Some(e) = &d.error {
            assert_code(e, &[ErrorCode::TooLarge], "SSE decoder");
        }
        assert_eq!(
            d.error.is_some(),
            reference.error.is_some(),
            "the cap depends on chunking"
        );
        if reference.error.is_none() {
            assert_eq!(d.events, reference.events, "events depend on chunking");
        } else {
            // A chunk that hits the cap loses the events it completed, no more.
            assert!(
                reference.events.starts_with(&d.events),
                "events depend on chunking"
            );
        }
    }

    interpret(OpenAiStream::new(), &reference, &|ev| data_is(ev, "[DONE]"));
    interpret(AnthropicStream::new(), &reference, &|ev| {
        // The kind as the parser reads it: `type` in valid JSON data, else the `event:` line.
        let SseEvent::Message { data, event, .. } = ev else {
            return false;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(data.trim()) else {
            return false;
        };
        let kind = v.get("type").and_then(|t| t.as_str()).or(event.as_deref());
        kind == Some("message_stop")
    });
});
