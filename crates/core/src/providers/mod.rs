//! Providers as the user manages them: configurations with key status, model
//! lists (fetched, cached, refreshable, favourites pinned), the model a session
//! replies with, key tests, local server discovery, and usage figures.
//!
//! Every function here takes what it needs (the store, the keys, the HTTP
//! client) so the app and the CLI share them. No function returns or logs a key;
//! errors from a provider are typed ([`Error::Unauthorized`], [`Error::Timeout`],
//! ...) and never carry the key, even when a server echoes it.

mod cost;
mod fetch;
pub(crate) mod http;
pub(crate) mod validate;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::llm::{LocalServer, ModelInfo, ProviderConfig, LOCAL_PORTS};
use crate::secrets::{KeyStatus, Keys};
use crate::store::Store;

pub use cost::{cache_multipliers, cost_usd, request_cost, RequestCost};
pub use fetch::{fetch_models, ModelFetch};
pub use http::{http_client_with_env, CONNECT_TIMEOUT, MAX_REDIRECTS, USER_AGENT};
pub use validate::{
    normalize as validate_config, MAX_HEADERS, MAX_NAME_CHARS, MAX_REPLY_TOKENS, MAX_STOP_STRINGS,
};

/// How long each loopback port may take to answer "Find local servers".
pub const LOCAL_PROBE_TIMEOUT: Duration = Duration::from_millis(1500);

#[cfg(feature = "specta")]
use crate::TsNumber;

/// A configured provider as the Settings page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Provider {
    /// Its configuration (never a key).
    pub config: ProviderConfig,
    /// Whether a key is set, and where.
    pub key: KeyStatus,
    /// Whether sessions that chose no provider use it.
    pub is_default: bool,
}

/// A provider's models, favourites first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ModelList {
    /// The provider.
    pub provider_id: String,
    /// Its models: favourites first, then by name.
    pub models: Vec<ModelInfo>,
    /// Ids of the pinned models.
    pub favourites: Vec<String>,
    /// When the list was fetched, Unix milliseconds; `None` if never.
    #[cfg_attr(feature = "specta", specta(type = Option<TsNumber>))]
    pub fetched_at: Option<f64>,
}

/// The provider and model a session replies with, resolved to what is in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SessionModel {
    /// The session's own choice of provider (`None`: the default).
    pub chosen_provider_id: Option<String>,
    /// The session's own choice of model (`None`: the provider's default model).
    pub chosen_model: Option<String>,
    /// The provider in force, if any is configured.
    pub provider_id: Option<String>,
    /// Its name.
    pub provider_name: Option<String>,
    /// The model in force (empty when none is chosen anywhere).
    pub model: String,
    /// The model's context window, when its provider listed it.
    pub context_length: Option<u32>,
    /// No model is chosen and the server replies with the one it has loaded
    /// (KoboldCpp, llama.cpp): the chat works without a choice.
    pub server_model: bool,
    /// That loaded model's name, when the server's cached list names exactly one.
    pub loaded_model: Option<String>,
    /// The connection profile in force, if any.
    pub profile_id: Option<String>,
    /// Its name.
    pub profile_name: Option<String>,
    /// Who chose it: the chat, or its character's pin.
    pub profile_source: Option<crate::connection::ChoiceSource>,
}

/// Tokens and cost for one provider, model and day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct UsageRow {
    /// UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// The provider's name.
    pub provider_name: String,
    /// The model.
    pub model: String,
    /// Requests made.
    pub requests: u32,
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Completion tokens.
    pub completion_tokens: u32,
    /// US dollars, when the provider publishes prices.
    pub cost_usd: Option<f64>,
    /// Prompt tokens written to the provider's prompt cache.
    pub cache_write_tokens: u32,
    /// Prompt tokens read from the provider's prompt cache.
    pub cache_read_tokens: u32,
    /// US dollars the cache saved (reads' discount less writes' premium), when prices are known.
    pub cache_saved_usd: Option<f64>,
}

/// How many requests ended some way other than done, by outcome and reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct OutcomeRow {
    /// `failed`, `cancelled` or `interrupted`.
    pub outcome: String,
    /// The error code or cancel reason.
    pub reason: String,
    /// How many.
    pub count: u32,
}

/// The usage page: per provider, model and day, plus failures and cancellations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct UsageReport {
    /// Newest day first.
    pub rows: Vec<UsageRow>,
    /// Failures and cancellations by reason, most frequent first.
    pub outcomes: Vec<OutcomeRow>,
}

/// The HTTP client every provider request goes through (TLS, connect timeout, no proxy surprises).
///
/// The system's TLS (native-tls), HTTP/1.1 and HTTP/2, a [`CONNECT_TIMEOUT`]
/// and no total timeout, `User-Agent: Confab/<version>`, redirects followed
/// only within the same origin (so no header, key included, reaches another
/// server), and `HTTP(S)_PROXY`/`ALL_PROXY`/`NO_PROXY` honoured except for
/// loopback. The reasons and measured build cost are in `providers/http.rs`.
/// Fails (typed, never a panic) only when the system's TLS library cannot be loaded.
pub fn http_client() -> Result<reqwest::Client> {
    http::http_client()
}

/// Every provider with its key status.
pub async fn list(store: &Store, keys: &Keys) -> Result<Vec<Provider>> {
    let default = store.default_provider_id().await?;
    let mut out = Vec::new();
    for config in store.providers().await? {
        let key = key_status(keys, &config.id).await?;
        let is_default = default.as_deref() == Some(config.id.as_str());
        out.push(Provider {
            config,
            key,
            is_default,
        });
    }
    Ok(out)
}

/// A provider's key status; an unreachable keyring reads as "no key" so the
/// Settings page still opens (it shows where keys can be kept separately).
async fn key_status(keys: &Keys, provider_id: &str) -> Result<KeyStatus> {
    match keys.status(provider_id).await {
        Err(Error::KeyringUnavailable(_)) => Ok(KeyStatus {
            set: false,
            storage: None,
        }),
        other => other,
    }
}

async fn provider(store: &Store, keys: &Keys, provider_id: &str) -> Result<Provider> {
    let config = store.provider(provider_id).await?;
    let is_default = store.default_provider_id().await?.as_deref() == Some(provider_id);
    Ok(Provider {
        key: key_status(keys, provider_id).await?,
        config,
        is_default,
    })
}

/// Validates and saves a provider (new or changed).
///
/// The name, base URL, default model and header names and values are trimmed;
/// a config with an empty id gets a new UUID. [`Error::InvalidInput`] (and
/// nothing saved) for: an empty name or one over 100 characters, a base URL
/// that is not http(s) or carries a user name, query or fragment, a bad header
/// name or value (or one that would carry a credential, which belongs in the
/// keyring), a temperature outside 0–2, top-p outside 0–1, a reply limit
/// outside 1–1,000,000, or more than 16 stop strings.
pub async fn save(store: &Store, keys: &Keys, config: ProviderConfig) -> Result<Provider> {
    let config = validate::normalize(config)?;
    let saved = store.save_provider(&config).await?;
    provider(store, keys, &saved.id).await
}

/// Deletes a provider and its key.
///
/// The key goes first: if it cannot be removed (the keyring refuses), the
/// provider stays and the error says why. The cached models and the
/// favourites go with the provider; sessions that used it fall back to the
/// default provider.
pub async fn delete(store: &Store, keys: &Keys, provider_id: &str) -> Result<()> {
    store.provider(provider_id).await?;
    match keys.delete(provider_id).await {
        // A keyring that does not answer cannot have been given a key on this
        // box lately; a provider (a local one needs no key) must stay removable.
        Ok(_) | Err(crate::Error::KeyringUnavailable(_)) => {}
        Err(e) => return Err(e),
    }
    store.delete_provider(provider_id).await
}

/// The cached model list (empty until fetched).
pub async fn models(store: &Store, provider_id: &str) -> Result<ModelList> {
    store.provider(provider_id).await?;
    let favourites = store.favourite_models(provider_id).await?;
    let (mut models, fetched_at) = match store.cached_models(provider_id).await? {
        Some((models, at)) => (models, Some(at as f64)),
        None => (Vec::new(), None),
    };
    models.sort_by(|a, b| {
        let fa = favourites.contains(&a.id);
        let fb = favourites.contains(&b.id);
        fb.cmp(&fa)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(ModelList {
        provider_id: provider_id.to_owned(),
        models,
        favourites,
        fetched_at,
    })
}

/// Fetches the model list from the provider and caches it.
///
/// Uses [`ModelFetch::default`]: 30 s for the whole request, 16 MB of list at
/// most. Errors are typed ([`Error::Unauthorized`] for a refused or missing
/// key, [`Error::Timeout`], [`Error::Network`], [`Error::TooLarge`],
/// [`Error::Protocol`] for a list Confab cannot read, ...), never show the key,
/// and leave the cached list as it was.
pub async fn refresh_models(
    store: &Store,
    keys: &Keys,
    http: &reqwest::Client,
    provider_id: &str,
) -> Result<ModelList> {
    refresh_models_with(store, keys, http, provider_id, &ModelFetch::default()).await
}

/// [`refresh_models`] within the given bounds.
pub async fn refresh_models_with(
    store: &Store,
    keys: &Keys,
    http: &reqwest::Client,
    provider_id: &str,
    limits: &ModelFetch,
) -> Result<ModelList> {
    let list = fetch_with_key(store, keys, http, provider_id, limits).await?;
    store.save_cached_models(provider_id, &list).await?;
    models(store, provider_id).await
}

async fn fetch_with_key(
    store: &Store,
    keys: &Keys,
    http: &reqwest::Client,
    provider_id: &str,
    limits: &ModelFetch,
) -> Result<Vec<ModelInfo>> {
    let config = store.provider(provider_id).await?;
    let key = keys.get(provider_id).await?;
    fetch_models(http, &config, key.as_deref(), limits).await
}

/// Pins or unpins a model.
pub async fn set_favourite(
    store: &Store,
    provider_id: &str,
    model_id: &str,
    favourite: bool,
) -> Result<ModelList> {
    let model_id = model_id.trim();
    if model_id.is_empty() {
        return Err(Error::InvalidInput("no model is named".into()));
    }
    validate::check_model_id(model_id, "a model id")?;
    store
        .set_favourite_model(provider_id, model_id, favourite)
        .await?;
    models(store, provider_id).await
}

/// Checks the provider accepts its key (by listing models); returns how many models it offers.
///
/// A refused key is [`Error::Unauthorized`], as is a missing one for a provider
/// that needs one. The list fetched on success replaces the cached one (it is
/// the freshest there is); a failure leaves the cache alone.
pub async fn test_key(
    store: &Store,
    keys: &Keys,
    http: &reqwest::Client,
    provider_id: &str,
) -> Result<u32> {
    test_key_with(store, keys, http, provider_id, &ModelFetch::default()).await
}

/// [`test_key`] within the given bounds.
pub async fn test_key_with(
    store: &Store,
    keys: &Keys,
    http: &reqwest::Client,
    provider_id: &str,
    limits: &ModelFetch,
) -> Result<u32> {
    let list = fetch_with_key(store, keys, http, provider_id, limits).await?;
    store.save_cached_models(provider_id, &list).await?;
    Ok(u32::try_from(list.len()).unwrap_or(u32::MAX))
}

/// Servers answering on the usual loopback ports.
///
/// Probes 11434 (Ollama), 8080 (llama.cpp), 5001 (KoboldCpp) and 1234 (LM
/// Studio) on 127.0.0.1 at once, each for at most [`LOCAL_PROBE_TIMEOUT`].
pub async fn find_local_servers() -> Vec<LocalServer> {
    crate::llm::find_local_servers(&LOCAL_PORTS, LOCAL_PROBE_TIMEOUT).await
}

/// A model as its provider's cached list describes it (context length, prices),
/// `None` when the list was never fetched or does not have it.
pub async fn model_info(
    store: &Store,
    provider_id: &str,
    model_id: &str,
) -> Result<Option<ModelInfo>> {
    Ok(store
        .cached_models(provider_id)
        .await?
        .and_then(|(models, _)| models.into_iter().find(|m| m.id == model_id)))
}

/// The provider and model in force for a session: its own choice, else the
/// default provider and that provider's default model.
pub async fn session_model(store: &Store, session_id: &str) -> Result<SessionModel> {
    Ok(resolve_session(store, session_id).await?.model)
}

/// A session's connection, each part read once: what the UI shows of it, the
/// provider's configuration, and what decides it (profile, pins).
#[derive(Debug, Clone)]
pub struct ResolvedSession {
    /// The provider and model in force, as [`session_model`] answers.
    pub model: SessionModel,
    /// The provider's configuration as saved, when one is in force.
    pub provider: Option<ProviderConfig>,
    /// The profile in force and the character's pins.
    pub in_force: crate::connection::InForce,
}

/// Resolves a session's connection (see [`session_model`]).
pub async fn resolve_session(store: &Store, session_id: &str) -> Result<ResolvedSession> {
    let in_force = crate::connection::in_force(store, session_id).await?;
    let (chosen_provider_id, chosen_model) = in_force.own_choice.clone();
    let profile = &in_force.profile;
    let (provider_id, model_choice) = match profile {
        Some((p, _)) => (Some(p.provider_id.clone()), p.model.clone()),
        None => match &chosen_provider_id {
            Some(id) => (Some(id.clone()), chosen_model.clone()),
            None => (store.default_provider_id().await?, chosen_model.clone()),
        },
    };
    let provider = match &provider_id {
        Some(id) => Some(store.provider(id).await?),
        None => None,
    };
    let model = model_choice
        .or_else(|| provider.as_ref().map(|p| p.default_model.clone()))
        .unwrap_or_default();
    let server_model = model.is_empty()
        && provider
            .as_ref()
            .is_some_and(|p| p.kind.serves_loaded_model());
    let listed = match &provider_id {
        Some(id) if !model.is_empty() || server_model => {
            store.cached_models(id).await?.map(|(models, _)| models)
        }
        _ => None,
    };
    let (context_length, loaded_model) = match listed {
        // A single-model server lists just the one it has loaded. Its window is
        // left to the server's own report (the window it was started with),
        // which the engine asks for, not the list's figure.
        Some(models) if server_model => match <[_; 1]>::try_from(models) {
            Ok([only]) => (None, Some(only.id)),
            Err(_) => (None, None),
        },
        Some(models) => (
            models
                .into_iter()
                .find(|m| m.id == model)
                .and_then(|m| m.context_length),
            None,
        ),
        None => (None, None),
    };
    let model = SessionModel {
        chosen_provider_id,
        chosen_model,
        provider_id,
        provider_name: provider.as_ref().map(|p| p.name.clone()),
        model,
        context_length,
        server_model,
        loaded_model,
        profile_id: profile.as_ref().map(|(p, _)| p.id.clone()),
        profile_name: profile.as_ref().map(|(p, _)| p.name.clone()),
        profile_source: profile.as_ref().map(|(_, source)| *source),
    };
    Ok(ResolvedSession {
        model,
        provider,
        in_force,
    })
}

/// Sets (or clears) a session's provider and model.
///
/// The provider must exist ([`Error::NotFound`] otherwise); the model is
/// trimmed, and an empty one clears the choice.
pub async fn set_session_model(
    store: &Store,
    session_id: &str,
    provider_id: Option<String>,
    model: Option<String>,
) -> Result<SessionModel> {
    let provider_id = provider_id
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty());
    let model = model.map(|m| m.trim().to_owned()).filter(|m| !m.is_empty());
    if let Some(m) = &model {
        validate::check_model_id(m, "the model")?;
    }
    store
        .set_session_model(session_id, provider_id.as_deref(), model.as_deref())
        .await?;
    session_model(store, session_id).await
}

/// Usage over the last `days` days (today included; at least 1, at most 3,660).
pub async fn usage(store: &Store, days: u32) -> Result<UsageReport> {
    if !(1..=3660).contains(&days) {
        return Err(Error::InvalidInput(
            "usage covers between 1 and 3660 days".into(),
        ));
    }
    store.usage_report(days).await
}
