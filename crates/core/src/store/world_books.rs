//! The world-books repository: books, entries, links to characters, dictionaries, timed state.

use serde_json::Value;
use sqlx::SqliteConnection;

use super::characters::now_ms;
use super::Store;
use crate::lore::{
    Book, BookSettings, CharacterRef, DictionaryRule, Entry, TimedState, WorldBookSummary,
};
use crate::{Error, Result};

/// Where a book being added came from.
#[derive(Debug, Clone, Default)]
pub struct BookOrigin<'a> {
    /// The file it was imported from.
    pub source_file: &'a str,
    /// The character whose card embedded it (it is attached to that character too).
    pub character_id: Option<&'a str>,
}

pub(super) const GLOBAL_DICTIONARY: &str = "dictionary.global";

fn not_found(id: &str) -> Error {
    Error::NotFound {
        what: format!("world book {id}"),
    }
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Internal(format!("could not encode: {e}")))
}

/// Settings as stored; fields a newer build added read as their defaults.
/// A stored entry; a field it lacks (one an older Confab did not write yet)
/// takes SillyTavern's default instead of making the whole book unreadable.
fn decode_entry(json: &str) -> Result<Entry, serde_json::Error> {
    let stored: Value = serde_json::from_str(json)?;
    let Value::Object(fields) = stored else {
        return serde_json::from_value(stored);
    };
    let uid = fields
        .get("uid")
        .and_then(Value::as_u64)
        .and_then(|u| u32::try_from(u).ok())
        .unwrap_or(0);
    let mut full = serde_json::to_value(Entry::new(uid))?;
    if let Value::Object(defaults) = &mut full {
        defaults.extend(fields);
    }
    serde_json::from_value(full)
}

fn decode_settings(json: &str) -> BookSettings {
    let stored: Value = serde_json::from_str(json).unwrap_or(Value::Null);
    let mut merged = serde_json::to_value(BookSettings::default()).unwrap_or(Value::Null);
    if let (Value::Object(base), Value::Object(stored)) = (&mut merged, stored) {
        base.extend(stored);
    }
    serde_json::from_value(merged).unwrap_or_default()
}

impl Store {
    /// Adds a book with its entries; attached to `origin.character_id` if given.
    pub async fn insert_world_book(&self, book: &Book, origin: BookOrigin<'_>) -> Result<String> {
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        let id = self.write_world_book(&mut tx, book, origin).await?;
        tx.commit().await.map_err(err)?;
        Ok(id)
    }

    /// [`Store::insert_world_book`] inside the caller's transaction.
    pub(super) async fn write_world_book(
        &self,
        tx: &mut SqliteConnection,
        book: &Book,
        origin: BookOrigin<'_>,
    ) -> Result<String> {
        let err = |e| self.sql_error(e);
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO world_books (id, name, description, created_at, updated_at, settings_json,
                 extensions_json, source_character_id, source_file)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&book.name)
        .bind(&book.description)
        .bind(now)
        .bind(now)
        .bind(encode(&book.settings)?)
        .bind(encode(&book.extensions)?)
        .bind(origin.character_id)
        .bind(origin.source_file)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        for (position, entry) in book.entries.iter().enumerate() {
            upsert_entry(&mut *tx, &id, entry, encode(entry)?, position)
                .await
                .map_err(err)?;
        }
        if let Some(character) = origin.character_id {
            sqlx::query("INSERT OR IGNORE INTO character_world_books VALUES (?, ?)")
                .bind(character)
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
        }
        Ok(id)
    }

    /// Every book, by name.
    pub async fn world_book_summaries(&self) -> Result<Vec<WorldBookSummary>> {
        self.summaries_where("1 = 1", None).await
    }

    /// The books attached to a character (global ones not included).
    pub async fn character_world_books(&self, character_id: &str) -> Result<Vec<WorldBookSummary>> {
        self.summaries_where(
            "b.id IN (SELECT book_id FROM character_world_books WHERE character_id = ?1)",
            Some(character_id),
        )
        .await
    }

    /// The books a chat with this character scans: attached ones and global ones.
    pub async fn active_world_book_ids(&self, character_id: &str) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT id FROM world_books
             WHERE is_global = 1
                OR id IN (SELECT book_id FROM character_world_books WHERE character_id = ?)
             ORDER BY name COLLATE NOCASE",
        )
        .bind(character_id)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))
    }

    /// One book's list fields.
    pub async fn world_book_summary(&self, id: &str) -> Result<WorldBookSummary> {
        self.summaries_where("b.id = ?1", Some(id))
            .await?
            .pop()
            .ok_or_else(|| not_found(id))
    }

    async fn summaries_where(
        &self,
        filter: &str,
        arg: Option<&str>,
    ) -> Result<Vec<WorldBookSummary>> {
        let sql = format!(
            "SELECT b.id, b.name, b.description, b.is_global, b.updated_at,
                    (SELECT COUNT(*) FROM world_book_entries e WHERE e.book_id = b.id) AS entries,
                    (SELECT COUNT(*) FROM world_book_entries e WHERE e.book_id = b.id AND e.enabled = 1)
                        AS enabled,
                    (SELECT json_group_array(json_object('id', c.id, 'name', c.name)) FROM
                        (SELECT c.id, c.name FROM character_world_books l
                         JOIN characters c ON c.id = l.character_id
                         WHERE l.book_id = b.id ORDER BY c.name COLLATE NOCASE) c) AS characters
             FROM world_books b WHERE {filter} ORDER BY b.name COLLATE NOCASE, b.created_at"
        );
        type Row = (String, String, String, i64, i64, i64, i64, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(&sql)
            .bind(arg)
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        Ok(rows
            .into_iter()
            .map(
                |(id, name, description, global, updated, entries, enabled, characters)| {
                    let characters: Vec<CharacterRef> = characters
                        .and_then(|j| serde_json::from_str(&j).ok())
                        .unwrap_or_default();
                    WorldBookSummary {
                        id,
                        name,
                        description,
                        entry_count: u32::try_from(entries).unwrap_or(u32::MAX),
                        enabled_count: u32::try_from(enabled).unwrap_or(u32::MAX),
                        global: global != 0,
                        characters,
                        updated_at: updated as f64,
                    }
                },
            )
            .collect())
    }

    /// A book's revision (bumped on every change): the compile cache key.
    pub async fn world_book_revision(&self, id: &str) -> Result<i64> {
        sqlx::query_scalar("SELECT revision FROM world_books WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?
            .ok_or_else(|| not_found(id))
    }

    /// A book in full, and its revision (the compile cache key).
    pub async fn world_book(&self, id: &str) -> Result<(Book, i64)> {
        let err = |e| self.sql_error(e);
        let (name, description, settings, extensions, revision): (
            String,
            String,
            String,
            String,
            i64,
        ) = sqlx::query_as(
            "SELECT name, description, settings_json, extensions_json, revision
                 FROM world_books WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .map_err(err)?
        .ok_or_else(|| not_found(id))?;
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT entry_json FROM world_book_entries WHERE book_id = ? ORDER BY position, uid",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await
        .map_err(err)?;
        let mut entries = Vec::with_capacity(rows.len());
        for json in rows {
            let mut entry = decode_entry(&json).map_err(|e| {
                Error::Storage(format!(
                    "a stored entry of world book {id} is unreadable: {e}"
                ))
            })?;
            entry.adopt_kept_character_filter();
            entries.push(entry);
        }
        Ok((
            Book {
                name,
                description,
                settings: decode_settings(&settings),
                entries,
                extensions: serde_json::from_str(&extensions).unwrap_or_default(),
            },
            revision,
        ))
    }

    /// Renames a book and saves its description and settings.
    pub async fn update_world_book(
        &self,
        id: &str,
        name: &str,
        description: &str,
        settings: &BookSettings,
    ) -> Result<()> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::InvalidInput("a world book needs a name".into()));
        }
        let changed = sqlx::query(
            "UPDATE world_books SET name = ?, description = ?, settings_json = ?,
                 revision = revision + 1, updated_at = ? WHERE id = ?",
        )
        .bind(name)
        .bind(description)
        .bind(encode(settings)?)
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?
        .rows_affected();
        if changed == 0 {
            return Err(not_found(id));
        }
        Ok(())
    }

    /// Deletes a book with its entries and links.
    pub async fn delete_world_book(&self, id: &str) -> Result<()> {
        let deleted = sqlx::query("DELETE FROM world_books WHERE id = ?")
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?
            .rows_affected();
        if deleted == 0 {
            return Err(not_found(id));
        }
        Ok(())
    }

    /// Inserts or replaces entries by uid (new ones go to the end), in one transaction.
    pub async fn save_entries(&self, id: &str, entries: &[Entry]) -> Result<()> {
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        let next: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(position) + 1, 0) FROM world_book_entries WHERE book_id = ?",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(err)?;
        touch(&mut tx, id)
            .await
            .map_err(err)?
            .then_some(())
            .ok_or_else(|| not_found(id))?;
        let mut next = usize::try_from(next).unwrap_or(0);
        for entry in entries {
            let existing: Option<i64> = sqlx::query_scalar(
                "SELECT position FROM world_book_entries WHERE book_id = ? AND uid = ?",
            )
            .bind(id)
            .bind(entry.uid)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err)?;
            let position = match existing {
                Some(p) => usize::try_from(p).unwrap_or(0),
                None => {
                    next += 1;
                    next - 1
                }
            };
            upsert_entry(&mut tx, id, entry, encode(entry)?, position)
                .await
                .map_err(err)?;
        }
        tx.commit().await.map_err(err)?;
        Ok(())
    }

    /// A new entry with SillyTavern's defaults and the next free uid, saved at the end.
    pub async fn add_entry(&self, id: &str) -> Result<Entry> {
        let next_uid: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(uid) + 1, 0) FROM world_book_entries WHERE book_id = ?",
        )
        .bind(id)
        .fetch_one(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        let uid = u32::try_from(next_uid).map_err(|_| {
            Error::InvalidInput("this world book has no free entry numbers left".into())
        })?;
        let entry = Entry::new(uid);
        self.save_entries(id, std::slice::from_ref(&entry)).await?;
        Ok(entry)
    }

    /// Deletes entries by uid.
    pub async fn delete_entries(&self, id: &str, uids: &[u32]) -> Result<()> {
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        touch(&mut tx, id)
            .await
            .map_err(err)?
            .then_some(())
            .ok_or_else(|| not_found(id))?;
        for uid in uids {
            sqlx::query("DELETE FROM world_book_entries WHERE book_id = ? AND uid = ?")
                .bind(id)
                .bind(uid)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
        }
        tx.commit().await.map_err(err)?;
        Ok(())
    }

    /// Switches entries on or off.
    pub async fn set_entries_enabled(&self, id: &str, uids: &[u32], enabled: bool) -> Result<()> {
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        touch(&mut tx, id)
            .await
            .map_err(err)?
            .then_some(())
            .ok_or_else(|| not_found(id))?;
        for uid in uids {
            sqlx::query(
                "UPDATE world_book_entries
                 SET enabled = ?1, entry_json = json_set(entry_json, '$.enabled', json(?2))
                 WHERE book_id = ?3 AND uid = ?4",
            )
            .bind(enabled)
            .bind(if enabled { "true" } else { "false" })
            .bind(id)
            .bind(uid)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        }
        tx.commit().await.map_err(err)?;
        Ok(())
    }

    /// Makes a book apply to every chat, or only to attached characters.
    pub async fn set_world_book_global(&self, id: &str, global: bool) -> Result<()> {
        let changed = sqlx::query(
            "UPDATE world_books SET is_global = ?, revision = revision + 1, updated_at = ? WHERE id = ?",
        )
        .bind(global)
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?
        .rows_affected();
        if changed == 0 {
            return Err(not_found(id));
        }
        Ok(())
    }

    /// Attaches a book to a character (again is fine).
    pub async fn attach_world_book(&self, book_id: &str, character_id: &str) -> Result<()> {
        self.world_book_summary(book_id).await?;
        self.character_summary(character_id).await?;
        sqlx::query("INSERT OR IGNORE INTO character_world_books VALUES (?, ?)")
            .bind(character_id)
            .bind(book_id)
            .execute(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        Ok(())
    }

    /// Detaches a book from a character.
    pub async fn detach_world_book(&self, book_id: &str, character_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM character_world_books WHERE character_id = ? AND book_id = ?")
            .bind(character_id)
            .bind(book_id)
            .execute(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        Ok(())
    }

    /// The book that came embedded in this character's card, if it still exists.
    pub async fn embedded_world_book_id(&self, character_id: &str) -> Result<Option<String>> {
        sqlx::query_scalar(
            "SELECT id FROM world_books WHERE source_character_id = ? ORDER BY created_at LIMIT 1",
        )
        .bind(character_id)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.sql_error(e))
    }

    /// A character's dictionary rules, or the global ones for `None`.
    pub async fn dictionary(&self, character_id: Option<&str>) -> Result<Vec<DictionaryRule>> {
        let json: Option<String> = match character_id {
            Some(id) => {
                sqlx::query_scalar(
                    "SELECT rules_json FROM character_dictionaries WHERE character_id = ?",
                )
                .bind(id)
                .fetch_optional(self.pool())
                .await
            }
            None => {
                sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
                    .bind(GLOBAL_DICTIONARY)
                    .fetch_optional(self.pool())
                    .await
            }
        }
        .map_err(|e| self.sql_error(e))?;
        Ok(json
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default())
    }

    /// Replaces a character's dictionary rules, or the global ones for `None`.
    pub async fn set_dictionary(
        &self,
        character_id: Option<&str>,
        rules: &[DictionaryRule],
    ) -> Result<()> {
        let json = encode(&rules)?;
        let now = now_ms();
        match character_id {
            Some(id) => {
                self.character_summary(id).await?;
                sqlx::query(
                    "INSERT INTO character_dictionaries VALUES (?, ?, ?)
                     ON CONFLICT (character_id) DO UPDATE SET rules_json = excluded.rules_json,
                         updated_at = excluded.updated_at",
                )
                .bind(id)
                .bind(json)
                .bind(now)
                .execute(self.pool())
                .await
            }
            None => {
                sqlx::query(
                    "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                )
                .bind(GLOBAL_DICTIONARY)
                .bind(json)
                .bind(now)
                .execute(self.pool())
                .await
            }
        }
        .map_err(|e| self.sql_error(e))?;
        Ok(())
    }
}

impl Store {
    /// The sticky/cooldown state of lore entries in a chat session (empty when new).
    pub async fn lore_timed_state(&self, session_id: &str) -> Result<TimedState> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT state_json FROM lore_timed_state WHERE session_id = ?")
                .bind(session_id)
                .fetch_optional(self.pool())
                .await
                .map_err(|e| self.sql_error(e))?;
        // State from an older engine that no longer parses starts fresh: it only
        // times sticky and cooldown effects, never holds the user's data.
        Ok(json
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default())
    }

    /// Saves the timed state of a chat session after a scan.
    pub async fn save_lore_timed_state(&self, session_id: &str, state: &TimedState) -> Result<()> {
        sqlx::query(
            "INSERT INTO lore_timed_state (session_id, state_json, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (session_id) DO UPDATE SET state_json = excluded.state_json,
                 updated_at = excluded.updated_at",
        )
        .bind(session_id)
        .bind(encode(state)?)
        .bind(now_ms())
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(())
    }
}

/// Bumps a book's revision; false when there is no such book.
async fn touch(conn: &mut SqliteConnection, id: &str) -> Result<bool, sqlx::Error> {
    let changed =
        sqlx::query("UPDATE world_books SET revision = revision + 1, updated_at = ? WHERE id = ?")
            .bind(now_ms())
            .bind(id)
            .execute(conn)
            .await?
            .rows_affected();
    Ok(changed > 0)
}

async fn upsert_entry(
    conn: &mut SqliteConnection,
    book_id: &str,
    entry: &Entry,
    json: String,
    position: usize,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO world_book_entries (book_id, uid, position, enabled, constant, comment, entry_json)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (book_id, uid) DO UPDATE SET position = excluded.position,
             enabled = excluded.enabled, constant = excluded.constant,
             comment = excluded.comment, entry_json = excluded.entry_json",
    )
    .bind(book_id)
    .bind(entry.uid)
    .bind(i64::try_from(position).unwrap_or(i64::MAX))
    .bind(entry.enabled)
    .bind(entry.constant)
    .bind(&entry.comment)
    .bind(json)
    .execute(conn)
    .await
    .map(|_| ())
}
