//! Each chat's memory settings.

use crate::memory::settings::MemorySettings;
use crate::store::characters::now_ms;
use crate::store::Store;
use crate::{Error, Result};

impl Store {
    /// A chat's memory settings; the defaults when it has none saved.
    pub async fn memory_settings(&self, session_id: &str) -> Result<MemorySettings> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT settings_json FROM memory_settings WHERE session_id = ?")
                .bind(session_id)
                .fetch_optional(self.pool())
                .await
                .map_err(|e| self.sql_error(e))?;
        // A damaged row falls back to the defaults rather than locking the chat out.
        Ok(json
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default())
    }

    /// Saves a chat's memory settings (validated).
    pub async fn set_memory_settings(
        &self,
        session_id: &str,
        settings: &MemorySettings,
    ) -> Result<()> {
        settings.validate()?;
        let json = serde_json::to_string(settings)
            .map_err(|e| Error::InvalidInput(format!("memory settings: {e}")))?;
        let done = sqlx::query(
            "INSERT INTO memory_settings (session_id, settings_json, updated_at)
             SELECT id, ?, ? FROM chat_sessions WHERE id = ?
             ON CONFLICT (session_id) DO UPDATE SET settings_json = excluded.settings_json,
                 updated_at = excluded.updated_at",
        )
        .bind(json)
        .bind(now_ms())
        .bind(session_id)
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound {
                what: format!("chat {session_id}"),
            });
        }
        Ok(())
    }
}
