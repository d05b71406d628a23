//! The settings repository: one row per setting, so old and new builds can share a file.

use super::Store;
use crate::prompt::ExampleDialogue;
use crate::settings::{Language, Settings, ThemePreference};
use crate::Result;

const LANGUAGE: &str = "ui.language";
const THEME: &str = "ui.theme";
const EXAMPLE_DIALOGUE: &str = "prompt.example_dialogue";

impl Store {
    /// The saved settings; anything missing or unknown reads as its default.
    pub async fn settings(&self) -> Result<Settings> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT key, value FROM settings WHERE key IN (?, ?, ?)")
                .bind(LANGUAGE)
                .bind(THEME)
                .bind(EXAMPLE_DIALOGUE)
                .fetch_all(self.pool())
                .await
                .map_err(|e| self.sql_error(e))?;
        let mut settings = Settings::default();
        for (key, value) in rows {
            match key.as_str() {
                LANGUAGE => settings.language = Language::parse(&value),
                THEME => settings.theme = ThemePreference::parse(&value),
                EXAMPLE_DIALOGUE => {
                    // An unknown value (a newer build's) reads as the default.
                    settings.example_dialogue =
                        serde_json::from_value(serde_json::Value::String(value)).unwrap_or_default()
                }
                _ => {}
            }
        }
        Ok(settings)
    }

    /// Saves every setting in one transaction and returns what is now stored.
    pub async fn save_settings(&self, settings: &Settings) -> Result<Settings> {
        let mut tx = self.write_tx().await.map_err(|e| self.sql_error(e))?;
        match settings.language {
            Some(language) => upsert(&mut tx, LANGUAGE, language.as_str()).await,
            None => sqlx::query("DELETE FROM settings WHERE key = ?")
                .bind(LANGUAGE)
                .execute(&mut *tx)
                .await
                .map(|_| ()),
        }
        .map_err(|e| self.sql_error(e))?;
        upsert(&mut tx, THEME, settings.theme.as_str())
            .await
            .map_err(|e| self.sql_error(e))?;
        let examples = match settings.example_dialogue {
            ExampleDialogue::Keep => "keep",
            ExampleDialogue::Gradual => "gradual",
            ExampleDialogue::Never => "never",
        };
        upsert(&mut tx, EXAMPLE_DIALOGUE, examples)
            .await
            .map_err(|e| self.sql_error(e))?;
        tx.commit().await.map_err(|e| self.sql_error(e))?;
        self.settings().await
    }
}

async fn upsert(
    tx: &mut sqlx::SqliteConnection,
    key: &str,
    value: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, unixepoch('subsec') * 1000)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(key)
    .bind(value)
    .execute(tx)
    .await
    .map(|_| ())
}
