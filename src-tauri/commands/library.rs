//! Character library commands: list, edit, import, export.

use std::path::PathBuf;

use confab_core::card::{CardData, Limits};
use confab_core::library::{
    self, CharacterDetail, CharacterQuery, CharacterSummary, ExportFormat, ExportedFile,
    ImportEvent, ImportOutcome, ImportSummary, LibraryFacets,
};
use confab_core::AppError;
use tauri::ipc::{Channel, Request};
use tauri::State;

use super::{header, raw_body, ChannelSink};
use crate::AppState;

/// The characters matching a query (search, tag, collection, order).
#[tauri::command]
#[specta::specta]
pub async fn list_characters(
    state: State<'_, AppState>,
    query: CharacterQuery,
) -> Result<Vec<CharacterSummary>, AppError> {
    Ok(state.store().await?.character_summaries(&query).await?)
}

/// Tags and collections with their counts, for the library's filters.
#[tauri::command]
#[specta::specta]
pub async fn library_facets(state: State<'_, AppState>) -> Result<LibraryFacets, AppError> {
    Ok(state.store().await?.library_facets().await?)
}

/// Everything about one character.
#[tauri::command]
#[specta::specta]
pub async fn get_character(
    state: State<'_, AppState>,
    id: String,
) -> Result<CharacterDetail, AppError> {
    Ok(state.store().await?.character_detail(&id).await?)
}

/// Saves every field of an edited card.
#[tauri::command]
#[specta::specta]
pub async fn update_character(
    state: State<'_, AppState>,
    id: String,
    card: CardData,
) -> Result<CharacterDetail, AppError> {
    Ok(library::update_character(state.store().await?, &id, card).await?)
}

/// Deletes a character with its chats.
#[tauri::command]
#[specta::specta]
pub async fn delete_character(state: State<'_, AppState>, id: String) -> Result<(), AppError> {
    Ok(state.store().await?.delete_character(&id).await?)
}

/// Replaces an older same-name character with a newly imported one.
#[tauri::command]
#[specta::specta]
pub async fn replace_character(
    state: State<'_, AppState>,
    target_id: String,
    source_id: String,
) -> Result<CharacterDetail, AppError> {
    let store = state.store().await?;
    store.replace_character(&target_id, &source_id).await?;
    Ok(store.character_detail(&target_id).await?)
}

/// Imports dropped files and folders, streaming progress over `on_event`.
#[tauri::command]
#[specta::specta]
pub async fn import_paths(
    state: State<'_, AppState>,
    paths: Vec<String>,
    on_event: Channel<ImportEvent>,
) -> Result<ImportSummary, AppError> {
    let store = state.store().await?;
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    let sink = ChannelSink(on_event);
    Ok(library::import_paths(store, &paths, &Limits::default(), &sink).await)
}

/// Imports one file's bytes from the file picker (raw body, name in `x-file-name`).
///
/// Raw bytes cannot be typed by tauri-specta, so this command is routed beside
/// the typed ones and wrapped by hand in ui/src/lib/api.ts.
#[tauri::command]
pub async fn import_file(
    state: State<'_, AppState>,
    request: Request<'_>,
) -> Result<ImportOutcome, AppError> {
    let name = header(&request, "x-file-name").unwrap_or_else(|| "file".to_owned());
    let bytes = raw_body(&request, "import_file")?;
    let store = state.store().await?;
    Ok(library::import_bytes(store, &name, bytes.to_vec(), &Limits::default()).await)
}

/// Writes a character to the Downloads folder in `format` and says where.
#[tauri::command]
#[specta::specta]
pub async fn export_character(
    state: State<'_, AppState>,
    id: String,
    format: ExportFormat,
) -> Result<ExportedFile, AppError> {
    let dir = library::default_export_dir(state.data_dir()?);
    Ok(library::export_to_dir(state.store().await?, &id, format, &dir).await?)
}
