//! The notes repository: a chat's Author's Note and a character's default one.

use super::Store;
use crate::prompt::AuthorsNote;
use crate::{Error, Result};

/// Which Author's Note a chat uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredNotes {
    /// The chat's own note, if it has one.
    pub chat: Option<AuthorsNote>,
    /// Its character's default for chats without one, if set.
    pub character_default: Option<AuthorsNote>,
}

impl Store {
    /// A chat's own Author's Note and its character's default, in one read.
    pub async fn authors_notes(&self, session_id: &str) -> Result<StoredNotes> {
        let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT s.authors_note_json, c.authors_note_json
             FROM chat_sessions s JOIN characters c ON c.id = s.character_id WHERE s.id = ?",
        )
        .bind(session_id)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        let (chat, character) = row.ok_or_else(|| Error::NotFound {
            what: format!("chat {session_id}"),
        })?;
        Ok(StoredNotes {
            chat: parse(chat.as_deref()),
            character_default: parse(character.as_deref()),
        })
    }

    /// A character's default Author's Note.
    pub async fn character_authors_note(&self, character_id: &str) -> Result<Option<AuthorsNote>> {
        let row: Option<Option<String>> =
            sqlx::query_scalar("SELECT authors_note_json FROM characters WHERE id = ?")
                .bind(character_id)
                .fetch_optional(self.pool())
                .await
                .map_err(|e| self.sql_error(e))?;
        let json = row.ok_or_else(|| Error::NotFound {
            what: format!("character {character_id}"),
        })?;
        Ok(parse(json.as_deref()))
    }

    /// Sets (or with `None` removes) a chat's own Author's Note.
    pub async fn set_session_authors_note(
        &self,
        session_id: &str,
        note: Option<&AuthorsNote>,
    ) -> Result<()> {
        self.set_note("chat_sessions", "chat", session_id, note)
            .await
    }

    /// Sets (or with `None` removes) a character's default Author's Note.
    pub async fn set_character_authors_note(
        &self,
        character_id: &str,
        note: Option<&AuthorsNote>,
    ) -> Result<()> {
        self.set_note("characters", "character", character_id, note)
            .await
    }

    async fn set_note(
        &self,
        table: &'static str,
        what: &str,
        id: &str,
        note: Option<&AuthorsNote>,
    ) -> Result<()> {
        let json = note
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| Error::Internal(format!("cannot write the Author's Note: {e}")))?;
        let changed = sqlx::query(&format!(
            "UPDATE {table} SET authors_note_json = ? WHERE id = ?"
        ))
        .bind(json)
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?
        .rows_affected();
        if changed == 0 {
            return Err(Error::NotFound {
                what: format!("{what} {id}"),
            });
        }
        Ok(())
    }
}

/// A stored note; one a newer build wrote in a shape this one cannot read counts as none.
fn parse(json: Option<&str>) -> Option<AuthorsNote> {
    json.and_then(|j| serde_json::from_str(j).ok())
}
