//! Branching: a new session holding a copy of the active path down to one
//! message, images and speakers included (a group's branch keeps its members).

use super::choose_child;
use crate::store::characters::now_ms;
use crate::store::Store;
use crate::Result;

impl Store {
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
        type PathRow = (
            String,
            String,
            String,
            String,
            String,
            String,
            i64,
            Option<String>,
        );
        let path: Vec<PathRow> = sqlx::query_as(
            "WITH RECURSIVE path (id, n) AS (
                 SELECT ?1, 0
                 UNION ALL
                 SELECT m.parent_id, path.n + 1 FROM messages m JOIN path ON m.id = path.id
                 WHERE m.parent_id IS NOT NULL
             )
             SELECT m.id, m.role, m.name, m.content, m.status, m.meta_json, m.created_at, m.character_id
             FROM path JOIN messages m ON m.id = path.id ORDER BY path.n DESC",
        )
        .bind(message_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
        let new_id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        // A group's branch is a group too: the same members, presence and turn settings.
        sqlx::query(
            "INSERT INTO chat_sessions (id, character_id, title, created_at, updated_at, persona_id,
                 turn_order, auto_turns, card_mode)
             SELECT ?, ?, ?, ?, ?, ?, turn_order, auto_turns, card_mode FROM chat_sessions WHERE id = ?",
        )
        .bind(&new_id)
        .bind(&character_id)
        .bind(format!("{title} (branch)"))
        .bind(now)
        .bind(now)
        .bind(&persona_id)
        .bind(&session_id)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        sqlx::query(
            "INSERT INTO session_members (session_id, character_id, position, presence)
             SELECT ?, character_id, position, presence FROM session_members WHERE session_id = ?",
        )
        .bind(&new_id)
        .bind(&session_id)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        let mut parent: Option<String> = None;
        let mut root: Option<String> = None;
        let mut copied = std::collections::HashMap::new();
        for (depth, (old_id, role, name, content, status, meta, created, speaker)) in
            path.into_iter().enumerate()
        {
            let id = uuid::Uuid::new_v4().to_string();
            sqlx::query(
                "INSERT INTO messages (id, session_id, parent_id, role, content, created_at, name,
                     status, meta_json, depth, character_id)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            .bind(&speaker)
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
            copied.insert(old_id, id.clone());
            parent = Some(id);
        }
        // The summaries of the copied path come along; none of another branch's.
        crate::store::memory::copy_summaries(&mut tx, &session_id, &new_id, &copied)
            .await
            .map_err(err)?;
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
