//! Messages of a session: paging the active path, adding, swiping, editing, deleting, images.

use super::{
    choose_child, descend, insert_child, message_from_row, not_found, parse_role, status_str,
    touch_session_of, NewMessage, MAX_PAGE, MESSAGE_COLUMNS,
};
use crate::session::{Message, MessageImage, MessageMeta, MessagePage, MessageStatus, Role};
use crate::store::characters::{hex, now_ms};
use crate::store::Store;
use crate::{Error, Result};

/// (id, parent, role, name, content, tokens) of a message read by depth.
type DepthRow = (String, Option<String>, String, String, String, Option<u32>);

/// Depths in the history read's first range: enough to learn the chat's message size.
const FIRST_SPAN: i64 = 64;

/// The depths the history read asks for next: enough, at the `bytes` per
/// `walked` depths seen so far, to reach `max_bytes`, with a quarter to spare
/// (branches and a size that varies); never less than [`FIRST_SPAN`].
fn next_span(walked: i64, bytes: usize, max_bytes: usize) -> i64 {
    let walked = u64::try_from(walked.max(1)).unwrap_or(1);
    let per_depth = (u64::try_from(bytes).unwrap_or(u64::MAX) / walked).max(1);
    let wanted = u64::try_from(max_bytes.saturating_sub(bytes)).unwrap_or(u64::MAX) / per_depth;
    let span = wanted.saturating_add(wanted / 4);
    i64::try_from(span).unwrap_or(i64::MAX).max(FIRST_SPAN)
}

/// A message of the history as a prompt reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// Its id.
    pub id: String,
    /// Who wrote it.
    pub role: Role,
    /// The speaker's name.
    pub name: String,
    /// The text.
    pub content: String,
    /// Its tokens, when the asked-for tokenizer counted them before.
    pub tokens: Option<u32>,
}

/// The newest messages of a path, and how many user messages the path holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecentHistory {
    /// Oldest first; empty messages left out.
    pub messages: Vec<HistoryRow>,
    /// User messages on the whole path up to its last message.
    pub user_turns: u32,
}

/// A message's token count to remember.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCount {
    /// The message.
    pub id: String,
    /// The text that was counted.
    pub content: String,
    /// Its tokens.
    pub tokens: u32,
}

impl Store {
    /// A page of the active path ending just above `cursor` (or at the newest message).
    pub async fn messages_page(
        &self,
        session_id: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<MessagePage> {
        let err = |e| self.sql_error(e);
        let limit = limit.clamp(1, MAX_PAGE);
        let (leaf,): (Option<String>,) =
            sqlx::query_as("SELECT leaf_id FROM chat_sessions WHERE id = ?")
                .bind(session_id)
                .fetch_optional(self.pool())
                .await
                .map_err(err)?
                .ok_or_else(|| not_found("chat", session_id))?;
        let Some(leaf) = leaf else {
            return Ok(MessagePage::default());
        };
        let total: i64 = sqlx::query_scalar("SELECT depth + 1 FROM messages WHERE id = ?")
            .bind(&leaf)
            .fetch_one(self.pool())
            .await
            .map_err(err)?;
        let start = match cursor {
            None => Some(leaf),
            Some(cursor) => sqlx::query_scalar::<_, Option<String>>(
                "SELECT parent_id FROM messages WHERE id = ? AND session_id = ?",
            )
            .bind(cursor)
            .bind(session_id)
            .fetch_optional(self.pool())
            .await
            .map_err(err)?
            .ok_or_else(|| not_found("message", cursor))?,
        };
        let Some(start) = start else {
            return Ok(MessagePage {
                messages: Vec::new(),
                older_cursor: None,
                total: u32::try_from(total).unwrap_or(u32::MAX),
            });
        };
        let sql = format!(
            "WITH RECURSIVE path (id, n) AS (
                 SELECT ?1, 0
                 UNION ALL
                 SELECT m.parent_id, path.n + 1 FROM messages m JOIN path ON m.id = path.id
                 WHERE m.parent_id IS NOT NULL AND path.n + 1 < ?2
             )
             SELECT {MESSAGE_COLUMNS} FROM path JOIN messages m ON m.id = path.id ORDER BY path.n DESC"
        );
        let rows = sqlx::query(&sql)
            .bind(&start)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(err)?;
        let messages: Vec<Message> = rows
            .iter()
            .map(message_from_row)
            .collect::<Result<_, _>>()
            .map_err(err)?;
        let older_cursor = messages
            .first()
            .filter(|m| m.parent_id.is_some())
            .map(|m| m.id.clone());
        Ok(MessagePage {
            messages,
            older_cursor,
            total: u32::try_from(total).unwrap_or(u32::MAX),
        })
    }

    /// The recent history a prompt is built from: the active path ending just
    /// above `before` (at the newest message when `None`), oldest first. Walks
    /// back from the end until the texts reach `max_bytes` (the message
    /// crossing it included); empty messages (a reply that failed before its
    /// first word) are left out. A token count made by another tokenizer than
    /// `counter` reads as unknown.
    ///
    /// This runs before every reply, so it does not walk the tree one message
    /// at a time (a recursive query costs about 2 µs a step): it reads the
    /// session's messages a range of depths at a time through an index, and
    /// follows the parent links in memory. Swipes and other branches at those
    /// depths come along and are skipped. A small first range gives the chat's
    /// bytes per message, so the next range is sized to fill the rest at once:
    /// each query costs a round trip and every row read past the window is waste.
    pub async fn recent_history(
        &self,
        session_id: &str,
        before: Option<&str>,
        max_bytes: usize,
        counter: &str,
    ) -> Result<RecentHistory> {
        let err = |e| self.sql_error(e);
        let (id, depth, turns) = match before {
            Some(id) => sqlx::query_as::<_, (Option<String>, Option<i64>, Option<i64>)>(
                "SELECT p.id, p.depth, p.user_turns FROM messages c
                 LEFT JOIN messages p ON p.id = c.parent_id WHERE c.id = ? AND c.session_id = ?",
            )
            .bind(id)
            .bind(session_id)
            .fetch_optional(self.pool())
            .await
            .map_err(err)?
            .ok_or_else(|| not_found("message", id))?,
            None => sqlx::query_as::<_, (Option<String>, Option<i64>, Option<i64>)>(
                "SELECT m.id, m.depth, m.user_turns FROM chat_sessions s
                 LEFT JOIN messages m ON m.id = s.leaf_id WHERE s.id = ?",
            )
            .bind(session_id)
            .fetch_optional(self.pool())
            .await
            .map_err(err)?
            .ok_or_else(|| not_found("chat", session_id))?,
        };
        let (Some(mut next), Some(depth), Some(user_turns)) = (id, depth, turns) else {
            return Ok(RecentHistory::default());
        };
        let mut newest_first: Vec<HistoryRow> = Vec::new();
        let mut bytes = 0usize;
        let mut hi = depth;
        let mut span: i64 = FIRST_SPAN;
        'walk: while hi >= 0 && bytes < max_bytes {
            let lo = (hi - span + 1).max(0);
            let rows = self.depth_range(session_id, lo, hi, counter).await?;
            let mut by_id: std::collections::HashMap<String, DepthRow> =
                rows.into_iter().map(|r| (r.0.clone(), r)).collect();
            // Follow the parents down to `lo`; a message not where its depth says
            // (never expected) ends the walk rather than guessing.
            loop {
                let Some((id, parent, role, name, content, tokens)) = by_id.remove(&next) else {
                    break 'walk;
                };
                bytes = bytes.saturating_add(content.len());
                if !content.is_empty() {
                    newest_first.push(HistoryRow {
                        id,
                        role: parse_role(&role),
                        name,
                        content,
                        tokens,
                    });
                }
                match parent {
                    Some(p) if bytes < max_bytes => next = p,
                    _ => break 'walk,
                }
                if !by_id.contains_key(&next) {
                    break;
                }
            }
            hi = lo - 1;
            span = next_span(depth - hi, bytes, max_bytes);
        }
        newest_first.reverse();
        Ok(RecentHistory {
            messages: newest_first,
            user_turns: u32::try_from(user_turns).unwrap_or(0),
        })
    }

    /// A session's messages with depths in `lo..=hi`, as one JSON row (a
    /// thousand rows one by one cost more in the driver than reading them).
    async fn depth_range(
        &self,
        session_id: &str,
        lo: i64,
        hi: i64,
        counter: &str,
    ) -> Result<Vec<DepthRow>> {
        let json: Option<String> = sqlx::query_scalar(
            "SELECT json_group_array(json_array(id, parent_id, role, name, content,
                        CASE WHEN tokens_by = ?4 THEN tokens END))
             FROM messages WHERE session_id = ?1 AND depth BETWEEN ?2 AND ?3",
        )
        .bind(session_id)
        .bind(lo)
        .bind(hi)
        .bind(counter)
        .fetch_one(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        serde_json::from_str(json.as_deref().unwrap_or("[]"))
            .map_err(|e| Error::Storage(format!("the chat's history could not be read: {e}")))
    }

    /// Remembers messages' token counts as `counter` counted them; a message
    /// whose text changed since it was read keeps no count.
    pub async fn save_token_counts(&self, counter: &str, counts: &[TokenCount]) -> Result<()> {
        if counts.is_empty() {
            return Ok(());
        }
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        for c in counts {
            sqlx::query(
                "UPDATE messages SET tokens = ?, tokens_by = ? WHERE id = ? AND content = ?",
            )
            .bind(c.tokens)
            .bind(counter)
            .bind(&c.id)
            .bind(&c.content)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        }
        tx.commit().await.map_err(err)
    }

    /// One message with its swipe position.
    pub async fn message(&self, id: &str) -> Result<Message> {
        let row = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?
        .ok_or_else(|| not_found("message", id))?;
        message_from_row(&row).map_err(|e| self.sql_error(e))
    }

    /// The session a message belongs to.
    pub async fn message_session(&self, id: &str) -> Result<String> {
        sqlx::query_scalar("SELECT session_id FROM messages WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?
            .ok_or_else(|| not_found("message", id))
    }

    /// Appends a message to the end of the active path.
    pub async fn add_message(&self, session_id: &str, new: NewMessage<'_>) -> Result<Message> {
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        let (leaf,): (Option<String>,) =
            sqlx::query_as("SELECT leaf_id FROM chat_sessions WHERE id = ?")
                .bind(session_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?
                .ok_or_else(|| not_found("chat", session_id))?;
        let id = insert_child(&mut tx, session_id, leaf.as_deref(), &new)
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)?;
        self.message(&id).await
    }

    /// Appends a user message and the reply to it (empty, streaming) in one
    /// transaction, so neither is saved without the other; returns their ids.
    pub async fn add_exchange(
        &self,
        session_id: &str,
        user: NewMessage<'_>,
        reply: NewMessage<'_>,
    ) -> Result<(String, String)> {
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        let (leaf,): (Option<String>,) =
            sqlx::query_as("SELECT leaf_id FROM chat_sessions WHERE id = ?")
                .bind(session_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?
                .ok_or_else(|| not_found("chat", session_id))?;
        let user_id = insert_child(&mut tx, session_id, leaf.as_deref(), &user)
            .await
            .map_err(err)?;
        let reply_id = insert_child(&mut tx, session_id, Some(&user_id), &reply)
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)?;
        Ok((user_id, reply_id))
    }

    /// Adds a sibling of `message_id` (a swipe: a regenerated reply) and makes it active.
    pub async fn add_swipe(&self, message_id: &str, new: NewMessage<'_>) -> Result<Message> {
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        let (session_id, parent): (String, Option<String>) =
            sqlx::query_as("SELECT session_id, parent_id FROM messages WHERE id = ?")
                .bind(message_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?
                .ok_or_else(|| not_found("message", message_id))?;
        let id = insert_child(&mut tx, &session_id, parent.as_deref(), &new)
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)?;
        self.message(&id).await
    }

    /// Writes a streaming reply's text, status and details in place: no edit
    /// version is kept (a checkpoint is not an edit). `meta: None` leaves the
    /// details as they are.
    pub async fn update_reply(
        &self,
        id: &str,
        content: &str,
        status: MessageStatus,
        meta: Option<&MessageMeta>,
    ) -> Result<()> {
        let meta_json = match meta {
            Some(m) => Some(
                serde_json::to_string(m)
                    .map_err(|e| Error::Internal(format!("cannot write reply details: {e}")))?,
            ),
            None => None,
        };
        let changed = sqlx::query(
            "UPDATE messages SET content = ?, status = ?, meta_json = COALESCE(?, meta_json),
                 tokens = NULL, tokens_by = NULL
             WHERE id = ?",
        )
        .bind(content)
        .bind(status_str(status))
        .bind(meta_json)
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?
        .rows_affected();
        if changed == 0 {
            return Err(not_found("message", id));
        }
        Ok(())
    }

    /// Marks every reply still `partial` as `interrupted` (the app stopped while
    /// it streamed) and returns their ids and details, in one transaction.
    pub async fn mark_partial_interrupted(&self) -> Result<Vec<(String, MessageMeta)>> {
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, meta_json FROM messages WHERE status = 'partial'")
                .fetch_all(&mut *tx)
                .await
                .map_err(err)?;
        if !rows.is_empty() {
            sqlx::query("UPDATE messages SET status = 'interrupted' WHERE status = 'partial'")
                .execute(&mut *tx)
                .await
                .map_err(err)?;
        }
        tx.commit().await.map_err(err)?;
        Ok(rows
            .into_iter()
            .map(|(id, meta)| (id, serde_json::from_str(&meta).unwrap_or_default()))
            .collect())
    }

    /// Replaces a message's text, keeping the old text as a version.
    pub async fn edit_message(&self, id: &str, content: &str) -> Result<Message> {
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        let old: String = sqlx::query_scalar("SELECT content FROM messages WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err)?
            .ok_or_else(|| not_found("message", id))?;
        if old != content {
            let now = now_ms();
            sqlx::query("INSERT INTO message_versions VALUES (?, ?, ?, ?)")
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(id)
                .bind(&old)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            sqlx::query(
                "UPDATE messages SET content = ?, edited_at = ?, tokens = NULL, tokens_by = NULL
                 WHERE id = ?",
            )
            .bind(content)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            touch_session_of(&mut tx, id).await.map_err(err)?;
        }
        tx.commit().await.map_err(err)?;
        self.message(id).await
    }

    /// Earlier texts of a message, oldest first.
    pub async fn message_versions(&self, id: &str) -> Result<Vec<String>> {
        self.message(id).await?;
        sqlx::query_scalar(
            "SELECT content FROM message_versions WHERE message_id = ? ORDER BY created_at, rowid",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))
    }

    /// Deletes a message and everything below it; the path moves to a
    /// remaining swipe of it, or ends at its parent.
    pub async fn delete_message(&self, id: &str) -> Result<()> {
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        let (session_id, parent): (String, Option<String>) =
            sqlx::query_as("SELECT session_id, parent_id FROM messages WHERE id = ?")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?
                .ok_or_else(|| not_found("message", id))?;
        sqlx::query("DELETE FROM messages WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        // The newest remaining sibling takes its place, else the parent ends the path.
        let sibling: Option<String> = sqlx::query_scalar(
            "SELECT id FROM messages WHERE session_id = ? AND parent_id IS ?
             ORDER BY created_at DESC, rowid DESC LIMIT 1",
        )
        .bind(&session_id)
        .bind(&parent)
        .fetch_optional(&mut *tx)
        .await
        .map_err(err)?;
        choose_child(&mut tx, &session_id, parent.as_deref(), sibling.as_deref())
            .await
            .map_err(err)?;
        let leaf = match sibling.as_deref().or(parent.as_deref()) {
            Some(from) => Some(descend(&mut tx, from).await.map_err(err)?),
            None => None,
        };
        sqlx::query("UPDATE chat_sessions SET leaf_id = ?, updated_at = ? WHERE id = ?")
            .bind(&leaf)
            .bind(now_ms())
            .bind(&session_id)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)?;
        Ok(())
    }

    /// Makes the `index`th sibling of a message active; the path below follows its branch.
    pub async fn select_swipe(&self, message_id: &str, index: u32) -> Result<Message> {
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        let (session_id, parent): (String, Option<String>) =
            sqlx::query_as("SELECT session_id, parent_id FROM messages WHERE id = ?")
                .bind(message_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?
                .ok_or_else(|| not_found("message", message_id))?;
        let target: String = sqlx::query_scalar(
            "SELECT id FROM messages WHERE session_id = ? AND parent_id IS ?
             ORDER BY created_at, rowid LIMIT 1 OFFSET ?",
        )
        .bind(&session_id)
        .bind(&parent)
        .bind(i64::from(index))
        .fetch_optional(&mut *tx)
        .await
        .map_err(err)?
        .ok_or_else(|| Error::InvalidInput(format!("there is no swipe {}", index + 1)))?;
        choose_child(&mut tx, &session_id, parent.as_deref(), Some(&target))
            .await
            .map_err(err)?;
        let leaf = descend(&mut tx, &target).await.map_err(err)?;
        sqlx::query("UPDATE chat_sessions SET leaf_id = ?, updated_at = ? WHERE id = ?")
            .bind(&leaf)
            .bind(now_ms())
            .bind(&session_id)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)?;
        self.message(&target).await
    }

    /// Stores an image for a message not yet sent.
    pub async fn attach_image(&self, name: &str, mime: &str, bytes: &[u8]) -> Result<MessageImage> {
        use sha2::{Digest, Sha256};
        let id = hex(&Sha256::digest([bytes, uuid::Uuid::new_v4().as_bytes()].concat())[..16]);
        sqlx::query(
            "INSERT INTO message_images (id, message_id, mime, name, bytes, created_at)
             VALUES (?, NULL, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(mime)
        .bind(name)
        .bind(bytes)
        .bind(now_ms())
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(MessageImage {
            id,
            mime: mime.to_owned(),
            name: name.to_owned(),
        })
    }

    /// An attached image: MIME type and bytes.
    pub async fn image(&self, id: &str) -> Result<Option<(String, Vec<u8>)>> {
        sqlx::query_as("SELECT mime, bytes FROM message_images WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| self.sql_error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_range_is_sized_to_fill_the_window_at_the_size_seen() {
        // 64 depths of 300 bytes walked, 512 KB wanted: about 1,700 more, a quarter to spare.
        let span = next_span(64, 64 * 300, 512 * 1024);
        assert_eq!(span, (512 * 1024 - 64 * 300) / 300 * 5 / 4);
        // Nearly full: never a range smaller than the first.
        assert_eq!(next_span(64, 100_000, 100_010), FIRST_SPAN);
        // Only empty messages so far: a byte a depth, so everything that could fit is read.
        assert_eq!(next_span(64, 0, 1000), 1250);
        // Nothing overflows.
        assert!(next_span(i64::MAX, usize::MAX - 1, usize::MAX) >= FIRST_SPAN);
        assert!(next_span(0, 0, usize::MAX) > 0);
    }
}
