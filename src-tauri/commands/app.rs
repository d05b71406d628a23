//! App-wide commands: what the About box shows, and settings.

use confab_core::info::AppInfo;
use confab_core::settings::Settings;
use confab_core::AppError;
use tauri::State;

use crate::AppState;

/// Version, data folder, schema version and library counts.
#[tauri::command]
#[specta::specta]
pub async fn app_info(state: State<'_, AppState>) -> Result<AppInfo, AppError> {
    let store = state.store().await?;
    Ok(AppInfo::gather(store).await?)
}

/// The saved app-wide settings.
#[tauri::command]
#[specta::specta]
pub async fn get_settings(state: State<'_, AppState>) -> Result<Settings, AppError> {
    Ok(state.store().await?.settings().await?)
}

/// Saves the app-wide settings and returns what is stored.
#[tauri::command]
#[specta::specta]
pub async fn set_settings(
    state: State<'_, AppState>,
    settings: Settings,
) -> Result<Settings, AppError> {
    Ok(state.store().await?.save_settings(&settings).await?)
}
