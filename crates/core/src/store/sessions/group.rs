//! Group chats in the store: members and their presence, the turn settings,
//! the record of presence changes, and starting a group with every member's
//! greeting.
//!
//! A session with member rows is a group. Turning a 1:1 chat into a group adds
//! its character as the first member; removing members down to one turns it
//! back (the rows go, the remaining member becomes the session's character),
//! and no message is ever deleted on the way, so either step can be undone.

use sqlx::{Row, SqliteConnection};

use super::lifecycle::fill_names;
use super::not_found;
use crate::session::group::{
    CardMode, GroupMember, GroupSettings, MemberChange, MemberEvent, Presence, TurnOrder,
    DEFAULT_TALKATIVENESS, MAX_AUTO_TURNS, MAX_MEMBERS,
};
use crate::store::characters::now_ms;
use crate::store::Store;
use crate::{Error, Result};

/// Greeting messages a new group starts with at most: each member's greetings
/// are swipes, and the next member's greeting follows each of them, so the
/// tree grows as the product of their counts.
const MAX_GREETING_MESSAGES: usize = 256;

impl Store {
    /// The members of a group chat in list order; empty for a 1:1 chat.
    pub async fn group_members(&self, session_id: &str) -> Result<Vec<GroupMember>> {
        let rows = sqlx::query(
            "SELECT m.character_id, c.name, a.hash AS avatar_hash, m.presence,
                    CASE WHEN json_valid(c.card_json)
                         THEN CAST(json_extract(c.card_json, '$.extensions.talkativeness') AS TEXT)
                    END AS talkativeness
             FROM session_members m
             JOIN characters c ON c.id = m.character_id
             LEFT JOIN character_avatars a ON a.character_id = c.id
             WHERE m.session_id = ? ORDER BY m.position",
        )
        .bind(session_id)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        rows.iter()
            .map(|row| -> Result<GroupMember, sqlx::Error> {
                let talk: Option<String> = row.try_get("talkativeness")?;
                Ok(GroupMember {
                    character_id: row.try_get("character_id")?,
                    name: row.try_get("name")?,
                    avatar_key: row.try_get("avatar_hash")?,
                    presence: Presence::parse(&row.try_get::<String, _>("presence")?),
                    talkativeness: talk
                        .and_then(|t| t.trim().parse::<f64>().ok())
                        .filter(|t| t.is_finite())
                        .map_or(DEFAULT_TALKATIVENESS, |t| t.clamp(0.0, 1.0)),
                })
            })
            .collect::<Result<_, _>>()
            .map_err(|e| self.sql_error(e))
    }

    /// How a chat takes turns (a 1:1 chat has the defaults).
    pub async fn group_settings(&self, session_id: &str) -> Result<GroupSettings> {
        let row: Option<(String, i64, String)> = sqlx::query_as(
            "SELECT turn_order, auto_turns, card_mode FROM chat_sessions WHERE id = ?",
        )
        .bind(session_id)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        let (order, auto, cards) = row.ok_or_else(|| not_found("chat", session_id))?;
        Ok(GroupSettings {
            turn_order: TurnOrder::parse(&order),
            auto_turns: u32::try_from(auto).unwrap_or(0).min(MAX_AUTO_TURNS),
            card_mode: CardMode::parse(&cards),
        })
    }

    /// Sets how a chat takes turns.
    pub async fn set_group_settings(
        &self,
        session_id: &str,
        settings: &GroupSettings,
    ) -> Result<()> {
        if settings.auto_turns > MAX_AUTO_TURNS {
            return Err(Error::InvalidInput(format!(
                "members can take at most {MAX_AUTO_TURNS} turns on their own"
            )));
        }
        let changed = sqlx::query(
            "UPDATE chat_sessions SET turn_order = ?, auto_turns = ?, card_mode = ? WHERE id = ?",
        )
        .bind(settings.turn_order.as_str())
        .bind(i64::from(settings.auto_turns))
        .bind(settings.card_mode.as_str())
        .bind(session_id)
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?
        .rows_affected();
        if changed == 0 {
            return Err(not_found("chat", session_id));
        }
        Ok(())
    }

    /// Adds a character to a chat; a 1:1 chat becomes a group with its character first.
    pub async fn add_group_member(&self, session_id: &str, character_id: &str) -> Result<()> {
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        let main: Option<String> =
            sqlx::query_scalar("SELECT character_id FROM chat_sessions WHERE id = ?")
                .bind(session_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(err)?;
        let main = main.ok_or_else(|| not_found("chat", session_id))?;
        let name = character_name(&mut tx, character_id)
            .await
            .map_err(err)?
            .ok_or_else(|| not_found("character", character_id))?;
        let members: Vec<String> = sqlx::query_scalar(
            "SELECT character_id FROM session_members WHERE session_id = ? ORDER BY position",
        )
        .bind(session_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
        if members.iter().any(|m| m == character_id) || (members.is_empty() && main == character_id)
        {
            return Err(Error::InvalidInput(format!(
                "{name} is already in this chat"
            )));
        }
        if members.len() >= MAX_MEMBERS {
            return Err(Error::InvalidInput(format!(
                "a group chat holds at most {MAX_MEMBERS} characters"
            )));
        }
        if members.is_empty() {
            insert_member(&mut tx, session_id, &main, 0)
                .await
                .map_err(err)?;
        }
        let position = i64::try_from(members.len().max(1)).unwrap_or(i64::MAX);
        insert_member(&mut tx, session_id, character_id, position)
            .await
            .map_err(err)?;
        record_event(
            &mut tx,
            session_id,
            character_id,
            &name,
            MemberChange::Joined,
        )
        .await
        .map_err(err)?;
        tx.commit().await.map_err(err)
    }

    /// Removes a member from a group (its messages stay); with one member left,
    /// the chat is a 1:1 chat with that character again.
    pub async fn remove_group_member(&self, session_id: &str, character_id: &str) -> Result<()> {
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        let members: Vec<String> = sqlx::query_scalar(
            "SELECT character_id FROM session_members WHERE session_id = ? ORDER BY position",
        )
        .bind(session_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
        if !members.iter().any(|m| m == character_id) {
            return Err(Error::InvalidInput(
                "that character is not a member of a group in this chat".into(),
            ));
        }
        let name = character_name(&mut tx, character_id)
            .await
            .map_err(err)?
            .unwrap_or_default();
        sqlx::query("DELETE FROM session_members WHERE session_id = ? AND character_id = ?")
            .bind(session_id)
            .bind(character_id)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        let remaining: Vec<&String> = members.iter().filter(|m| *m != character_id).collect();
        if let Some(first) = remaining.first() {
            // The session's character is always a member: the first one left.
            sqlx::query("UPDATE chat_sessions SET character_id = ? WHERE id = ?")
                .bind(first.as_str())
                .bind(session_id)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
        }
        if remaining.len() == 1 {
            sqlx::query("DELETE FROM session_members WHERE session_id = ?")
                .bind(session_id)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
        }
        record_event(&mut tx, session_id, character_id, &name, MemberChange::Left)
            .await
            .map_err(err)?;
        tx.commit().await.map_err(err)
    }

    /// Mutes a member, sends it out of the scene, or brings it back.
    pub async fn set_member_presence(
        &self,
        session_id: &str,
        character_id: &str,
        presence: Presence,
    ) -> Result<()> {
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        let current: Option<String> = sqlx::query_scalar(
            "SELECT presence FROM session_members WHERE session_id = ? AND character_id = ?",
        )
        .bind(session_id)
        .bind(character_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(err)?;
        let current = current.ok_or_else(|| {
            Error::InvalidInput("that character is not a member of a group in this chat".into())
        })?;
        if Presence::parse(&current) == presence {
            return Ok(());
        }
        sqlx::query(
            "UPDATE session_members SET presence = ? WHERE session_id = ? AND character_id = ?",
        )
        .bind(presence.as_str())
        .bind(session_id)
        .bind(character_id)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        let name = character_name(&mut tx, character_id)
            .await
            .map_err(err)?
            .unwrap_or_default();
        record_event(
            &mut tx,
            session_id,
            character_id,
            &name,
            MemberChange::to(presence),
        )
        .await
        .map_err(err)?;
        tx.commit().await.map_err(err)
    }

    /// The newest `limit` presence changes of a chat, oldest first.
    pub async fn member_events(&self, session_id: &str, limit: u32) -> Result<Vec<MemberEvent>> {
        let rows: Vec<(String, String, String, String, Option<String>, i64)> = sqlx::query_as(
            // Changes made in the same millisecond keep the order they were made in (rowid).
            "SELECT id, character_id, character_name, change, after_message_id, created_at FROM (
                 SELECT id, character_id, character_name, change, after_message_id, created_at,
                        rowid AS seq
                 FROM member_events WHERE session_id = ?
                 ORDER BY created_at DESC, rowid DESC LIMIT ?
             ) ORDER BY created_at, seq",
        )
        .bind(session_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(rows
            .into_iter()
            .map(
                |(id, character_id, character_name, change, after, at)| MemberEvent {
                    id,
                    character_id,
                    character_name,
                    change: MemberChange::parse(&change),
                    after_message_id: after,
                    created_at: at as f64,
                },
            )
            .collect())
    }

    /// Starts a group chat with `character_ids` (two or more, in list order).
    ///
    /// Each member greets in turn: its `group_only_greetings` when the card has
    /// them, else its greeting and alternate greetings, as swipes of its message;
    /// the next member's greeting follows every swipe, so any choice of swipes
    /// keeps every greeting on the path (past [`MAX_GREETING_MESSAGES`], only the
    /// last member who greets keeps its swipes).
    pub async fn create_group_session(
        &self,
        character_ids: &[String],
        persona_id: Option<&str>,
        user_name: &str,
    ) -> Result<String> {
        if character_ids.len() < 2 {
            return Err(Error::InvalidInput(
                "a group chat needs at least two characters".into(),
            ));
        }
        if character_ids.len() > MAX_MEMBERS {
            return Err(Error::InvalidInput(format!(
                "a group chat holds at most {MAX_MEMBERS} characters"
            )));
        }
        for (i, id) in character_ids.iter().enumerate() {
            if character_ids[..i].contains(id) {
                return Err(Error::InvalidInput(
                    "a character can be in a group only once".into(),
                ));
            }
        }
        let mut cards = Vec::with_capacity(character_ids.len());
        for id in character_ids {
            cards.push(self.character_card(id).await?);
        }
        let mut levels: Vec<Greetings> = character_ids
            .iter()
            .zip(&cards)
            .map(|(id, card)| {
                let own: Vec<&String> = card
                    .group_only_greetings
                    .iter()
                    .filter(|g| !g.trim().is_empty())
                    .collect();
                let texts: Vec<&String> = if own.is_empty() {
                    std::iter::once(&card.first_mes)
                        .chain(card.alternate_greetings.iter())
                        .filter(|g| !g.trim().is_empty())
                        .collect()
                } else {
                    own
                };
                Greetings {
                    character_id: id.clone(),
                    name: card.name.clone(),
                    texts: texts
                        .into_iter()
                        .map(|t| fill_names(t, &card.name, user_name))
                        .collect(),
                }
            })
            .filter(|g| !g.texts.is_empty())
            .collect();
        if tree_size(&levels) > MAX_GREETING_MESSAGES {
            let last = levels.len().saturating_sub(1);
            for level in &mut levels[..last] {
                level.texts.truncate(1);
            }
        }
        let err = |e| self.sql_error(e);
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let title = cards
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut tx = self.write_tx().await.map_err(err)?;
        sqlx::query(
            "INSERT INTO chat_sessions (id, character_id, title, created_at, updated_at, persona_id)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&character_ids[0])
        .bind(&title)
        .bind(now)
        .bind(now)
        .bind(persona_id)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        for (position, character) in character_ids.iter().enumerate() {
            insert_member(
                &mut tx,
                &id,
                character,
                i64::try_from(position).unwrap_or(i64::MAX),
            )
            .await
            .map_err(err)?;
        }
        let mut path = Vec::new();
        insert_greetings(&mut tx, &id, None, &levels, now, &mut path)
            .await
            .map_err(err)?;
        if let (Some(root), Some(leaf)) = (path.first(), path.last()) {
            sqlx::query("UPDATE chat_sessions SET active_root_id = ?, leaf_id = ? WHERE id = ?")
                .bind(root)
                .bind(leaf)
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
        }
        tx.commit().await.map_err(err)?;
        Ok(id)
    }
}

/// The end of a chat's active path, as choosing the next speaker needs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathEnd {
    /// Messages on the active path.
    pub length: u32,
    /// The last message's text (empty without one).
    pub last_text: String,
    /// The group member who wrote the last message, if one did.
    pub last_speaker: Option<String>,
    /// The last group member who wrote anything on the path.
    pub last_member: Option<String>,
}

/// Messages walked up the path looking for the last member who spoke.
const SPEAKER_LOOKBACK: i64 = 256;

impl Store {
    /// The end of the session's active path: its length, last text and speakers.
    pub async fn path_end(&self, session_id: &str) -> Result<PathEnd> {
        // (leaf depth, leaf text, leaf speaker, last member who spoke)
        type EndRow = (Option<i64>, Option<String>, Option<String>, Option<String>);
        let row: Option<EndRow> =
            sqlx::query_as(
                "WITH RECURSIVE up (id, parent_id, character_id, n) AS (
                     SELECT m.id, m.parent_id, m.character_id, 0 FROM messages m
                     WHERE m.id = (SELECT leaf_id FROM chat_sessions WHERE id = ?1)
                     UNION ALL
                     SELECT m.id, m.parent_id, m.character_id, up.n + 1
                     FROM messages m JOIN up ON m.id = up.parent_id
                     WHERE up.n < ?2 AND up.character_id IS NULL
                 )
                 SELECT leaf.depth, leaf.content, leaf.character_id,
                        (SELECT character_id FROM up WHERE character_id IS NOT NULL ORDER BY n LIMIT 1)
                 FROM chat_sessions s LEFT JOIN messages leaf ON leaf.id = s.leaf_id
                 WHERE s.id = ?1",
            )
            .bind(session_id)
            .bind(SPEAKER_LOOKBACK)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        let (depth, text, speaker, member) = row.ok_or_else(|| not_found("chat", session_id))?;
        Ok(PathEnd {
            length: depth.map_or(0, |d| u32::try_from(d + 1).unwrap_or(u32::MAX)),
            last_text: text.unwrap_or_default(),
            last_speaker: speaker,
            last_member: member,
        })
    }
}

/// One member's greetings, names filled in.
struct Greetings {
    character_id: String,
    name: String,
    texts: Vec<String>,
}

/// Messages the greetings' tree holds: each level's swipes times those above.
fn tree_size(levels: &[Greetings]) -> usize {
    let mut above = 1usize;
    let mut total = 0usize;
    for level in levels {
        above = above.saturating_mul(level.texts.len());
        total = total.saturating_add(above);
    }
    total
}

/// Inserts `levels[0]`'s greetings as swipes under `parent`, each followed by
/// the rest of the levels; `path` gets the first swipe of each level (the active path).
async fn insert_greetings(
    conn: &mut SqliteConnection,
    session_id: &str,
    parent: Option<&str>,
    levels: &[Greetings],
    now: i64,
    path: &mut Vec<String>,
) -> Result<(), sqlx::Error> {
    // Depth-first without recursion in async: a stack of (parent, level) still to fill.
    let mut stack: Vec<(Option<String>, usize)> = vec![(parent.map(str::to_owned), 0)];
    let mut first_path = true;
    while let Some((parent, level)) = stack.pop() {
        let Some(greetings) = levels.get(level) else {
            continue;
        };
        let depth = i64::try_from(level).unwrap_or(i64::MAX);
        let mut ids = Vec::with_capacity(greetings.texts.len());
        for (i, text) in greetings.texts.iter().enumerate() {
            let message = uuid::Uuid::new_v4().to_string();
            // Swipes a millisecond apart, so their order is their index.
            sqlx::query(
                "INSERT INTO messages (id, session_id, parent_id, role, content, created_at, name, depth, character_id)
                 VALUES (?, ?, ?, 'assistant', ?, ?, ?, ?, ?)",
            )
            .bind(&message)
            .bind(session_id)
            .bind(parent.as_deref())
            .bind(text)
            .bind(now + i64::try_from(i).unwrap_or(0))
            .bind(&greetings.name)
            .bind(depth)
            .bind(&greetings.character_id)
            .execute(&mut *conn)
            .await?;
            ids.push(message);
        }
        if let (Some(parent), Some(first)) = (&parent, ids.first()) {
            sqlx::query("UPDATE messages SET active_child_id = ? WHERE id = ?")
                .bind(first)
                .bind(parent)
                .execute(&mut *conn)
                .await?;
        }
        // The first swipe is filled last-in, first-out: pushed last.
        for id in ids.iter().rev() {
            stack.push((Some(id.clone()), level + 1));
        }
        if first_path {
            if let Some(first) = ids.first() {
                path.push(first.clone());
            }
            first_path = level + 1 < levels.len();
        }
    }
    Ok(())
}

async fn insert_member(
    conn: &mut SqliteConnection,
    session_id: &str,
    character_id: &str,
    position: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO session_members (session_id, character_id, position) VALUES (?, ?, ?)")
        .bind(session_id)
        .bind(character_id)
        .bind(position)
        .execute(conn)
        .await
        .map(|_| ())
}

async fn character_name(
    conn: &mut SqliteConnection,
    character_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT name FROM characters WHERE id = ?")
        .bind(character_id)
        .fetch_optional(conn)
        .await
}

/// Records a presence change after the active path's last message.
async fn record_event(
    conn: &mut SqliteConnection,
    session_id: &str,
    character_id: &str,
    name: &str,
    change: MemberChange,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO member_events (id, session_id, character_id, character_name, change, after_message_id, created_at)
         VALUES (?, ?, ?, ?, ?, (SELECT leaf_id FROM chat_sessions WHERE id = ?), ?)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(session_id)
    .bind(character_id)
    .bind(name)
    .bind(change.as_str())
    .bind(session_id)
    .bind(now_ms())
    .execute(conn)
    .await
    .map(|_| ())
}
