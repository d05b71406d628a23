//! Prompt commands: the preview and the Author's Note (the Character's note is edited with the card).

use confab_core::prompt::AuthorsNote;
use confab_core::session::notes::{self, ChatNotes};
use confab_core::session::turn::{preview_turn, PromptPreview, TurnRequest};
use confab_core::AppError;
use tauri::State;

use crate::AppState;

/// The exact prompt a send of `message` (with `image_ids`) would make now, for
/// the session's provider and model, with every part explained, the world
/// info that fired and was dropped, and on request the request body itself.
/// In a group, the prompt is `speaker_id`'s (`None`: the member who would speak next).
#[tauri::command]
#[specta::specta]
pub async fn preview_prompt(
    state: State<'_, AppState>,
    session_id: String,
    message: Option<String>,
    image_ids: Vec<String>,
    speaker_id: Option<String>,
    with_request_body: bool,
) -> Result<PromptPreview, AppError> {
    let request = TurnRequest {
        new_message: message.filter(|m| !m.trim().is_empty() || !image_ids.is_empty()),
        image_ids,
        speaker: speaker_id,
        ..TurnRequest::default()
    };
    // The engine connects retrieval's embedder to the keys and the network: a
    // preview before any send in this run must find it connected too. Without
    // an engine (no TLS library, say) the preview still shows the rest.
    let _ = state.engine().await;
    Ok(preview_turn(
        state.store().await?,
        state.prompt_caches(),
        &session_id,
        &request,
        with_request_body,
    )
    .await?)
}

/// A chat's Author's Note and its character's default.
#[tauri::command]
#[specta::specta]
pub async fn get_authors_note(
    state: State<'_, AppState>,
    session_id: String,
) -> Result<ChatNotes, AppError> {
    Ok(notes::chat_notes(state.store().await?, &session_id).await?)
}

/// Sets a chat's own Author's Note; `None` goes back to the character's default.
#[tauri::command]
#[specta::specta]
pub async fn set_authors_note(
    state: State<'_, AppState>,
    session_id: String,
    note: Option<AuthorsNote>,
) -> Result<ChatNotes, AppError> {
    Ok(notes::set_chat_note(state.store().await?, &session_id, note).await?)
}

/// Sets a character's default Author's Note for its chats without one.
#[tauri::command]
#[specta::specta]
pub async fn set_default_authors_note(
    state: State<'_, AppState>,
    character_id: String,
    note: Option<AuthorsNote>,
) -> Result<(), AppError> {
    Ok(notes::set_default_note(state.store().await?, &character_id, note).await?)
}
