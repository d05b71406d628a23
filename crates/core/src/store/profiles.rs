//! The connections repository: connection profiles, the profile a chat chose,
//! what characters are pinned to, and saved instruct and context templates.

use super::characters::now_ms;
use super::Store;
use crate::connection::{CharacterPins, ConnectionProfile};
use crate::{Error, Result};

/// A template as saved: SillyTavern's JSON under a name, of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedTemplate {
    /// Stable id.
    pub id: String,
    /// `instruct` or `context`.
    pub kind: String,
    /// Its name (unique per kind).
    pub name: String,
    /// The template as SillyTavern's JSON.
    pub json: String,
}

fn profile_not_found(id: &str) -> Error {
    Error::NotFound {
        what: format!("connection profile {id}"),
    }
}

fn read_profile(id: &str, json: &str) -> Result<ConnectionProfile> {
    let mut profile: ConnectionProfile = serde_json::from_str(json).map_err(|e| {
        Error::Storage(format!(
            "connection profile {id} is stored in a form Confab cannot read: {e}"
        ))
    })?;
    profile.id = id.to_owned();
    Ok(profile)
}

impl Store {
    /// Every connection profile, in the user's order.
    pub async fn profiles(&self) -> Result<Vec<ConnectionProfile>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, config_json FROM connection_profiles ORDER BY position, created_at, id",
        )
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        rows.iter()
            .map(|(id, json)| read_profile(id, json))
            .collect()
    }

    /// One connection profile.
    pub async fn profile(&self, id: &str) -> Result<ConnectionProfile> {
        let json: String =
            sqlx::query_scalar("SELECT config_json FROM connection_profiles WHERE id = ?")
                .bind(id)
                .fetch_optional(self.pool())
                .await
                .map_err(|e| self.sql_error(e))?
                .ok_or_else(|| profile_not_found(id))?;
        read_profile(id, &json)
    }

    /// Inserts or replaces a profile (by id); a new one goes last. Its
    /// provider must exist, and its name be free.
    pub async fn save_profile(&self, profile: &ConnectionProfile) -> Result<ConnectionProfile> {
        self.provider(&profile.provider_id).await?;
        let json = serde_json::to_string(profile)
            .map_err(|e| Error::Internal(format!("cannot write a profile: {e}")))?;
        let now = now_ms();
        let taken: Option<String> =
            sqlx::query_scalar("SELECT id FROM connection_profiles WHERE name = ? AND id <> ?")
                .bind(&profile.name)
                .bind(&profile.id)
                .fetch_optional(self.pool())
                .await
                .map_err(|e| self.sql_error(e))?;
        if taken.is_some() {
            return Err(Error::InvalidInput(format!(
                "a connection profile is already called \"{}\"; choose another name",
                profile.name
            )));
        }
        sqlx::query(
            "INSERT INTO connection_profiles
                 (id, name, provider_id, model, config_json, position, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(position), -1) + 1 FROM connection_profiles), ?, ?)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, provider_id = excluded.provider_id,
                 model = excluded.model, config_json = excluded.config_json,
                 updated_at = excluded.updated_at",
        )
        .bind(&profile.id)
        .bind(&profile.name)
        .bind(&profile.provider_id)
        .bind(profile.model.as_deref())
        .bind(&json)
        .bind(now)
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        self.profile(&profile.id).await
    }

    /// Deletes a profile; chats and characters that used it fall back to their own choice.
    pub async fn delete_profile(&self, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM connection_profiles WHERE id = ?")
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        if done.rows_affected() == 0 {
            return Err(profile_not_found(id));
        }
        Ok(())
    }

    /// The profile a chat chose, if any.
    pub async fn session_profile(&self, session_id: &str) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT profile_id FROM chat_sessions WHERE id = ?")
                .bind(session_id)
                .fetch_optional(self.pool())
                .await
                .map_err(|e| self.sql_error(e))?;
        row.map(|(p,)| p).ok_or_else(|| Error::NotFound {
            what: format!("chat {session_id}"),
        })
    }

    /// A chat takes a profile (its own provider and model choice is cleared:
    /// the profile says both), or lets it go (`None`).
    pub async fn set_session_profile(
        &self,
        session_id: &str,
        profile_id: Option<&str>,
    ) -> Result<()> {
        if let Some(id) = profile_id {
            self.profile(id).await?;
        }
        let sql = if profile_id.is_some() {
            "UPDATE chat_sessions SET profile_id = ?, provider_id = NULL, model = NULL WHERE id = ?"
        } else {
            "UPDATE chat_sessions SET profile_id = ? WHERE id = ?"
        };
        let done = sqlx::query(sql)
            .bind(profile_id)
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

    /// What a character is pinned to (nothing when it never was).
    pub async fn character_pins(&self, character_id: &str) -> Result<CharacterPins> {
        let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT profile_id, instruct FROM character_connection WHERE character_id = ?",
        )
        .bind(character_id)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(row
            .map(|(profile_id, instruct)| CharacterPins {
                profile_id,
                instruct,
            })
            .unwrap_or_default())
    }

    /// Pins a character (both fields are replaced; all `None` unpins it).
    pub async fn set_character_pins(&self, character_id: &str, pins: &CharacterPins) -> Result<()> {
        self.character_detail(character_id).await?;
        if let Some(id) = &pins.profile_id {
            self.profile(id).await?;
        }
        let sql = if pins.profile_id.is_none() && pins.instruct.is_none() {
            "DELETE FROM character_connection WHERE character_id = ?1"
        } else {
            "INSERT INTO character_connection (character_id, profile_id, instruct) VALUES (?1, ?2, ?3)
             ON CONFLICT (character_id) DO UPDATE SET profile_id = ?2, instruct = ?3"
        };
        sqlx::query(sql)
            .bind(character_id)
            .bind(pins.profile_id.as_deref())
            .bind(pins.instruct.as_deref())
            .execute(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        Ok(())
    }

    /// Saved templates of `kind`, by name.
    pub async fn saved_templates(&self, kind: &str) -> Result<Vec<SavedTemplate>> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT id, kind, name, json FROM templates WHERE kind = ? ORDER BY name COLLATE NOCASE",
        )
        .bind(kind)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(rows
            .into_iter()
            .map(|(id, kind, name, json)| SavedTemplate {
                id,
                kind,
                name,
                json,
            })
            .collect())
    }

    /// The saved template of `kind` called `name`, if any.
    pub async fn saved_template(&self, kind: &str, name: &str) -> Result<Option<SavedTemplate>> {
        let row: Option<(String, String, String, String)> = sqlx::query_as(
            "SELECT id, kind, name, json FROM templates WHERE kind = ? AND name = ?",
        )
        .bind(kind)
        .bind(name)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(row.map(|(id, kind, name, json)| SavedTemplate {
            id,
            kind,
            name,
            json,
        }))
    }

    /// Saves a template under its kind and name, replacing one of the same name.
    pub async fn save_template(&self, kind: &str, name: &str, json: &str) -> Result<SavedTemplate> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO templates (id, kind, name, json, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (kind, name) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(kind)
        .bind(name)
        .bind(json)
        .bind(now)
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        self.saved_template(kind, name)
            .await?
            .ok_or_else(|| Error::Internal("a saved template vanished".into()))
    }

    /// Deletes a saved template (a built-in preset of that name shows again); whether one was there.
    pub async fn delete_template(&self, kind: &str, name: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM templates WHERE kind = ? AND name = ?")
            .bind(kind)
            .bind(name)
            .execute(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        Ok(done.rows_affected() > 0)
    }
}
