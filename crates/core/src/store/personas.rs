//! Personas, per-character preferences, and the primary context with its versions.

use super::characters::{hex, now_ms};
use super::Store;
use crate::session::{CharacterPreferences, ContextVersion, Persona};
use crate::{Error, Result};

const POST_HISTORY: &str = "prompt.post_history";

fn not_found(id: &str) -> Error {
    Error::NotFound {
        what: format!("persona {id}"),
    }
}

impl Store {
    /// Every persona, the default first, then by name.
    pub async fn personas(&self) -> Result<Vec<Persona>> {
        let rows: Vec<(String, String, String, i64, Option<String>)> = sqlx::query_as(
            "SELECT p.id, p.name, p.description, p.is_default, a.hash FROM personas p
             LEFT JOIN persona_avatars a ON a.persona_id = p.id
             ORDER BY p.is_default DESC, p.name COLLATE NOCASE",
        )
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(rows
            .into_iter()
            .map(|(id, name, description, is_default, avatar_key)| Persona {
                id,
                name,
                description,
                avatar_key,
                is_default: is_default != 0,
            })
            .collect())
    }

    /// One persona.
    pub async fn persona(&self, id: &str) -> Result<Persona> {
        self.personas()
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| not_found(id))
    }

    /// The default persona, if there is one.
    pub async fn default_persona(&self) -> Result<Option<Persona>> {
        Ok(self.personas().await?.into_iter().find(|p| p.is_default))
    }

    /// Adds a persona; the first one becomes the default.
    pub async fn create_persona(&self, name: &str, description: &str) -> Result<Persona> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::InvalidInput("a persona needs a name".into()));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO personas (id, name, description, is_default, created_at, updated_at)
             VALUES (?, ?, ?, NOT EXISTS (SELECT 1 FROM personas WHERE is_default = 1), ?, ?)",
        )
        .bind(&id)
        .bind(name)
        .bind(description)
        .bind(now)
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        self.persona(&id).await
    }

    /// Renames a persona and saves its description.
    pub async fn update_persona(&self, id: &str, name: &str, description: &str) -> Result<Persona> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::InvalidInput("a persona needs a name".into()));
        }
        let changed = sqlx::query(
            "UPDATE personas SET name = ?, description = ?, updated_at = ? WHERE id = ?",
        )
        .bind(name)
        .bind(description)
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?
        .rows_affected();
        if changed == 0 {
            return Err(not_found(id));
        }
        self.persona(id).await
    }

    /// Makes a persona the default.
    pub async fn set_default_persona(&self, id: &str) -> Result<Persona> {
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        sqlx::query("UPDATE personas SET is_default = 0 WHERE is_default = 1")
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        let changed = sqlx::query("UPDATE personas SET is_default = 1 WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(err)?
            .rows_affected();
        if changed == 0 {
            return Err(not_found(id));
        }
        tx.commit().await.map_err(err)?;
        self.persona(id).await
    }

    /// Deletes a persona; sessions using it fall back to the default.
    pub async fn delete_persona(&self, id: &str) -> Result<()> {
        let deleted = sqlx::query("DELETE FROM personas WHERE id = ?")
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?
            .rows_affected();
        if deleted == 0 {
            return Err(not_found(id));
        }
        Ok(())
    }

    /// Sets a persona's avatar (original bytes).
    pub async fn set_persona_avatar(&self, id: &str, mime: &str, bytes: &[u8]) -> Result<Persona> {
        use sha2::{Digest, Sha256};
        self.persona(id).await?;
        sqlx::query("INSERT OR REPLACE INTO persona_avatars VALUES (?, ?, ?, ?)")
            .bind(id)
            .bind(mime)
            .bind(bytes)
            .bind(hex(&Sha256::digest(bytes)[..8]))
            .execute(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        self.persona(id).await
    }

    /// A persona's avatar: MIME type and bytes.
    pub async fn persona_avatar(&self, id: &str) -> Result<Option<(String, Vec<u8>)>> {
        sqlx::query_as("SELECT mime, bytes FROM persona_avatars WHERE persona_id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| self.sql_error(e))
    }

    /// A character's preferences, if set.
    pub async fn preferences(&self, character_id: &str) -> Result<Option<CharacterPreferences>> {
        let json: Option<String> = sqlx::query_scalar(
            "SELECT prefs_json FROM character_preferences WHERE character_id = ?",
        )
        .bind(character_id)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// Saves a character's preferences (validated by the caller).
    pub async fn set_preferences(
        &self,
        character_id: &str,
        prefs: &CharacterPreferences,
    ) -> Result<()> {
        self.character_summary(character_id).await?;
        let json = serde_json::to_string(prefs)
            .map_err(|e| Error::Internal(format!("could not encode preferences: {e}")))?;
        sqlx::query(
            "INSERT INTO character_preferences VALUES (?, ?, ?)
             ON CONFLICT (character_id) DO UPDATE SET prefs_json = excluded.prefs_json,
                 updated_at = excluded.updated_at",
        )
        .bind(character_id)
        .bind(json)
        .bind(now_ms())
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(())
    }

    /// Removes a character's preferences.
    pub async fn delete_preferences(&self, character_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM character_preferences WHERE character_id = ?")
            .bind(character_id)
            .execute(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        Ok(())
    }

    /// Saved primary-context versions, newest first; the first is the current one.
    pub async fn context_versions(&self) -> Result<Vec<ContextVersion>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT id, text, created_at FROM primary_context_versions
             ORDER BY created_at DESC, rowid DESC",
        )
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(rows
            .into_iter()
            .map(|(id, text, created)| ContextVersion {
                id,
                text,
                created_at: created as f64,
            })
            .collect())
    }

    /// Saves the primary context as a new version.
    pub async fn save_primary_context(&self, text: &str) -> Result<ContextVersion> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        sqlx::query("INSERT INTO primary_context_versions VALUES (?, ?, ?)")
            .bind(&id)
            .bind(text)
            .bind(now)
            .execute(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        Ok(ContextVersion {
            id,
            text: text.to_owned(),
            created_at: now as f64,
        })
    }

    /// Saves an older version's text as the newest version.
    pub async fn restore_context_version(&self, id: &str) -> Result<ContextVersion> {
        let text: String =
            sqlx::query_scalar("SELECT text FROM primary_context_versions WHERE id = ?")
                .bind(id)
                .fetch_optional(self.pool())
                .await
                .map_err(|e| self.sql_error(e))?
                .ok_or_else(|| Error::NotFound {
                    what: format!("primary context version {id}"),
                })?;
        self.save_primary_context(&text).await
    }

    /// The global post-history prompt ("" when unset).
    pub async fn post_history(&self) -> Result<String> {
        let value: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(POST_HISTORY)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        Ok(value.unwrap_or_default())
    }

    /// Saves the global post-history prompt.
    pub async fn set_post_history(&self, text: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(POST_HISTORY)
        .bind(text)
        .bind(now_ms())
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(())
    }
}
