//! The sessions repository: the message tree, its active path, paging and search.
//!
//! This file holds the types the repository is handed and returns, and the
//! tree's shared machinery: how a message row reads, the active path's end,
//! adding a child and choosing it. `lifecycle.rs` starts, renames, archives and
//! deletes sessions; `listing.rs` lists them; `branching.rs` copies a path into
//! a new session; `messages.rs`, `search.rs` and `import.rs` work on messages.

mod branching;
mod group;
mod history;
mod import;
mod lifecycle;
mod listing;
mod messages;
mod search;

pub use group::PathEnd;
pub(crate) use history::HistoryCache;
pub use history::{HistoryRow, RecentHistory, TokenCount};
pub use import::{ImportedGroup, ImportedMessage};
pub use listing::SessionCast;

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::characters::now_ms;
use crate::session::{Message, MessageImage, MessageMeta, MessageStatus, Role};
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
    /// The group member who wrote it (`None`: the user, or the chat's one character).
    pub speaker: Option<&'a str>,
}

/// Most messages a page may hold.
pub const MAX_PAGE: u32 = 500;

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
    m.created_at, m.character_id,
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
        speaker_id: row.try_get("character_id")?,
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
        "INSERT INTO messages (id, session_id, parent_id, role, content, created_at, name, status, depth, character_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    .bind(new.speaker)
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
