//! Text-completion backends: one rendered prompt string in, text out.
//!
//! KoboldCpp's native API ([`kobold`]), llama.cpp's `/completion` ([`llamacpp`])
//! and OpenAI-style `/v1/completions` ([`completions`]). Request building and
//! parsing are pure, like [`super::provider`]; [`think`] splits `<think>`
//! blocks out of a text stream, and [`tokenize`] counts tokens and identifies
//! servers.

use serde_json::{json, Map, Value};

use super::http_error::{classify, ErrorInfo};
use super::provider::{
    append_extra_headers, check_base_url, check_key, join_url, HttpRequest, ProviderConfig,
    ProviderKind,
};
use super::wire::WireEvent;
use crate::error::Error;

pub mod completions;
pub mod kobold;
pub mod llamacpp;
pub mod think;
pub mod tokenize;

pub use completions::CompletionsStream;
pub use kobold::KoboldStream;
pub use llamacpp::LlamaCppStream;
pub use think::{ThinkOptions, ThinkParser, ThinkSplitter};

/// What one text-completion request asks for, besides the provider's settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextPrompt<'a> {
    /// The whole rendered prompt (instruct template applied).
    pub prompt: &'a str,
    /// Stop strings added to the configured ones (the template's turn markers).
    pub stop: &'a [String],
    /// KoboldCpp's generation key, so this request can be aborted on the server.
    pub genkey: Option<&'a str>,
    /// The context window in tokens, when known (sent to KoboldCpp).
    pub context_length: Option<u32>,
}

/// The most stop strings sent (KoboldCpp refuses more than 256; none needs more).
const MAX_STOP_STRINGS: usize = 64;

/// The configured stop strings and the prompt's, without empties or repeats.
pub fn merged_stop(config: &ProviderConfig, extra: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in config.generation.stop.iter().chain(extra) {
        if !s.is_empty() && !out.contains(s) && out.len() < MAX_STOP_STRINGS {
            out.push(s.clone());
        }
    }
    out
}

/// The server's root: KoboldCpp and llama.cpp paths start at the root, so a
/// pasted `/v1`, `/api` or `/api/v1` is taken off.
pub(crate) fn server_root(config: &ProviderConfig) -> String {
    let mut base = config.base_url.trim().trim_end_matches('/');
    if matches!(
        config.kind,
        ProviderKind::KoboldCpp | ProviderKind::LlamaCpp
    ) {
        for suffix in ["/api/v1", "/api", "/v1"] {
            if let Some(b) = base.strip_suffix(suffix) {
                base = b;
                break;
            }
        }
    }
    base.to_owned()
}

/// The URL of `path` on a text-completion server.
pub(crate) fn text_url(config: &ProviderConfig, path: &str) -> String {
    join_url(&server_root(config), path)
}

/// Headers for a JSON request: content type, accept, the key as a bearer
/// token when one is given, then the configured extra headers.
pub(crate) fn text_headers(
    config: &ProviderConfig,
    key: Option<&str>,
    accept: &str,
    with_body: bool,
) -> Result<Vec<(String, String)>, Error> {
    let mut headers: Vec<(String, String)> = Vec::new();
    if with_body {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    headers.push(("Accept".into(), accept.into()));
    if let Some(k) = key {
        headers.push(("Authorization".into(), format!("Bearer {k}")));
    }
    append_extra_headers(&mut headers, &config.extra_headers)?;
    Ok(headers)
}

fn check_text_kind(config: &ProviderConfig) -> Result<(), Error> {
    if config.kind.is_text_completion() {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "{} is a chat provider: its requests are built from messages, not a prompt",
            config.name
        )))
    }
}

/// The JSON body of a text-completion request (what the prompt preview shows).
///
/// [`Error::InvalidInput`] for a chat kind or a JSON schema that is not JSON.
pub fn text_request_body(
    config: &ProviderConfig,
    model: &str,
    prompt: &TextPrompt<'_>,
) -> Result<Value, Error> {
    check_text_kind(config)?;
    let stop = merged_stop(config, prompt.stop);
    match config.kind {
        ProviderKind::KoboldCpp => Ok(kobold::body(config, prompt, &stop)),
        ProviderKind::LlamaCpp => llamacpp::body(config, prompt, &stop),
        _ => Ok(completions::body(config, model.trim(), prompt, &stop)),
    }
}

/// Builds the request for one text-completion reply, streamed or not as
/// `config.streaming` says.
///
/// No kind requires a key; one that is given goes as `Authorization: Bearer`.
/// `/v1/completions` needs a model; KoboldCpp and llama.cpp serve the one loaded.
pub fn build_text_request(
    config: &ProviderConfig,
    model: &str,
    prompt: &TextPrompt<'_>,
    api_key: Option<&str>,
) -> Result<HttpRequest, Error> {
    check_text_kind(config)?;
    check_base_url(config)?;
    if !config.kind.serves_loaded_model() && model.trim().is_empty() {
        return Err(Error::InvalidInput(format!(
            "no model is chosen for {}",
            config.name
        )));
    }
    if let Some(g) = prompt.genkey {
        if g.is_empty() || g.len() > 128 || g.chars().any(|c| c.is_control()) {
            return Err(Error::InvalidInput(
                "a generation key must be 1 to 128 printable characters".into(),
            ));
        }
    }
    let key = check_key(config, api_key)?;
    let body = text_request_body(config, model, prompt)?;
    let path = match (config.kind, config.streaming) {
        (ProviderKind::KoboldCpp, true) => "api/extra/generate/stream",
        (ProviderKind::KoboldCpp, false) => "api/v1/generate",
        (ProviderKind::LlamaCpp, _) => "completion",
        _ => "completions",
    };
    let url = match config.kind {
        ProviderKind::TextCompletions => join_url(&config.base_url, path),
        _ => text_url(config, path),
    };
    let accept = if config.streaming {
        "text/event-stream"
    } else {
        "application/json"
    };
    Ok(HttpRequest {
        method: "POST".into(),
        url,
        headers: text_headers(config, key, accept, true)?,
        body,
    })
}

/// KoboldCpp's `POST /api/extra/abort` for the generation started with `genkey`:
/// KoboldCpp goes on generating after the client hangs up, so a stop must say so.
pub fn abort_request(
    config: &ProviderConfig,
    genkey: &str,
    api_key: Option<&str>,
) -> Result<HttpRequest, Error> {
    if config.kind != ProviderKind::KoboldCpp {
        return Err(Error::InvalidInput(format!(
            "{} has no abort endpoint; dropping the connection stops it",
            config.name
        )));
    }
    check_base_url(config)?;
    let key = check_key(config, api_key)?;
    Ok(HttpRequest {
        method: "POST".into(),
        url: text_url(config, "api/extra/abort"),
        headers: text_headers(config, key, "application/json", true)?,
        body: json!({ "genkey": genkey }),
    })
}

/// Sends [`abort_request`] and waits at most `timeout`; whether the server said it aborted.
pub async fn abort(
    http: &reqwest::Client,
    config: &ProviderConfig,
    genkey: &str,
    api_key: Option<&str>,
    timeout: std::time::Duration,
) -> Result<bool, Error> {
    let request = abort_request(config, genkey, api_key)?;
    let body = tokenize::send_json(http, &request, timeout, 64 * 1024, api_key).await?;
    Ok(kobold::parse_abort(&body))
}

/// A fresh KoboldCpp generation key (`KCPP` and random hex, as Kobold Lite makes them).
pub fn new_genkey() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("KCPP{}", &id[..12])
}

/// The events of a non-streamed text-completion answer of `kind`.
pub fn parse_text_reply(kind: ProviderKind, body: &[u8]) -> Result<Vec<WireEvent>, Error> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| Error::Protocol(format!("the reply is not valid JSON ({e})")))?;
    if let Some(err) = error_in(&v) {
        return Err(err);
    }
    match kind {
        ProviderKind::KoboldCpp => kobold::parse_reply(&v),
        ProviderKind::LlamaCpp => llamacpp::parse_reply(&v),
        _ => completions::parse_reply(&v),
    }
}

/// An error object in a 200 answer or an event: `{"error":...}` or KoboldCpp's `{"detail":...}`.
pub(crate) fn error_in(v: &Value) -> Option<Error> {
    let obj = v.as_object()?;
    let present = |k: &str| obj.get(k).is_some_and(|e| !e.is_null());
    if !present("error") && !present("detail") {
        return None;
    }
    let info = ErrorInfo::from_json(v).unwrap_or_default();
    Some(classify(None, &info, None))
}

/// Inserts the stop strings under `name` when there are any.
pub(crate) fn insert_stop(body: &mut Map<String, Value>, name: &str, stop: &[String]) {
    if !stop.is_empty() {
        body.insert(name.into(), json!(stop));
    }
}

/// A finish reason in OpenAI's words (`stop`, `length`), so the engine treats
/// every backend alike; `error` becomes an error.
pub(crate) fn finish(reason: &str) -> Result<WireEvent, Error> {
    if reason == "error" {
        return Err(Error::Upstream {
            status: None,
            detail: "the server ended the reply with finish reason \"error\"".into(),
        });
    }
    Ok(WireEvent::Finish {
        reason: reason.to_owned(),
    })
}
