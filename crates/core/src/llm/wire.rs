//! Provider stream parsers: [`SseEvent`]s in, provider-neutral [`WireEvent`]s out.
//!
//! Each parser is a small state machine fed one SSE event at a time, then told
//! about the end of the stream. It decides what the provider meant: text,
//! reasoning, usage, the finish, a keep-alive, or a typed [`Error`]; and whether
//! an end of stream was a clean finish or a cut-off reply.

use serde_json::Value;

use super::http_error::{classify, ErrorInfo};
use super::sse::SseEvent;
use crate::error::Error;

/// Something a provider's stream said, in Confab's terms.
#[derive(Debug, Clone, PartialEq)]
pub enum WireEvent {
    /// A piece of the reply.
    Text(String),
    /// A piece of the model's reasoning ("thinking"), kept apart from the reply.
    Reasoning(String),
    /// Token counts, as far as the provider reported them.
    Usage(Usage),
    /// The provider finished the reply (`stop`, `length`, `end_turn`, ...).
    Finish {
        /// The provider's own word for why it stopped.
        reason: String,
    },
    /// The provider is alive but has nothing to say yet.
    KeepAlive,
}

/// Token counts of one reply.
///
/// `prompt_tokens` counts the whole prompt, the cached part included, for every
/// provider (Anthropic reports the three parts apart; they are summed here), so
/// the cache figures are parts of it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// Tokens in the prompt, cache reads and writes included.
    pub prompt_tokens: Option<u32>,
    /// Tokens in the reply.
    pub completion_tokens: Option<u32>,
    /// Prompt tokens written to the provider's prompt cache, when it says.
    pub cache_write_tokens: Option<u32>,
    /// Prompt tokens read from the provider's prompt cache, when it says.
    pub cache_read_tokens: Option<u32>,
    /// What the provider says the request cost in US dollars (OpenRouter's
    /// `usage.cost`), which wins over a cost worked out from list prices.
    pub cost_usd: Option<f64>,
}

impl Usage {
    /// OpenAI-style usage (`prompt_tokens` includes cached ones): OpenAI's
    /// `prompt_tokens_details.cached_tokens`, and OpenRouter's
    /// `prompt_tokens_details.cache_write_tokens` for providers that bill writes.
    pub fn from_openai(u: &Value) -> Usage {
        let details = u.get("prompt_tokens_details");
        Usage {
            prompt_tokens: tokens(u, "prompt_tokens"),
            completion_tokens: tokens(u, "completion_tokens"),
            cache_write_tokens: details.and_then(|d| tokens(d, "cache_write_tokens")),
            cache_read_tokens: details.and_then(|d| tokens(d, "cached_tokens")),
            cost_usd: u
                .get("cost")
                .and_then(Value::as_f64)
                .filter(|c| c.is_finite() && *c >= 0.0),
        }
    }

    /// Anthropic usage: its `input_tokens` leaves out the tokens written to
    /// (`cache_creation_input_tokens`) and read from (`cache_read_input_tokens`)
    /// the cache, so the prompt is the sum of the three.
    pub fn from_anthropic(u: &Value) -> Usage {
        let mut usage = Usage::default();
        usage.merge_anthropic(u);
        usage
    }

    /// Takes the Anthropic fields `u` has, keeping the others (message_start
    /// carries the input side, message_delta the output and, lately, the input again).
    fn merge_anthropic(&mut self, u: &Value) {
        let write = tokens(u, "cache_creation_input_tokens");
        let read = tokens(u, "cache_read_input_tokens");
        if let Some(input) = tokens(u, "input_tokens") {
            let write = write.or(self.cache_write_tokens).unwrap_or(0);
            let read = read.or(self.cache_read_tokens).unwrap_or(0);
            self.prompt_tokens = Some(input.saturating_add(write).saturating_add(read));
        }
        if write.is_some() {
            self.cache_write_tokens = write;
        }
        if read.is_some() {
            self.cache_read_tokens = read;
        }
        if let Some(n) = tokens(u, "output_tokens") {
            self.completion_tokens = Some(n);
        }
    }
}

/// A parser of one provider's stream.
pub trait StreamParser {
    /// Interprets one SSE event.
    fn on_event(&mut self, ev: &SseEvent) -> Result<Vec<WireEvent>, Error>;
    /// Interprets an event the decoder flushed at EOF (no blank line followed it).
    ///
    /// KoboldCpp ends with a bare `data: [DONE]`, so such an event counts; but if
    /// it cannot be read, the connection most likely closed in the middle of it:
    /// that is a cut-off reply, not a provider speaking nonsense.
    fn on_final_event(&mut self, ev: &SseEvent) -> Result<Vec<WireEvent>, Error> {
        self.on_event(ev).map_err(|e| match e {
            Error::Protocol(_) => {
                Error::Truncated("the stream closed in the middle of an event".into())
            }
            other => other,
        })
    }
    /// Interprets the end of the stream: a clean finish, or an error.
    fn on_eof(&mut self) -> Result<Vec<WireEvent>, Error>;
}

/// OpenAI-compatible chat completions streams (OpenAI, OpenRouter, xAI,
/// llama.cpp, LM Studio, KoboldCpp, Ollama's /v1).
#[derive(Debug, Default)]
pub struct OpenAiStream {
    finished: bool,
    done: bool,
}

impl OpenAiStream {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }
}

impl StreamParser for OpenAiStream {
    fn on_event(&mut self, ev: &SseEvent) -> Result<Vec<WireEvent>, Error> {
        if self.done {
            return Ok(Vec::new()); // anything after [DONE] is not part of the reply
        }
        let data = match ev {
            SseEvent::Comment(_) => return Ok(vec![WireEvent::KeepAlive]),
            SseEvent::ErrorField(value) => return Err(error_from_field(value)),
            SseEvent::Message { data, .. } => data.trim(),
        };
        if data == "[DONE]" {
            self.done = true;
            return Ok(Vec::new());
        }
        if data.is_empty() {
            return Ok(Vec::new());
        }
        let v = parse_json(data, "a chat completion chunk")?;
        if let Some(err) = in_band_error(&v) {
            return Err(err);
        }
        let mut out = Vec::new();
        let choice = v
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|c| c.first());
        if let Some(choice) = choice {
            let delta = choice.get("delta");
            let field = |name: &str| {
                delta
                    .and_then(|d| d.get(name))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
            };
            // Some servers send both names with the same text: take one.
            if let Some(r) = field("reasoning_content").or_else(|| field("reasoning")) {
                out.push(WireEvent::Reasoning(r.to_owned()));
            }
            if let Some(t) = field("content") {
                out.push(WireEvent::Text(t.to_owned()));
            }
            // KoboldCpp sends the string "null" where others send null.
            match choice.get("finish_reason").and_then(Value::as_str) {
                Some("error") => {
                    return Err(Error::Upstream {
                        status: None,
                        detail: "the stream ended with finish reason \"error\"".into(),
                    })
                }
                Some(r) if !r.is_empty() && r != "null" => {
                    self.finished = true;
                    out.push(WireEvent::Finish {
                        reason: r.to_owned(),
                    });
                }
                _ => {}
            }
        }
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            out.push(WireEvent::Usage(Usage::from_openai(u)));
        }
        Ok(out)
    }

    fn on_eof(&mut self) -> Result<Vec<WireEvent>, Error> {
        if self.done || self.finished {
            Ok(Vec::new())
        } else {
            Err(Error::Truncated(
                "the stream closed before the provider sent a finish reason".into(),
            ))
        }
    }
}

/// Anthropic Messages API streams.
#[derive(Debug, Default)]
pub struct AnthropicStream {
    usage: Usage,
    stop_reason: bool,
    stopped: bool,
}

impl AnthropicStream {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }
}

impl StreamParser for AnthropicStream {
    fn on_event(&mut self, ev: &SseEvent) -> Result<Vec<WireEvent>, Error> {
        if self.stopped {
            return Ok(Vec::new());
        }
        let (event, data) = match ev {
            SseEvent::Comment(_) => return Ok(vec![WireEvent::KeepAlive]),
            SseEvent::ErrorField(value) => return Err(error_from_field(value)),
            SseEvent::Message { event, data, .. } => (event.as_deref(), data.trim()),
        };
        if data.is_empty() {
            return Ok(if event == Some("ping") {
                vec![WireEvent::KeepAlive]
            } else {
                Vec::new()
            });
        }
        let v = parse_json(data, "a Messages API event")?;
        // The `type` inside the data is authoritative; the `event:` line names the same.
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .or(event)
            .unwrap_or("");
        let str_at = |path: &[&str]| {
            let mut cur = &v;
            for p in path {
                cur = cur.get(p)?;
            }
            cur.as_str()
        };
        let mut out = Vec::new();
        match kind {
            "message_start" => {
                if let Some(u) = v.get("message").and_then(|m| m.get("usage")) {
                    self.usage.merge_anthropic(u);
                }
            }
            "content_block_start" => match str_at(&["content_block", "type"]) {
                Some("text") => push_text(
                    &mut out,
                    str_at(&["content_block", "text"]),
                    WireEvent::Text,
                ),
                Some("thinking") => push_text(
                    &mut out,
                    str_at(&["content_block", "thinking"]),
                    WireEvent::Reasoning,
                ),
                _ => {}
            },
            "content_block_delta" => match str_at(&["delta", "type"]) {
                Some("text_delta") => {
                    push_text(&mut out, str_at(&["delta", "text"]), WireEvent::Text)
                }
                Some("thinking_delta") => push_text(
                    &mut out,
                    str_at(&["delta", "thinking"]),
                    WireEvent::Reasoning,
                ),
                _ => {} // signatures and tool input are not reply text
            },
            "message_delta" => {
                if let Some(u) = v.get("usage") {
                    self.usage.merge_anthropic(u);
                    out.push(WireEvent::Usage(self.usage));
                }
                if let Some(r) = str_at(&["delta", "stop_reason"]) {
                    self.stop_reason = true;
                    out.push(WireEvent::Finish {
                        reason: r.to_owned(),
                    });
                }
            }
            "message_stop" => self.stopped = true,
            "ping" => out.push(WireEvent::KeepAlive),
            "error" => {
                let info = ErrorInfo::from_json(&v).unwrap_or_default();
                return Err(classify(None, &info, None));
            }
            _ => {} // new event types are ignored, as Anthropic asks
        }
        Ok(out)
    }

    fn on_eof(&mut self) -> Result<Vec<WireEvent>, Error> {
        if self.stopped || self.stop_reason {
            Ok(Vec::new())
        } else {
            Err(Error::Truncated(
                "the stream closed before the provider sent message_stop".into(),
            ))
        }
    }
}

fn push_text(out: &mut Vec<WireEvent>, text: Option<&str>, make: fn(String) -> WireEvent) {
    if let Some(t) = text.filter(|t| !t.is_empty()) {
        out.push(make(t.to_owned()));
    }
}

pub(crate) fn tokens(usage: &Value, name: &str) -> Option<u32> {
    usage
        .get(name)?
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
}

pub(crate) fn parse_json(data: &str, what: &str) -> Result<Value, Error> {
    serde_json::from_str(data).map_err(|e| {
        Error::Protocol(format!(
            "a data line that should hold {what} is not valid JSON ({e})"
        ))
    })
}

/// `{"error": ...}` inside a data chunk (OpenAI, OpenRouter mid-stream).
pub(crate) fn in_band_error(v: &Value) -> Option<Error> {
    let e = v.get("error")?;
    if e.is_null() {
        return None;
    }
    let info = ErrorInfo::from_json(v).unwrap_or_default();
    Some(classify(None, &info, None))
}

/// llama.cpp's `error: {...}` line: JSON when it can be read, else its text.
pub(crate) fn error_from_field(value: &str) -> Error {
    let info = serde_json::from_str::<Value>(value)
        .ok()
        .and_then(|v| {
            ErrorInfo::from_json(&v)
                .or_else(|| ErrorInfo::from_json(&serde_json::json!({ "error": v })))
        })
        .unwrap_or_else(|| ErrorInfo {
            message: value.to_owned(),
            ..ErrorInfo::default()
        });
    classify(None, &info, None)
}
