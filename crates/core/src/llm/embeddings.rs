//! Embeddings: OpenAI-style `POST {base}/embeddings` with `{model, input: [..]}`,
//! read back as `data[].embedding`.
//!
//! Served by OpenAI, OpenRouter, any OpenAI-compatible server (LM Studio,
//! Ollama's `/v1`, vLLM), llama.cpp's server (`/v1/embeddings`, started with
//! `--embeddings`) and KoboldCpp (`/v1/embeddings`, with an embeddings model
//! loaded). Anthropic has no embeddings endpoint: asking it is a typed error
//! before anything is sent. A hostile or broken server's answer (huge, not
//! JSON, vectors of different lengths, NaN) is a typed error too.

use std::time::Duration;

use serde_json::{json, Value};

use super::http_error::{error_from_response, hide_key};
use super::provider::{append_extra_headers, check_base_url, check_key, join_url};
use super::{HttpRequest, ProviderConfig, ProviderKind};
use crate::error::{Error, Result};

/// Texts sent in one request (servers cap batches; llama.cpp by its batch size).
pub const MAX_BATCH: usize = 16;
/// The longest vector accepted (the largest models in use have 4,096 dimensions).
pub const MAX_DIMS: usize = 8192;
/// The largest response read: 16 texts of 8,192 numbers at ~25 bytes each, with room.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// Where a provider serves embeddings; an error for a kind that serves none.
pub fn embeddings_url(config: &ProviderConfig) -> Result<String> {
    match config.kind {
        ProviderKind::Anthropic => Err(Error::InvalidInput(format!(
            "{} is an Anthropic provider, and Anthropic offers no embeddings: choose an \
             OpenAI-compatible provider (OpenAI, OpenRouter, a local server) for retrieval",
            config.name
        ))),
        // Configured by their root (a `/v1` or `/api` suffix is dropped).
        ProviderKind::KoboldCpp | ProviderKind::LlamaCpp => {
            Ok(super::text::text_url(config, "v1/embeddings"))
        }
        ProviderKind::OpenRouter
        | ProviderKind::OpenAi
        | ProviderKind::OpenAiCompatible
        | ProviderKind::TextCompletions => Ok(join_url(&config.base_url, "embeddings")),
    }
}

/// The request embedding `inputs` with `model`, with the key and the provider's extra headers.
pub fn embeddings_request(
    config: &ProviderConfig,
    model: &str,
    inputs: &[String],
    api_key: Option<&str>,
) -> Result<HttpRequest> {
    let url = embeddings_url(config)?;
    check_base_url(config)?;
    let key = check_key(config, api_key)?;
    let mut headers: Vec<(String, String)> = vec![
        ("Content-Type".into(), "application/json".into()),
        ("Accept".into(), "application/json".into()),
    ];
    if let Some(k) = key {
        headers.push(("Authorization".into(), format!("Bearer {k}")));
    }
    append_extra_headers(&mut headers, &config.extra_headers)?;
    Ok(HttpRequest {
        method: "POST".into(),
        url,
        headers,
        body: json!({ "model": model, "input": inputs, "encoding_format": "float" }),
    })
}

/// Reads an embeddings answer for `expected` inputs: one finite vector per
/// input, in input order (by `index` when given), all of one length.
pub fn parse_embeddings(body: &[u8], expected: usize) -> Result<Vec<Vec<f32>>> {
    let root: Value = serde_json::from_slice(body)
        .map_err(|e| Error::Protocol(format!("the embeddings answer is not JSON ({e})")))?;
    let data = root
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::Protocol("the embeddings answer has no `data` array".into()))?;
    if data.len() != expected {
        return Err(Error::Protocol(format!(
            "the embeddings answer has {} vectors for {expected} texts",
            data.len()
        )));
    }
    let mut out: Vec<Option<Vec<f32>>> = vec![None; expected];
    let mut dims = None;
    for (i, item) in data.iter().enumerate() {
        let at = match item.get("index") {
            None | Some(Value::Null) => i,
            Some(v) => v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| *n < expected)
                .ok_or_else(|| Error::Protocol(format!("embedding {i} has a bad `index`")))?,
        };
        let numbers = item
            .get("embedding")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::Protocol(format!("embedding {i} is not an array of numbers")))?;
        if numbers.is_empty() || numbers.len() > MAX_DIMS {
            return Err(Error::Protocol(format!(
                "embedding {i} has {} dimensions (1 to {MAX_DIMS} accepted)",
                numbers.len()
            )));
        }
        if *dims.get_or_insert(numbers.len()) != numbers.len() {
            return Err(Error::Protocol(format!(
                "the embeddings differ in length ({} and {})",
                dims.unwrap_or_default(),
                numbers.len()
            )));
        }
        let mut vector = Vec::with_capacity(numbers.len());
        for n in numbers {
            let x = n.as_f64().map(|x| x as f32).filter(|x| x.is_finite());
            vector.push(x.ok_or_else(|| {
                Error::Protocol(format!(
                    "embedding {i} holds a value that is not a finite number"
                ))
            })?);
        }
        let slot = out
            .get_mut(at)
            .ok_or_else(|| Error::Protocol(format!("embedding {i} has a bad `index`")))?;
        if slot.replace(vector).is_some() {
            return Err(Error::Protocol(format!("two embeddings answer text {at}")));
        }
    }
    out.into_iter()
        .enumerate()
        .map(|(i, v)| v.ok_or_else(|| Error::Protocol(format!("no embedding for text {i}"))))
        .collect()
}

/// Embeds `inputs` (in batches of [`MAX_BATCH`]), each request bounded by `timeout`.
/// Every vector has the same length, or the call fails.
pub async fn embed(
    http: &reqwest::Client,
    config: &ProviderConfig,
    model: &str,
    api_key: Option<&str>,
    inputs: &[String],
    timeout: Duration,
) -> Result<Vec<Vec<f32>>> {
    let mut out: Vec<Vec<f32>> = Vec::with_capacity(inputs.len());
    for batch in inputs.chunks(MAX_BATCH) {
        let request = embeddings_request(config, model, batch, api_key)?;
        let vectors = send(http, &request, batch.len(), timeout)
            .await
            .map_err(|e| hide_key(e, api_key))?;
        if let (Some(first), Some(next)) = (out.first(), vectors.first()) {
            if first.len() != next.len() {
                return Err(Error::Protocol(format!(
                    "the embeddings differ in length ({} and {})",
                    first.len(),
                    next.len()
                )));
            }
        }
        out.extend(vectors);
    }
    Ok(out)
}

/// One request: the whole exchange, body included, within `timeout`.
async fn send(
    http: &reqwest::Client,
    request: &HttpRequest,
    expected: usize,
    timeout: Duration,
) -> Result<Vec<Vec<f32>>> {
    let exchange = async {
        let response = request
            .to_reqwest(http)?
            .send()
            .await
            .map_err(super::error_from_reqwest)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_bounded(response).await?;
        if !(200..300).contains(&status) {
            return Err(error_from_response(status, retry_after.as_deref(), &body));
        }
        parse_embeddings(&body, expected)
    };
    tokio::time::timeout(timeout, exchange).await.map_err(|_| {
        Error::Timeout(format!(
            "no embeddings within {} s",
            timeout.as_secs_f32().max(0.1)
        ))
    })?
}

/// The body, refused past [`MAX_RESPONSE_BYTES`] (a declared length is checked first).
async fn read_bounded(mut response: reqwest::Response) -> Result<Vec<u8>> {
    let too_large = || {
        Error::Protocol(format!(
            "the embeddings answer is larger than {} MB",
            MAX_RESPONSE_BYTES / (1024 * 1024)
        ))
    };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(super::error_from_reqwest)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
