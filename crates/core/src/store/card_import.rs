//! A character stored together with what its card carries: the embedded world
//! book and the chat dictionary, in one transaction.

use super::characters::now_ms;
use super::{BookOrigin, Inserted, NewCharacter, Store};
use crate::lore::{Book, DictionaryRule};
use crate::{Error, Result};

/// What adding a card did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardInserted {
    /// The character: new, or the identical one already there (then nothing else was added).
    pub character: Inserted,
    /// The world book made from the card's `character_book`, attached to the character.
    pub world_book_id: Option<String>,
    /// How many dictionary rules wait for the user's review.
    pub pending_dictionary_rules: u32,
}

impl Store {
    /// Adds a character with its embedded world book (attached to it) and its
    /// card's chat dictionary (pending until the user reviews it): all or
    /// nothing, so an error or a crash between them leaves none of it stored.
    /// An identical card already in the library adds nothing.
    pub async fn insert_card(
        &self,
        new: NewCharacter<'_>,
        book: Option<&Book>,
        dictionary: &[DictionaryRule],
    ) -> Result<CardInserted> {
        let err = |e| self.sql_error(e);
        let source_file = new.source_file;
        let mut tx = self.write_tx().await.map_err(err)?;
        let character = self.write_character(&mut tx, new).await?;
        let Inserted::New { id } = &character else {
            // Dropping the transaction rolls back nothing: nothing was written.
            return Ok(CardInserted {
                character,
                world_book_id: None,
                pending_dictionary_rules: 0,
            });
        };
        let world_book_id = match book {
            Some(book) => {
                let origin = BookOrigin {
                    source_file,
                    character_id: Some(id),
                };
                Some(self.write_world_book(&mut tx, book, origin).await?)
            }
            None => None,
        };
        if !dictionary.is_empty() {
            let json = serde_json::to_string(dictionary)
                .map_err(|e| Error::Internal(format!("could not encode the dictionary: {e}")))?;
            sqlx::query(
                "INSERT INTO card_dictionaries_pending (character_id, rules_json, created_at)
                 VALUES (?, ?, ?)",
            )
            .bind(id)
            .bind(json)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        }
        tx.commit().await.map_err(err)?;
        Ok(CardInserted {
            character,
            world_book_id,
            pending_dictionary_rules: u32::try_from(dictionary.len()).unwrap_or(u32::MAX),
        })
    }

    /// The dictionary rules a character's card brought that the user has not
    /// reviewed yet (empty when none). They never apply: saving the
    /// character's dictionary (accepting or discarding them) clears them.
    pub async fn pending_dictionary(&self, character_id: &str) -> Result<Vec<DictionaryRule>> {
        let json: Option<String> = sqlx::query_scalar(
            "SELECT rules_json FROM card_dictionaries_pending WHERE character_id = ?",
        )
        .bind(character_id)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(json
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default())
    }
}
