//! The sessions repository: the message tree, its active path, paging and search.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::characters::{hex, now_ms};
use super::Store;
use crate::session::{
    Message, MessageImage, MessageMeta, MessagePage, MessageStatus, Role, SessionSummary,
};
use crate::{Error, Result};

/// A hit of full-text search.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    /// The session.
    pub session_id: String,
    /// The message.
    pub message_id: String,
    /// The session's title.
    pub session_title: String,
    /// The character's name.
    pub character_name: String,
    /// The text around the match; U+0002 and U+0003 surround each matched term.
    pub snippet: String,
    /// When the message was written, Unix milliseconds.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub created_at: f64,
}

/// Which sessions to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SessionQuery {
    /// Words in the title or the character's name.
    pub search: String,
    /// Archived sessions too.
    pub include_archived: bool,
}

/// A message to add.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// Who wrote it.
    pub role: Role,
    /// The speaker's name.
    pub name: &'a str,
    /// The text.
    pub content: &'a str,
    /// Its status.
    pub status: MessageStatus,
    /// Images uploaded with `attach_image`, by id.
    pub image_ids: &'a [String],
}

/// Which sessions a summary query returns.
enum Filter {
    /// One session.
    Id(String),
    /// Those whose title or character name matches a LIKE pattern.
    Matching {
        include_archived: bool,
        pattern: String,
    },
}

/// Most messages a page may hold.
pub const MAX_PAGE: u32 = 500;
/// Characters of the last message shown in the recent list.
const PREVIEW_CHARS: usize = 140;

fn not_found(what: &str, id: &str) -> Error {
    Error::NotFound {
        what: format!("{what} {id}"),
    }
}

fn role_str(role: Role) -> &'static str {
    role.as_str()
}

fn parse_role(s: &str) -> Role {
    match s {
        "user" => Role::User,
        "system" => Role::System,
        _ => Role::Assistant,
    }
}

fn status_str(status: MessageStatus) -> &'static str {
    match status {
        MessageStatus::Complete => "complete",
        MessageStatus::Partial => "partial",
        MessageStatus::Failed => "failed",
        MessageStatus::Cancelled => "cancelled",
        MessageStatus::Interrupted => "interrupted",
    }
}

fn parse_status(s: &str) -> MessageStatus {
    match s {
        "partial" => MessageStatus::Partial,
        "failed" => MessageStatus::Failed,
        "cancelled" => MessageStatus::Cancelled,
        "interrupted" => MessageStatus::Interrupted,
        _ => MessageStatus::Complete,
    }
}

/// Columns of a message with its swipe position, edit count and images.
const MESSAGE_COLUMNS: &str = "m.id, m.parent_id, m.role, m.name, m.content, m.status, m.meta_json,
    m.created_at,
    (SELECT COUNT(*) FROM messages s WHERE s.session_id = m.session_id AND s.parent_id IS m.parent_id)
        AS swipe_count,
    (SELECT COUNT(*) FROM messages s WHERE s.session_id = m.session_id AND s.parent_id IS m.parent_id
        AND (s.created_at < m.created_at OR (s.created_at = m.created_at AND s.rowid < m.rowid)))
        AS swipe_index,
    (SELECT COUNT(*) FROM message_versions v WHERE v.message_id = m.id) AS edit_count,
    (SELECT json_group_array(json_object('id', i.id, 'mime', i.mime, 'name', i.name)) FROM
        (SELECT id, mime, name FROM message_images WHERE message_id = m.id ORDER BY position) i)
        AS images";

fn message_from_row(row: &SqliteRow) -> Result<Message, sqlx::Error> {
    let meta: String = row.try_get("meta_json")?;
    let images: Option<String> = row.try_get("images")?;
    let count = |c: &str| -> Result<u32, sqlx::Error> {
        Ok(u32::try_from(row.try_get::<i64, _>(c)?).unwrap_or(u32::MAX))
    };
    Ok(Message {
        id: row.try_get("id")?,
        parent_id: row.try_get("parent_id")?,
        role: parse_role(&row.try_get::<String, _>("role")?),
        name: row.try_get("name")?,
        content: row.try_get("content")?,
        status: parse_status(&row.try_get::<String, _>("status")?),
        meta: serde_json::from_str::<MessageMeta>(&meta).unwrap_or_default(),
        images: images
            .and_then(|j| serde_json::from_str::<Vec<MessageImage>>(&j).ok())
            .unwrap_or_default(),
        swipe_index: count("swipe_index")?,
        swipe_count: count("swipe_count")?,
        edit_count: count("edit_count")?,
        created_at: row.try_get::<i64, _>("created_at")? as f64,
    })
}

/// The last message of the active path below `start`: follows each message's
/// chosen child, or its newest child when none was chosen.
async fn descend(conn: &mut SqliteConnection, start: &str) -> Result<String, sqlx::Error> {
    sqlx::query_scalar(
        "WITH RECURSIVE walk (id, n) AS (
             SELECT ?1, 0
             UNION ALL
             SELECT COALESCE(
                 (SELECT c.id FROM messages c, messages p
                  WHERE p.id = walk.id AND c.id = p.active_child_id AND c.parent_id = p.id),
                 (SELECT c.id FROM messages c WHERE c.parent_id = walk.id
                  ORDER BY c.created_at DESC, c.rowid DESC LIMIT 1)
             ), walk.n + 1
             FROM walk
             WHERE EXISTS (SELECT 1 FROM messages c WHERE c.parent_id = walk.id)
         )
         SELECT id FROM walk ORDER BY n DESC LIMIT 1",
    )
    .bind(start)
    .fetch_one(conn)
    .await
}

impl Store {
    /// Starts a session for a character with its greeting, the alternate
    /// greetings as swipes of it; `{{char}}` and `{{user}}` are filled in.
    pub async fn create_session(
        &self,
        character_id: &str,
        persona_id: Option<&str>,
        user_name: &str,
    ) -> Result<String> {
        let character = self.character_detail(character_id).await?;
        let card = &character.card;
        let fill = |text: &str| fill_names(text, &card.name, user_name);
        let err = |e| self.sql_error(e);
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let mut tx = self.write_tx().await.map_err(err)?;
        sqlx::query(
            "INSERT INTO chat_sessions (id, character_id, title, created_at, updated_at, persona_id)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(character_id)
        .bind(&card.name)
        .bind(now)
        .bind(now)
        .bind(persona_id)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        let greetings: Vec<&String> = std::iter::once(&card.first_mes)
            .chain(card.alternate_greetings.iter())
            .filter(|g| !g.trim().is_empty())
            .collect();
        let mut first = None;
        for (i, greeting) in greetings.iter().enumerate() {
            let message = uuid::Uuid::new_v4().to_string();
            // Swipes in order: a millisecond apart so their order is their index.
            sqlx::query(
                "INSERT INTO messages (id, session_id, parent_id, role, content, created_at, name, depth)
                 VALUES (?, ?, NULL, 'assistant', ?, ?, ?, 0)",
            )
            .bind(&message)
            .bind(&id)
            .bind(fill(greeting))
            .bind(now + i64::try_from(i).unwrap_or(0))
            .bind(&card.name)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            first.get_or_insert(message);
        }
        if let Some(first) = first {
            sqlx::query("UPDATE chat_sessions SET active_root_id = ?1, leaf_id = ?1 WHERE id = ?2")
                .bind(&first)
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
        }
        tx.commit().await.map_err(err)?;
        Ok(id)
    }

    /// The character's most recent unarchived session, if any.
    pub async fn latest_session(&self, character_id: &str) -> Result<Option<String>> {
        sqlx::query_scalar(
            "SELECT id FROM chat_sessions WHERE character_id = ? AND archived = 0
             ORDER BY updated_at DESC LIMIT 1",
        )
        .bind(character_id)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.sql_error(e))
    }

    /// Sessions, newest activity first.
    pub async fn session_summaries(&self, query: &SessionQuery) -> Result<Vec<SessionSummary>> {
        let pattern = format!("%{}%", escape_like(query.search.trim()));
        self.summaries(Filter::Matching {
            include_archived: query.include_archived,
            pattern,
        })
        .await
    }

    /// One session's list fields.
    pub async fn session_summary(&self, id: &str) -> Result<SessionSummary> {
        self.summaries(Filter::Id(id.to_owned()))
            .await?
            .pop()
            .ok_or_else(|| not_found("chat", id))
    }

    async fn summaries(&self, filter: Filter) -> Result<Vec<SessionSummary>> {
        let condition = match filter {
            Filter::Id(_) => "s.id = ?1",
            Filter::Matching { .. } => {
                "(?1 = 1 OR s.archived = 0) AND (s.title LIKE ?2 ESCAPE '\\' OR c.name LIKE ?2 ESCAPE '\\')"
            }
        };
        let sql = format!(
            "SELECT s.id, s.title, s.character_id, c.name AS character_name, a.hash AS avatar_hash,
                    s.persona_id, s.archived, s.created_at, s.updated_at,
                    -- A reply that failed before its first word previews the message it answers.
                    COALESCE(NULLIF(leaf.content, ''), leaf_parent.content) AS preview,
                    COALESCE(leaf.depth + 1, 0) AS message_count,
                    (SELECT json_group_array(name) FROM
                        (SELECT k.name FROM character_collections cc
                         JOIN collections k ON k.id = cc.collection_id
                         WHERE cc.character_id = c.id ORDER BY k.name COLLATE NOCASE)) AS collections
             FROM chat_sessions s
             JOIN characters c ON c.id = s.character_id
             LEFT JOIN character_avatars a ON a.character_id = c.id
             LEFT JOIN messages leaf ON leaf.id = s.leaf_id
             LEFT JOIN messages leaf_parent ON leaf_parent.id = leaf.parent_id
             WHERE {condition}
             ORDER BY s.updated_at DESC, s.created_at DESC"
        );
        let query = match filter {
            Filter::Id(id) => sqlx::query(&sql).bind(id),
            Filter::Matching {
                include_archived,
                pattern,
            } => sqlx::query(&sql).bind(include_archived).bind(pattern),
        };
        let rows = query
            .fetch_all(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        rows.iter()
            .map(|row| -> Result<SessionSummary, sqlx::Error> {
                let preview: Option<String> = row.try_get("preview")?;
                let collections: Option<String> = row.try_get("collections")?;
                Ok(SessionSummary {
                    id: row.try_get("id")?,
                    title: row.try_get("title")?,
                    character_id: row.try_get("character_id")?,
                    character_name: row.try_get("character_name")?,
                    character_avatar_key: row.try_get("avatar_hash")?,
                    collections: collections
                        .and_then(|j| serde_json::from_str(&j).ok())
                        .unwrap_or_default(),
                    persona_id: row.try_get("persona_id")?,
                    archived: row.try_get::<i64, _>("archived")? != 0,
                    preview: shorten(&preview.unwrap_or_default(), PREVIEW_CHARS),
                    message_count: u32::try_from(row.try_get::<i64, _>("message_count")?)
                        .unwrap_or(u32::MAX),
                    created_at: row.try_get::<i64, _>("created_at")? as f64,
                    updated_at: row.try_get::<i64, _>("updated_at")? as f64,
                })
            })
            .collect::<Result<_, _>>()
            .map_err(|e| self.sql_error(e))
    }

    /// Renames a session.
    pub async fn rename_session(&self, id: &str, title: &str) -> Result<()> {
        let title = title.trim();
        if title.is_empty() {
            return Err(Error::InvalidInput("a chat needs a title".into()));
        }
        self.update_session(id, "title = ?", title).await
    }

    /// Archives or unarchives a session.
    pub async fn archive_session(&self, id: &str, archived: bool) -> Result<()> {
        self.update_session(id, "archived = ?", if archived { "1" } else { "0" })
            .await
    }

    /// Chooses the persona of a session (`None`: the default persona).
    pub async fn set_session_persona(&self, id: &str, persona_id: Option<&str>) -> Result<()> {
        let changed = sqlx::query("UPDATE chat_sessions SET persona_id = ? WHERE id = ?")
            .bind(persona_id)
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?
            .rows_affected();
        if changed == 0 {
            return Err(not_found("chat", id));
        }
        Ok(())
    }

    async fn update_session(&self, id: &str, set: &str, value: &str) -> Result<()> {
        let changed = sqlx::query(&format!("UPDATE chat_sessions SET {set} WHERE id = ?"))
            .bind(value)
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?
            .rows_affected();
        if changed == 0 {
            return Err(not_found("chat", id));
        }
        Ok(())
    }

    /// Deletes a session with all its messages.
    pub async fn delete_session(&self, id: &str) -> Result<()> {
        let deleted = sqlx::query("DELETE FROM chat_sessions WHERE id = ?")
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?
            .rows_affected();
        if deleted == 0 {
            return Err(not_found("chat", id));
        }
        Ok(())
    }

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
    /// above `before` (at the newest message when `None`), oldest first, as
    /// (role, name, text). Walks back from the end until the texts reach
    /// `max_bytes` (the message crossing it included); empty messages (a reply
    /// that failed before its first word) are left out.
    ///
    /// One query over the path, without the swipe and image columns a page
    /// of the chat carries: this runs before every reply.
    pub async fn recent_history(
        &self,
        session_id: &str,
        before: Option<&str>,
        max_bytes: usize,
    ) -> Result<Vec<(Role, String, String)>> {
        let err = |e| self.sql_error(e);
        let start: Option<String> = match before {
            Some(id) => sqlx::query_scalar::<_, Option<String>>(
                "SELECT parent_id FROM messages WHERE id = ? AND session_id = ?",
            )
            .bind(id)
            .bind(session_id)
            .fetch_optional(self.pool())
            .await
            .map_err(err)?
            .ok_or_else(|| not_found("message", id))?,
            None => sqlx::query_scalar::<_, Option<String>>(
                "SELECT leaf_id FROM chat_sessions WHERE id = ?",
            )
            .bind(session_id)
            .fetch_optional(self.pool())
            .await
            .map_err(err)?
            .ok_or_else(|| not_found("chat", session_id))?,
        };
        let Some(start) = start else {
            return Ok(Vec::new());
        };
        // One row holding the whole history as JSON: a thousand rows one by
        // one cost more in the driver than the walk itself.
        let json: Option<String> = sqlx::query_scalar(
            "WITH RECURSIVE path (parent, n, total, role, name, content) AS (
                 SELECT parent_id, 0, length(CAST(content AS BLOB)), role, name, content
                 FROM messages WHERE id = ?1
                 UNION ALL
                 SELECT m.parent_id, path.n + 1, path.total + length(CAST(m.content AS BLOB)),
                        m.role, m.name, m.content
                 FROM path JOIN messages m ON m.id = path.parent
                 WHERE path.total < ?2
             )
             SELECT json_group_array(json_array(n, role, name, content)) FROM path
             WHERE content != ''",
        )
        .bind(&start)
        .bind(i64::try_from(max_bytes).unwrap_or(i64::MAX))
        .fetch_one(self.pool())
        .await
        .map_err(err)?;
        let mut rows: Vec<(i64, String, String, String)> =
            serde_json::from_str(json.as_deref().unwrap_or("[]")).map_err(|e| {
                Error::Storage(format!("the chat's history could not be read: {e}"))
            })?;
        // Oldest first (the walk went from the newest back).
        rows.sort_unstable_by_key(|r| std::cmp::Reverse(r.0));
        Ok(rows
            .into_iter()
            .map(|(_, role, name, content)| (parse_role(&role), name, content))
            .collect())
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
            "UPDATE messages SET content = ?, status = ?, meta_json = COALESCE(?, meta_json)
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
            sqlx::query("UPDATE messages SET content = ?, edited_at = ? WHERE id = ?")
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

    /// A new session holding the active path from its start down to `message_id`.
    pub async fn branch_session(&self, message_id: &str) -> Result<String> {
        let err = |e| self.sql_error(e);
        let session_id = self.message_session(message_id).await?;
        let mut tx = self.write_tx().await.map_err(err)?;
        let (character_id, title, persona_id): (String, String, Option<String>) = sqlx::query_as(
            "SELECT character_id, title, persona_id FROM chat_sessions WHERE id = ?",
        )
        .bind(&session_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(err)?;
        let path: Vec<(String, String, String, String, String, String, i64)> = sqlx::query_as(
            "WITH RECURSIVE path (id, n) AS (
                 SELECT ?1, 0
                 UNION ALL
                 SELECT m.parent_id, path.n + 1 FROM messages m JOIN path ON m.id = path.id
                 WHERE m.parent_id IS NOT NULL
             )
             SELECT m.id, m.role, m.name, m.content, m.status, m.meta_json, m.created_at
             FROM path JOIN messages m ON m.id = path.id ORDER BY path.n DESC",
        )
        .bind(message_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
        let new_id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO chat_sessions (id, character_id, title, created_at, updated_at, persona_id)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&new_id)
        .bind(&character_id)
        .bind(format!("{title} (branch)"))
        .bind(now)
        .bind(now)
        .bind(&persona_id)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        let mut parent: Option<String> = None;
        let mut root: Option<String> = None;
        for (depth, (old_id, role, name, content, status, meta, created)) in
            path.into_iter().enumerate()
        {
            let id = uuid::Uuid::new_v4().to_string();
            sqlx::query(
                "INSERT INTO messages (id, session_id, parent_id, role, content, created_at, name,
                     status, meta_json, depth)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&id)
            .bind(&new_id)
            .bind(&parent)
            .bind(&role)
            .bind(&content)
            .bind(created)
            .bind(&name)
            .bind(&status)
            .bind(&meta)
            .bind(i64::try_from(depth).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            // Images come along with their messages.
            sqlx::query(
                "INSERT INTO message_images (id, message_id, position, mime, name, bytes, created_at)
                 SELECT lower(hex(randomblob(16))), ?, position, mime, name, bytes, created_at
                 FROM message_images WHERE message_id = ?",
            )
            .bind(&id)
            .bind(&old_id)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            if parent.is_some() {
                choose_child(&mut tx, &new_id, parent.as_deref(), Some(&id))
                    .await
                    .map_err(err)?;
            }
            root.get_or_insert_with(|| id.clone());
            parent = Some(id);
        }
        sqlx::query("UPDATE chat_sessions SET active_root_id = ?, leaf_id = ? WHERE id = ?")
            .bind(&root)
            .bind(&parent)
            .bind(&new_id)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)?;
        Ok(new_id)
    }

    /// Full-text search over every message, or one session's, newest first.
    ///
    /// Newest first rather than by relevance: FTS5 then walks its index in
    /// order and stops at `limit`, where ranking would score every match (a
    /// common word in a million messages took seconds).
    pub async fn search_messages(
        &self,
        query: &str,
        session_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<SearchHit>> {
        let Some(fts) = fts_query(query) else {
            return Ok(Vec::new());
        };
        let rows: Vec<(String, String, String, String, String, i64)> = sqlx::query_as(
            "SELECT m.session_id, m.id, s.title, c.name,
                    snippet(messages_fts, 0, char(2), char(3), '…', 16), m.created_at
             FROM messages_fts
             JOIN messages m ON m.rowid = messages_fts.rowid
             JOIN chat_sessions s ON s.id = m.session_id
             JOIN characters c ON c.id = s.character_id
             WHERE messages_fts MATCH ?1 AND (?2 IS NULL OR m.session_id = ?2)
             ORDER BY messages_fts.rowid DESC LIMIT ?3",
        )
        .bind(&fts)
        .bind(session_id)
        .bind(i64::from(limit.clamp(1, 500)))
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(rows
            .into_iter()
            .map(
                |(session_id, message_id, session_title, character_name, snippet, created)| {
                    SearchHit {
                        session_id,
                        message_id,
                        session_title,
                        character_name,
                        snippet,
                        created_at: created as f64,
                    }
                },
            )
            .collect())
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

/// Inserts a message under `parent` (or as a first message) and makes it the active path's end.
async fn insert_child(
    conn: &mut SqliteConnection,
    session_id: &str,
    parent: Option<&str>,
    new: &NewMessage<'_>,
) -> Result<String, sqlx::Error> {
    let id = uuid::Uuid::new_v4().to_string();
    let depth: i64 = match parent {
        Some(p) => {
            sqlx::query_scalar("SELECT depth + 1 FROM messages WHERE id = ?")
                .bind(p)
                .fetch_one(&mut *conn)
                .await?
        }
        None => 0,
    };
    // Never earlier than a sibling: created_at orders swipes.
    let now = now_ms();
    let created: i64 = sqlx::query_scalar(
        "SELECT MAX(?1, COALESCE((SELECT MAX(created_at) + 1 FROM messages
                                  WHERE session_id = ?2 AND parent_id IS ?3), 0))",
    )
    .bind(now)
    .bind(session_id)
    .bind(parent)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO messages (id, session_id, parent_id, role, content, created_at, name, status, depth)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(session_id)
    .bind(parent)
    .bind(role_str(new.role))
    .bind(new.content)
    .bind(created)
    .bind(new.name)
    .bind(status_str(new.status))
    .bind(depth)
    .execute(&mut *conn)
    .await?;
    for (position, image) in new.image_ids.iter().enumerate() {
        sqlx::query(
            "UPDATE message_images SET message_id = ?, position = ? WHERE id = ? AND message_id IS NULL",
        )
        .bind(&id)
        .bind(i64::try_from(position).unwrap_or(0))
        .bind(image)
        .execute(&mut *conn)
        .await?;
    }
    choose_child(conn, session_id, parent, Some(&id)).await?;
    sqlx::query("UPDATE chat_sessions SET leaf_id = ?, updated_at = ? WHERE id = ?")
        .bind(&id)
        .bind(now)
        .bind(session_id)
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

/// Makes `child` the message the active path takes below `parent`, or the
/// session's first message when `parent` is `None` (`None` child: the path ends there).
async fn choose_child(
    conn: &mut SqliteConnection,
    session_id: &str,
    parent: Option<&str>,
    child: Option<&str>,
) -> Result<(), sqlx::Error> {
    match parent {
        Some(p) => sqlx::query("UPDATE messages SET active_child_id = ? WHERE id = ?")
            .bind(child)
            .bind(p),
        None => sqlx::query("UPDATE chat_sessions SET active_root_id = ? WHERE id = ?")
            .bind(child)
            .bind(session_id),
    }
    .execute(conn)
    .await
    .map(|_| ())
}

async fn touch_session_of(
    conn: &mut SqliteConnection,
    message_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE chat_sessions SET updated_at = ? WHERE id = (SELECT session_id FROM messages WHERE id = ?)",
    )
    .bind(now_ms())
    .bind(message_id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// `{{char}}`, `{{user}}` and the legacy `<BOT>`/`<USER>`, case-insensitively.
pub(crate) fn fill_names(text: &str, char_name: &str, user_name: &str) -> String {
    let mut out = text.to_owned();
    for (pattern, value) in [
        ("{{char}}", char_name),
        ("<bot>", char_name),
        ("{{user}}", user_name),
        ("<user>", user_name),
    ] {
        out = replace_ignore_ascii_case(&out, pattern, value);
    }
    out
}

fn replace_ignore_ascii_case(text: &str, pattern: &str, value: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in lower.match_indices(pattern) {
        out.push_str(&text[last..at]);
        out.push_str(value);
        last = at + pattern.len();
    }
    out.push_str(&text[last..]);
    out
}

/// The user's words as an FTS5 query: each word quoted (no operators, no
/// syntax errors), all required, the last one as a prefix.
fn fts_query(input: &str) -> Option<String> {
    let words: Vec<String> = input
        .split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    let (last, rest) = words.split_last()?;
    let mut query = rest.join(" ");
    if !query.is_empty() {
        query.push(' ');
    }
    query.push_str(last);
    query.push('*');
    Some(query)
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn shorten(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max).collect();
        format!("{}…", cut.trim_end())
    }
}

/// A message of an imported chat, with its alternatives.
#[derive(Debug, Clone)]
pub struct ImportedMessage {
    /// Who wrote it.
    pub role: Role,
    /// The speaker's name.
    pub name: String,
    /// Every alternative, in order (at least one).
    pub swipes: Vec<String>,
    /// Which alternative the chat shows.
    pub swipe_index: usize,
    /// When it was written, Unix milliseconds.
    pub created_at: i64,
}

impl Store {
    /// A new session holding imported messages (each alternative a swipe), in one transaction.
    pub async fn import_session(
        &self,
        character_id: &str,
        title: &str,
        messages: &[ImportedMessage],
    ) -> Result<String> {
        self.character_summary(character_id).await?;
        let err = |e| self.sql_error(e);
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let mut tx = self.write_tx().await.map_err(err)?;
        sqlx::query(
            "INSERT INTO chat_sessions (id, character_id, title, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(character_id)
        .bind(title)
        .bind(messages.first().map_or(now, |m| m.created_at))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        let mut parent: Option<String> = None;
        let mut root: Option<String> = None;
        for (depth, message) in messages.iter().enumerate() {
            let mut chosen = None;
            for (i, text) in message.swipes.iter().enumerate() {
                let mid = uuid::Uuid::new_v4().to_string();
                sqlx::query(
                    "INSERT INTO messages (id, session_id, parent_id, role, content, created_at, name, depth)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(&mid)
                .bind(&id)
                .bind(&parent)
                .bind(role_str(message.role))
                .bind(text)
                // Alternatives a millisecond apart: their order is their swipe order.
                .bind(message.created_at + i64::try_from(i).unwrap_or(0))
                .bind(&message.name)
                .bind(i64::try_from(depth).unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                if i == message
                    .swipe_index
                    .min(message.swipes.len().saturating_sub(1))
                {
                    chosen = Some(mid);
                }
            }
            let Some(chosen) = chosen else { continue };
            if parent.is_some() {
                choose_child(&mut tx, &id, parent.as_deref(), Some(&chosen))
                    .await
                    .map_err(err)?;
            }
            root.get_or_insert_with(|| chosen.clone());
            parent = Some(chosen);
        }
        sqlx::query("UPDATE chat_sessions SET active_root_id = ?, leaf_id = ? WHERE id = ?")
            .bind(&root)
            .bind(&parent)
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)?;
        Ok(id)
    }

    /// The whole active path, oldest first, each message with its swipes' texts.
    pub async fn active_path_with_swipes(
        &self,
        session_id: &str,
    ) -> Result<Vec<(Message, Vec<String>)>> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self
                .messages_page(session_id, cursor.as_deref(), MAX_PAGE)
                .await?;
            let older = page.older_cursor.clone();
            all.splice(0..0, page.messages);
            match older {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let mut out = Vec::with_capacity(all.len());
        for message in all {
            let swipes: Vec<String> = if message.swipe_count > 1 {
                sqlx::query_scalar(
                    "SELECT content FROM messages WHERE session_id = ? AND parent_id IS ?
                     ORDER BY created_at, rowid",
                )
                .bind(session_id)
                .bind(&message.parent_id)
                .fetch_all(self.pool())
                .await
                .map_err(|e| self.sql_error(e))?
            } else {
                Vec::new()
            };
            out.push((message, swipes));
        }
        Ok(out)
    }
}
