//! Chats moved in and out whole: an imported chat with its swipes, and the path with swipes for export.

use super::{choose_child, role_str, MAX_PAGE};
use crate::prompt::AuthorsNote;
use crate::session::group::{GroupSettings, Presence, MAX_AUTO_TURNS, MAX_MEMBERS};
use crate::session::{Message, Role};
use crate::store::characters::now_ms;
use crate::store::Store;
use crate::{Error, Result};

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
    /// In a group chat, the member who wrote it.
    pub speaker: Option<String>,
}

/// A group an imported chat belongs to.
#[derive(Debug, Clone, Default)]
pub struct ImportedGroup {
    /// The members in list order (two or more).
    pub members: Vec<String>,
    /// Members muted in the source app.
    pub muted: Vec<String>,
    /// How the group takes turns.
    pub settings: GroupSettings,
}

impl Store {
    /// A new session holding imported messages (each alternative a swipe), in one transaction.
    pub async fn import_session(
        &self,
        character_id: &str,
        title: &str,
        messages: &[ImportedMessage],
    ) -> Result<String> {
        self.import_session_with_note(character_id, title, messages, None)
            .await
    }

    /// [`Store::import_session`] with the chat's Author's Note, in the same transaction.
    pub async fn import_session_with_note(
        &self,
        character_id: &str,
        title: &str,
        messages: &[ImportedMessage],
        authors_note: Option<&AuthorsNote>,
    ) -> Result<String> {
        self.import_chat_rows(character_id, None, title, messages, authors_note)
            .await
    }

    /// A new group chat holding imported messages (each with its speaker), its
    /// members, presence and turn settings, in one transaction.
    pub async fn import_group_session(
        &self,
        group: &ImportedGroup,
        title: &str,
        messages: &[ImportedMessage],
        authors_note: Option<&AuthorsNote>,
    ) -> Result<String> {
        let first = match group.members.as_slice() {
            [first, _, ..] => first,
            _ => {
                return Err(Error::InvalidInput(
                    "a group chat needs at least two characters".into(),
                ))
            }
        };
        if group.members.len() > MAX_MEMBERS {
            return Err(Error::InvalidInput(format!(
                "a group chat holds at most {MAX_MEMBERS} characters"
            )));
        }
        for member in &group.members {
            self.character_summary(member).await?;
        }
        self.import_chat_rows(first, Some(group), title, messages, authors_note)
            .await
    }

    async fn import_chat_rows(
        &self,
        character_id: &str,
        group: Option<&ImportedGroup>,
        title: &str,
        messages: &[ImportedMessage],
        authors_note: Option<&AuthorsNote>,
    ) -> Result<String> {
        self.character_summary(character_id).await?;
        let err = |e| self.sql_error(e);
        let note_json = authors_note
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| Error::Internal(format!("cannot write the Author's Note: {e}")))?;
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let mut tx = self.write_tx().await.map_err(err)?;
        sqlx::query(
            "INSERT INTO chat_sessions (id, character_id, title, created_at, updated_at, authors_note_json)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(character_id)
        .bind(title)
        .bind(messages.first().map_or(now, |m| m.created_at))
        .bind(now)
        .bind(note_json)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        if let Some(group) = group {
            sqlx::query(
                "UPDATE chat_sessions SET turn_order = ?, auto_turns = ?, card_mode = ? WHERE id = ?",
            )
            .bind(group.settings.turn_order.as_str())
            .bind(i64::from(group.settings.auto_turns.min(MAX_AUTO_TURNS)))
            .bind(group.settings.card_mode.as_str())
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            let mut seen: Vec<&String> = Vec::new();
            for member in &group.members {
                if seen.contains(&member) {
                    continue;
                }
                let presence = if group.muted.contains(member) {
                    Presence::Muted
                } else {
                    Presence::Present
                };
                sqlx::query(
                    "INSERT INTO session_members (session_id, character_id, position, presence)
                     VALUES (?, ?, ?, ?)",
                )
                .bind(&id)
                .bind(member)
                .bind(i64::try_from(seen.len()).unwrap_or(i64::MAX))
                .bind(presence.as_str())
                .execute(&mut *tx)
                .await
                .map_err(err)?;
                seen.push(member);
            }
        }
        let mut parent: Option<String> = None;
        let mut root: Option<String> = None;
        for (depth, message) in messages.iter().enumerate() {
            let mut chosen = None;
            for (i, text) in message.swipes.iter().enumerate() {
                let mid = uuid::Uuid::new_v4().to_string();
                sqlx::query(
                    "INSERT INTO messages (id, session_id, parent_id, role, content, created_at, name, depth, character_id)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                .bind(message.speaker.as_deref().filter(|_| group.is_some()))
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
