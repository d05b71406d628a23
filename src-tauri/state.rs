//! What the shell keeps between commands.

use std::path::PathBuf;
use std::sync::Arc;

use confab_core::lore::books::CompiledBooks;
use confab_core::store::Store;
use confab_core::{paths, AppError, Error};
use tokio::sync::OnceCell;

/// The app's state: where the data lives, and the store once it opened.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    data_dir: Result<PathBuf, AppError>,
    store: OnceCell<Store>,
    compiled_books: CompiledBooks,
}

impl AppState {
    /// State for the data folder given by `CONFAB_DATA_DIR` or the platform.
    pub fn from_env() -> AppState {
        AppState::with_data_dir(paths::data_dir().map_err(AppError::from))
    }

    /// State for a chosen data folder (or the error that prevented choosing one).
    pub fn with_data_dir(data_dir: Result<PathBuf, AppError>) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                data_dir,
                store: OnceCell::new(),
                compiled_books: CompiledBooks::default(),
            }),
        }
    }

    /// The data folder.
    pub fn data_dir(&self) -> Result<&std::path::Path, AppError> {
        self.inner.data_dir.as_deref().map_err(Clone::clone)
    }

    /// World books compiled for scanning, cached by revision.
    pub fn compiled_books(&self) -> &CompiledBooks {
        &self.inner.compiled_books
    }

    /// Closes the store if it was opened (on exit).
    pub async fn close(&self) {
        if let Some(store) = self.inner.store.get() {
            store.clone().close().await;
        }
    }

    /// The open store, opening it on first use. A failure is not remembered,
    /// so the user can fix the file and retry without restarting.
    pub async fn store(&self) -> Result<&Store, AppError> {
        let data_dir = self.inner.data_dir.as_ref().map_err(Clone::clone)?;
        self.inner
            .store
            .get_or_try_init(|| async { Store::open(data_dir).await })
            .await
            .map_err(|e: Error| AppError::from(e))
    }
}
