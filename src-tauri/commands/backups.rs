//! Backups and the whole-library archive (Settings → Backups).

use confab_core::backup::{self, BackupInfo, BackupKind, BackupSettings, RestoreOutcome};
use confab_core::library::archive::{
    self, ArchiveLimits, ExportSummary, ImportChoices, ImportPreview, ImportReport,
};
use confab_core::AppError;
use tauri::State;

use crate::AppState;

/// Every backup of the library, newest first.
#[tauri::command]
#[specta::specta]
pub async fn list_backups(state: State<'_, AppState>) -> Result<Vec<BackupInfo>, AppError> {
    Ok(backup::list(state.store().await?).await?)
}

/// Backs the library up now.
#[tauri::command]
#[specta::specta]
pub async fn create_backup(state: State<'_, AppState>) -> Result<BackupInfo, AppError> {
    let store = state.store().await?;
    Ok(backup::create(store, BackupKind::Manual, backup::now_ms()).await?)
}

/// Replaces the library by backup `name` (the current one is backed up
/// first); refused while a reply streams.
#[tauri::command]
#[specta::specta]
pub async fn restore_backup(
    state: State<'_, AppState>,
    name: String,
) -> Result<RestoreOutcome, AppError> {
    let store = state.store().await?;
    let quiet = state.engine().await?.quiet()?;
    let outcome = backup::restore(store, &quiet, &name, backup::now_ms()).await?;
    state.prompt_caches().clear();
    Ok(outcome)
}

/// How the library is backed up.
#[tauri::command]
#[specta::specta]
pub async fn get_backup_settings(state: State<'_, AppState>) -> Result<BackupSettings, AppError> {
    Ok(state.store().await?.backup_settings().await?)
}

/// Saves how the library is backed up and returns what is stored.
#[tauri::command]
#[specta::specta]
pub async fn set_backup_settings(
    state: State<'_, AppState>,
    settings: BackupSettings,
) -> Result<BackupSettings, AppError> {
    Ok(state.store().await?.save_backup_settings(&settings).await?)
}

/// Writes the whole library (never a key) to a new archive in `folder`, or
/// in the Downloads folder.
#[tauri::command]
#[specta::specta]
pub async fn export_library(
    state: State<'_, AppState>,
    folder: Option<String>,
) -> Result<ExportSummary, AppError> {
    let store = state.store().await?;
    let now = backup::now_ms();
    let folder = match folder {
        Some(folder) => std::path::PathBuf::from(folder),
        None => confab_core::library::default_export_dir(state.data_dir()?),
    };
    let target = archive::archive_path(&folder, now)?;
    Ok(archive::export_library(store, &target, now).await?)
}

/// What importing the archive at `path` would add and skip, and every
/// conflict with the library; nothing changes.
#[tauri::command]
#[specta::specta]
pub async fn preview_library_import(
    state: State<'_, AppState>,
    path: String,
    choices: ImportChoices,
) -> Result<ImportPreview, AppError> {
    let store = state.store().await?;
    let path = std::path::Path::new(&path);
    let limits = ArchiveLimits::default();
    Ok(archive::preview_library(store, path, &limits, &choices, backup::now_ms()).await?)
}

/// Merges the archive at `path` into the library, settling conflicts as
/// `choices` say, and reports what was added and skipped; refused while a
/// reply streams.
#[tauri::command]
#[specta::specta]
pub async fn import_library(
    state: State<'_, AppState>,
    path: String,
    choices: ImportChoices,
) -> Result<ImportReport, AppError> {
    let store = state.store().await?;
    let quiet = state.engine().await?.quiet()?;
    let path = std::path::Path::new(&path);
    let limits = ArchiveLimits::default();
    let now = backup::now_ms();
    let report = archive::import_library(store, &quiet, path, &limits, &choices, now).await?;
    state.prompt_caches().clear();
    Ok(report)
}
