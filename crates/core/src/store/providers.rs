//! The providers repository: configured providers, the default one, and the
//! provider and model each session replies with. No API key is ever stored here.

use super::characters::now_ms;
use super::Store;
use crate::llm::{ProviderConfig, ProviderKind};
use crate::{Error, Result};

const DEFAULT_PROVIDER: &str = "providers.default";

fn not_found(id: &str) -> Error {
    Error::NotFound {
        what: format!("provider {id}"),
    }
}

fn kind_str(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::OpenRouter => "openRouter",
        ProviderKind::OpenAi => "openAi",
        ProviderKind::Anthropic => "anthropic",
        ProviderKind::OpenAiCompatible => "openAiCompatible",
        ProviderKind::KoboldCpp => "koboldCpp",
        ProviderKind::LlamaCpp => "llamaCpp",
        ProviderKind::TextCompletions => "textCompletions",
    }
}

impl Store {
    /// Every configured provider, in the user's order.
    pub async fn providers(&self) -> Result<Vec<ProviderConfig>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, config_json FROM providers ORDER BY position, created_at, id",
        )
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        rows.into_iter()
            .map(|(id, json)| read_config(&id, &json))
            .collect()
    }

    /// One provider.
    pub async fn provider(&self, id: &str) -> Result<ProviderConfig> {
        let json: String = sqlx::query_scalar("SELECT config_json FROM providers WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?
            .ok_or_else(|| not_found(id))?;
        read_config(id, &json)
    }

    /// Inserts or replaces a provider (by id); a new one goes last.
    pub async fn save_provider(&self, config: &ProviderConfig) -> Result<ProviderConfig> {
        let json = serde_json::to_string(config)
            .map_err(|e| Error::Internal(format!("cannot write a provider: {e}")))?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO providers (id, name, kind, config_json, position, created_at, updated_at)
             VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(position), -1) + 1 FROM providers), ?, ?)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
                 config_json = excluded.config_json, updated_at = excluded.updated_at",
        )
        .bind(&config.id)
        .bind(&config.name)
        .bind(kind_str(config.kind))
        .bind(&json)
        .bind(now)
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        self.provider(&config.id).await
    }

    /// Deletes a provider; sessions that used it fall back to the default provider.
    pub async fn delete_provider(&self, id: &str) -> Result<()> {
        let mut tx = self.write_tx().await.map_err(|e| self.sql_error(e))?;
        let done = sqlx::query("DELETE FROM providers WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.sql_error(e))?;
        if done.rows_affected() == 0 {
            return Err(not_found(id));
        }
        sqlx::query("DELETE FROM settings WHERE key = ? AND value = ?")
            .bind(DEFAULT_PROVIDER)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.sql_error(e))?;
        tx.commit().await.map_err(|e| self.sql_error(e))
    }

    /// The provider used by sessions that chose none: the one the user made
    /// default, else the first configured.
    pub async fn default_provider_id(&self) -> Result<Option<String>> {
        sqlx::query_scalar(
            "SELECT COALESCE(
                (SELECT p.id FROM settings s JOIN providers p ON p.id = s.value WHERE s.key = ?),
                (SELECT id FROM providers ORDER BY position, created_at, id LIMIT 1))",
        )
        .bind(DEFAULT_PROVIDER)
        .fetch_one(self.pool())
        .await
        .map_err(|e| self.sql_error(e))
    }

    /// Makes a provider the default.
    pub async fn set_default_provider(&self, id: &str) -> Result<()> {
        self.provider(id).await?;
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(DEFAULT_PROVIDER)
        .bind(id)
        .bind(now_ms())
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(())
    }

    /// The provider and model a session chose (`None`: the default's).
    pub async fn session_model(
        &self,
        session_id: &str,
    ) -> Result<(Option<String>, Option<String>)> {
        sqlx::query_as("SELECT provider_id, model FROM chat_sessions WHERE id = ?")
            .bind(session_id)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?
            .ok_or_else(|| Error::NotFound {
                what: format!("chat {session_id}"),
            })
    }

    /// Sets the provider and model a session replies with (`None` clears a
    /// choice); a profile the chat had chosen lets go (this choice is newer).
    pub async fn set_session_model(
        &self,
        session_id: &str,
        provider_id: Option<&str>,
        model: Option<&str>,
    ) -> Result<()> {
        if let Some(id) = provider_id {
            self.provider(id).await?;
        }
        let model = model.map(str::trim).filter(|m| !m.is_empty());
        let done = sqlx::query(
            "UPDATE chat_sessions SET provider_id = ?, model = ?, profile_id = NULL WHERE id = ?",
        )
        .bind(provider_id)
        .bind(model)
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

/// Reads a stored config; the row's id wins over whatever the JSON says.
fn read_config(id: &str, json: &str) -> Result<ProviderConfig> {
    let mut config: ProviderConfig = serde_json::from_str(json).map_err(|e| {
        Error::Storage(format!(
            "provider {id} is stored in a form Confab cannot read: {e}"
        ))
    })?;
    config.id = id.to_owned();
    Ok(config)
}

impl Store {
    /// The cached model list of a provider and when it was fetched (Unix ms), if ever.
    pub async fn cached_models(
        &self,
        provider_id: &str,
    ) -> Result<Option<(Vec<crate::llm::ModelInfo>, i64)>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT models_json, fetched_at FROM provider_models WHERE provider_id = ?",
        )
        .bind(provider_id)
        .fetch_optional(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        match row {
            None => Ok(None),
            // A cache Confab cannot read is as good as none: it is fetched again.
            Some((json, at)) => Ok(serde_json::from_str(&json).ok().map(|m| (m, at))),
        }
    }

    /// Replaces the cached model list of a provider.
    pub async fn save_cached_models(
        &self,
        provider_id: &str,
        models: &[crate::llm::ModelInfo],
    ) -> Result<i64> {
        let json = serde_json::to_string(models)
            .map_err(|e| Error::Internal(format!("cannot write a model list: {e}")))?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO provider_models (provider_id, models_json, fetched_at) VALUES (?, ?, ?)
             ON CONFLICT (provider_id) DO UPDATE SET models_json = excluded.models_json,
                 fetched_at = excluded.fetched_at",
        )
        .bind(provider_id)
        .bind(&json)
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(now)
    }
}

impl Store {
    /// The ids of the models pinned for a provider, in id order.
    pub async fn favourite_models(&self, provider_id: &str) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT model_id FROM favourite_models WHERE provider_id = ? ORDER BY model_id",
        )
        .bind(provider_id)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))
    }

    /// Pins (or unpins) a model of a provider; pinning twice or unpinning an
    /// unpinned model changes nothing.
    pub async fn set_favourite_model(
        &self,
        provider_id: &str,
        model_id: &str,
        favourite: bool,
    ) -> Result<()> {
        self.provider(provider_id).await?;
        let query = if favourite {
            sqlx::query(
                "INSERT INTO favourite_models (provider_id, model_id, created_at) VALUES (?, ?, ?)
                 ON CONFLICT (provider_id, model_id) DO NOTHING",
            )
            .bind(provider_id)
            .bind(model_id)
            .bind(now_ms())
        } else {
            sqlx::query("DELETE FROM favourite_models WHERE provider_id = ? AND model_id = ?")
                .bind(provider_id)
                .bind(model_id)
        };
        query
            .execute(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        Ok(())
    }
}
