//! Conversation commands: sessions, messages, search, personas.

use confab_core::library::{self, ExportedFile};
use confab_core::session::service::ChatExportFormat;
use confab_core::session::{
    group_files, service, CharacterPreferences, ContextVersion, Message, MessageImage, MessagePage,
    Persona, Role, SessionSummary,
};
use confab_core::store::{NewMessage, SearchHit, SessionQuery};
use confab_core::{AppError, Error};
use tauri::ipc::Request;
use tauri::State;

use super::{header, raw_body};
use crate::AppState;

/// The primary context in force, its default, and the global post-history prompt.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PrimaryContext {
    /// The newest saved version, if any was saved.
    pub current: Option<ContextVersion>,
    /// The built-in text used while none is saved.
    pub default_text: String,
    /// The global post-history prompt.
    pub post_history: String,
}

/// Sessions, newest activity first.
#[tauri::command]
#[specta::specta]
pub async fn list_sessions(
    state: State<'_, AppState>,
    query: SessionQuery,
) -> Result<Vec<SessionSummary>, AppError> {
    Ok(state.store().await?.session_summaries(&query).await?)
}

/// The character's most recent session, or a new one with its greeting.
#[tauri::command]
#[specta::specta]
pub async fn open_or_create_session(
    state: State<'_, AppState>,
    character_id: String,
) -> Result<SessionSummary, AppError> {
    Ok(service::open_or_create_session(state.store().await?, &character_id).await?)
}

/// A new session with the character's greeting.
#[tauri::command]
#[specta::specta]
pub async fn create_session(
    state: State<'_, AppState>,
    character_id: String,
) -> Result<SessionSummary, AppError> {
    Ok(service::create_session(state.store().await?, &character_id).await?)
}

/// A page of the active path, newest page for a `null` cursor.
#[tauri::command]
#[specta::specta]
pub async fn get_messages(
    state: State<'_, AppState>,
    session_id: String,
    cursor: Option<String>,
    limit: u32,
) -> Result<MessagePage, AppError> {
    Ok(state
        .store()
        .await?
        .messages_page(&session_id, cursor.as_deref(), limit)
        .await?)
}

/// Appends a message (no reply is asked for).
#[tauri::command]
#[specta::specta]
pub async fn add_message(
    state: State<'_, AppState>,
    session_id: String,
    role: Role,
    content: String,
    image_ids: Vec<String>,
) -> Result<Message, AppError> {
    let store = state.store().await?;
    let session = store.session_summary(&session_id).await?;
    let name = match role {
        Role::User => service::user_name(store, session.persona_id.as_deref()).await?,
        Role::Assistant => session.character_name,
        Role::System => String::new(),
    };
    let new = NewMessage {
        role,
        name: &name,
        content: &content,
        status: Default::default(),
        image_ids: &image_ids,
        speaker: None,
    };
    Ok(store.add_message(&session_id, new).await?)
}

/// Replaces a message's text, keeping the old one.
#[tauri::command]
#[specta::specta]
pub async fn edit_message(
    state: State<'_, AppState>,
    message_id: String,
    content: String,
) -> Result<Message, AppError> {
    Ok(state
        .store()
        .await?
        .edit_message(&message_id, &content)
        .await?)
}

/// Earlier texts of a message, oldest first.
#[tauri::command]
#[specta::specta]
pub async fn message_versions(
    state: State<'_, AppState>,
    message_id: String,
) -> Result<Vec<String>, AppError> {
    Ok(state.store().await?.message_versions(&message_id).await?)
}

/// Deletes a message and what follows it on its path.
#[tauri::command]
#[specta::specta]
pub async fn delete_message(
    state: State<'_, AppState>,
    message_id: String,
) -> Result<(), AppError> {
    Ok(state.store().await?.delete_message(&message_id).await?)
}

/// Makes the `index`th swipe of a message active.
#[tauri::command]
#[specta::specta]
pub async fn select_swipe(
    state: State<'_, AppState>,
    message_id: String,
    index: u32,
) -> Result<Message, AppError> {
    Ok(state
        .store()
        .await?
        .select_swipe(&message_id, index)
        .await?)
}

/// A new session from the start of this one down to a message.
#[tauri::command]
#[specta::specta]
pub async fn branch_session(
    state: State<'_, AppState>,
    message_id: String,
) -> Result<SessionSummary, AppError> {
    let store = state.store().await?;
    let id = store.branch_session(&message_id).await?;
    Ok(store.session_summary(&id).await?)
}

/// Renames a session.
#[tauri::command]
#[specta::specta]
pub async fn rename_session(
    state: State<'_, AppState>,
    session_id: String,
    title: String,
) -> Result<SessionSummary, AppError> {
    let store = state.store().await?;
    store.rename_session(&session_id, &title).await?;
    Ok(store.session_summary(&session_id).await?)
}

/// Archives or unarchives a session.
#[tauri::command]
#[specta::specta]
pub async fn archive_session(
    state: State<'_, AppState>,
    session_id: String,
    archived: bool,
) -> Result<SessionSummary, AppError> {
    let store = state.store().await?;
    store.archive_session(&session_id, archived).await?;
    Ok(store.session_summary(&session_id).await?)
}

/// Deletes a session with its messages.
#[tauri::command]
#[specta::specta]
pub async fn delete_session(
    state: State<'_, AppState>,
    session_id: String,
) -> Result<(), AppError> {
    Ok(state.store().await?.delete_session(&session_id).await?)
}

/// Full-text search over all sessions, or one.
#[tauri::command]
#[specta::specta]
pub async fn search_messages(
    state: State<'_, AppState>,
    query: String,
    session_id: Option<String>,
) -> Result<Vec<SearchHit>, AppError> {
    Ok(state
        .store()
        .await?
        .search_messages(&query, session_id.as_deref(), 100)
        .await?)
}

/// Every persona, the default first.
#[tauri::command]
#[specta::specta]
pub async fn list_personas(state: State<'_, AppState>) -> Result<Vec<Persona>, AppError> {
    Ok(state.store().await?.personas().await?)
}

/// Adds a persona.
#[tauri::command]
#[specta::specta]
pub async fn create_persona(
    state: State<'_, AppState>,
    name: String,
    description: String,
) -> Result<Persona, AppError> {
    Ok(state
        .store()
        .await?
        .create_persona(&name, &description)
        .await?)
}

/// Renames a persona and saves its description.
#[tauri::command]
#[specta::specta]
pub async fn update_persona(
    state: State<'_, AppState>,
    id: String,
    name: String,
    description: String,
) -> Result<Persona, AppError> {
    Ok(state
        .store()
        .await?
        .update_persona(&id, &name, &description)
        .await?)
}

/// Deletes a persona.
#[tauri::command]
#[specta::specta]
pub async fn delete_persona(state: State<'_, AppState>, id: String) -> Result<(), AppError> {
    Ok(state.store().await?.delete_persona(&id).await?)
}

/// Makes a persona the default.
#[tauri::command]
#[specta::specta]
pub async fn set_default_persona(
    state: State<'_, AppState>,
    id: String,
) -> Result<Persona, AppError> {
    Ok(state.store().await?.set_default_persona(&id).await?)
}

/// Chooses a session's persona (`null`: the default).
#[tauri::command]
#[specta::specta]
pub async fn set_session_persona(
    state: State<'_, AppState>,
    session_id: String,
    persona_id: Option<String>,
) -> Result<SessionSummary, AppError> {
    let store = state.store().await?;
    store
        .set_session_persona(&session_id, persona_id.as_deref())
        .await?;
    Ok(store.session_summary(&session_id).await?)
}

/// Stores an image to send with the next message (raw body, name in `x-file-name`).
#[tauri::command]
pub async fn attach_image(
    state: State<'_, AppState>,
    request: Request<'_>,
) -> Result<MessageImage, AppError> {
    let name = header(&request, "x-file-name").unwrap_or_else(|| "image".to_owned());
    let bytes = raw_body(&request, "attach_image")?;
    Ok(service::attach_image_bytes(state.store().await?, &name, bytes).await?)
}

/// Sets a persona's avatar (raw body, persona id in `x-persona-id`).
#[tauri::command]
pub async fn set_persona_avatar(
    state: State<'_, AppState>,
    request: Request<'_>,
) -> Result<Persona, AppError> {
    let id = header(&request, "x-persona-id").ok_or_else(|| {
        Error::InvalidInput("set_persona_avatar needs the x-persona-id header".into())
    })?;
    let bytes = raw_body(&request, "set_persona_avatar")?;
    Ok(service::set_persona_avatar(state.store().await?, &id, bytes).await?)
}

/// A character's preferences, if set.
#[tauri::command]
#[specta::specta]
pub async fn get_preferences(
    state: State<'_, AppState>,
    character_id: String,
) -> Result<Option<CharacterPreferences>, AppError> {
    Ok(state.store().await?.preferences(&character_id).await?)
}

/// Saves a character's preferences; contradictions are refused.
#[tauri::command]
#[specta::specta]
pub async fn set_preferences(
    state: State<'_, AppState>,
    character_id: String,
    preferences: CharacterPreferences,
) -> Result<CharacterPreferences, AppError> {
    confab_core::prompt::validate_preferences(&preferences)?;
    let store = state.store().await?;
    store.set_preferences(&character_id, &preferences).await?;
    Ok(preferences)
}

/// Removes a character's preferences.
#[tauri::command]
#[specta::specta]
pub async fn delete_preferences(
    state: State<'_, AppState>,
    character_id: String,
) -> Result<(), AppError> {
    Ok(state
        .store()
        .await?
        .delete_preferences(&character_id)
        .await?)
}

/// The primary context in force, the built-in default, and the global post-history prompt.
#[tauri::command]
#[specta::specta]
pub async fn get_primary_context(state: State<'_, AppState>) -> Result<PrimaryContext, AppError> {
    primary_context(state.store().await?).await
}

/// Saves the primary context as a new version.
#[tauri::command]
#[specta::specta]
pub async fn save_primary_context(
    state: State<'_, AppState>,
    text: String,
) -> Result<ContextVersion, AppError> {
    Ok(state.store().await?.save_primary_context(&text).await?)
}

/// Saved primary-context versions, newest first.
#[tauri::command]
#[specta::specta]
pub async fn list_context_versions(
    state: State<'_, AppState>,
) -> Result<Vec<ContextVersion>, AppError> {
    Ok(state.store().await?.context_versions().await?)
}

/// Makes an older primary-context version the newest.
#[tauri::command]
#[specta::specta]
pub async fn restore_context_version(
    state: State<'_, AppState>,
    id: String,
) -> Result<ContextVersion, AppError> {
    Ok(state.store().await?.restore_context_version(&id).await?)
}

/// Saves the global post-history prompt.
#[tauri::command]
#[specta::specta]
pub async fn set_post_history(
    state: State<'_, AppState>,
    text: String,
) -> Result<PrimaryContext, AppError> {
    let store = state.store().await?;
    store.set_post_history(&text).await?;
    primary_context(store).await
}

async fn primary_context(store: &confab_core::store::Store) -> Result<PrimaryContext, AppError> {
    Ok(PrimaryContext {
        current: store.context_versions().await?.into_iter().next(),
        default_text: confab_core::prompt::DEFAULT_PRIMARY_CONTEXT.to_owned(),
        post_history: store.post_history().await?,
    })
}

/// Writes a session to the Downloads folder as SillyTavern JSONL, Markdown or JSON.
#[tauri::command]
#[specta::specta]
pub async fn export_session(
    state: State<'_, AppState>,
    session_id: String,
    format: ChatExportFormat,
) -> Result<ExportedFile, AppError> {
    let dir = library::default_export_dir(state.data_dir()?);
    Ok(service::export_session_to_dir(state.store().await?, &session_id, format, &dir).await?)
}

/// Imports a SillyTavern chat (raw body; `x-file-name` header, and
/// `x-character-id` for a character's chat or `x-group-session-id` for a new
/// chat of that chat's group, each reply's speaker found by name).
#[tauri::command]
pub async fn import_chat(
    state: State<'_, AppState>,
    request: Request<'_>,
) -> Result<SessionSummary, AppError> {
    let name = header(&request, "x-file-name").unwrap_or_else(|| "chat.jsonl".to_owned());
    let bytes = raw_body(&request, "import_chat")?.to_vec();
    let store = state.store().await?;
    if let Some(group) = header(&request, "x-group-session-id") {
        return Ok(group_files::import_chat_into_group(store, &group, &name, bytes).await?);
    }
    let character = header(&request, "x-character-id").ok_or_else(|| {
        Error::InvalidInput(
            "import_chat needs the x-character-id or x-group-session-id header".into(),
        )
    })?;
    Ok(service::import_chat(store, &character, &name, bytes).await?)
}

/// Stores an image dropped on the chat (by path) to send with the next message.
#[tauri::command]
#[specta::specta]
pub async fn attach_image_path(
    state: State<'_, AppState>,
    path: String,
) -> Result<MessageImage, AppError> {
    let path = std::path::PathBuf::from(path);
    Ok(service::attach_image_file(state.store().await?, &path).await?)
}
