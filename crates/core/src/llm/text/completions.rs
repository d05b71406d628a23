//! OpenAI-style text completions, `POST /v1/completions`: vLLM, TabbyAPI,
//! Aphrodite, Ollama, LM Studio.
//!
//! Streams are `data: {"choices":[{"text": "...", "finish_reason": null}]}`
//! chunks ending with `data: [DONE]`; with `stream_options.include_usage` a
//! last chunk carries `usage` (vLLM's docs, OpenAI's legacy completions API).
//! Extra samplers use vLLM's names (`top_k`, `min_p`, `repetition_penalty`),
//! which TabbyAPI and Aphrodite accept too, and the DRY/XTC/mirostat names
//! TabbyAPI and Aphrodite share.

use serde_json::{json, Map, Value};

use super::{error_in, finish, insert_stop, TextPrompt};
use crate::error::Error;
use crate::llm::provider::ProviderConfig;
use crate::llm::samplers::Body;
use crate::llm::sse::SseEvent;
use crate::llm::wire::{error_from_field, parse_json, StreamParser, Usage, WireEvent};

/// The body of `/v1/completions`.
pub(crate) fn body(
    config: &ProviderConfig,
    model: &str,
    prompt: &TextPrompt<'_>,
    stop: &[String],
) -> Value {
    let g = &config.generation;
    let mut map = Map::new();
    map.insert("model".into(), json!(model));
    map.insert("prompt".into(), json!(prompt.prompt));
    map.insert("stream".into(), json!(config.streaming));
    if config.streaming {
        map.insert("stream_options".into(), json!({"include_usage": true}));
    }
    let mut b = Body(&mut map);
    b.int("max_tokens", g.max_tokens);
    b.float("temperature", g.temperature);
    b.float("top_p", g.top_p);
    b.float("presence_penalty", g.presence_penalty);
    b.float("frequency_penalty", g.frequency_penalty);
    b.int("seed", g.seed);
    b.int("top_k", g.top_k);
    b.float("min_p", g.min_p);
    b.float("typical_p", g.typical_p);
    b.float("repetition_penalty", g.repetition_penalty);
    if let Some(d) = &g.dry {
        b.float("dry_multiplier", Some(d.multiplier));
        b.float("dry_base", Some(d.base));
        b.int("dry_allowed_length", Some(d.allowed_length));
        b.value("dry_sequence_breakers", json!(d.sequence_breakers));
    }
    if let Some(x) = &g.xtc {
        b.float("xtc_threshold", Some(x.threshold));
        b.float("xtc_probability", Some(x.probability));
    }
    if let Some(m) = &g.mirostat {
        b.int("mirostat_mode", Some(u32::from(m.mode)));
        b.float("mirostat_tau", Some(m.tau));
        b.float("mirostat_eta", Some(m.eta));
    }
    insert_stop(&mut map, "stop", stop);
    Value::Object(map)
}

/// `/v1/completions` streams.
#[derive(Debug, Default)]
pub struct CompletionsStream {
    finished: bool,
    done: bool,
}

impl CompletionsStream {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }
}

impl StreamParser for CompletionsStream {
    fn on_event(&mut self, ev: &SseEvent) -> Result<Vec<WireEvent>, Error> {
        if self.done {
            return Ok(Vec::new());
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
        let v = parse_json(data, "a text completion chunk")?;
        if let Some(err) = error_in(&v) {
            return Err(err);
        }
        let mut out = Vec::new();
        if let Some(choice) = v
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
        {
            if let Some(t) = choice.get("text").and_then(Value::as_str) {
                if !t.is_empty() {
                    out.push(WireEvent::Text(t.to_owned()));
                }
            }
            if let Some(r) = choice
                .get("finish_reason")
                .and_then(Value::as_str)
                .filter(|r| !r.is_empty() && *r != "null")
            {
                self.finished = true;
                out.push(finish(r)?);
            }
        }
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            out.push(WireEvent::Usage(usage(u)));
        }
        Ok(out)
    }

    fn on_eof(&mut self) -> Result<Vec<WireEvent>, Error> {
        if self.done || self.finished {
            Ok(Vec::new())
        } else {
            Err(Error::Truncated(
                "the stream closed before the server sent a finish reason".into(),
            ))
        }
    }
}

fn usage(u: &Value) -> Usage {
    Usage::from_openai(u)
}

/// The events of a non-streamed `/v1/completions` answer.
pub(crate) fn parse_reply(v: &Value) -> Result<Vec<WireEvent>, Error> {
    let choice = v
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .ok_or_else(|| Error::Protocol("the reply has no choices".into()))?;
    let text = choice
        .get("text")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Protocol("the reply's choice has no text".into()))?;
    let mut out = Vec::new();
    if !text.is_empty() {
        out.push(WireEvent::Text(text.to_owned()));
    }
    if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
        out.push(WireEvent::Usage(usage(u)));
    }
    let reason = choice
        .get("finish_reason")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty() && *r != "null")
        .unwrap_or("stop");
    out.push(finish(reason)?);
    Ok(out)
}
