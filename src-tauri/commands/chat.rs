//! Streaming replies: send, regenerate, continue, impersonate, attach, stop.

use std::sync::Arc;

use confab_core::chat::{LiveSessions, StreamEvent, StreamStarted};
use confab_core::AppError;
use tauri::ipc::Channel;
use tauri::State;

use super::ChannelSink;
use crate::AppState;

/// Saves the user's message and streams the character's reply over `on_event`;
/// in a group, `speaker_id` picks the member who answers (`None`: the turn order).
#[tauri::command]
#[specta::specta]
pub async fn send_message(
    state: State<'_, AppState>,
    session_id: String,
    text: String,
    image_ids: Vec<String>,
    speaker_id: Option<String>,
    on_event: Channel<StreamEvent>,
) -> Result<StreamStarted, AppError> {
    let sink = Arc::new(ChannelSink(on_event));
    Ok(state
        .engine()
        .await?
        .send_as(&session_id, &text, &image_ids, speaker_id.as_deref(), sink)
        .await?)
}

/// Streams a new swipe of the last reply; in a group, written by `speaker_id`
/// (`None`: the member who wrote it).
#[tauri::command]
#[specta::specta]
pub async fn regenerate_reply(
    state: State<'_, AppState>,
    session_id: String,
    speaker_id: Option<String>,
    on_event: Channel<StreamEvent>,
) -> Result<StreamStarted, AppError> {
    let sink = Arc::new(ChannelSink(on_event));
    Ok(state
        .engine()
        .await?
        .regenerate_as(&session_id, speaker_id.as_deref(), sink)
        .await?)
}

/// Streams more of the last reply.
#[tauri::command]
#[specta::specta]
pub async fn continue_reply(
    state: State<'_, AppState>,
    session_id: String,
    on_event: Channel<StreamEvent>,
) -> Result<StreamStarted, AppError> {
    let sink = Arc::new(ChannelSink(on_event));
    Ok(state
        .engine()
        .await?
        .continue_reply(&session_id, sink)
        .await?)
}

/// Streams a draft of the user's next message (nothing is saved).
#[tauri::command]
#[specta::specta]
pub async fn impersonate(
    state: State<'_, AppState>,
    session_id: String,
    on_event: Channel<StreamEvent>,
) -> Result<StreamStarted, AppError> {
    let sink = Arc::new(ChannelSink(on_event));
    Ok(state.engine().await?.impersonate(&session_id, sink).await?)
}

/// Follows the session's live stream, if any: `started`, a snapshot, then
/// deltas; in a group, the auto turns after it too. A window that attaches
/// again (`window_label`, the UI's own) replaces its earlier channel. The label
/// comes from the UI because a `Window` argument would tie the command set to
/// one runtime, and the mock-runtime tests build the same set.
#[tauri::command]
#[specta::specta]
pub async fn attach_stream(
    state: State<'_, AppState>,
    session_id: String,
    window_label: Option<String>,
    on_event: Channel<StreamEvent>,
) -> Result<bool, AppError> {
    let sink = Arc::new(ChannelSink(on_event));
    Ok(state
        .engine()
        .await?
        .attach_as(&session_id, window_label.as_deref(), sink))
}

/// Stops the session's stream; the partial reply is saved as cancelled.
#[tauri::command]
#[specta::specta]
pub async fn stop_stream(state: State<'_, AppState>, session_id: String) -> Result<bool, AppError> {
    Ok(state.engine().await?.stop(&session_id))
}

/// Sessions with a live stream.
#[tauri::command]
#[specta::specta]
pub async fn live_sessions(state: State<'_, AppState>) -> Result<LiveSessions, AppError> {
    Ok(state.engine().await?.live_sessions())
}

/// Opens a session in a window of its own (or brings its window forward).
/// Both windows follow the same live stream: the engine is shared.
#[tauri::command]
#[specta::specta]
pub async fn open_chat_window(
    state: State<'_, AppState>,
    session_id: String,
) -> Result<(), AppError> {
    let session = state.store().await?.session_summary(&session_id).await?;
    state.open_chat_window(&session)
}
