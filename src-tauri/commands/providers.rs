//! Providers, keys, model lists and usage.

use confab_core::llm::{supported_samplers, LocalServer, ProviderConfig, ProviderKind, Sampler};
use confab_core::providers::{self, ModelList, Provider, SessionModel, UsageReport};
use confab_core::secrets::{KeyStatus, KeyStorage, KeyStorageOptions};
use confab_core::AppError;
use tauri::State;

use crate::AppState;

/// Every configured provider with whether its key is set.
#[tauri::command]
#[specta::specta]
pub async fn list_providers(state: State<'_, AppState>) -> Result<Vec<Provider>, AppError> {
    let store = state.store().await?;
    Ok(providers::list(store, state.keys().await?).await?)
}

/// A new, unsaved provider of `kind` with its defaults filled in.
#[tauri::command]
#[specta::specta]
pub fn new_provider(kind: ProviderKind, name: String) -> ProviderConfig {
    ProviderConfig::new(kind, &name)
}

/// The sampling settings a provider kind's backend accepts, so the editor shows only those.
#[tauri::command]
#[specta::specta]
pub fn provider_samplers(kind: ProviderKind) -> Vec<Sampler> {
    supported_samplers(kind).to_vec()
}

/// Saves a provider (new or changed).
#[tauri::command]
#[specta::specta]
pub async fn save_provider(
    state: State<'_, AppState>,
    config: ProviderConfig,
) -> Result<Provider, AppError> {
    let store = state.store().await?;
    let saved = providers::save(store, state.keys().await?, config).await?;
    state.connections_changed(None);
    Ok(saved)
}

/// Deletes a provider and its key.
#[tauri::command]
#[specta::specta]
pub async fn delete_provider(
    state: State<'_, AppState>,
    provider_id: String,
) -> Result<(), AppError> {
    let store = state.store().await?;
    providers::delete(store, state.keys().await?, &provider_id).await?;
    state.connections_changed(None);
    Ok(())
}

/// Makes a provider the one sessions use unless they chose another.
#[tauri::command]
#[specta::specta]
pub async fn set_default_provider(
    state: State<'_, AppState>,
    provider_id: String,
) -> Result<(), AppError> {
    state
        .store()
        .await?
        .set_default_provider(&provider_id)
        .await?;
    state.connections_changed(None);
    Ok(())
}

/// Stores a provider's API key in `storage`; the answer says only where it is kept.
#[tauri::command]
#[specta::specta]
pub async fn set_api_key(
    state: State<'_, AppState>,
    provider_id: String,
    key: String,
    storage: KeyStorage,
) -> Result<KeyStatus, AppError> {
    Ok(state.keys().await?.set(&provider_id, &key, storage).await?)
}

/// Removes a provider's API key from everywhere it is kept.
#[tauri::command]
#[specta::specta]
pub async fn delete_api_key(
    state: State<'_, AppState>,
    provider_id: String,
) -> Result<KeyStatus, AppError> {
    Ok(state.keys().await?.delete(&provider_id).await?)
}

/// Checks the provider accepts the key; answers how many models it offers.
#[tauri::command]
#[specta::specta]
pub async fn test_api_key(
    state: State<'_, AppState>,
    provider_id: String,
) -> Result<u32, AppError> {
    let store = state.store().await?;
    let keys = state.keys().await?;
    Ok(providers::test_key(store, keys, state.http()?, &provider_id).await?)
}

/// Where keys can be kept on this machine now.
#[tauri::command]
#[specta::specta]
pub async fn key_storage_options(
    state: State<'_, AppState>,
) -> Result<KeyStorageOptions, AppError> {
    Ok(state.keys().await?.options().await)
}

/// The cached model list of a provider.
#[tauri::command]
#[specta::specta]
pub async fn get_models(
    state: State<'_, AppState>,
    provider_id: String,
) -> Result<ModelList, AppError> {
    Ok(providers::models(state.store().await?, &provider_id).await?)
}

/// Fetches a provider's model list again.
#[tauri::command]
#[specta::specta]
pub async fn refresh_models(
    state: State<'_, AppState>,
    provider_id: String,
) -> Result<ModelList, AppError> {
    let store = state.store().await?;
    let keys = state.keys().await?;
    let list = providers::refresh_models(store, keys, state.http()?, &provider_id).await?;
    // A model's window, or a local server's loaded model, may be known now.
    state.connections_changed(None);
    Ok(list)
}

/// Pins a model on top of the picker, or unpins it.
#[tauri::command]
#[specta::specta]
pub async fn set_favourite_model(
    state: State<'_, AppState>,
    provider_id: String,
    model_id: String,
    favourite: bool,
) -> Result<ModelList, AppError> {
    let store = state.store().await?;
    Ok(providers::set_favourite(store, &provider_id, &model_id, favourite).await?)
}

/// Servers answering on the usual loopback ports (Ollama, llama.cpp, KoboldCpp, LM Studio).
#[tauri::command]
#[specta::specta]
pub async fn find_local_servers() -> Vec<LocalServer> {
    providers::find_local_servers().await
}

/// The provider and model a session replies with.
#[tauri::command]
#[specta::specta]
pub async fn get_session_model(
    state: State<'_, AppState>,
    session_id: String,
) -> Result<SessionModel, AppError> {
    Ok(providers::session_model(state.store().await?, &session_id).await?)
}

/// Chooses (or clears) a session's provider and model.
#[tauri::command]
#[specta::specta]
pub async fn set_session_model(
    state: State<'_, AppState>,
    session_id: String,
    provider_id: Option<String>,
    model: Option<String>,
) -> Result<SessionModel, AppError> {
    let store = state.store().await?;
    let chosen = providers::set_session_model(store, &session_id, provider_id, model).await?;
    state.connections_changed(Some(&session_id));
    Ok(chosen)
}

/// Tokens, cost, failures and cancellations over the last `days` days.
#[tauri::command]
#[specta::specta]
pub async fn get_usage(state: State<'_, AppState>, days: u32) -> Result<UsageReport, AppError> {
    Ok(providers::usage(state.store().await?, days).await?)
}
