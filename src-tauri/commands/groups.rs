//! Group chat commands: members, presence, turn settings, and a member's turn.

use std::sync::Arc;

use confab_core::chat::{StreamEvent, StreamStarted};
use confab_core::session::group::{self, GroupSettings, GroupState, Presence};
use confab_core::session::SessionSummary;
use confab_core::AppError;
use tauri::ipc::Channel;
use tauri::State;

use super::ChannelSink;
use crate::AppState;

/// A chat's cast: members, presence, turn settings, presence changes and the next speaker.
#[tauri::command]
#[specta::specta]
pub async fn get_group(
    state: State<'_, AppState>,
    session_id: String,
) -> Result<GroupState, AppError> {
    Ok(group::group_state(state.store().await?, &session_id).await?)
}

/// A new group chat with these characters (two or more), each greeting in turn.
#[tauri::command]
#[specta::specta]
pub async fn create_group_chat(
    state: State<'_, AppState>,
    character_ids: Vec<String>,
) -> Result<SessionSummary, AppError> {
    Ok(group::create_group(state.store().await?, &character_ids).await?)
}

/// Adds a character to a chat (a 1:1 chat becomes a group).
#[tauri::command]
#[specta::specta]
pub async fn add_group_member(
    state: State<'_, AppState>,
    session_id: String,
    character_id: String,
) -> Result<GroupState, AppError> {
    let store = state.store().await?;
    store.add_group_member(&session_id, &character_id).await?;
    Ok(group::group_state(store, &session_id).await?)
}

/// Removes a member (its messages stay); with one left, the chat is 1:1 again.
#[tauri::command]
#[specta::specta]
pub async fn remove_group_member(
    state: State<'_, AppState>,
    session_id: String,
    character_id: String,
) -> Result<GroupState, AppError> {
    let store = state.store().await?;
    store
        .remove_group_member(&session_id, &character_id)
        .await?;
    Ok(group::group_state(store, &session_id).await?)
}

/// Mutes a member, sends it out of the scene, or brings it back.
#[tauri::command]
#[specta::specta]
pub async fn set_member_presence(
    state: State<'_, AppState>,
    session_id: String,
    character_id: String,
    presence: Presence,
) -> Result<GroupState, AppError> {
    let store = state.store().await?;
    store
        .set_member_presence(&session_id, &character_id, presence)
        .await?;
    Ok(group::group_state(store, &session_id).await?)
}

/// Sets how a group takes turns.
#[tauri::command]
#[specta::specta]
pub async fn set_group_settings(
    state: State<'_, AppState>,
    session_id: String,
    settings: GroupSettings,
) -> Result<GroupState, AppError> {
    let store = state.store().await?;
    store.set_group_settings(&session_id, &settings).await?;
    Ok(group::group_state(store, &session_id).await?)
}

/// A member speaks without a new user message (`speaker_id`, or the one the
/// turn order picks); auto turns follow.
#[tauri::command]
#[specta::specta]
pub async fn speak(
    state: State<'_, AppState>,
    session_id: String,
    speaker_id: Option<String>,
    on_event: Channel<StreamEvent>,
) -> Result<StreamStarted, AppError> {
    let sink = Arc::new(ChannelSink(on_event));
    Ok(state
        .engine()
        .await?
        .speak(&session_id, speaker_id.as_deref(), sink)
        .await?)
}
