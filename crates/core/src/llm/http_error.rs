//! Maps a provider's error (an HTTP status and body, or an error inside a
//! stream) to a typed [`Error`].
//!
//! One tolerant reader covers every body shape Confab meets, so callers need not
//! know which server they talk to:
//! - OpenAI, OpenRouter, xAI, llama.cpp: `{"error":{"message","type","code"}}`
//!   (`code` a number or a string);
//! - Anthropic: `{"type":"error","error":{"type","message"}}`;
//! - Ollama and others: `{"error":"text"}`; KoboldCpp: `{"detail":{"msg","type"}}`
//!   or `{"detail":"text"}`; some: `{"message":"text"}`;
//! - anything else (HTML from a proxy, plain text): the status and a short excerpt.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::error::{redact_secrets, Error};

/// The most of a provider's message an error keeps (a hostile body may be huge).
const MAX_DETAIL_CHARS: usize = 300;

/// The typed error for an HTTP error response.
///
/// `retry_after` is the raw `Retry-After` header, if any (seconds or an HTTP date).
pub fn error_from_response(status: u16, retry_after: Option<&str>, body: &[u8]) -> Error {
    let retry_after_secs = retry_after.and_then(|v| parse_retry_after(v, SystemTime::now()));
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let info = parsed
        .as_ref()
        .and_then(ErrorInfo::from_json)
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            let looks_like_html = text.starts_with('<');
            ErrorInfo {
                message: if text.is_empty() || looks_like_html {
                    format!("HTTP {status} with no readable message")
                } else {
                    text.to_owned()
                },
                ..ErrorInfo::default()
            }
        });
    classify(Some(status), &info, retry_after_secs)
}

/// Parses `Retry-After`: delay-seconds or an HTTP date (turned into seconds from `now`).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<u32> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(
            value
                .parse::<u64>()
                .map_or(u32::MAX, |s| s.min(u32::MAX as u64) as u32),
        );
    }
    let when = httpdate::parse_http_date(value).ok()?;
    let wait = when.duration_since(now).unwrap_or(Duration::ZERO);
    Some(wait.as_secs().min(u32::MAX as u64) as u32)
}

/// What a provider said about an error, whatever its shape.
#[derive(Debug, Default, Clone)]
pub(crate) struct ErrorInfo {
    /// The provider's sentence.
    pub message: String,
    /// A machine kind (`overloaded_error`, `rate_limit_exceeded`), when given.
    pub kind: Option<String>,
    /// A numeric code (OpenRouter's and llama.cpp's `code`), when given.
    pub status: Option<u16>,
}

impl ErrorInfo {
    /// Reads any of the known error shapes; `None` when `v` is none of them.
    pub(crate) fn from_json(v: &Value) -> Option<ErrorInfo> {
        let obj = v.as_object()?;
        let inner = obj.get("error").or_else(|| obj.get("detail"));
        match inner {
            Some(Value::Object(e)) => {
                let message = e
                    .get("message")
                    .or_else(|| e.get("msg"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let (status, code_kind) = match e.get("code") {
                    Some(Value::Number(n)) => {
                        (n.as_u64().and_then(|n| u16::try_from(n).ok()), None)
                    }
                    Some(Value::String(s)) => match s.parse::<u16>() {
                        Ok(n) => (Some(n), None),
                        Err(_) => (None, Some(s.clone())),
                    },
                    _ => (None, None),
                };
                let kind = e
                    .get("type")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or(code_kind.clone());
                // OpenAI puts the precise reason in `code` ("context_length_exceeded").
                let kind = match (kind, code_kind) {
                    (Some(t), Some(c)) if t != c => Some(format!("{t} {c}")),
                    (k, _) => k,
                };
                Some(ErrorInfo {
                    message,
                    kind,
                    status,
                })
            }
            Some(Value::String(s)) => Some(ErrorInfo {
                message: s.clone(),
                ..ErrorInfo::default()
            }),
            _ => obj
                .get("message")
                .and_then(Value::as_str)
                .map(|m| ErrorInfo {
                    message: m.to_owned(),
                    ..ErrorInfo::default()
                }),
        }
    }
}

/// Words providers use when a prompt does not fit.
const CONTEXT_WORDS: &[&str] = &[
    "context length",
    "context_length",
    "context window",
    "maximum context",
    "context size",
    "prompt is too long",
    "too many tokens",
    "exceeds the available context",
    "exceed_context",
];

/// Chooses the typed error from a status (HTTP or in-band) and what the provider said.
pub(crate) fn classify(
    http_status: Option<u16>,
    info: &ErrorInfo,
    retry_after_secs: Option<u32>,
) -> Error {
    let status = http_status.filter(|s| *s >= 400).or(info.status);
    let kind = info.kind.as_deref().unwrap_or("").to_ascii_lowercase();
    let lower = info.message.to_ascii_lowercase();
    let detail = clean_detail(&info.message, info.kind.as_deref(), status);
    let has = |w: &str| kind.contains(w) || lower.contains(w);

    if matches!(status, Some(401 | 403))
        || kind.contains("authentication")
        || kind.contains("permission")
        || kind.contains("invalid_api_key")
    {
        return Error::Unauthorized { detail };
    }
    if status == Some(429) || kind.contains("rate_limit") {
        return Error::RateLimited {
            retry_after_secs,
            detail,
        };
    }
    if matches!(status, Some(502 | 503 | 529)) || has("overloaded") {
        return Error::Overloaded { detail };
    }
    if CONTEXT_WORDS.iter().any(|w| has(w)) {
        return Error::ContextTooLong { detail };
    }
    if matches!(status, Some(408 | 504)) {
        return Error::Timeout(detail);
    }
    if matches!(status, Some(400 | 404 | 405 | 409 | 413 | 415 | 422))
        || kind.contains("invalid_request")
        || kind.contains("not_found")
    {
        return Error::BadRequest { detail };
    }
    Error::Upstream { status, detail }
}

/// A short, key-free detail: the provider's sentence, else its kind, else the status.
fn clean_detail(message: &str, kind: Option<&str>, status: Option<u16>) -> String {
    let text = message.trim();
    let text = if !text.is_empty() {
        text.to_owned()
    } else if let Some(k) = kind.filter(|k| !k.is_empty()) {
        k.to_owned()
    } else if let Some(s) = status {
        format!("HTTP {s} with no message")
    } else {
        "no message given".to_owned()
    };
    let text = redact_secrets(&text);
    let mut chars = text.chars();
    let mut short: String = chars.by_ref().take(MAX_DETAIL_CHARS).collect();
    if chars.next().is_some() {
        short.push('…');
    }
    short
}

/// Removes the exact key from an error's words, should a server have echoed it.
///
/// [`redact_secrets`] catches keys by their look (`sk-...`, `Bearer ...`);
/// this catches the one key that was sent, whatever it looks like (`gsk_...`,
/// `xai-...`, a local server's own token). Every error from a request that
/// carried a key goes through it: model lists, key tests and chat streams.
pub fn hide_key(err: Error, key: Option<&str>) -> Error {
    let Some(key) = key.map(str::trim).filter(|k| k.len() >= 4) else {
        return err;
    };
    let scrub = |s: String| {
        if s.contains(key) {
            s.replace(key, "[redacted]")
        } else {
            s
        }
    };
    match err {
        Error::Unauthorized { detail } => Error::Unauthorized {
            detail: scrub(detail),
        },
        Error::RateLimited {
            retry_after_secs,
            detail,
        } => Error::RateLimited {
            retry_after_secs,
            detail: scrub(detail),
        },
        Error::Upstream { status, detail } => Error::Upstream {
            status,
            detail: scrub(detail),
        },
        Error::Overloaded { detail } => Error::Overloaded {
            detail: scrub(detail),
        },
        Error::ContextTooLong { detail } => Error::ContextTooLong {
            detail: scrub(detail),
        },
        Error::BadRequest { detail } => Error::BadRequest {
            detail: scrub(detail),
        },
        Error::TooLarge { what, limit } => Error::TooLarge {
            what: scrub(what),
            limit,
        },
        Error::Network(s) => Error::Network(scrub(s)),
        Error::Timeout(s) => Error::Timeout(scrub(s)),
        Error::Truncated(s) => Error::Truncated(scrub(s)),
        Error::Protocol(s) => Error::Protocol(scrub(s)),
        Error::InvalidInput(s) => Error::InvalidInput(scrub(s)),
        Error::Internal(s) => Error::Internal(scrub(s)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn code(status: u16, body: &str) -> ErrorCode {
        error_from_response(status, None, body.as_bytes()).code()
    }

    #[test]
    fn each_provider_style_maps_to_its_code() {
        // OpenAI
        assert_eq!(
            code(
                401,
                r#"{"error":{"message":"Incorrect API key provided: sk-abc12345678.","type":"invalid_request_error","code":"invalid_api_key"}}"#
            ),
            ErrorCode::Unauthorized
        );
        assert_eq!(
            code(
                400,
                r#"{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}"#
            ),
            ErrorCode::ContextTooLong
        );
        assert_eq!(
            code(
                404,
                r#"{"error":{"message":"The model `gpt-9` does not exist","type":"invalid_request_error","code":"model_not_found"}}"#
            ),
            ErrorCode::BadRequest
        );
        // OpenRouter: numeric code
        assert_eq!(
            code(
                402,
                r#"{"error":{"code":402,"message":"Insufficient credits"}}"#
            ),
            ErrorCode::Upstream
        );
        // Anthropic
        assert_eq!(
            code(
                529,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
            ),
            ErrorCode::Overloaded
        );
        assert_eq!(
            code(
                400,
                r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#
            ),
            ErrorCode::ContextTooLong
        );
        // llama.cpp
        assert_eq!(
            code(
                400,
                r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error"}}"#
            ),
            ErrorCode::ContextTooLong
        );
        assert_eq!(
            code(
                503,
                r#"{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}"#
            ),
            ErrorCode::Overloaded
        );
        // KoboldCpp and Ollama
        assert_eq!(
            code(
                503,
                r#"{"detail":{"msg":"Server is busy; please try again later.","type":"service_unavailable"}}"#
            ),
            ErrorCode::Overloaded
        );
        assert_eq!(
            code(404, r#"{"error":"model 'x' not found"}"#),
            ErrorCode::BadRequest
        );
        // Not JSON at all
        assert_eq!(
            code(500, "<html><body>Bad gateway</body></html>"),
            ErrorCode::Upstream
        );
        assert_eq!(code(504, ""), ErrorCode::Timeout);
    }

    #[test]
    fn messages_are_sentences_without_keys() {
        let body = r#"{"error":{"message":"Incorrect API key provided: sk-proj-abcdefgh1234. Header was Bearer sk-proj-abcdefgh1234","type":"invalid_request_error","code":"invalid_api_key"}}"#;
        let msg = error_from_response(401, None, body.as_bytes()).to_string();
        assert!(msg.starts_with("the provider refused the API key"), "{msg}");
        assert!(!msg.contains("abcdefgh1234"), "{msg}");
        let msg =
            error_from_response(500, None, b"echo: Authorization: Bearer abc.123").to_string();
        assert!(!msg.contains("abc.123"), "{msg}");
        let huge = format!("{{\"error\":\"{}\"}}", "x".repeat(100_000));
        assert!(
            error_from_response(500, None, huge.as_bytes())
                .to_string()
                .len()
                < 1000
        );
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = httpdate::parse_http_date("Sat, 21 Nov 2026 07:41:50 GMT").unwrap();
        assert_eq!(parse_retry_after("20", now), Some(20));
        assert_eq!(
            parse_retry_after("Sat, 21 Nov 2026 07:42:20 GMT", now),
            Some(30)
        );
        assert_eq!(
            parse_retry_after("Sat, 21 Nov 2026 07:00:00 GMT", now),
            Some(0)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        let err = error_from_response(
            429,
            Some("7"),
            br#"{"error":{"message":"slow down","type":"rate_limit_error"}}"#,
        );
        assert!(
            matches!(
                err,
                Error::RateLimited {
                    retry_after_secs: Some(7),
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("7 seconds"));
    }
}
