//! Providers as the user manages them: configurations with key status, model
//! lists (fetched, cached, refreshable, favourites pinned), the model a session
//! replies with, key tests, local server discovery, and usage figures.
#![allow(unused_variables, clippy::todo)] // CONTRACT: remove with the last todo!().

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::llm::{LocalServer, ModelInfo, ProviderConfig};
use crate::secrets::{KeyStatus, Keys};
use crate::store::Store;

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
pub fn http_client() -> reqwest::Client {
    todo!("CONTRACT: providers work")
}

/// Every provider with its key status.
pub async fn list(store: &Store, keys: &Keys) -> Result<Vec<Provider>> {
    todo!("CONTRACT: providers work")
}

/// Validates and saves a provider (new or changed).
pub async fn save(store: &Store, keys: &Keys, config: ProviderConfig) -> Result<Provider> {
    todo!("CONTRACT: providers work")
}

/// Deletes a provider and its key.
pub async fn delete(store: &Store, keys: &Keys, provider_id: &str) -> Result<()> {
    todo!("CONTRACT: providers work")
}

/// The cached model list (empty until fetched).
pub async fn models(store: &Store, provider_id: &str) -> Result<ModelList> {
    todo!("CONTRACT: providers work")
}

/// Fetches the model list from the provider and caches it.
pub async fn refresh_models(
    store: &Store,
    keys: &Keys,
    http: &reqwest::Client,
    provider_id: &str,
) -> Result<ModelList> {
    todo!("CONTRACT: providers work")
}

/// Pins or unpins a model.
pub async fn set_favourite(
    store: &Store,
    provider_id: &str,
    model_id: &str,
    favourite: bool,
) -> Result<ModelList> {
    todo!("CONTRACT: providers work")
}

/// Checks the provider accepts its key (by listing models); returns how many models it offers.
pub async fn test_key(
    store: &Store,
    keys: &Keys,
    http: &reqwest::Client,
    provider_id: &str,
) -> Result<u32> {
    todo!("CONTRACT: providers work")
}

/// Servers answering on the usual loopback ports.
pub async fn find_local_servers() -> Vec<LocalServer> {
    todo!("CONTRACT: providers work")
}

/// The provider and model in force for a session: its own choice, else the
/// default provider and that provider's default model.
pub async fn session_model(store: &Store, session_id: &str) -> Result<SessionModel> {
    let (chosen_provider_id, chosen_model) = store.session_model(session_id).await?;
    let provider_id = match &chosen_provider_id {
        Some(id) => Some(id.clone()),
        None => store.default_provider_id().await?,
    };
    let provider = match &provider_id {
        Some(id) => Some(store.provider(id).await?),
        None => None,
    };
    let model = chosen_model
        .clone()
        .or_else(|| provider.as_ref().map(|p| p.default_model.clone()))
        .unwrap_or_default();
    let context_length = match &provider_id {
        Some(id) if !model.is_empty() => store
            .cached_models(id)
            .await?
            .and_then(|(models, _)| models.into_iter().find(|m| m.id == model))
            .and_then(|m| m.context_length),
        _ => None,
    };
    Ok(SessionModel {
        chosen_provider_id,
        chosen_model,
        provider_id,
        provider_name: provider.map(|p| p.name),
        model,
        context_length,
    })
}

/// Sets (or clears) a session's provider and model.
pub async fn set_session_model(
    store: &Store,
    session_id: &str,
    provider_id: Option<String>,
    model: Option<String>,
) -> Result<SessionModel> {
    todo!("CONTRACT: providers work")
}

/// Usage over the last `days` days.
pub async fn usage(store: &Store, days: u32) -> Result<UsageReport> {
    todo!("CONTRACT: providers work")
}
