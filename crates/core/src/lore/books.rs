//! World books in the library: creating, importing, exporting, and dictionaries.

use std::path::Path;

use crate::library::{self, ExportedFile};
use crate::lore::formats;
use crate::lore::{
    compile, scan, Book, BookSettings, CompiledBook, DictionaryRule, ScanInput, ScanReport,
    ScanSources, TestActivationRequest, TimedState, WorldBookDetail, WorldBookFormat,
    WorldBookSummary,
};
use crate::store::{BookOrigin, Store};
use crate::tokens::default_counter;
use crate::{Error, Result};

/// Creates an empty book with SillyTavern's default settings.
pub async fn create_book(store: &Store, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::InvalidInput("a world book needs a name".into()));
    }
    let book = Book {
        name: name.to_owned(),
        description: String::new(),
        settings: BookSettings::default(),
        entries: Vec::new(),
        extensions: serde_json::Map::new(),
    };
    store.insert_world_book(&book, BookOrigin::default()).await
}

/// Imports one world-book file given as bytes (SillyTavern, character book,
/// NovelAI, Agnai, RisuAI); nothing is stored when the file is bad.
pub async fn import_book_bytes(
    store: &Store,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<WorldBookSummary> {
    let name = file_name.to_owned();
    let (book, _format) = crate::offload::run("reading the world book", move || {
        formats::read_book(&bytes, &name)
    })
    .await??;
    let id = store
        .insert_world_book(
            &book,
            BookOrigin {
                source_file: file_name,
                character_id: None,
            },
        )
        .await?;
    store.world_book_summary(&id).await
}

/// The bytes of a stored book in `format`, pretty-printed JSON.
pub async fn export_book_bytes(
    store: &Store,
    id: &str,
    format: WorldBookFormat,
) -> Result<(String, Vec<u8>)> {
    let (book, _) = store.world_book(id).await?;
    let value = match format {
        WorldBookFormat::SillyTavern => formats::to_sillytavern_json(&book),
        WorldBookFormat::CharacterBook => formats::to_character_book(&book),
    };
    let bytes = serde_json::to_vec_pretty(&value)
        .map_err(|e| Error::Internal(format!("could not write the world book: {e}")))?;
    Ok((book.name, bytes))
}

/// Exports a book into `dir` under a free name.
pub async fn export_book_to_dir(
    store: &Store,
    id: &str,
    format: WorldBookFormat,
    dir: &Path,
) -> Result<ExportedFile> {
    let (name, bytes) = export_book_bytes(store, id, format).await?;
    let stem = match format {
        WorldBookFormat::SillyTavern => library::safe_file_stem(&name),
        WorldBookFormat::CharacterBook => {
            format!("{} (character book)", library::safe_file_stem(&name))
        }
    };
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || library::write_new_file(&dir, &stem, "json", &bytes))
        .await
        .map_err(|e| Error::Internal(format!("the export stopped unexpectedly: {e}")))?
}

/// Saves dictionary rules after checking them (rule count, text sizes, each
/// compiles); bad rules are refused with the reason, and nothing is saved.
pub async fn set_dictionary(
    store: &Store,
    character_id: Option<&str>,
    rules: Vec<DictionaryRule>,
) -> Result<Vec<DictionaryRule>> {
    crate::lore::dictionary::check_rules(&rules)?;
    store.set_dictionary(character_id, &rules).await?;
    store.dictionary(character_id).await
}

/// Compiled books by id, rebuilt only when a book's revision changes.
#[derive(Debug, Default)]
pub struct CompiledBooks {
    cache: std::sync::Mutex<std::collections::HashMap<String, (i64, std::sync::Arc<CompiledBook>)>>,
}

impl CompiledBooks {
    /// The compiled form of book `id` at its current revision; the book is
    /// read from the database only when it changed since it was last compiled.
    pub async fn get(&self, store: &Store, id: &str) -> Result<std::sync::Arc<CompiledBook>> {
        let revision = store.world_book_revision(id).await?;
        if let Some(compiled) = self.cached(id, revision) {
            return Ok(compiled);
        }
        let (book, revision) = store.world_book(id).await?;
        Ok(self.compile_into(id, book, revision).await?.1)
    }

    /// The compiled form of a book already loaded at `revision`, handing the book back.
    pub async fn get_loaded(
        &self,
        id: &str,
        book: Book,
        revision: i64,
    ) -> Result<(Book, std::sync::Arc<CompiledBook>)> {
        match self.cached(id, revision) {
            Some(compiled) => Ok((book, compiled)),
            None => self.compile_into(id, book, revision).await,
        }
    }

    fn cached(&self, id: &str, revision: i64) -> Option<std::sync::Arc<CompiledBook>> {
        self.lock()
            .get(id)
            .filter(|(cached, _)| *cached == revision)
            .map(|(_, compiled)| compiled.clone())
    }

    async fn compile_into(
        &self,
        id: &str,
        book: Book,
        revision: i64,
    ) -> Result<(Book, std::sync::Arc<CompiledBook>)> {
        let key = id.to_owned();
        let (book, compiled) = crate::offload::run("compiling the world book", move || {
            let compiled = compile(&book, &key, default_counter());
            (book, compiled)
        })
        .await?;
        let compiled = std::sync::Arc::new(compiled?);
        self.lock()
            .insert(id.to_owned(), (revision, compiled.clone()));
        Ok((book, compiled))
    }

    /// Forgets every compiled book (the whole library was replaced by a restore).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        std::collections::HashMap<String, (i64, std::sync::Arc<CompiledBook>)>,
    > {
        // A poisoned cache only means a panic elsewhere; its contents are still valid.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A book with its entries, settings and the keys that do not compile.
pub async fn book_detail(
    store: &Store,
    compiled: &CompiledBooks,
    id: &str,
) -> Result<WorldBookDetail> {
    let summary = store.world_book_summary(id).await?;
    let (book, revision) = store.world_book(id).await?;
    let (book, book_compiled) = compiled.get_loaded(id, book, revision).await?;
    let key_errors = book_compiled.errors().to_vec();
    Ok(WorldBookDetail {
        summary,
        settings: book.settings,
        entries: book.entries,
        key_errors,
    })
}

/// Runs a scan over chosen books for the "test activation" panel and `confab lore test`.
///
/// With `request.settings`, the first book's settings are replaced before
/// compiling (case and whole-word matching are fixed at compile time).
pub async fn test_activation(
    store: &Store,
    compiled: &CompiledBooks,
    request: TestActivationRequest,
) -> Result<ScanReport> {
    let input = ScanInput {
        messages: request.messages.clone(),
        sources: ScanSources::default(),
        context_tokens: request.context_tokens,
        settings: request.settings.clone(),
        trigger: request.trigger,
        character: request.character.clone(),
    };
    test_activation_with(store, compiled, &request, input, TimedState::default()).await
}

/// Scans `input` (with `timed` as the sticky and cooldown state) over the
/// request's books, for the Test panel: a chat of its own or a real session's.
pub async fn test_activation_with(
    store: &Store,
    compiled: &CompiledBooks,
    request: &TestActivationRequest,
    input: ScanInput,
    timed: TimedState,
) -> Result<ScanReport> {
    if request.book_ids.is_empty() {
        return Err(Error::InvalidInput(
            "choose at least one world book to test".into(),
        ));
    }
    let mut books = Vec::with_capacity(request.book_ids.len());
    for (i, id) in request.book_ids.iter().enumerate() {
        match (&request.settings, i) {
            (Some(settings), 0) => {
                let (mut book, _) = store.world_book(id).await?;
                book.settings = settings.clone();
                let key = id.clone();
                let one = crate::offload::run("compiling the world book", move || {
                    compile(&book, &key, default_counter())
                })
                .await??;
                books.push(std::sync::Arc::new(one));
            }
            _ => books.push(compiled.get(store, id).await?),
        }
    }
    let seed = request.seed.unwrap_or_else(random_seed);
    let mut timed = timed;
    // A scan of thousands of entries and regex keys is CPU work: off the async workers.
    crate::offload::run("the activation test", move || {
        let refs: Vec<&CompiledBook> = books.iter().map(|b| b.as_ref()).collect();
        scan(&refs, &input, &mut timed, seed)
    })
    .await
}

/// A seed for when the user asked for none: different each run.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    hasher.finish()
}
