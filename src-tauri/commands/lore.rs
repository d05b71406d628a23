//! World-book and chat-dictionary commands.

use confab_core::library::{self, ExportedFile};
use confab_core::lore::dictionary::{self, DisplayTexts, RuleProblem};
use confab_core::lore::{
    books, BookSettings, DictionaryRule, Entry, ScanReport, TestActivationRequest, WorldBookDetail,
    WorldBookFormat, WorldBookSummary,
};
use confab_core::AppError;
use tauri::ipc::Request;
use tauri::State;

use super::{header, raw_body};
use crate::AppState;

/// Every world book, by name.
#[tauri::command]
#[specta::specta]
pub async fn list_world_books(
    state: State<'_, AppState>,
) -> Result<Vec<WorldBookSummary>, AppError> {
    Ok(state.store().await?.world_book_summaries().await?)
}

/// A book with its settings, entries and the keys that do not compile.
#[tauri::command]
#[specta::specta]
pub async fn get_world_book(
    state: State<'_, AppState>,
    id: String,
) -> Result<WorldBookDetail, AppError> {
    Ok(books::book_detail(state.store().await?, state.compiled_books(), &id).await?)
}

/// Creates an empty book.
#[tauri::command]
#[specta::specta]
pub async fn create_world_book(
    state: State<'_, AppState>,
    name: String,
) -> Result<WorldBookDetail, AppError> {
    let store = state.store().await?;
    let id = books::create_book(store, &name).await?;
    Ok(books::book_detail(store, state.compiled_books(), &id).await?)
}

/// Renames a book and saves its description and settings.
#[tauri::command]
#[specta::specta]
pub async fn update_world_book(
    state: State<'_, AppState>,
    id: String,
    name: String,
    description: String,
    settings: BookSettings,
) -> Result<WorldBookSummary, AppError> {
    let store = state.store().await?;
    store
        .update_world_book(&id, &name, &description, &settings)
        .await?;
    Ok(store.world_book_summary(&id).await?)
}

/// Deletes a book with its entries.
#[tauri::command]
#[specta::specta]
pub async fn delete_world_book(state: State<'_, AppState>, id: String) -> Result<(), AppError> {
    Ok(state.store().await?.delete_world_book(&id).await?)
}

/// Saves entries by uid (new uids are added at the end).
#[tauri::command]
#[specta::specta]
pub async fn save_entries(
    state: State<'_, AppState>,
    book_id: String,
    entries: Vec<Entry>,
) -> Result<WorldBookDetail, AppError> {
    let store = state.store().await?;
    store.save_entries(&book_id, &entries).await?;
    Ok(books::book_detail(store, state.compiled_books(), &book_id).await?)
}

/// Adds an entry with SillyTavern's defaults.
#[tauri::command]
#[specta::specta]
pub async fn add_entry(state: State<'_, AppState>, book_id: String) -> Result<Entry, AppError> {
    Ok(state.store().await?.add_entry(&book_id).await?)
}

/// Deletes entries by uid.
#[tauri::command]
#[specta::specta]
pub async fn delete_entries(
    state: State<'_, AppState>,
    book_id: String,
    uids: Vec<u32>,
) -> Result<WorldBookSummary, AppError> {
    let store = state.store().await?;
    store.delete_entries(&book_id, &uids).await?;
    Ok(store.world_book_summary(&book_id).await?)
}

/// Switches entries on or off.
#[tauri::command]
#[specta::specta]
pub async fn set_entries_enabled(
    state: State<'_, AppState>,
    book_id: String,
    uids: Vec<u32>,
    enabled: bool,
) -> Result<WorldBookSummary, AppError> {
    let store = state.store().await?;
    store.set_entries_enabled(&book_id, &uids, enabled).await?;
    Ok(store.world_book_summary(&book_id).await?)
}

/// Makes a book apply to every chat, or only to attached characters.
#[tauri::command]
#[specta::specta]
pub async fn set_world_book_global(
    state: State<'_, AppState>,
    id: String,
    global: bool,
) -> Result<WorldBookSummary, AppError> {
    let store = state.store().await?;
    store.set_world_book_global(&id, global).await?;
    Ok(store.world_book_summary(&id).await?)
}

/// Attaches a book to a character.
#[tauri::command]
#[specta::specta]
pub async fn attach_world_book(
    state: State<'_, AppState>,
    book_id: String,
    character_id: String,
) -> Result<WorldBookSummary, AppError> {
    let store = state.store().await?;
    store.attach_world_book(&book_id, &character_id).await?;
    Ok(store.world_book_summary(&book_id).await?)
}

/// Detaches a book from a character.
#[tauri::command]
#[specta::specta]
pub async fn detach_world_book(
    state: State<'_, AppState>,
    book_id: String,
    character_id: String,
) -> Result<WorldBookSummary, AppError> {
    let store = state.store().await?;
    store.detach_world_book(&book_id, &character_id).await?;
    Ok(store.world_book_summary(&book_id).await?)
}

/// The books attached to a character.
#[tauri::command]
#[specta::specta]
pub async fn character_world_books(
    state: State<'_, AppState>,
    character_id: String,
) -> Result<Vec<WorldBookSummary>, AppError> {
    Ok(state
        .store()
        .await?
        .character_world_books(&character_id)
        .await?)
}

/// Writes a book to the Downloads folder as SillyTavern JSON or a character book.
#[tauri::command]
#[specta::specta]
pub async fn export_world_book(
    state: State<'_, AppState>,
    id: String,
    format: WorldBookFormat,
) -> Result<ExportedFile, AppError> {
    let dir = library::default_export_dir(state.data_dir()?);
    Ok(books::export_book_to_dir(state.store().await?, &id, format, &dir).await?)
}

/// Scans a chat (given, or a real session's) with chosen books and explains what fired and what was dropped.
#[tauri::command]
#[specta::specta]
pub async fn test_activation(
    state: State<'_, AppState>,
    request: TestActivationRequest,
) -> Result<ScanReport, AppError> {
    Ok(confab_core::session::turn::test_activation(
        state.store().await?,
        state.prompt_caches(),
        request,
    )
    .await?)
}

/// A character's chat-dictionary rules, or the global ones for `null`.
#[tauri::command]
#[specta::specta]
pub async fn get_dictionary(
    state: State<'_, AppState>,
    character_id: Option<String>,
) -> Result<Vec<DictionaryRule>, AppError> {
    Ok(state
        .store()
        .await?
        .dictionary(character_id.as_deref())
        .await?)
}

/// Saves a character's chat-dictionary rules, or the global ones for `null`.
#[tauri::command]
#[specta::specta]
pub async fn set_dictionary(
    state: State<'_, AppState>,
    character_id: Option<String>,
    rules: Vec<DictionaryRule>,
) -> Result<Vec<DictionaryRule>, AppError> {
    Ok(books::set_dictionary(state.store().await?, character_id.as_deref(), rules).await?)
}

/// What is wrong with dictionary rules being edited, as the core reads them.
#[tauri::command]
#[specta::specta]
pub fn check_dictionary(rules: Vec<DictionaryRule>) -> Result<Vec<RuleProblem>, AppError> {
    Ok(dictionary::rule_problems(&rules))
}

/// Message texts as a chat with this character shows them (its and the
/// global Display-scope rules applied; `null` where nothing changed). With no
/// texts, says how many such rules there are.
#[tauri::command]
#[specta::specta]
pub async fn display_texts(
    state: State<'_, AppState>,
    character_id: String,
    texts: Vec<String>,
) -> Result<DisplayTexts, AppError> {
    let store = state.store().await?;
    Ok(
        dictionary::display_texts(state.compiled_dictionaries(), store, &character_id, texts)
            .await?,
    )
}

/// Imports one world-book file's bytes (raw body, name in `x-file-name`).
#[tauri::command]
pub async fn import_world_book(
    state: State<'_, AppState>,
    request: Request<'_>,
) -> Result<WorldBookSummary, AppError> {
    let name = header(&request, "x-file-name").unwrap_or_else(|| "world book.json".to_owned());
    let bytes = raw_body(&request, "import_world_book")?;
    Ok(books::import_book_bytes(state.store().await?, &name, bytes.to_vec()).await?)
}
