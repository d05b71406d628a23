//! World books in the library: creating, importing, exporting, and dictionaries.

use std::path::Path;

use crate::library::{self, ExportedFile};
use crate::lore::dictionary::Dictionary;
use crate::lore::formats;
use crate::lore::{Book, BookSettings, DictionaryRule, WorldBookFormat, WorldBookSummary};
use crate::store::{BookOrigin, Store};
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
    let (book, _format) = tokio::task::spawn_blocking(move || formats::read_book(&bytes, &name))
        .await
        .map_err(|e| {
            Error::Internal(format!("reading the world book stopped unexpectedly: {e}"))
        })??;
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

/// Saves dictionary rules after checking each compiles; an invalid rule is
/// refused with its number and the reason, and nothing is saved.
pub async fn set_dictionary(
    store: &Store,
    character_id: Option<&str>,
    rules: Vec<DictionaryRule>,
) -> Result<Vec<DictionaryRule>> {
    let (_, errors) = Dictionary::compile(&rules);
    if let Some((index, error)) = errors.into_iter().next() {
        return Err(Error::InvalidInput(format!(
            "chat dictionary rule {}: {error}",
            index + 1
        )));
    }
    store.set_dictionary(character_id, &rules).await?;
    store.dictionary(character_id).await
}
