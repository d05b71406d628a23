//! The first-run walk-through: whether it is due, finishing it, the demo character.

use confab_core::library::ImportOutcome;
use confab_core::onboarding::{self, FirstRun};
use confab_core::AppError;
use tauri::State;

use crate::AppState;

/// Whether the first-run walk-through is over (finished, skipped, or not needed).
#[tauri::command]
#[specta::specta]
pub async fn first_run_status(state: State<'_, AppState>) -> Result<FirstRun, AppError> {
    let store = state.store().await?;
    Ok(onboarding::first_run(store, onboarding::skipped_by_env()).await?)
}

/// Records that the walk-through was finished or skipped.
#[tauri::command]
#[specta::specta]
pub async fn finish_first_run(state: State<'_, AppState>) -> Result<FirstRun, AppError> {
    Ok(onboarding::finish_first_run(state.store().await?).await?)
}

/// Imports the demo character that ships inside the app (or finds it already there).
#[tauri::command]
#[specta::specta]
pub async fn import_demo_character(state: State<'_, AppState>) -> Result<ImportOutcome, AppError> {
    Ok(onboarding::import_demo_character(state.store().await?).await)
}
