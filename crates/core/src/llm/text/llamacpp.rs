//! llama.cpp's server, native `POST /completion` (tools/server/README.md).
//!
//! A streamed answer is `data: {"content": "...", "stop": false}` events; the
//! last has `"stop": true` with `tokens_evaluated`, `tokens_predicted`,
//! `timings` and `stop_type` (`eos`, `word`, `limit`; older servers:
//! `stopped_eos`, `stopped_word`, `stopped_limit`). Not streamed: that last
//! object alone, holding the whole `content`. Errors mid-stream come as an
//! `error: {...}` line.

use serde_json::{json, Map, Value};

use super::{error_in, finish, insert_stop, TextPrompt};
use crate::error::Error;
use crate::llm::provider::ProviderConfig;
use crate::llm::samplers::{grammar, Body};
use crate::llm::sse::SseEvent;
use crate::llm::wire::{error_from_field, parse_json, tokens, StreamParser, Usage, WireEvent};

/// The body of `/completion`.
pub(crate) fn body(
    config: &ProviderConfig,
    prompt: &TextPrompt<'_>,
    stop: &[String],
) -> Result<Value, Error> {
    let g = &config.generation;
    let mut map = Map::new();
    map.insert("prompt".into(), json!(prompt.prompt));
    map.insert("stream".into(), json!(config.streaming));
    let mut b = Body(&mut map);
    b.int("n_predict", g.max_tokens);
    b.float("temperature", g.temperature);
    b.float("top_p", g.top_p);
    b.int("top_k", g.top_k);
    b.float("min_p", g.min_p);
    b.float("typical_p", g.typical_p);
    b.float("repeat_penalty", g.repetition_penalty);
    b.int("repeat_last_n", g.repetition_penalty_range);
    b.float("presence_penalty", g.presence_penalty);
    b.float("frequency_penalty", g.frequency_penalty);
    if let Some(d) = &g.dry {
        b.float("dry_multiplier", Some(d.multiplier));
        b.float("dry_base", Some(d.base));
        b.int("dry_allowed_length", Some(d.allowed_length));
        b.value("dry_sequence_breakers", json!(d.sequence_breakers));
    }
    if let Some(x) = &g.xtc {
        b.float("xtc_probability", Some(x.probability));
        b.float("xtc_threshold", Some(x.threshold));
    }
    if let Some(m) = &g.mirostat {
        b.int("mirostat", Some(u32::from(m.mode)));
        b.float("mirostat_tau", Some(m.tau));
        b.float("mirostat_eta", Some(m.eta));
    }
    b.int("seed", g.seed);
    if let Some(gr) = grammar(g) {
        b.value("grammar", json!(gr));
    }
    if let Some(schema) = g.json_schema.as_deref().filter(|s| !s.trim().is_empty()) {
        let v: Value = serde_json::from_str(schema)
            .map_err(|e| Error::InvalidInput(format!("the JSON schema is not valid JSON ({e})")))?;
        b.value("json_schema", v);
    }
    insert_stop(&mut map, "stop", stop);
    // Reuse the KV cache for the shared start of the prompt: a chat's prompt
    // grows at the end, so only the new turn is evaluated.
    map.insert("cache_prompt".into(), json!(true));
    Ok(Value::Object(map))
}

/// llama.cpp's `/completion` stream.
#[derive(Debug, Default)]
pub struct LlamaCppStream {
    finished: bool,
}

impl LlamaCppStream {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }
}

impl StreamParser for LlamaCppStream {
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
            self.finished = true;
            return Ok(Vec::new());
        }
        let v = parse_json(data, "a llama.cpp completion chunk")?;
        if let Some(err) = error_in(&v) {
            return Err(err);
        }
        if !v.is_object() {
            return Err(Error::Protocol(
                "a llama.cpp completion chunk is not a JSON object".into(),
            ));
        }
        let mut out = Vec::new();
        if let Some(t) = v.get("content").and_then(Value::as_str) {
            if !t.is_empty() {
                out.push(WireEvent::Text(t.to_owned()));
            }
        }
        if v.get("stop").and_then(Value::as_bool) == Some(true) {
            self.finished = true;
            out.extend(ending(&v)?);
        }
        Ok(out)
    }

    fn on_eof(&mut self) -> Result<Vec<WireEvent>, Error> {
        if self.finished {
            Ok(Vec::new())
        } else {
            Err(Error::Truncated(
                "the stream closed before llama.cpp sent its final chunk".into(),
            ))
        }
    }
}

/// Usage and the finish reason from a final object.
fn ending(v: &Value) -> Result<Vec<WireEvent>, Error> {
    let mut out = Vec::new();
    let timings = v.get("timings").unwrap_or(&Value::Null);
    let usage = Usage {
        prompt_tokens: tokens(v, "tokens_evaluated").or_else(|| tokens(timings, "prompt_n")),
        completion_tokens: tokens(v, "tokens_predicted").or_else(|| tokens(timings, "predicted_n")),

        ..Usage::default()
    };
    if usage != Usage::default() {
        out.push(WireEvent::Usage(usage));
    }
    let flag = |name: &str| v.get(name).and_then(Value::as_bool) == Some(true);
    let reason = match v.get("stop_type").and_then(Value::as_str) {
        Some("limit") => "length",
        Some("eos") | Some("word") => "stop",
        _ if flag("stopped_limit") => "length",
        _ => "stop",
    };
    out.push(finish(reason)?);
    Ok(out)
}

/// The events of a non-streamed `/completion` answer.
pub(crate) fn parse_reply(v: &Value) -> Result<Vec<WireEvent>, Error> {
    let text = v
        .get("content")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Protocol("the llama.cpp reply has no content".into()))?;
    let mut out = Vec::new();
    if !text.is_empty() {
        out.push(WireEvent::Text(text.to_owned()));
    }
    out.extend(ending(v)?);
    Ok(out)
}
