//! A session's life: starting one with the character's greetings, renaming,
//! archiving, choosing its persona, deleting.

use super::not_found;
use crate::store::characters::now_ms;
use crate::store::Store;
use crate::{Error, Result};

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
