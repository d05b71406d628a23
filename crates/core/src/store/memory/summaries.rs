//! Summaries of a path's earlier messages.
//!
//! A summary covers `first_id` down to `last_id` on one path. Ancestry in the
//! message tree never changes, so it applies to exactly the paths through
//! `last_id`; and summaries chain: the one before it ends at the parent of its
//! first message. Finding a path's summaries is a look at the messages the
//! prompt loaded anyway, then (rarely) a short walk up the parent links.

use std::collections::{HashMap, HashSet};

use sqlx::Row;

use crate::store::characters::now_ms;
use crate::store::Store;
use crate::{Error, Result};

/// The most summaries of a chat read at once (a chat of millions of messages
/// would not have more; bounded memory whatever the file holds).
const MAX_SUMMARIES: i64 = 20_000;
/// The most parent links followed in SQL while finding one path's summaries.
const MAX_WALK: i64 = 4_096;

/// A stored summary, with the parent of its first message (where the one before it ends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    /// Its id.
    pub id: String,
    /// The chat.
    pub session_id: String,
    /// The first message it covers.
    pub first_id: String,
    /// The last message it covers.
    pub last_id: String,
    /// The first message's depth (0 = the chat's first message).
    pub first_depth: i64,
    /// The last message's depth.
    pub last_depth: i64,
    /// Its text.
    pub content: String,
    /// Its tokens, when counted.
    pub tokens: Option<u32>,
    /// Kept as it is and always sent.
    pub pinned: bool,
    /// Written or changed by the user.
    pub edited: bool,
    /// A covered message changed since it was written.
    pub stale: bool,
    /// Who wrote it.
    pub author: String,
    /// When it was written or last changed (Unix ms).
    pub updated_at: i64,
    /// The parent of its first message (`None` at the chat's start).
    pub before_first: Option<String>,
}

/// A summary to save: the path's messages it covers, oldest first.
#[derive(Debug, Clone)]
pub struct NewSummary<'a> {
    /// The chat.
    pub session_id: &'a str,
    /// The covered messages' ids, oldest first, consecutive on one path.
    pub messages: &'a [String],
    /// Its text.
    pub content: &'a str,
    /// Its tokens.
    pub tokens: Option<u32>,
    /// Who wrote it.
    pub author: &'a str,
}

/// A covered message as the summarizer reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoveredMessage {
    /// Its id.
    pub id: String,
    /// `user`, `assistant` or `system`.
    pub role: String,
    /// The speaker's name.
    pub name: String,
    /// The text.
    pub content: String,
}

const COLUMNS: &str = "s.id, s.session_id, s.first_id, s.last_id, s.first_depth, s.last_depth,
    s.content, s.tokens, s.pinned, s.edited, s.stale, s.author, s.updated_at, f.parent_id AS before_first";

fn read_row(row: &sqlx::sqlite::SqliteRow) -> std::result::Result<SummaryRow, sqlx::Error> {
    Ok(SummaryRow {
        id: row.try_get("id")?,
        session_id: row.try_get("session_id")?,
        first_id: row.try_get("first_id")?,
        last_id: row.try_get("last_id")?,
        first_depth: row.try_get("first_depth")?,
        last_depth: row.try_get("last_depth")?,
        content: row.try_get("content")?,
        tokens: row
            .try_get::<Option<i64>, _>("tokens")?
            .and_then(|t| u32::try_from(t).ok()),
        pinned: row.try_get::<i64, _>("pinned")? != 0,
        edited: row.try_get::<i64, _>("edited")? != 0,
        stale: row.try_get::<i64, _>("stale")? != 0,
        author: row.try_get("author")?,
        updated_at: row.try_get("updated_at")?,
        before_first: row.try_get("before_first")?,
    })
}

fn summary_not_found(id: &str) -> Error {
    Error::NotFound {
        what: format!("summary {id}"),
    }
}

impl Store {
    /// Every summary of a chat, the newest stretch (deepest last message)
    /// first, without their texts (see [`Store::fill_summary_texts`]): a prompt
    /// reads them all to find its path's, and sends only a few.
    pub async fn chat_summaries(&self, session_id: &str) -> Result<Vec<SummaryRow>> {
        let columns = COLUMNS.replace("s.content,", "'' AS content,");
        let sql = format!(
            "SELECT {columns} FROM memory_summaries s JOIN messages f ON f.id = s.first_id
             WHERE s.session_id = ? ORDER BY s.last_depth DESC, s.updated_at DESC LIMIT {MAX_SUMMARIES}"
        );
        let rows = sqlx::query(&sql)
            .bind(session_id)
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        rows.iter()
            .map(read_row)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| self.sql_error(e))
    }

    /// One summary.
    pub async fn summary(&self, summary_id: &str) -> Result<SummaryRow> {
        let sql = format!(
            "SELECT {COLUMNS} FROM memory_summaries s JOIN messages f ON f.id = s.first_id WHERE s.id = ?"
        );
        let row = sqlx::query(&sql)
            .bind(summary_id)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?
            .ok_or_else(|| summary_not_found(summary_id))?;
        read_row(&row).map_err(|e| self.sql_error(e))
    }

    /// The summaries of the path through `path`, oldest first, chained back
    /// from the newest whose last message is on it.
    ///
    /// `path` is the end of the path as the caller loaded it, oldest first
    /// (the prompt's recent history); `all` is [`Store::chat_summaries`].
    /// A summary whose last message is among `path` is on the path; failing
    /// that, the parent links are followed up from `path`'s oldest message to
    /// the first message that ends a summary. From there each summary leads to
    /// the one ending at the parent of its first message; where none does (a
    /// summary deleted), the walk resumes. The walks together follow at most
    /// [`MAX_WALK`] links, and never below the oldest summary, so the cost is
    /// bounded whatever the chat's length. At most `max` summaries, the newest.
    pub async fn path_summaries(
        &self,
        all: &[SummaryRow],
        path: &[String],
        max: usize,
    ) -> Result<Vec<SummaryRow>> {
        if all.is_empty() || path.is_empty() {
            return Ok(Vec::new());
        }
        let mut by_last: HashMap<&str, Vec<&SummaryRow>> = HashMap::new();
        for s in all {
            by_last.entry(s.last_id.as_str()).or_default().push(s);
        }
        let lowest = all.iter().map(|s| s.last_depth).min().unwrap_or(0);
        let on_path: HashSet<&str> = path.iter().map(String::as_str).collect();
        // `all` is deepest first: the first on the loaded path is the newest.
        let mut cursor: Option<String> = all
            .iter()
            .find(|s| on_path.contains(s.last_id.as_str()))
            .map(|s| s.last_id.clone());
        let mut walk_from = if cursor.is_none() {
            path.first().cloned()
        } else {
            None
        };
        let mut budget = MAX_WALK;
        let mut chain: Vec<SummaryRow> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        loop {
            if let Some(from) = walk_from.take() {
                if budget <= 0 {
                    break;
                }
                let found: Option<(String, i64)> = sqlx::query_as(
                    "WITH RECURSIVE up (id, parent_id, n, hit) AS (
                         SELECT m.id, m.parent_id, 0,
                                EXISTS (SELECT 1 FROM memory_summaries s WHERE s.last_id = m.id)
                         FROM messages m WHERE m.id = ?1 AND m.depth >= ?3
                         UNION ALL
                         SELECT m.id, m.parent_id, up.n + 1,
                                EXISTS (SELECT 1 FROM memory_summaries s WHERE s.last_id = m.id)
                         FROM messages m JOIN up ON m.id = up.parent_id
                         WHERE up.hit = 0 AND up.n < ?2 AND m.depth >= ?3
                     )
                     SELECT id, n FROM up WHERE hit = 1 LIMIT 1",
                )
                .bind(&from)
                .bind(budget)
                .bind(lowest)
                .fetch_optional(self.pool())
                .await
                .map_err(|e| self.sql_error(e))?;
                match found {
                    Some((id, n)) => {
                        budget -= n + 1;
                        cursor = Some(id);
                    }
                    None => break,
                }
            }
            let Some(at) = cursor.take() else { break };
            let Some(candidates) = by_last.get(at.as_str()) else {
                // Ends a summary of another chat's copy or one just deleted: nothing more.
                break;
            };
            // Several summaries ending here (never written so, but possible by
            // hand): a fresh one over a stale one, then the longest.
            let Some(best) = candidates
                .iter()
                .min_by_key(|s| (s.stale && !s.pinned, s.first_depth))
                .copied()
            else {
                break;
            };
            if chain.len() >= max || !seen.insert(best.id.as_str()) {
                break;
            }
            chain.push(best.clone());
            match &best.before_first {
                Some(parent) if by_last.contains_key(parent.as_str()) => {
                    cursor = Some(parent.clone())
                }
                Some(parent) => walk_from = Some(parent.clone()),
                None => break,
            }
        }
        chain.reverse();
        Ok(chain)
    }

    /// Reads the texts of summaries listed by [`Store::chat_summaries`].
    pub async fn fill_summary_texts(&self, rows: &mut [SummaryRow]) -> Result<()> {
        for chunk in rows.chunks_mut(256) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = format!("SELECT id, content FROM memory_summaries WHERE id IN ({marks})");
            let mut query = sqlx::query_as::<_, (String, String)>(&sql);
            for row in chunk.iter() {
                query = query.bind(&row.id);
            }
            let texts: HashMap<String, String> = query
                .fetch_all(self.pool())
                .await
                .map_err(|e| self.sql_error(e))?
                .into_iter()
                .collect();
            for row in chunk.iter_mut() {
                if let Some(text) = texts.get(&row.id) {
                    row.content.clone_from(text);
                }
            }
        }
        Ok(())
    }

    /// Saves a new summary of `new.messages` (consecutive messages of one path, oldest first).
    pub async fn add_summary(&self, new: &NewSummary<'_>) -> Result<SummaryRow> {
        let (Some(first), Some(last)) = (new.messages.first(), new.messages.last()) else {
            return Err(Error::InvalidInput(
                "a summary covers at least one message".into(),
            ));
        };
        let err = |e| self.sql_error(e);
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let mut tx = self.write_tx().await.map_err(err)?;
        let done = sqlx::query(
            "INSERT INTO memory_summaries (id, session_id, first_id, last_id, first_depth, last_depth,
                 content, tokens, author, created_at, updated_at)
             SELECT ?1, ?2, f.id, l.id, f.depth, l.depth, ?5, ?6, ?7, ?8, ?8
             FROM messages f JOIN messages l ON l.id = ?4
             WHERE f.id = ?3 AND f.session_id = ?2 AND l.session_id = ?2 AND l.depth >= f.depth",
        )
        .bind(&id)
        .bind(new.session_id)
        .bind(first)
        .bind(last)
        .bind(new.content)
        .bind(new.tokens)
        .bind(new.author)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        if done.rows_affected() == 0 {
            // The messages went (deleted, or the library replaced) while it was written.
            return Err(Error::NotFound {
                what: "the messages this summary covers".into(),
            });
        }
        for message in new.messages {
            sqlx::query(
                "INSERT OR IGNORE INTO memory_summary_messages (summary_id, message_id)
                 SELECT ?, id FROM messages WHERE id = ? AND session_id = ?",
            )
            .bind(&id)
            .bind(message)
            .bind(new.session_id)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        }
        tx.commit().await.map_err(err)?;
        self.summary(&id).await
    }

    /// Replaces a summary's text. `by_user` marks it edited; either way it is no longer stale.
    /// `expected`: only if its text is still this (a redo racing an edit loses).
    pub async fn set_summary_content(
        &self,
        summary_id: &str,
        content: &str,
        tokens: Option<u32>,
        author: Option<&str>,
        expected: Option<&str>,
    ) -> Result<SummaryRow> {
        let by_user = author.is_none();
        let done = sqlx::query(
            "UPDATE memory_summaries SET content = ?2, tokens = ?3, stale = 0,
                 edited = CASE WHEN ?4 THEN 1 ELSE 0 END, author = COALESCE(?5, ''), updated_at = ?6
             WHERE id = ?1 AND (?7 IS NULL OR content = ?7)",
        )
        .bind(summary_id)
        .bind(content)
        .bind(tokens)
        .bind(by_user)
        .bind(author)
        .bind(now_ms())
        .bind(expected)
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        if done.rows_affected() == 0 {
            return Err(summary_not_found(summary_id));
        }
        self.summary(summary_id).await
    }

    /// Pins or unpins a summary.
    pub async fn pin_summary(&self, summary_id: &str, pinned: bool) -> Result<SummaryRow> {
        let done =
            sqlx::query("UPDATE memory_summaries SET pinned = ?, updated_at = ? WHERE id = ?")
                .bind(pinned)
                .bind(now_ms())
                .bind(summary_id)
                .execute(self.pool())
                .await
                .map_err(|e| self.sql_error(e))?;
        if done.rows_affected() == 0 {
            return Err(summary_not_found(summary_id));
        }
        self.summary(summary_id).await
    }

    /// Deletes a summary.
    pub async fn delete_summary(&self, summary_id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM memory_summaries WHERE id = ?")
            .bind(summary_id)
            .execute(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        if done.rows_affected() == 0 {
            return Err(summary_not_found(summary_id));
        }
        Ok(())
    }

    /// Up to `max` messages of the path above `message_id`, oldest first,
    /// stopping below `stop_at` (exclusive; the chat's first message when `None`).
    /// Empty messages (a reply that failed before its first word) are left out.
    pub async fn path_before(
        &self,
        message_id: &str,
        stop_at: Option<&str>,
        max: u32,
    ) -> Result<Vec<CoveredMessage>> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "WITH RECURSIVE up (id, parent_id, role, name, content, n) AS (
                 SELECT p.id, p.parent_id, p.role, p.name, p.content, 1
                 FROM messages c JOIN messages p ON p.id = c.parent_id
                 WHERE c.id = ?1 AND p.id IS NOT ?2 AND ?3 > 0
                 UNION ALL
                 SELECT m.id, m.parent_id, m.role, m.name, m.content, up.n + 1
                 FROM messages m JOIN up ON m.id = up.parent_id
                 WHERE m.id IS NOT ?2 AND up.n < ?3
             )
             SELECT id, role, name, content FROM up WHERE content <> '' ORDER BY n DESC",
        )
        .bind(message_id)
        .bind(stop_at)
        .bind(max)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(rows
            .into_iter()
            .map(|(id, role, name, content)| CoveredMessage {
                id,
                role,
                name,
                content,
            })
            .collect())
    }

    /// The messages a summary covers, oldest first.
    pub async fn summary_messages(&self, summary_id: &str) -> Result<Vec<CoveredMessage>> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT m.id, m.role, m.name, m.content FROM memory_summary_messages c
             JOIN messages m ON m.id = c.message_id WHERE c.summary_id = ? ORDER BY m.depth",
        )
        .bind(summary_id)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(rows
            .into_iter()
            .map(|(id, role, name, content)| CoveredMessage {
                id,
                role,
                name,
                content,
            })
            .collect())
    }
}

/// Copies into `to_session` the summaries of `from_session` whose covered
/// messages were all copied (`copied`: old id → new id), in the caller's
/// transaction (a branch gets the memory of the path it copies, nothing of another).
pub(crate) async fn copy_summaries(
    conn: &mut sqlx::SqliteConnection,
    from_session: &str,
    to_session: &str,
    copied: &HashMap<String, String>,
) -> std::result::Result<(), sqlx::Error> {
    type Copied = (
        String,
        String,
        String,
        i64,
        i64,
        String,
        Option<i64>,
        i64,
        i64,
        i64,
        String,
        i64,
        i64,
    );
    let rows: Vec<Copied> = sqlx::query_as(
        "SELECT id, first_id, last_id, first_depth, last_depth, content, tokens, pinned, edited,
                stale, author, created_at, updated_at
         FROM memory_summaries WHERE session_id = ?",
    )
    .bind(from_session)
    .fetch_all(&mut *conn)
    .await?;
    for (
        id,
        first,
        last,
        first_depth,
        last_depth,
        content,
        tokens,
        pinned,
        edited,
        stale,
        author,
        created,
        updated,
    ) in rows
    {
        let (Some(new_first), Some(new_last)) = (copied.get(&first), copied.get(&last)) else {
            continue;
        };
        let covered: Vec<String> = sqlx::query_scalar(
            "SELECT message_id FROM memory_summary_messages WHERE summary_id = ?",
        )
        .bind(&id)
        .fetch_all(&mut *conn)
        .await?;
        let Some(mapped) = covered
            .iter()
            .map(|m| copied.get(m).cloned())
            .collect::<Option<Vec<String>>>()
        else {
            continue;
        };
        let new_id = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO memory_summaries (id, session_id, first_id, last_id, first_depth, last_depth,
                 content, tokens, pinned, edited, stale, author, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&new_id)
        .bind(to_session)
        .bind(new_first)
        .bind(new_last)
        .bind(first_depth)
        .bind(last_depth)
        .bind(&content)
        .bind(tokens)
        .bind(pinned)
        .bind(edited)
        .bind(stale)
        .bind(&author)
        .bind(created)
        .bind(updated)
        .execute(&mut *conn)
        .await?;
        for message in mapped {
            sqlx::query(
                "INSERT OR IGNORE INTO memory_summary_messages (summary_id, message_id) VALUES (?, ?)",
            )
            .bind(&new_id)
            .bind(message)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}
