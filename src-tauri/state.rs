//! What the shell keeps between commands.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use confab_core::chat::{self, ChatEngine, EngineConfig, LiveSessions, Presence};
use confab_core::connection::ConnectionsChanged;
use confab_core::lore::books::CompiledBooks;
use confab_core::lore::dictionary::CompiledDictionaries;
use confab_core::memory::summary::MemoryChanged;
use confab_core::secrets::Keys;
use confab_core::session::turn::PromptCaches;
use confab_core::session::SessionSummary;
use confab_core::sink::{Discard, Sink};
use confab_core::store::{LibraryLock, Store};
use confab_core::{paths, providers, AppError, Error};
use tokio::sync::OnceCell;

/// Opens a chat in a window of its own (set at setup: it needs the app handle).
pub type WindowOpener = Arc<dyn Fn(&SessionSummary) -> Result<(), AppError> + Send + Sync>;

/// The app's state: where the data lives, the store once it opened, and the
/// services built on it (keys, the chat engine).
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    data_dir: Result<PathBuf, AppError>,
    store: OnceCell<Store>,
    /// The library lock, held from the store's opening until the app closes it.
    lock: Mutex<Option<LibraryLock>>,
    /// World books and chat dictionaries compiled for prompts, shared with the engine.
    prompt_caches: Arc<PromptCaches>,
    keys: OnceCell<Arc<Keys>>,
    engine: OnceCell<ChatEngine>,
    http: OnceLock<Result<reqwest::Client, AppError>>,
    notices: OnceLock<Arc<dyn Sink<LiveSessions>>>,
    memory_notices: OnceLock<Arc<dyn Sink<MemoryChanged>>>,
    connection_notices: OnceLock<Arc<dyn Sink<ConnectionsChanged>>>,
    window_opener: OnceLock<WindowOpener>,
    /// Builds the keys service; the app uses the OS keyring, tests an in-memory store.
    make_keys: fn(Store) -> Keys,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State for the data folder given by `CONFAB_DATA_DIR` or the platform.
    pub fn from_env() -> AppState {
        AppState::with_data_dir(paths::data_dir().map_err(AppError::from))
    }

    /// State for a chosen data folder (or the error that prevented choosing one).
    pub fn with_data_dir(data_dir: Result<PathBuf, AppError>) -> AppState {
        AppState::with_keys(data_dir, Keys::from_env)
    }

    /// State whose keys service is made by `make_keys` (tests pass an in-memory one).
    pub fn with_keys(
        data_dir: Result<PathBuf, AppError>,
        make_keys: fn(Store) -> Keys,
    ) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                data_dir,
                store: OnceCell::new(),
                lock: Mutex::new(None),
                prompt_caches: Arc::new(PromptCaches::default()),
                keys: OnceCell::new(),
                engine: OnceCell::new(),
                http: OnceLock::new(),
                notices: OnceLock::new(),
                memory_notices: OnceLock::new(),
                connection_notices: OnceLock::new(),
                window_opener: OnceLock::new(),
                make_keys,
            }),
        }
    }

    /// Where the engine reports which sessions are streaming (set once, at setup).
    pub fn set_notices(&self, notices: Arc<dyn Sink<LiveSessions>>) {
        let _ = self.inner.notices.set(notices);
    }

    /// Where the engine reports that a chat's memory changed (set once, at setup).
    pub fn set_memory_notices(&self, notices: Arc<dyn Sink<MemoryChanged>>) {
        let _ = self.inner.memory_notices.set(notices);
    }

    /// Where commands report that what chats reply with may have changed (set once, at setup).
    pub fn set_connection_notices(&self, notices: Arc<dyn Sink<ConnectionsChanged>>) {
        let _ = self.inner.connection_notices.set(notices);
    }

    /// Tells every window that `session_id`'s connection (or, with `None`, any
    /// chat's) may have changed, so headers in other windows do not go stale.
    pub fn connections_changed(&self, session_id: Option<&str>) {
        if let Some(notices) = self.inner.connection_notices.get() {
            notices.send(ConnectionsChanged {
                session_id: session_id.map(str::to_owned),
            });
        }
    }

    /// How chat windows are opened (set once, at setup).
    pub fn set_window_opener(&self, opener: WindowOpener) {
        let _ = self.inner.window_opener.set(opener);
    }

    /// Opens `session` in a window of its own.
    pub fn open_chat_window(&self, session: &SessionSummary) -> Result<(), AppError> {
        match self.inner.window_opener.get() {
            Some(open) => open(session),
            None => Err(AppError::from(Error::Internal(
                "windows cannot be opened before the app has started".into(),
            ))),
        }
    }

    /// The data folder.
    pub fn data_dir(&self) -> Result<&std::path::Path, AppError> {
        self.inner.data_dir.as_deref().map_err(Clone::clone)
    }

    /// World books and chat dictionaries compiled for prompts, cached until they change.
    pub fn prompt_caches(&self) -> &PromptCaches {
        &self.inner.prompt_caches
    }

    /// World books compiled for scanning, cached by revision.
    pub fn compiled_books(&self) -> &CompiledBooks {
        &self.inner.prompt_caches.books
    }

    /// Chat dictionaries compiled for applying, cached until their rules change.
    pub fn compiled_dictionaries(&self) -> &CompiledDictionaries {
        &self.inner.prompt_caches.dictionaries
    }

    /// The HTTP client for provider requests (an error when no TLS library loads).
    pub fn http(&self) -> Result<&reqwest::Client, AppError> {
        self.inner
            .http
            .get_or_init(|| providers::http_client().map_err(AppError::from))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Cancels live streams (saving their partial replies), closes the store,
    /// then lets go of the library (on exit).
    pub async fn close(&self) {
        if let Some(engine) = self.inner.engine.get() {
            engine.shutdown().await;
        }
        if let Some(store) = self.inner.store.get() {
            store.clone().close().await;
        }
        if let Ok(mut lock) = self.inner.lock.lock() {
            lock.take();
        }
    }

    /// The open store, opening it on first use. A failure is not remembered,
    /// so the user can fix the file and retry without restarting. Opening takes
    /// the library lock, held until the app exits; when no other Confab process
    /// had the library (no other app, no streaming `confab chat`), replies a
    /// crash left streaming are marked interrupted before anything else runs.
    pub async fn store(&self) -> Result<&Store, AppError> {
        let data_dir = self.inner.data_dir.as_ref().map_err(Clone::clone)?;
        self.inner
            .store
            .get_or_try_init(|| async {
                let library = chat::open_library(data_dir, Presence::Streaming).await?;
                if let Ok(mut lock) = self.inner.lock.lock() {
                    *lock = library.lock;
                }
                Ok(library.store)
            })
            .await
            .map_err(|e: Error| AppError::from(e))
    }

    /// Every provider's key.
    pub async fn keys(&self) -> Result<&Arc<Keys>, AppError> {
        let store = self.store().await?;
        Ok(self
            .inner
            .keys
            .get_or_init(|| async { Arc::new((self.inner.make_keys)(store.clone())) })
            .await)
    }

    /// The chat engine.
    pub async fn engine(&self) -> Result<&ChatEngine, AppError> {
        let store = self.store().await?;
        let keys = self.keys().await?;
        let http = self.http()?;
        Ok(self
            .inner
            .engine
            .get_or_init(|| async {
                let notices = self
                    .inner
                    .notices
                    .get()
                    .cloned()
                    .unwrap_or_else(|| Arc::new(Discard));
                let engine = ChatEngine::new(
                    store.clone(),
                    keys.clone(),
                    self.inner.prompt_caches.clone(),
                    http.clone(),
                    EngineConfig::default(),
                    notices,
                );
                if let Some(memory) = self.inner.memory_notices.get() {
                    engine.set_memory_notices(memory.clone());
                }
                engine
            })
            .await)
    }
}
