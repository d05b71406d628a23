//! Storing one file that was read: a world book, a SillyTavern group (a new
//! group chat), or a card with its embedded
//! book and chat dictionary in one transaction; what became of it, as an outcome.

use std::path::Path;

use super::reading::Prepared;
use crate::library::{ImportOutcome, ImportStatus};
use crate::store::{BookOrigin, CardInserted, Inserted, NewCharacter, Store};
use crate::{AppError, Error, Result};

pub(super) async fn store_prepared(
    store: &Store,
    file: String,
    prepared: Result<Prepared>,
    collection: Option<&str>,
) -> ImportOutcome {
    let outcome = |file: String, status| ImportOutcome {
        file,
        status,
        character_id: None,
        name: None,
        same_name_as: None,
        world_book_id: None,
        session_id: None,
        pending_dictionary_rules: 0,
        error: None,
    };
    let failed = |file: String, err: Error| ImportOutcome {
        error: Some(AppError::from(err)),
        ..outcome(file, ImportStatus::Failed)
    };
    let source_file = Path::new(&file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.clone());
    let (parsed, thumbnail, hash, embedded_book, dictionary) = match prepared {
        Err(err) => return failed(file, err),
        Ok(Prepared::Book(book)) => {
            let origin = BookOrigin {
                source_file: &source_file,
                character_id: None,
            };
            return match store.insert_world_book(&book, origin).await {
                Ok(id) => ImportOutcome {
                    name: Some(book.name),
                    world_book_id: Some(id),
                    ..outcome(file, ImportStatus::Imported)
                },
                Err(err) => failed(file, err),
            };
        }
        Ok(Prepared::Group(bytes)) => {
            let made = crate::session::group_files::import_sillytavern_group(
                store,
                &bytes,
                &source_file,
                Vec::new(),
            )
            .await;
            return match made.map(|mut m| m.pop()) {
                Ok(Some(session)) => ImportOutcome {
                    name: Some(session.title),
                    session_id: Some(session.id),
                    ..outcome(file, ImportStatus::Imported)
                },
                Ok(None) => failed(file, Error::Internal("the group made no chat".into())),
                Err(err) => failed(file, err),
            };
        }
        Ok(Prepared::Card {
            parsed,
            thumbnail,
            hash,
            embedded_book,
            dictionary,
        }) => (parsed, thumbnail, hash, embedded_book, dictionary),
    };
    let collections: Vec<String> = collection.map(str::to_owned).into_iter().collect();
    // The card, its embedded book (a world book attached to the character) and
    // its chat dictionary (pending the user's review) in one transaction.
    let inserted = store
        .insert_card(
            NewCharacter {
                card: &parsed.data,
                original: &parsed.original,
                spec: parsed.spec,
                format: parsed.format,
                source_file: &source_file,
                content_hash: &hash,
                avatar: parsed.avatar.as_ref().map(|a| (a, thumbnail)),
                assets: &parsed.assets,
                collections: &collections,
            },
            embedded_book.as_ref(),
            &dictionary,
        )
        .await;
    match inserted {
        Err(err) => failed(file, err),
        Ok(CardInserted {
            character: Inserted::Duplicate { id, name },
            ..
        }) => ImportOutcome {
            character_id: Some(id),
            name: Some(name),
            ..outcome(file, ImportStatus::AlreadyInLibrary)
        },
        Ok(CardInserted {
            character: Inserted::New { id },
            world_book_id,
            pending_dictionary_rules,
        }) => {
            let same_name_as = store
                .character_named(&parsed.data.name, &id)
                .await
                .ok()
                .flatten();
            ImportOutcome {
                character_id: Some(id),
                name: Some(parsed.data.name.clone()),
                same_name_as,
                world_book_id,
                pending_dictionary_rules,
                ..outcome(file, ImportStatus::Imported)
            }
        }
    }
}
