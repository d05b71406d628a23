//! Sending one reply request: the HTTP request out, [`WireEvent`]s back, for
//! streaming and non-streaming providers alike.

use std::pin::Pin;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use serde_json::Value;

use super::http_error::{classify, error_from_response, ErrorInfo};
use super::provider::{parser_for, HttpRequest, ProviderConfig, ProviderKind};
use super::stream::{error_from_reqwest, stream_events};
use super::text::think::split_events;
use super::text::{parse_text_reply, ThinkOptions, ThinkParser};
use super::wire::{Usage, WireEvent};
use crate::error::{Error, Result};

/// A reply's events; dropping it drops the connection (the provider stops generating).
pub type ReplyStream = Pin<Box<dyn Stream<Item = Result<WireEvent>> + Send>>;

/// Sends `request` and returns its events. A non-streaming provider's whole
/// answer arrives as one `Text` (plus usage and finish). Each wait for bytes is
/// bounded by `idle_timeout`; events over `max_event_bytes` are refused.
///
/// The wait for the response's headers counts as a wait for bytes when
/// streaming. A non-streaming provider sends nothing until the whole reply is
/// written (a slow local model can take minutes), so its wait is bounded only
/// by the caller (the engine's maximum duration).
pub async fn start_reply(
    http: &reqwest::Client,
    config: &ProviderConfig,
    request: &HttpRequest,
    idle_timeout: Duration,
    max_event_bytes: usize,
) -> Result<ReplyStream> {
    start_reply_with(http, config, request, None, idle_timeout, max_event_bytes).await
}

/// [`start_reply`], with reasoning split out of the reply's text by `think`
/// (text-completion servers send `<think>` blocks inline).
pub async fn start_reply_with(
    http: &reqwest::Client,
    config: &ProviderConfig,
    request: &HttpRequest,
    think: Option<&ThinkOptions>,
    idle_timeout: Duration,
    max_event_bytes: usize,
) -> Result<ReplyStream> {
    let builder = request.to_reqwest(http)?;
    let sent = if config.streaming {
        tokio::time::timeout(idle_timeout, builder.send()).await
    } else {
        Ok(builder.send().await)
    };
    let response = match sent {
        Err(_) => {
            return Err(Error::Timeout(format!(
                "no answer within {} seconds",
                idle_timeout.as_secs_f32()
            )))
        }
        Ok(Err(e)) => return Err(error_from_reqwest(e)),
        Ok(Ok(response)) => response,
    };
    if config.streaming {
        let parser = parser_for(config.kind);
        return Ok(match think {
            Some(opts) => Box::pin(stream_events(
                response,
                ThinkParser::new(parser, opts.clone()),
                idle_timeout,
                max_event_bytes,
            )),
            None => Box::pin(stream_events(
                response,
                parser,
                idle_timeout,
                max_event_bytes,
            )),
        });
    }
    let mut events = whole_reply(response, config.kind, idle_timeout, max_event_bytes).await?;
    if let Some(opts) = think {
        events = split_events(events, opts);
    }
    Ok(Box::pin(futures_util::stream::iter(
        events.into_iter().map(Ok),
    )))
}

/// Reads a non-streamed answer (bounded in size and in each wait) and turns it into events.
async fn whole_reply(
    response: reqwest::Response,
    kind: ProviderKind,
    idle_timeout: Duration,
    max_bytes: usize,
) -> Result<Vec<WireEvent>> {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    // An error body needs only its start; a reply must fit the event cap whole.
    let cap = if status.is_success() {
        max_bytes
    } else {
        max_bytes.min(64 * 1024)
    };
    loop {
        match tokio::time::timeout(idle_timeout, chunks.next()).await {
            Err(_) => {
                return Err(Error::Timeout(format!(
                    "nothing arrived for {} seconds",
                    idle_timeout.as_secs_f32()
                )))
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                if status.is_success() {
                    return Err(error_from_reqwest(e));
                }
                break; // an error body cut short still tells us the status
            }
            Ok(Some(Ok(chunk))) => {
                if body.len() + chunk.len() > cap {
                    if !status.is_success() {
                        body.extend_from_slice(&chunk[..cap - body.len()]);
                        break;
                    }
                    return Err(Error::TooLarge {
                        what: "the provider's reply".into(),
                        limit: format!("{} MB", max_bytes / (1024 * 1024)),
                    });
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
    if !status.is_success() {
        return Err(error_from_response(
            status.as_u16(),
            retry_after.as_deref(),
            &body,
        ));
    }
    if kind.is_text_completion() {
        parse_text_reply(kind, &body)
    } else {
        parse_whole_reply(&body)
    }
}

/// The events of a non-streamed answer, OpenAI-style (`choices[0].message`)
/// or Anthropic (`content[]` blocks).
pub fn parse_whole_reply(body: &[u8]) -> Result<Vec<WireEvent>> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| Error::Protocol(format!("the reply is not valid JSON ({e})")))?;
    if v.get("error").is_some_and(|e| !e.is_null())
        || v.get("type").and_then(Value::as_str) == Some("error")
    {
        let info = ErrorInfo::from_json(&v).unwrap_or_default();
        return Err(classify(None, &info, None));
    }
    let mut out = Vec::new();
    if let Some(choices) = v.get("choices").and_then(Value::as_array) {
        let choice = choices
            .first()
            .ok_or_else(|| Error::Protocol("the reply has no choices".into()))?;
        let message = choice.get("message").unwrap_or(&Value::Null);
        let field = |name: &str| {
            message
                .get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        if let Some(r) = field("reasoning_content").or_else(|| field("reasoning")) {
            out.push(WireEvent::Reasoning(r.to_owned()));
        }
        if let Some(t) = field("content") {
            out.push(WireEvent::Text(t.to_owned()));
        }
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            out.push(WireEvent::Usage(Usage::from_openai(u)));
        }
        let reason = choice
            .get("finish_reason")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty() && *r != "null")
            .unwrap_or("stop");
        if reason == "error" {
            return Err(Error::Upstream {
                status: None,
                detail: "the reply ended with finish reason \"error\"".into(),
            });
        }
        out.push(WireEvent::Finish {
            reason: reason.to_owned(),
        });
        return Ok(out);
    }
    if let Some(blocks) = v.get("content").and_then(Value::as_array) {
        let mut text = String::new();
        let mut thinking = String::new();
        for block in blocks {
            match block.get("type").and_then(Value::as_str) {
                Some("text") => {
                    text.push_str(block.get("text").and_then(Value::as_str).unwrap_or(""))
                }
                Some("thinking") => {
                    thinking.push_str(block.get("thinking").and_then(Value::as_str).unwrap_or(""))
                }
                _ => {} // tool use and signatures are not reply text
            }
        }
        if !thinking.is_empty() {
            out.push(WireEvent::Reasoning(thinking));
        }
        if !text.is_empty() {
            out.push(WireEvent::Text(text));
        }
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            out.push(WireEvent::Usage(Usage::from_anthropic(u)));
        }
        let reason = v
            .get("stop_reason")
            .and_then(Value::as_str)
            .unwrap_or("end_turn");
        out.push(WireEvent::Finish {
            reason: reason.to_owned(),
        });
        return Ok(out);
    }
    Err(Error::Protocol(
        "the reply holds neither choices nor content".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_style_whole_reply() {
        let body = br#"{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there.","reasoning_content":"think"},"finish_reason":"length"}],"usage":{"prompt_tokens":12,"completion_tokens":3}}"#;
        assert_eq!(
            parse_whole_reply(body).unwrap(),
            vec![
                WireEvent::Reasoning("think".into()),
                WireEvent::Text("Hello there.".into()),
                WireEvent::Usage(Usage {
                    prompt_tokens: Some(12),
                    completion_tokens: Some(3),
                    ..Usage::default()
                }),
                WireEvent::Finish {
                    reason: "length".into()
                },
            ]
        );
    }

    #[test]
    fn anthropic_whole_reply() {
        let body = br#"{"type":"message","content":[{"type":"thinking","thinking":"hm","signature":"s"},{"type":"text","text":"Hi "},{"type":"text","text":"you."}],"stop_reason":"end_turn","usage":{"input_tokens":5,"output_tokens":2}}"#;
        assert_eq!(
            parse_whole_reply(body).unwrap(),
            vec![
                WireEvent::Reasoning("hm".into()),
                WireEvent::Text("Hi you.".into()),
                WireEvent::Usage(Usage {
                    prompt_tokens: Some(5),
                    completion_tokens: Some(2),
                    ..Usage::default()
                }),
                WireEvent::Finish {
                    reason: "end_turn".into()
                },
            ]
        );
    }

    #[test]
    fn errors_and_nonsense_are_typed() {
        let e =
            parse_whole_reply(br#"{"error":{"message":"slow down","type":"rate_limit_error"}}"#)
                .unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::RateLimited);
        let e = parse_whole_reply(
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::Overloaded);
        assert_eq!(
            parse_whole_reply(b"<html>").unwrap_err().code(),
            crate::ErrorCode::Protocol
        );
        assert_eq!(
            parse_whole_reply(br#"{"choices":[]}"#).unwrap_err().code(),
            crate::ErrorCode::Protocol
        );
        assert_eq!(
            parse_whole_reply(br#"{"ok":true}"#).unwrap_err().code(),
            crate::ErrorCode::Protocol
        );
    }
}
