//! Fetching a model list over HTTP: bounded in time and size, errors typed, the key never shown.

use std::time::Duration;

use futures_util::StreamExt;

use crate::error::{Error, Result};
use crate::llm::{error_from_reqwest, error_from_response, hide_key, models_request, parse_models};
use crate::llm::{ModelInfo, ProviderConfig};

/// The most of an error response's body read (the message is near the start).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Bounds on fetching a model list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelFetch {
    /// The longest the whole request may take, connecting included.
    pub timeout: Duration,
    /// The largest model list read (OpenRouter's is a few hundred kilobytes).
    pub max_bytes: usize,
}

impl Default for ModelFetch {
    fn default() -> Self {
        ModelFetch {
            timeout: Duration::from_secs(30),
            max_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Lists a provider's models with `api_key`; see [`super::refresh_models`] for the errors.
pub async fn fetch_models(
    http: &reqwest::Client,
    config: &ProviderConfig,
    api_key: Option<&str>,
    limits: &ModelFetch,
) -> Result<Vec<ModelInfo>> {
    let request = models_request(config, api_key)?;
    let fetch = async {
        let response = request
            .to_reqwest(http)?
            .send()
            .await
            .map_err(error_from_reqwest)?;
        let status = response.status();
        if status.is_redirection() {
            return Err(super::http::redirect_error(&response));
        }
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            // A body cut short still tells the status: map what arrived.
            let body = read_body(response, MAX_ERROR_BODY, false)
                .await
                .unwrap_or_default();
            return Err(error_from_response(
                status.as_u16(),
                retry_after.as_deref(),
                &body,
            ));
        }
        let body = read_body(response, limits.max_bytes, true).await?;
        parse_models(config.kind, &body)
    };
    let result = match tokio::time::timeout(limits.timeout, fetch).await {
        Ok(result) => result,
        Err(_) => Err(Error::Timeout(format!(
            "the model list of {} did not arrive within {} seconds",
            config.name,
            limits.timeout.as_secs_f32()
        ))),
    };
    result.map_err(|e| hide_key(e, api_key))
}

/// Reads at most `max` bytes of a body; over that, [`Error::TooLarge`] when
/// `strict`, else the first `max` bytes.
async fn read_body(response: reqwest::Response, max: usize, strict: bool) -> Result<Vec<u8>> {
    let too_large = || Error::TooLarge {
        what: "the model list".into(),
        limit: human_bytes(max),
    };
    if strict && response.content_length().is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(error_from_reqwest)?;
        let room = max - body.len();
        if chunk.len() > room {
            if strict {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk[..room]);
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn human_bytes(n: usize) -> String {
    if n >= 1024 * 1024 && n.is_multiple_of(1024 * 1024) {
        format!("{} MB", n / (1024 * 1024))
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}
