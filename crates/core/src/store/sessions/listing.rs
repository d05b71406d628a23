//! Listing sessions: newest activity first, matching words in the title or
//! the character's name, with a preview of each one's last message.

use sqlx::Row;

use super::{not_found, SessionQuery};
use crate::session::SessionSummary;
use crate::store::Store;
use crate::Result;

/// Who takes part in a session: see [`Store::session_cast`].
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionCast {
    /// The character.
    pub character_id: String,
    /// The character's name.
    pub character_name: String,
    /// The chosen persona; none means the default one.
    pub persona_id: Option<String>,
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

/// Characters of the last message shown in the recent list.
const PREVIEW_CHARS: usize = 140;

impl Store {
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

    /// Who takes part in a session, in one light query (what a reply needs of it).
    pub async fn session_cast(&self, id: &str) -> Result<SessionCast> {
        sqlx::query_as(
            "SELECT s.character_id, c.name AS character_name, s.persona_id
             FROM chat_sessions s JOIN characters c ON c.id = s.character_id WHERE s.id = ?",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?
        .ok_or_else(|| not_found("chat", id))
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
                    CASE WHEN leaf.content = '' AND leaf_parent.id IS NOT NULL
                         THEN leaf_parent.name ELSE leaf.name END AS preview_name,
                    COALESCE(leaf.depth + 1, 0) AS message_count,
                    (SELECT json_group_array(json_object('characterId', x.character_id, 'name', x.name,
                                'avatarKey', x.hash, 'presence', x.presence)) FROM
                        (SELECT m.character_id, mc.name, ma.hash, m.presence FROM session_members m
                         JOIN characters mc ON mc.id = m.character_id
                         LEFT JOIN character_avatars ma ON ma.character_id = m.character_id
                         WHERE m.session_id = s.id ORDER BY m.position) x) AS members,
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
                let members: Option<String> = row.try_get("members")?;
                let preview_name: Option<String> = row.try_get("preview_name")?;
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
                    preview_name: preview_name.unwrap_or_default(),
                    // Written by SQLite's json functions above: it parses, or the chat shows no members.
                    members: members
                        .and_then(|j| serde_json::from_str(&j).ok())
                        .unwrap_or_default(),
                    message_count: u32::try_from(row.try_get::<i64, _>("message_count")?)
                        .unwrap_or(u32::MAX),
                    created_at: row.try_get::<i64, _>("created_at")? as f64,
                    updated_at: row.try_get::<i64, _>("updated_at")? as f64,
                })
            })
            .collect::<Result<_, _>>()
            .map_err(|e| self.sql_error(e))
    }
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
