//! Memory commands: a chat's summaries, its memory settings, notes for retrieval and searches.

use confab_core::memory::settings::MemorySettings;
use confab_core::memory::summary::{MemoryHit, MemoryNote, MemorySummary, MemoryView};
use confab_core::AppError;
use tauri::State;

use crate::AppState;

/// What the Memory panel shows of a chat: settings, the active path's summaries, notes.
#[tauri::command]
#[specta::specta]
pub async fn memory_view(
    state: State<'_, AppState>,
    session_id: String,
) -> Result<MemoryView, AppError> {
    Ok(state.engine().await?.memory_view(&session_id).await?)
}

/// Saves a chat's memory settings; answers with them as saved.
#[tauri::command]
#[specta::specta]
pub async fn set_memory_settings(
    state: State<'_, AppState>,
    session_id: String,
    settings: MemorySettings,
) -> Result<MemorySettings, AppError> {
    Ok(state
        .engine()
        .await?
        .set_memory_settings(&session_id, settings)
        .await?)
}

/// Replaces a summary's text (it becomes edited and no longer stale).
#[tauri::command]
#[specta::specta]
pub async fn edit_summary(
    state: State<'_, AppState>,
    summary_id: String,
    content: String,
) -> Result<MemorySummary, AppError> {
    Ok(state
        .engine()
        .await?
        .edit_summary(&summary_id, &content)
        .await?)
}

/// Pins a summary (kept as written, never redone on its own) or unpins it.
#[tauri::command]
#[specta::specta]
pub async fn pin_summary(
    state: State<'_, AppState>,
    summary_id: String,
    pinned: bool,
) -> Result<MemorySummary, AppError> {
    Ok(state
        .engine()
        .await?
        .pin_summary(&summary_id, pinned)
        .await?)
}

/// Deletes a summary; its messages are summarised again after the next reply.
#[tauri::command]
#[specta::specta]
pub async fn delete_summary(
    state: State<'_, AppState>,
    summary_id: String,
) -> Result<(), AppError> {
    Ok(state.engine().await?.delete_summary(&summary_id).await?)
}

/// Writes a summary again now (answers when the summarizer has).
#[tauri::command]
#[specta::specta]
pub async fn regenerate_summary(
    state: State<'_, AppState>,
    summary_id: String,
) -> Result<MemorySummary, AppError> {
    Ok(state
        .engine()
        .await?
        .regenerate_summary(&summary_id)
        .await?)
}

/// Summarises now what left the window unsummarised; answers with the summaries written.
#[tauri::command]
#[specta::specta]
pub async fn summarize_now(
    state: State<'_, AppState>,
    session_id: String,
) -> Result<Vec<MemorySummary>, AppError> {
    Ok(state.engine().await?.summarize_now(&session_id).await?)
}

/// Attaches a note to a chat for retrieval (embedded in the background).
#[tauri::command]
#[specta::specta]
pub async fn add_memory_note(
    state: State<'_, AppState>,
    session_id: String,
    text: String,
) -> Result<MemoryNote, AppError> {
    Ok(state
        .engine()
        .await?
        .add_memory_note(&session_id, &text)
        .await?)
}

/// Removes a note. Its id is a passage's row id, sent as a JavaScript number
/// (specta refuses 64-bit integers: they lose precision past 2^53).
#[tauri::command]
#[specta::specta]
pub async fn delete_memory_note(state: State<'_, AppState>, note_id: u32) -> Result<(), AppError> {
    Ok(state
        .engine()
        .await?
        .delete_memory_note(i64::from(note_id))
        .await?)
}

/// The chat's passages most like `text`, best first, each with its score.
#[tauri::command]
#[specta::specta]
pub async fn search_memory(
    state: State<'_, AppState>,
    session_id: String,
    text: String,
    limit: u32,
) -> Result<Vec<MemoryHit>, AppError> {
    Ok(state
        .engine()
        .await?
        .search_memory(&session_id, &text, limit)
        .await?)
}
