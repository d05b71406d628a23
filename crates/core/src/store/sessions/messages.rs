//! Messages of a session: paging the active path, adding, swiping, editing, deleting, images.

use super::{
    choose_child, descend, insert_child, message_from_row, not_found, status_str, touch_session_of,
    NewMessage, MAX_PAGE, MESSAGE_COLUMNS,
};
use crate::session::{Message, MessageImage, MessageMeta, MessagePage, MessageStatus};
use crate::store::characters::{hex, now_ms};
use crate::store::Store;
use crate::{Error, Result};

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
