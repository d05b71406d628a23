//! The sessions repository: the message tree, its active path, paging and search.

mod import;
mod messages;
mod search;

pub use import::ImportedMessage;
pub use messages::{HistoryRow, RecentHistory, TokenCount};

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::characters::now_ms;
use super::Store;
use crate::session::{Message, MessageImage, MessageMeta, MessageStatus, Role, SessionSummary};
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
