//! Model lists: where to ask for them and how to read each provider's answer.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::provider::{check_key, join_url, HttpRequest, ProviderConfig, ProviderKind};
use crate::error::Error;

/// One model a provider offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    /// The id sent in requests.
    pub id: String,
    /// A readable name (the id when the provider gives none).
    pub name: String,
    /// The context window in tokens, when the provider says.
    pub context_length: Option<u32>,
    /// US dollars per million prompt tokens, when the provider says.
    pub prompt_price_per_million: Option<f64>,
    /// US dollars per million completion tokens, when the provider says.
    pub completion_price_per_million: Option<f64>,
    /// US dollars per million prompt tokens read from the prompt cache, when the provider says.
    #[serde(default)]
    pub cache_read_price_per_million: Option<f64>,
    /// US dollars per million prompt tokens written to the prompt cache, when the provider says.
    #[serde(default)]
    pub cache_write_price_per_million: Option<f64>,
}

/// Where a provider lists its models (Anthropic's list asks for its largest page).
/// KoboldCpp and llama.cpp are configured by their root; both also serve `/v1/models`.
pub fn models_url(config: &ProviderConfig) -> String {
    match config.kind {
        ProviderKind::Anthropic => format!("{}?limit=1000", join_url(&config.base_url, "models")),
        ProviderKind::KoboldCpp | ProviderKind::LlamaCpp => {
            super::text::text_url(config, "v1/models")
        }
        _ => join_url(&config.base_url, "models"),
    }
}

/// The GET request for a provider's model list, with its credentials and extra headers.
pub fn models_request(
    config: &ProviderConfig,
    api_key: Option<&str>,
) -> Result<HttpRequest, Error> {
    super::provider::check_base_url(config)?;
    let key = check_key(config, api_key)?;
    let mut headers: Vec<(String, String)> = vec![("Accept".into(), "application/json".into())];
    match (config.kind, key) {
        (ProviderKind::Anthropic, k) => {
            if let Some(k) = k {
                headers.push(("x-api-key".into(), k.to_owned()));
            }
            headers.push((
                "anthropic-version".into(),
                super::provider::ANTHROPIC_VERSION.into(),
            ));
        }
        (_, Some(k)) => headers.push(("Authorization".into(), format!("Bearer {k}"))),
        (_, None) => {}
    }
    super::provider::append_extra_headers(&mut headers, &config.extra_headers)?;
    Ok(HttpRequest {
        method: "GET".into(),
        url: models_url(config),
        headers,
        body: Value::Null,
    })
}

/// Reads a model list, sorted by name (then id), without duplicates.
///
/// Understands OpenRouter (names, context lengths, per-token prices turned into
/// per-million), OpenAI and the compatible servers (llama.cpp, LM Studio,
/// KoboldCpp, Ollama's `/v1/models`, and Ollama's own `/api/tags`), and
/// Anthropic (`display_name`). Anything else is [`Error::Protocol`], naming
/// what was wrong.
pub fn parse_models(kind: ProviderKind, body: &[u8]) -> Result<Vec<ModelInfo>, Error> {
    let root: Value = serde_json::from_slice(body)
        .map_err(|e| Error::Protocol(format!("the model list is not JSON ({e})")))?;
    let entries = match (root.get("data"), root.get("models")) {
        (Some(Value::Array(a)), _) => a,
        // Ollama's native /api/tags.
        (None, Some(Value::Array(a))) => a,
        (Some(_), _) => {
            return Err(Error::Protocol(
                "the model list's `data` is not an array".into(),
            ))
        }
        _ if root.is_array() => {
            return Err(Error::Protocol(
                "the model list is a bare array, not an object with a `data` array".into(),
            ))
        }
        _ => return Err(Error::Protocol("the model list has no `data` array".into())),
    };
    let mut models = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        if !entry.is_object() {
            return Err(Error::Protocol(format!(
                "model entry {i} of the list is not an object"
            )));
        }
        let id = ["id", "model", "name"]
            .iter()
            .find_map(|k| entry.get(*k).and_then(Value::as_str))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::Protocol(format!("model entry {i} has no `id`")))?
            .to_owned();
        let name_field = match kind {
            ProviderKind::Anthropic => "display_name",
            _ => "name",
        };
        let name = entry
            .get(name_field)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(&id)
            .to_owned();
        let (cache_read, cache_write) = match kind {
            ProviderKind::OpenRouter => (
                entry
                    .pointer("/pricing/input_cache_read")
                    .and_then(per_million),
                entry
                    .pointer("/pricing/input_cache_write")
                    .and_then(per_million),
            ),
            _ => (None, None),
        };
        let (context_length, prompt_price, completion_price) = match kind {
            ProviderKind::OpenRouter => (
                entry.get("context_length").and_then(as_u32).or_else(|| {
                    entry
                        .pointer("/top_provider/context_length")
                        .and_then(as_u32)
                }),
                entry.pointer("/pricing/prompt").and_then(per_million),
                entry.pointer("/pricing/completion").and_then(per_million),
            ),
            ProviderKind::Anthropic => (None, None, None),
            _ => (
                // llama.cpp: the server's own window when it says (never n_ctx_train,
                // which may be larger than what the server was started with).
                entry
                    .get("context_length")
                    .and_then(as_u32)
                    .or_else(|| entry.pointer("/meta/n_ctx").and_then(as_u32)),
                None,
                None,
            ),
        };
        models.push(ModelInfo {
            id,
            name,
            context_length,
            prompt_price_per_million: prompt_price,
            completion_price_per_million: completion_price,
            cache_read_price_per_million: cache_read,
            cache_write_price_per_million: cache_write,
        });
    }
    models.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.id.cmp(&b.id))
    });
    let mut seen = std::collections::HashSet::new();
    models.retain(|m| seen.insert(m.id.clone()));
    Ok(models)
}

/// A positive whole number that fits in u32 (some servers send floats).
fn as_u32(v: &Value) -> Option<u32> {
    let n = match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(|f| f as u64)
        })?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    u32::try_from(n).ok().filter(|n| *n > 0)
}

/// A per-token price (a string or a number) as dollars per million tokens;
/// negative prices (OpenRouter's "-1" for routers priced per request) are unknown.
fn per_million(v: &Value) -> Option<f64> {
    let per_token = match v {
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        Value::Number(n) => n.as_f64()?,
        _ => return None,
    };
    if !per_token.is_finite() || per_token < 0.0 {
        return None;
    }
    // Round away binary noise: 0.0000025 * 1e6 is 2.4999999999999996.
    Some((per_token * 1e6 * 1e6).round() / 1e6)
}
