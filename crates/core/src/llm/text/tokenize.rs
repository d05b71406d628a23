//! Counting tokens with the server's own tokenizer, and asking a server what it is.
//!
//! llama.cpp: `POST /tokenize` `{"content"}` → `{"tokens": [...]}`, and
//! `GET /props` → `chat_template`, `bos_token`, `eos_token`,
//! `default_generation_settings.n_ctx` (tools/server/README.md).
//! KoboldCpp: `POST /api/extra/tokencount` `{"prompt"}` → `{"value": n}`,
//! `GET /api/extra/version` → `{"result": "KoboldCpp", "version"}`,
//! `GET /api/v1/model` → `{"result": "koboldcpp/<name>"}` and
//! `GET /api/extra/true_max_context_length` → `{"value": n}` (koboldcpp.py).
//! Pure builders and parsers, then thin async functions that send them.

use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{text_headers, text_url};
use crate::error::{Error, Result};
use crate::llm::http_error::{error_from_response, hide_key};
use crate::llm::provider::{check_base_url, check_key, HttpRequest, ProviderConfig, ProviderKind};
use crate::llm::stream::error_from_reqwest;

/// The most of an answer these small endpoints may send (a chat template is a few KB).
const MAX_INFO_BYTES: usize = 4 * 1024 * 1024;

/// What a text-completion server says about itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ServerProps {
    /// The model's own chat template (Jinja), when the server reports one.
    pub chat_template: Option<String>,
    /// The beginning-of-sequence token's text.
    pub bos_token: Option<String>,
    /// The end-of-sequence token's text.
    pub eos_token: Option<String>,
    /// The context window the server was started with.
    pub context_length: Option<u32>,
    /// The loaded model's name or path.
    pub model: Option<String>,
    /// The server's version (KoboldCpp).
    pub version: Option<String>,
}

fn get(config: &ProviderConfig, path: &str, key: Option<&str>) -> Result<HttpRequest> {
    check_base_url(config)?;
    let key = check_key(config, key)?;
    Ok(HttpRequest {
        method: "GET".into(),
        url: text_url(config, path),
        headers: text_headers(config, key, "application/json", false)?,
        body: Value::Null,
    })
}

fn post(
    config: &ProviderConfig,
    path: &str,
    body: Value,
    key: Option<&str>,
) -> Result<HttpRequest> {
    check_base_url(config)?;
    let key = check_key(config, key)?;
    Ok(HttpRequest {
        method: "POST".into(),
        url: text_url(config, path),
        headers: text_headers(config, key, "application/json", true)?,
        body,
    })
}

/// The request that counts the tokens of `text` (llama.cpp and KoboldCpp only).
pub fn tokenize_request(
    config: &ProviderConfig,
    text: &str,
    api_key: Option<&str>,
) -> Result<HttpRequest> {
    match config.kind {
        ProviderKind::LlamaCpp => post(config, "tokenize", json!({ "content": text }), api_key),
        ProviderKind::KoboldCpp => post(
            config,
            "api/extra/tokencount",
            json!({ "prompt": text }),
            api_key,
        ),
        _ => Err(Error::InvalidInput(format!(
            "{} offers no tokenizer Confab knows",
            config.name
        ))),
    }
}

/// The token count in an answer to [`tokenize_request`].
pub fn parse_token_count(kind: ProviderKind, body: &[u8]) -> Result<u32> {
    let v = json_of(body, "the token count")?;
    let n = match kind {
        ProviderKind::LlamaCpp => v
            .get("tokens")
            .and_then(Value::as_array)
            .map(|t| t.len() as u64),
        _ => v.get("value").and_then(Value::as_u64),
    };
    n.and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| Error::Protocol("the answer holds no token count".into()))
}

/// The requests that identify a server and its model, in the order to send them:
/// llama.cpp's `/props`; KoboldCpp's version, model, true context length and
/// its llama.cpp-style `/props` (KoboldCpp since late 2024: the model's chat template).
pub fn props_requests(config: &ProviderConfig, api_key: Option<&str>) -> Result<Vec<HttpRequest>> {
    match config.kind {
        ProviderKind::LlamaCpp => Ok(vec![get(config, "props", api_key)?]),
        ProviderKind::KoboldCpp => Ok(vec![
            get(config, "api/extra/version", api_key)?,
            get(config, "api/v1/model", api_key)?,
            get(config, "api/extra/true_max_context_length", api_key)?,
            get(config, "props", api_key)?,
        ]),
        _ => Err(Error::InvalidInput(format!(
            "{} reports no properties Confab knows",
            config.name
        ))),
    }
}

/// Reads llama.cpp's `/props`.
pub fn parse_llamacpp_props(body: &[u8]) -> Result<ServerProps> {
    let v = json_of(body, "llama.cpp's properties")?;
    if !v.is_object() {
        return Err(Error::Protocol(
            "llama.cpp's properties are not a JSON object".into(),
        ));
    }
    let text = |name: &str| {
        v.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let ctx = v
        .pointer("/default_generation_settings/n_ctx")
        .or_else(|| v.get("n_ctx"))
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0);
    Ok(ServerProps {
        chat_template: text("chat_template"),
        bos_token: text("bos_token"),
        eos_token: text("eos_token"),
        context_length: ctx,
        model: text("model_alias").or_else(|| text("model_path")),
        version: v
            .get("build_info")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// Reads KoboldCpp's `/api/extra/version`: its version, or [`Error::Protocol`]
/// when the server is not KoboldCpp.
pub fn parse_kobold_version(body: &[u8]) -> Result<String> {
    let v = json_of(body, "KoboldCpp's version")?;
    if v.get("result").and_then(Value::as_str) != Some("KoboldCpp") {
        return Err(Error::Protocol("the server is not KoboldCpp".into()));
    }
    Ok(v.get("version")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned())
}

/// Reads KoboldCpp's `/api/v1/model`: the model's name without `koboldcpp/`.
pub fn parse_kobold_model(body: &[u8]) -> Result<String> {
    let v = json_of(body, "KoboldCpp's model")?;
    let name = v
        .get("result")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Protocol("KoboldCpp named no model".into()))?;
    Ok(name.strip_prefix("koboldcpp/").unwrap_or(name).to_owned())
}

/// Reads KoboldCpp's `{"value": n}` answers (true max context length, token count).
pub fn parse_kobold_value(body: &[u8]) -> Result<u32> {
    parse_token_count(ProviderKind::KoboldCpp, body)
}

fn json_of(body: &[u8], what: &str) -> Result<Value> {
    serde_json::from_slice(body)
        .map_err(|e| Error::Protocol(format!("{what} is not valid JSON ({e})")))
}

/// Sends `request`, waits at most `timeout` for the whole answer, and returns
/// its body (at most `max_bytes`); an error status is its typed error.
pub(crate) async fn send_json(
    http: &reqwest::Client,
    request: &HttpRequest,
    timeout: Duration,
    max_bytes: usize,
    api_key: Option<&str>,
) -> Result<Vec<u8>> {
    let work = async {
        let response = request
            .to_reqwest(http)?
            .send()
            .await
            .map_err(error_from_reqwest)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        let mut chunks = response.bytes_stream();
        let cap = if status.is_success() {
            max_bytes
        } else {
            max_bytes.min(64 * 1024)
        };
        while let Some(chunk) = chunks.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(_) if !status.is_success() => break,
                Err(e) => return Err(error_from_reqwest(e)),
            };
            if body.len() + chunk.len() > cap {
                if !status.is_success() {
                    body.extend_from_slice(&chunk[..cap - body.len()]);
                    break;
                }
                return Err(Error::TooLarge {
                    what: "the server's answer".into(),
                    limit: format!("{cap} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err(error_from_response(
                status.as_u16(),
                retry_after.as_deref(),
                &body,
            ));
        }
        Ok(body)
    };
    let result = match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(Error::Timeout(format!(
            "no answer within {} seconds",
            timeout.as_secs_f32()
        ))),
    };
    result.map_err(|e| hide_key(e, api_key))
}

/// Counts the tokens of `text` with the server's tokenizer.
pub async fn count_tokens(
    http: &reqwest::Client,
    config: &ProviderConfig,
    text: &str,
    api_key: Option<&str>,
    timeout: Duration,
) -> Result<u32> {
    let request = tokenize_request(config, text, api_key)?;
    // A token list is a few bytes per token; allow for a long prompt's.
    let body = send_json(http, &request, timeout, 64 * 1024 * 1024, api_key).await?;
    parse_token_count(config.kind, &body)
}

/// Asks a llama.cpp or KoboldCpp server for its chat template, special tokens,
/// context window, model and version. KoboldCpp's model, context length and
/// `/props` are optional extras: a server too old to answer them still identifies.
pub async fn fetch_props(
    http: &reqwest::Client,
    config: &ProviderConfig,
    api_key: Option<&str>,
    timeout: Duration,
) -> Result<ServerProps> {
    let requests = props_requests(config, api_key)?;
    let send = |r: &HttpRequest| {
        let r = r.clone();
        async move { send_json(http, &r, timeout, MAX_INFO_BYTES, api_key).await }
    };
    match config.kind {
        ProviderKind::LlamaCpp => parse_llamacpp_props(&send(&requests[0]).await?),
        _ => {
            let version = parse_kobold_version(&send(&requests[0]).await?)?;
            let model = match send(&requests[1]).await {
                Ok(body) => parse_kobold_model(&body).ok(),
                Err(_) => None,
            };
            let context_length = match send(&requests[2]).await {
                Ok(body) => parse_kobold_value(&body).ok().filter(|n| *n > 0),
                Err(_) => None,
            };
            // Only what llama.cpp's shape adds: the template and its special tokens.
            let props = match send(&requests[3]).await {
                Ok(body) => parse_llamacpp_props(&body).unwrap_or_default(),
                Err(_) => ServerProps::default(),
            };
            Ok(ServerProps {
                chat_template: props.chat_template,
                bos_token: props.bos_token,
                eos_token: props.eos_token,
                version: Some(version),
                model,
                context_length: context_length.or(props.context_length),
            })
        }
    }
}
