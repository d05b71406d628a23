//! KoboldCpp's native API.
//!
//! Formats as koboldcpp.py writes and reads them: `POST /api/v1/generate`
//! answers `{"results":[{"text", "finish_reason", "prompt_tokens",
//! "completion_tokens"}]}` (the last three in recent versions);
//! `POST /api/extra/generate/stream` writes `event: message` /
//! `data: {"token": "...", "finish_reason": null}` events, the last one with
//! `"finish_reason": "stop" | "length" | "error"`, and no `[DONE]`. Versions
//! before finish reasons (2024) send `{"token"}` alone and close the connection.
//! `POST /api/extra/abort` takes `{"genkey"}` and answers `{"success": "true"}`.

use serde_json::{json, Map, Value};

use super::{error_in, finish, insert_stop, TextPrompt};
use crate::error::Error;
use crate::llm::provider::ProviderConfig;
use crate::llm::samplers::{grammar, Body};
use crate::llm::sse::SseEvent;
use crate::llm::wire::{error_from_field, parse_json, tokens, StreamParser, Usage, WireEvent};

/// The body of `/api/v1/generate` and `/api/extra/generate/stream` (the same fields).
pub(crate) fn body(config: &ProviderConfig, prompt: &TextPrompt<'_>, stop: &[String]) -> Value {
    let g = &config.generation;
    let mut map = Map::new();
    map.insert("prompt".into(), json!(prompt.prompt));
    let mut b = Body(&mut map);
    b.int("max_length", g.max_tokens);
    b.int("max_context_length", prompt.context_length);
    b.float("temperature", g.temperature);
    b.float("top_p", g.top_p);
    b.int("top_k", g.top_k);
    b.float("min_p", g.min_p);
    b.float("typical", g.typical_p);
    b.float("rep_pen", g.repetition_penalty);
    b.int("rep_pen_range", g.repetition_penalty_range);
    b.float("rep_pen_slope", g.repetition_penalty_slope);
    b.float("presence_penalty", g.presence_penalty);
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
        b.int("mirostat", Some(u32::from(m.mode)));
        b.float("mirostat_tau", Some(m.tau));
        b.float("mirostat_eta", Some(m.eta));
    }
    b.int("sampler_seed", g.seed);
    if let Some(gr) = grammar(g) {
        b.value("grammar", json!(gr));
    }
    insert_stop(&mut map, "stop_sequence", stop);
    if let Some(k) = prompt.genkey {
        map.insert("genkey".into(), json!(k));
    }
    // The stop string is the template's turn marker: it belongs to no reply.
    map.insert("trim_stop".into(), json!(true));
    Value::Object(map)
}

/// KoboldCpp's `/api/extra/generate/stream` events.
#[derive(Debug, Default)]
pub struct KoboldStream {
    finished: bool,
    /// Some event carried a `finish_reason` key: this server says when it is done.
    reports_finish: bool,
    /// Some event was read.
    any: bool,
}

impl KoboldStream {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }
}

impl StreamParser for KoboldStream {
    fn on_event(&mut self, ev: &SseEvent) -> Result<Vec<WireEvent>, Error> {
        if self.finished {
            return Ok(Vec::new());
        }
        let data = match ev {
            SseEvent::Comment(_) => return Ok(vec![WireEvent::KeepAlive]),
            SseEvent::ErrorField(value) => return Err(error_from_field(value)),
            SseEvent::Message { data, .. } => data.trim(),
        };
        if data.is_empty() {
            return Ok(Vec::new());
        }
        if data == "[DONE]" {
            // Not sent by the native API, but harmless when a proxy adds it.
            self.finished = true;
            return Ok(Vec::new());
        }
        let v = parse_json(data, "a KoboldCpp stream event")?;
        if let Some(err) = error_in(&v) {
            return Err(err);
        }
        self.any = true;
        if v.get("finish_reason").is_some() {
            self.reports_finish = true;
        }
        let mut out = Vec::new();
        if let Some(t) = v.get("token").and_then(Value::as_str) {
            if !t.is_empty() {
                out.push(WireEvent::Text(t.to_owned()));
            }
        } else if !v.is_object() {
            return Err(Error::Protocol(
                "a KoboldCpp stream event is not a JSON object".into(),
            ));
        }
        if let Some(r) = v
            .get("finish_reason")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty() && *r != "null")
        {
            self.finished = true;
            out.push(finish(r)?);
        }
        Ok(out)
    }

    fn on_eof(&mut self) -> Result<Vec<WireEvent>, Error> {
        if self.finished {
            Ok(Vec::new())
        } else if self.any && !self.reports_finish {
            // An older KoboldCpp: closing the stream is how it says it is done.
            self.finished = true;
            Ok(vec![WireEvent::Finish {
                reason: "stop".into(),
            }])
        } else {
            Err(Error::Truncated(
                "the stream closed before KoboldCpp sent a finish reason".into(),
            ))
        }
    }
}

/// The events of `/api/v1/generate`'s answer.
pub(crate) fn parse_reply(v: &Value) -> Result<Vec<WireEvent>, Error> {
    let result = v
        .get("results")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .ok_or_else(|| Error::Protocol("the KoboldCpp reply has no results".into()))?;
    let text = result
        .get("text")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Protocol("the KoboldCpp reply has no text".into()))?;
    let mut out = Vec::new();
    if !text.is_empty() {
        out.push(WireEvent::Text(text.to_owned()));
    }
    let usage = Usage {
        prompt_tokens: tokens(result, "prompt_tokens"),
        completion_tokens: tokens(result, "completion_tokens"),

        ..Usage::default()
    };
    if usage != Usage::default() {
        out.push(WireEvent::Usage(usage));
    }
    let reason = result
        .get("finish_reason")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty() && *r != "null")
        .unwrap_or("stop");
    out.push(finish(reason)?);
    Ok(out)
}

/// Whether `/api/extra/abort` says it aborted (`{"success": "true"}`, a string in koboldcpp.py).
pub(crate) fn parse_abort(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("success").cloned())
        .is_some_and(|s| s == json!("true") || s == json!(true))
}
