//! Connection profiles, what characters are pinned to, and the template library.

use confab_core::connection::{
    self, CharacterPins, ConnectionProfile, TemplateKind, TemplateSummary,
};
use confab_core::providers::{self, SessionModel};
use confab_core::AppError;
use tauri::State;

use crate::AppState;

/// Every connection profile, in order.
#[tauri::command]
#[specta::specta]
pub async fn list_profiles(state: State<'_, AppState>) -> Result<Vec<ConnectionProfile>, AppError> {
    Ok(state.store().await?.profiles().await?)
}

/// Saves a profile (new when its id is empty).
#[tauri::command]
#[specta::specta]
pub async fn save_profile(
    state: State<'_, AppState>,
    profile: ConnectionProfile,
) -> Result<ConnectionProfile, AppError> {
    let saved = connection::save_profile(state.store().await?, profile).await?;
    state.connections_changed(None);
    Ok(saved)
}

/// Deletes a profile; chats and characters that used it fall back to their own choice.
#[tauri::command]
#[specta::specta]
pub async fn delete_profile(
    state: State<'_, AppState>,
    profile_id: String,
) -> Result<(), AppError> {
    state.store().await?.delete_profile(&profile_id).await?;
    state.connections_changed(None);
    Ok(())
}

/// A chat takes a profile (`None`: lets it go); returns what the chat now replies with.
#[tauri::command]
#[specta::specta]
pub async fn use_profile(
    state: State<'_, AppState>,
    session_id: String,
    profile_id: Option<String>,
) -> Result<SessionModel, AppError> {
    let store = state.store().await?;
    connection::use_profile(store, &session_id, profile_id.as_deref()).await?;
    state.connections_changed(Some(&session_id));
    Ok(providers::session_model(store, &session_id).await?)
}

/// What a character is pinned to.
#[tauri::command]
#[specta::specta]
pub async fn character_pins(
    state: State<'_, AppState>,
    character_id: String,
) -> Result<CharacterPins, AppError> {
    Ok(state.store().await?.character_pins(&character_id).await?)
}

/// Pins a character to a profile and/or an instruct template (`None`s unpin).
#[tauri::command]
#[specta::specta]
pub async fn pin_character(
    state: State<'_, AppState>,
    character_id: String,
    pins: CharacterPins,
) -> Result<CharacterPins, AppError> {
    let pinned = connection::pin_character(state.store().await?, &character_id, pins).await?;
    state.connections_changed(None);
    Ok(pinned)
}

/// The instruct and context templates: presets and saved ones.
#[tauri::command]
#[specta::specta]
pub async fn list_templates(state: State<'_, AppState>) -> Result<Vec<TemplateSummary>, AppError> {
    Ok(connection::template_catalog(state.store().await?).await?)
}

/// Imports a SillyTavern instruct or context template (or a master export) from its JSON text.
#[tauri::command]
#[specta::specta]
pub async fn import_template(
    state: State<'_, AppState>,
    json: String,
) -> Result<Vec<TemplateSummary>, AppError> {
    Ok(connection::import_templates(state.store().await?, &json).await?)
}

/// A template as SillyTavern JSON.
#[tauri::command]
#[specta::specta]
pub async fn export_template(
    state: State<'_, AppState>,
    kind: TemplateKind,
    name: String,
) -> Result<String, AppError> {
    Ok(connection::export_template(state.store().await?, kind, &name).await?)
}

/// Deletes a saved template (the preset of its name, if any, is used again).
#[tauri::command]
#[specta::specta]
pub async fn delete_template(
    state: State<'_, AppState>,
    kind: TemplateKind,
    name: String,
) -> Result<(), AppError> {
    Ok(connection::delete_template(state.store().await?, kind, &name).await?)
}
