//! The provider wire layer fed raw bytes in every chunking: whole, byte by byte
//! and random splits (fixed seeds). All offline.

use confab_core::llm::{AnthropicStream, OpenAiStream, SseDecoder, StreamParser, Usage, WireEvent};
use confab_core::{Error, ErrorCode};

const OPENAI_RAW: &[u8] = include_bytes!("fixtures/streams/openai_stream.raw");
const ANTHROPIC_RAW: &[u8] = include_bytes!("fixtures/streams/anthropic_stream.raw");

/// The capture minus its HTTP head.
fn openai_body() -> &'static [u8] {
    let at = OPENAI_RAW
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("capture has a head");
    &OPENAI_RAW[at + 4..]
}

/// A tiny deterministic generator: no dependency, same splits every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % bound.max(1)
    }
}

/// Every chunking we try: whole, byte by byte, and random splits.
fn chunkings(raw: &[u8]) -> Vec<Vec<&[u8]>> {
    let mut all = vec![vec![raw], raw.chunks(1).collect(), raw.chunks(7).collect()];
    for seed in 1..=20u64 {
        let mut rng = Lcg(seed);
        let mut chunks = Vec::new();
        let mut rest = raw;
        while !rest.is_empty() {
            let n = 1 + rng.next(rest.len().min(40));
            let (a, b) = rest.split_at(n);
            chunks.push(a);
            rest = b;
        }
        all.push(chunks);
    }
    all
}

/// Runs chunks through a decoder and parser; the events up to the first error.
fn run<P: StreamParser>(mut parser: P, chunks: &[&[u8]]) -> (Vec<WireEvent>, Result<(), Error>) {
    let mut dec = SseDecoder::new();
    let mut out = Vec::new();
    let step = |evs: Result<Vec<_>, Error>,
                parser: &mut P,
                out: &mut Vec<WireEvent>|
     -> Result<(), Error> {
        for ev in evs? {
            out.extend(parser.on_event(&ev)?);
        }
        Ok(())
    };
    for c in chunks {
        if let Err(e) = step(dec.feed(c), &mut parser, &mut out) {
            return (out, Err(e));
        }
    }
    let last = dec.finish().and_then(|evs| {
        for ev in evs {
            out.extend(parser.on_final_event(&ev)?);
        }
        Ok(())
    });
    if let Err(e) = last {
        return (out, Err(e));
    }
    match parser.on_eof() {
        Ok(evs) => {
            out.extend(evs);
            (out, Ok(()))
        }
        Err(e) => (out, Err(e)),
    }
}

/// Checks every chunking gives the same result, and returns it.
fn run_all<P: StreamParser>(
    make: impl Fn() -> P,
    raw: &[u8],
) -> (Vec<WireEvent>, Result<(), Error>) {
    let mut first: Option<(Vec<WireEvent>, Result<(), ErrorCode>)> = None;
    let mut result = None;
    for chunks in chunkings(raw) {
        let (evs, res) = run(make(), &chunks);
        let key = (evs.clone(), res.as_ref().map(|_| ()).map_err(Error::code));
        match &first {
            None => first = Some(key),
            Some(f) => assert_eq!(f, &key, "chunking changed the result"),
        }
        result.get_or_insert((evs, res));
    }
    result.expect("at least one chunking")
}

fn text(evs: &[WireEvent]) -> String {
    evs.iter()
        .filter_map(|e| match e {
            WireEvent::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

fn reasoning(evs: &[WireEvent]) -> String {
    evs.iter()
        .filter_map(|e| match e {
            WireEvent::Reasoning(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

fn finish(evs: &[WireEvent]) -> Option<&str> {
    evs.iter().find_map(|e| match e {
        WireEvent::Finish { reason } => Some(reason.as_str()),
        _ => None,
    })
}

fn usage(evs: &[WireEvent]) -> Option<Usage> {
    evs.iter().rev().find_map(|e| match e {
        WireEvent::Usage(u) => Some(*u),
        _ => None,
    })
}

fn err_code(res: Result<(), Error>) -> ErrorCode {
    res.expect_err("an error").code()
}

#[test]
fn the_openai_capture_in_every_chunking() {
    let (evs, res) = run_all(OpenAiStream::new, openai_body());
    res.unwrap();
    assert_eq!(text(&evs), "Mock response from gpt-4o-mini.");
    assert_eq!(finish(&evs), Some("stop"));
    assert_eq!(
        usage(&evs),
        Some(Usage {
            prompt_tokens: Some(1),
            completion_tokens: Some(7),
            ..Usage::default()
        })
    );
}

#[test]
fn the_anthropic_capture_in_every_chunking() {
    let (evs, res) = run_all(AnthropicStream::new, ANTHROPIC_RAW);
    res.unwrap();
    assert_eq!(text(&evs), "Mock response from claude-sonnet-4-6.");
    assert_eq!(finish(&evs), Some("end_turn"));
    assert!(evs.contains(&WireEvent::KeepAlive), "ping");
    // input_tokens from message_start, output_tokens from message_delta.
    assert_eq!(
        usage(&evs),
        Some(Usage {
            prompt_tokens: Some(1),
            completion_tokens: Some(9),
            ..Usage::default()
        })
    );
}

#[test]
fn the_captures_with_crlf_line_endings() {
    let crlf = |raw: &[u8]| {
        String::from_utf8_lossy(raw)
            .replace('\n', "\r\n")
            .into_bytes()
    };
    let (evs, res) = run_all(OpenAiStream::new, &crlf(openai_body()));
    res.unwrap();
    assert_eq!(text(&evs), "Mock response from gpt-4o-mini.");
    let (evs, res) = run_all(AnthropicStream::new, &crlf(ANTHROPIC_RAW));
    res.unwrap();
    assert_eq!(text(&evs), "Mock response from claude-sonnet-4-6.");
}

#[test]
fn reasoning_is_kept_apart_from_the_reply() {
    let raw = br#"data: {"choices":[{"delta":{"reasoning":"think "},"finish_reason":null}]}

data: {"choices":[{"delta":{"reasoning_content":"hard"},"finish_reason":null}]}

data: {"choices":[{"delta":{"content":"Hi"},"finish_reason":null}]}

data: {"choices":[{"delta":{},"finish_reason":"stop"}]}

data: [DONE]

"#;
    let (evs, res) = run_all(OpenAiStream::new, raw);
    res.unwrap();
    assert_eq!(reasoning(&evs), "think hard");
    assert_eq!(text(&evs), "Hi");

    let raw = br#"event: message_start
data: {"type":"message_start","message":{"usage":{"input_tokens":12}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me see."}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQB"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Yes."}}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":30}}

event: message_stop
data: {"type":"message_stop"}

"#;
    let (evs, res) = run_all(AnthropicStream::new, raw);
    res.unwrap();
    assert_eq!(reasoning(&evs), "Let me see.");
    assert_eq!(text(&evs), "Yes.");
    assert_eq!(finish(&evs), Some("max_tokens"));
    assert_eq!(
        usage(&evs),
        Some(Usage {
            prompt_tokens: Some(12),
            completion_tokens: Some(30),
            ..Usage::default()
        })
    );
}

#[test]
fn koboldcpp_null_string_and_a_final_done_without_a_blank_line() {
    let raw = b"data: {\"choices\":[{\"delta\":{\"content\":\"A\"},\"finish_reason\":\"null\"}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"B\"},\"finish_reason\":\"length\"}]}\n\ndata: [DONE]";
    let (evs, res) = run_all(OpenAiStream::new, raw);
    res.unwrap();
    assert_eq!(text(&evs), "AB");
    assert_eq!(finish(&evs), Some("length"));
    assert_eq!(
        evs.iter()
            .filter(|e| matches!(e, WireEvent::Finish { .. }))
            .count(),
        1
    );
}

#[test]
fn openrouter_keep_alives_and_mid_stream_errors() {
    let raw = br#": OPENROUTER PROCESSING

data: {"choices":[{"delta":{"content":"Hel"},"finish_reason":null}]}

data: {"id":"gen-1","object":"chat.completion.chunk","error":{"code":502,"message":"Provider returned error"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}

"#;
    let (evs, res) = run_all(OpenAiStream::new, raw);
    assert_eq!(evs.first(), Some(&WireEvent::KeepAlive));
    assert_eq!(text(&evs), "Hel");
    assert_eq!(err_code(res), ErrorCode::Overloaded);

    let with = |code: &str, message: &str| {
        format!("data: {{\"error\":{{\"code\":{code},\"message\":\"{message}\"}},\"choices\":[{{\"delta\":{{\"content\":\"\"}},\"finish_reason\":\"error\"}}]}}\n\n")
    };
    let cases = [
        ("401", "No auth", ErrorCode::Unauthorized),
        ("\"403\"", "Forbidden", ErrorCode::Unauthorized),
        ("429", "Slow down", ErrorCode::RateLimited),
        ("\"overloaded\"", "busy", ErrorCode::Overloaded),
        ("529", "busy", ErrorCode::Overloaded),
        (
            "400",
            "This endpoint's maximum context length is 4096 tokens",
            ErrorCode::ContextTooLong,
        ),
        ("500", "Internal", ErrorCode::Upstream),
        ("\"server_error\"", "Something broke", ErrorCode::Upstream),
    ];
    for (code, message, want) in cases {
        let (_, res) = run_all(OpenAiStream::new, with(code, message).as_bytes());
        assert_eq!(err_code(res), want, "{code} {message}");
    }
    // finish_reason "error" with no error object is still an error.
    let raw = b"data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"error\"}]}\n\n";
    assert_eq!(
        err_code(run_all(OpenAiStream::new, raw).1),
        ErrorCode::Upstream
    );
}

#[test]
fn openai_in_band_error_then_close() {
    let raw = br#"data: {"choices":[{"delta":{"content":"x"},"finish_reason":null}]}

data: {"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}

"#;
    let (evs, res) = run_all(OpenAiStream::new, raw);
    assert_eq!(text(&evs), "x");
    let err = res.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Upstream);
    assert!(err.to_string().contains("server had an error"), "{err}");
}

#[test]
fn llama_cpp_error_field_line() {
    let raw = br#"data: {"choices":[{"delta":{"content":"x"},"finish_reason":null}]}

error: {"code":400,"message":"the request exceeds the available context size","type":"exceed_context_size_error"}

"#;
    let (evs, res) = run_all(OpenAiStream::new, raw);
    assert_eq!(text(&evs), "x");
    assert_eq!(err_code(res), ErrorCode::ContextTooLong);
    let (_, res) = run_all(OpenAiStream::new, b"error: something went wrong\n\n");
    assert_eq!(err_code(res), ErrorCode::Upstream);
}

#[test]
fn eof_after_a_finish_is_success_and_without_one_is_truncated() {
    let finished =
        b"data: {\"choices\":[{\"delta\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}]}\n\n";
    run_all(OpenAiStream::new, finished).1.unwrap();
    let cut = b"data: {\"choices\":[{\"delta\":{\"content\":\"x\"},\"finish_reason\":null}]}\n\n";
    let (evs, res) = run_all(OpenAiStream::new, cut);
    assert_eq!(text(&evs), "x");
    assert_eq!(err_code(res), ErrorCode::Truncated);
    assert_eq!(
        err_code(run_all(OpenAiStream::new, b"").1),
        ErrorCode::Truncated
    );

    // Anthropic: cut before message_delta is truncated; a stop_reason without message_stop is not.
    let at = ANTHROPIC_RAW
        .windows(20)
        .position(|w| w == b"event: message_delta")
        .unwrap();
    let (evs, res) = run_all(AnthropicStream::new, &ANTHROPIC_RAW[..at]);
    assert_eq!(text(&evs), "Mock response from claude-sonnet-4-6.");
    assert_eq!(err_code(res), ErrorCode::Truncated);
    let at = ANTHROPIC_RAW
        .windows(19)
        .position(|w| w == b"event: message_stop")
        .unwrap();
    run_all(AnthropicStream::new, &ANTHROPIC_RAW[..at])
        .1
        .unwrap();
}

#[test]
fn anthropic_error_events_are_typed() {
    let ev = |t: &str, m: &str| {
        format!("event: error\ndata: {{\"type\":\"error\",\"error\":{{\"type\":\"{t}\",\"message\":\"{m}\"}}}}\n\n")
    };
    let cases = [
        ("overloaded_error", "Overloaded", ErrorCode::Overloaded),
        ("rate_limit_error", "Too many", ErrorCode::RateLimited),
        (
            "authentication_error",
            "invalid x-api-key",
            ErrorCode::Unauthorized,
        ),
        (
            "invalid_request_error",
            "prompt is too long: 300000 tokens",
            ErrorCode::ContextTooLong,
        ),
        ("invalid_request_error", "bad model", ErrorCode::BadRequest),
        ("api_error", "Internal server error", ErrorCode::Upstream),
    ];
    for (t, m, want) in cases {
        let (_, res) = run_all(AnthropicStream::new, ev(t, m).as_bytes());
        assert_eq!(err_code(res), want, "{t}");
    }
}

#[test]
fn invalid_utf8_shows_as_a_replacement_and_text_continues() {
    let mut raw = b"data: {\"choices\":[{\"delta\":{\"content\":\"caf".to_vec();
    raw.push(0xff);
    raw.extend_from_slice("\u{e9} \u{1F600}\"},\"finish_reason\":null}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\" more\"},\"finish_reason\":\"stop\"}]}\n\n".as_bytes());
    let (evs, res) = run_all(OpenAiStream::new, &raw);
    res.unwrap();
    assert_eq!(text(&evs), "caf\u{FFFD}\u{e9} \u{1F600} more");
}

#[test]
fn malformed_json_is_a_protocol_error_naming_the_problem() {
    let raw = b"data: {\"choices\":[{\"delta\":{\"content\":\"x\"}\n\n";
    let err = run_all(OpenAiStream::new, raw).1.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Protocol);
    assert!(err.to_string().contains("not valid JSON"), "{err}");
    let raw = b"event: content_block_delta\ndata: nope\n\n";
    assert_eq!(
        err_code(run_all(AnthropicStream::new, raw).1),
        ErrorCode::Protocol
    );
}

#[test]
fn an_event_over_the_cap_is_a_typed_error() {
    let mut dec = SseDecoder::with_max_event_bytes(1 << 16);
    let mut parser = OpenAiStream::new();
    let chunk = vec![b'x'; 4096];
    let mut res = dec.feed(b"data: {\"choices\":[{\"delta\":{\"content\":\"");
    let mut fed = 0;
    while res.is_ok() && fed < 1000 {
        for ev in res.unwrap() {
            parser.on_event(&ev).unwrap();
        }
        res = dec.feed(&chunk);
        fed += 1;
    }
    let err = res.expect_err("the cap stops the event");
    assert_eq!(err.code(), ErrorCode::TooLarge);
    assert!(fed <= 17, "stopped near the cap, after {fed} chunks");
}

#[test]
fn no_input_panics() {
    // Hostile shapes: odd JSON types, huge numbers, stray fields, lone CRs.
    let raws: &[&[u8]] = &[
        b"data: 1\n\ndata: null\n\ndata: []\n\ndata: \"s\"\n\n",
        b"data: {\"choices\":5,\"usage\":{\"prompt_tokens\":99999999999999}}\n\n",
        b"data: {\"choices\":[{\"delta\":{\"content\":5},\"finish_reason\":7}]}\n\n",
        b"data: {\"error\":{\"code\":-1,\"message\":null}}\n\n",
        b"data: {\"error\":[1,2]}\n\n",
        b"\r\r\r:\r\xff\xfe\x00data\rdata:\r",
        b"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":7,\"delta\":3}\n\n",
        b"error:\n\nerror: {\n\n",
    ];
    for raw in raws {
        let _ = run_all(OpenAiStream::new, raw);
        let _ = run_all(AnthropicStream::new, raw);
    }
}

#[test]
fn random_bytes_never_panic() {
    // Garbage built from SSE-ish pieces and raw bytes, fixed seeds.
    let pieces: &[&[u8]] = &[
        b"data: ",
        b"event: ",
        b"error: ",
        b":",
        b"\n",
        b"\r",
        b"\r\n",
        b"{",
        b"}",
        b"\"",
        b"[DONE]",
        b"{\"choices\":[{\"delta\":{\"content\":\"",
        b"{\"type\":\"message_delta\"",
        b"\xff",
        b"\xe2\x82",
        b"{\"error\":{\"code\":",
        b"429",
        b"\"finish_reason\":\"stop\"",
    ];
    for seed in 0..200u64 {
        let mut rng = Lcg(seed);
        let mut raw = Vec::new();
        for _ in 0..rng.next(60) {
            if rng.next(4) == 0 {
                raw.push(rng.next(256) as u8);
            } else {
                raw.extend_from_slice(pieces[rng.next(pieces.len())]);
            }
        }
        let _ = run_all(OpenAiStream::new, &raw);
        let _ = run_all(AnthropicStream::new, &raw);
    }
}

const ANTHROPIC_CACHE_RAW: &[u8] = include_bytes!("fixtures/streams/anthropic_cache_stream.raw");
const OPENAI_CACHE_RAW: &[u8] = include_bytes!("fixtures/streams/openai_cache_stream.raw");
const OPENROUTER_CACHE_RAW: &[u8] = include_bytes!("fixtures/streams/openrouter_cache_stream.raw");

#[test]
fn anthropic_cache_tokens_are_counted_in_the_prompt() {
    let (evs, res) = run_all(AnthropicStream::new, ANTHROPIC_CACHE_RAW);
    res.unwrap();
    assert_eq!(text(&evs), "The tavern falls quiet.");
    // input_tokens leaves the cache out: the prompt is 21 + 188 + 1843.
    assert_eq!(
        usage(&evs),
        Some(Usage {
            prompt_tokens: Some(2052),
            completion_tokens: Some(15),
            cache_write_tokens: Some(188),
            cache_read_tokens: Some(1843),
            cost_usd: None,
        })
    );
}

#[test]
fn anthropic_cache_tokens_only_in_message_start_are_kept() {
    let raw = br#"event: message_start
data: {"type":"message_start","message":{"usage":{"input_tokens":4,"cache_creation_input_tokens":0,"cache_read_input_tokens":96,"output_tokens":1}}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}

event: message_stop
data: {"type":"message_stop"}

"#;
    let (evs, res) = run_all(AnthropicStream::new, raw);
    res.unwrap();
    assert_eq!(
        usage(&evs),
        Some(Usage {
            prompt_tokens: Some(100),
            completion_tokens: Some(3),
            cache_write_tokens: Some(0),
            cache_read_tokens: Some(96),
            cost_usd: None,
        })
    );
}

#[test]
fn openai_cached_tokens_are_read() {
    let (evs, res) = run_all(OpenAiStream::new, OPENAI_CACHE_RAW);
    res.unwrap();
    assert_eq!(
        usage(&evs),
        Some(Usage {
            prompt_tokens: Some(2006),
            completion_tokens: Some(300),
            cache_write_tokens: None,
            cache_read_tokens: Some(1920),
            cost_usd: None,
        })
    );
}

#[test]
fn openrouter_cache_reads_and_writes_are_read() {
    let (evs, res) = run_all(OpenAiStream::new, OPENROUTER_CACHE_RAW);
    res.unwrap();
    assert_eq!(text(&evs), "The tavern falls quiet.");
    assert_eq!(
        usage(&evs),
        Some(Usage {
            prompt_tokens: Some(10339),
            completion_tokens: Some(60),
            cache_write_tokens: Some(0),
            cache_read_tokens: Some(10318),
            cost_usd: Some(0.0045),
        })
    );
}
