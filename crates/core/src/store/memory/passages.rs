//! Passages embedded for retrieval: a chat's messages split into passages, and its notes.

use crate::memory::summary::MemoryNote;
use crate::store::characters::now_ms;
use crate::store::Store;
use crate::{Error, Result};

/// The longest note accepted, in bytes.
pub const MAX_NOTE_BYTES: usize = 16 * 1024;

/// A message of the active path whose passages are missing or older than it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageToEmbed {
    /// The message.
    pub id: String,
    /// Its rev now.
    pub rev: i64,
    /// Its text now.
    pub content: String,
    /// The text hash its passages (for this model) were made from, when it has any.
    pub embedded_hash: Option<i64>,
}

/// A passage's vector as the in-memory index loads it.
#[derive(Debug, Clone, PartialEq)]
pub struct PassageVector {
    /// The passage.
    pub id: i64,
    /// Its message and that message's depth; `None` for a note.
    pub message: Option<(String, u32)>,
    /// Little-endian f32s.
    pub embedding: Vec<u8>,
}

/// A passage with its text, for a search's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPassage {
    /// The passage.
    pub id: i64,
    /// Its text.
    pub text: String,
    /// Its message and that message's depth; `None` for a note.
    pub message: Option<(String, u32)>,
    /// Little-endian f32s.
    pub embedding: Vec<u8>,
}

/// f32s as the little-endian bytes stored.
pub fn vector_bytes(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Stored bytes as f32s (a trailing partial value is ignored).
pub fn vector_from_bytes(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The path above (and including) a message, newest first, as (id, parent, depth).
type PathRow = (String, Option<String>, i64);
/// (passage, message, depth, vector) as the index loads it.
type VectorRow = (i64, Option<String>, Option<i64>, Vec<u8>);
/// (passage, text, message, depth, vector) as a search reads it.
type PassageRow = (i64, String, Option<String>, Option<i64>, Option<Vec<u8>>);

fn depth_of(message_id: Option<String>, depth: Option<i64>) -> Option<(String, u32)> {
    Some((message_id?, u32::try_from(depth?).ok()?))
}

impl Store {
    /// The tick that moves whenever `session_id`'s passages change (0 before any).
    pub async fn passage_tick(&self, session_id: &str) -> Result<i64> {
        let tick: Option<i64> =
            sqlx::query_scalar("SELECT tick FROM memory_passage_clock WHERE session_id = ?")
                .bind(session_id)
                .fetch_optional(self.pool())
                .await
                .map_err(|e| self.sql_error(e))?;
        Ok(tick.unwrap_or(0))
    }

    /// The ids past `after` of the chat's passages embedded with `model`, ascending
    /// (ids are never reused; the index on (session, model) answers alone).
    pub async fn passage_ids(&self, session_id: &str, model: &str, after: i64) -> Result<Vec<i64>> {
        sqlx::query_scalar(
            "SELECT id FROM memory_passages INDEXED BY memory_passages_by_session
             WHERE session_id = ? AND model = ? AND id > ? ORDER BY id",
        )
        .bind(session_id)
        .bind(model)
        .bind(after)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))
    }

    /// The vectors of passages `ids` (those that exist and are embedded).
    pub async fn passage_vectors(&self, ids: &[i64]) -> Result<Vec<PassageVector>> {
        let rows: Vec<VectorRow> = sqlx::query_as(
            "SELECT p.id, p.message_id, m.depth, p.embedding
             FROM json_each(?) j JOIN memory_passages p ON p.id = j.value
             LEFT JOIN messages m ON m.id = p.message_id
             WHERE p.embedding IS NOT NULL",
        )
        .bind(ids_json(ids))
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(rows
            .into_iter()
            .map(|(id, message_id, depth, embedding)| PassageVector {
                id,
                message: depth_of(message_id, depth),
                embedding,
            })
            .collect())
    }

    /// Passages `ids` with their texts and vectors.
    pub async fn passages(&self, ids: &[i64]) -> Result<Vec<StoredPassage>> {
        let rows: Vec<PassageRow> = sqlx::query_as(
            "SELECT p.id, p.text, p.message_id, m.depth, p.embedding
                 FROM json_each(?) j JOIN memory_passages p ON p.id = j.value
                 LEFT JOIN messages m ON m.id = p.message_id",
        )
        .bind(ids_json(ids))
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(rows
            .into_iter()
            .map(|(id, text, message_id, depth, embedding)| StoredPassage {
                id,
                text,
                message: depth_of(message_id, depth),
                embedding: embedding.unwrap_or_default(),
            })
            .collect())
    }

    /// Up to `limit` messages of the chat's active path (oldest first) with
    /// text and no passages for `model` at their current rev.
    pub async fn messages_to_embed(
        &self,
        session_id: &str,
        model: &str,
        limit: u32,
    ) -> Result<Vec<MessageToEmbed>> {
        let rows: Vec<(String, i64, String, Option<i64>)> = sqlx::query_as(
            "WITH RECURSIVE path (id) AS (
                 SELECT leaf_id FROM chat_sessions WHERE id = ?1 AND leaf_id IS NOT NULL
                 UNION ALL
                 SELECT m.parent_id FROM messages m JOIN path ON m.id = path.id
                 WHERE m.parent_id IS NOT NULL
             )
             SELECT m.id, m.rev, m.content,
                    (SELECT p.source_hash FROM memory_passages p
                     WHERE p.message_id = m.id AND p.model = ?2 LIMIT 1)
             FROM path JOIN messages m ON m.id = path.id
             WHERE length(trim(m.content)) > 0
               AND NOT EXISTS (SELECT 1 FROM memory_passages p
                               WHERE p.message_id = m.id AND p.model = ?2 AND p.source_rev = m.rev)
             ORDER BY m.depth LIMIT ?3",
        )
        .bind(session_id)
        .bind(model)
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(rows
            .into_iter()
            .map(|(id, rev, content, embedded_hash)| MessageToEmbed {
                id,
                rev,
                content,
                embedded_hash,
            })
            .collect())
    }

    /// A message's rev moved but its text did not: its passages stand for the new rev.
    pub async fn mark_passages_current(
        &self,
        message_id: &str,
        model: &str,
        rev: i64,
    ) -> Result<()> {
        sqlx::query("UPDATE memory_passages SET source_rev = ? WHERE message_id = ? AND model = ?")
            .bind(rev)
            .bind(message_id)
            .bind(model)
            .execute(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        Ok(())
    }

    /// Replaces a message's passages for `model` with `passages` (text and
    /// vector each), made from its text `content`. Nothing is written when the
    /// message is gone or its text changed meanwhile (`false`); a rev that moved
    /// with the text unchanged (a token count saved) is taken as it is now.
    pub async fn replace_message_passages(
        &self,
        message_id: &str,
        content: &str,
        hash: i64,
        model: &str,
        passages: &[(String, Vec<f32>)],
    ) -> Result<bool> {
        let err = |e| self.sql_error(e);
        // Read then write: BEGIN IMMEDIATE, so the upgrade never meets another writer.
        let mut tx = self.write_tx().await.map_err(err)?;
        let found: Option<(String, i64)> =
            sqlx::query_as("SELECT session_id, rev FROM messages WHERE id = ? AND content = ?")
                .bind(message_id)
                .bind(content)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?;
        let Some((session, rev)) = found else {
            return Ok(false);
        };
        sqlx::query("DELETE FROM memory_passages WHERE message_id = ? AND model = ?")
            .bind(message_id)
            .bind(model)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        let now = now_ms();
        for (chunk, (text, vector)) in passages.iter().enumerate() {
            sqlx::query(
                "INSERT INTO memory_passages (session_id, message_id, source, chunk, text,
                     source_rev, source_hash, model, dims, embedding, created_at)
                 VALUES (?, ?, 'message', ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&session)
            .bind(message_id)
            .bind(i64::try_from(chunk).unwrap_or(i64::MAX))
            .bind(text)
            .bind(rev)
            .bind(hash)
            .bind(model)
            .bind(i64::try_from(vector.len()).unwrap_or(0))
            .bind(vector_bytes(vector))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        }
        tx.commit().await.map_err(err)?;
        Ok(true)
    }

    /// Deletes the chat's message passages made by any model but `model` (a
    /// model change: vectors of two models are never compared, nor kept twice).
    pub async fn drop_other_models(&self, session_id: &str, model: &str) -> Result<()> {
        sqlx::query(
            "DELETE FROM memory_passages WHERE session_id = ? AND source = 'message' AND model <> ?",
        )
        .bind(session_id)
        .bind(model)
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(())
    }

    /// The chat's notes, oldest first; `embedded` says whether `model` embedded them.
    pub async fn memory_notes(
        &self,
        session_id: &str,
        model: Option<&str>,
    ) -> Result<Vec<MemoryNote>> {
        let rows: Vec<(i64, String, bool)> = sqlx::query_as(
            "SELECT id, text, embedding IS NOT NULL AND model = ? FROM memory_passages
             WHERE session_id = ? AND source = 'note' ORDER BY id",
        )
        .bind(model.unwrap_or(""))
        .bind(session_id)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(rows
            .into_iter()
            .map(|(id, text, embedded)| MemoryNote { id, text, embedded })
            .collect())
    }

    /// Attaches a note (not embedded yet) to a chat.
    pub async fn add_memory_note(&self, session_id: &str, text: &str) -> Result<MemoryNote> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::InvalidInput("a note needs some text".into()));
        }
        if text.len() > MAX_NOTE_BYTES {
            return Err(Error::InvalidInput(format!(
                "a note is at most {} KB",
                MAX_NOTE_BYTES / 1024
            )));
        }
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO memory_passages (session_id, source, text, created_at)
             SELECT id, 'note', ?, ? FROM chat_sessions WHERE id = ? RETURNING id",
        )
        .bind(text)
        .bind(now_ms())
        .bind(session_id)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        let id = id.ok_or_else(|| Error::NotFound {
            what: format!("chat {session_id}"),
        })?;
        Ok(MemoryNote {
            id,
            text: text.to_owned(),
            embedded: false,
        })
    }

    /// Deletes a note.
    pub async fn delete_memory_note(&self, note_id: i64) -> Result<()> {
        let done = sqlx::query("DELETE FROM memory_passages WHERE id = ? AND source = 'note'")
            .bind(note_id)
            .execute(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound {
                what: format!("note {note_id}"),
            });
        }
        Ok(())
    }

    /// Up to `limit` of the chat's notes not embedded with `model`, as (id, text).
    pub async fn notes_to_embed(
        &self,
        session_id: &str,
        model: &str,
        limit: u32,
    ) -> Result<Vec<(i64, String)>> {
        sqlx::query_as(
            "SELECT id, text FROM memory_passages
             WHERE session_id = ? AND source = 'note' AND (embedding IS NULL OR model <> ?)
             ORDER BY id LIMIT ?",
        )
        .bind(session_id)
        .bind(model)
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))
    }

    /// Stores a note's vector (unless its text changed or it was deleted meanwhile).
    pub async fn set_note_embedding(
        &self,
        note_id: i64,
        text: &str,
        model: &str,
        vector: &[f32],
    ) -> Result<()> {
        sqlx::query(
            "UPDATE memory_passages SET model = ?, dims = ?, embedding = ?
             WHERE id = ? AND source = 'note' AND text = ?",
        )
        .bind(model)
        .bind(i64::try_from(vector.len()).unwrap_or(0))
        .bind(vector_bytes(vector))
        .bind(note_id)
        .bind(text)
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(())
    }

    /// How many of the chat's passages `model` embedded (from the index alone).
    pub async fn passage_count(&self, session_id: &str, model: &str) -> Result<u32> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM memory_passages INDEXED BY memory_passages_by_session
             WHERE session_id = ? AND model = ?",
        )
        .bind(session_id)
        .bind(model)
        .fetch_one(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Up to `limit` messages of the path from `from` upwards (itself first), as (id, parent, depth).
    pub async fn path_up(
        &self,
        from: &str,
        limit: u32,
    ) -> Result<Vec<(String, Option<String>, i64)>> {
        let rows: Vec<PathRow> = sqlx::query_as(
            "WITH RECURSIVE up (id, parent_id, depth, n) AS (
                 SELECT id, parent_id, depth, 1 FROM messages WHERE id = ?1
                 UNION ALL
                 SELECT m.id, m.parent_id, m.depth, up.n + 1 FROM messages m
                 JOIN up ON m.id = up.parent_id WHERE up.n < ?2
             )
             SELECT id, parent_id, depth FROM up ORDER BY n",
        )
        .bind(from)
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(rows)
    }

    /// The last message of the chat's active path, if it has one.
    pub async fn path_leaf(&self, session_id: &str) -> Result<Option<String>> {
        let leaf: Option<Option<String>> =
            sqlx::query_scalar("SELECT leaf_id FROM chat_sessions WHERE id = ?")
                .bind(session_id)
                .fetch_optional(self.pool())
                .await
                .map_err(|e| self.sql_error(e))?;
        match leaf {
            Some(leaf) => Ok(leaf),
            None => Err(Error::NotFound {
                what: format!("chat {session_id}"),
            }),
        }
    }
}

/// Ids as a JSON array, bound as one parameter (`json_each`): no limit on variables.
fn ids_json(ids: &[i64]) -> String {
    let mut s = String::with_capacity(ids.len() * 8 + 2);
    s.push('[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&id.to_string());
    }
    s.push(']');
    s
}
