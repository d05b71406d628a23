//! The settings repository: one row per setting, so old and new builds can share a file.

use super::Store;
use crate::prompt::ExampleDialogue;
use crate::settings::{BackupSettings, Language, Settings, ThemePreference};
use crate::Result;

/// Setting keys of [`BackupSettings`].
const BACKUP_KEEP: &str = "backup.keep";
const BACKUP_INTERVAL: &str = "backup.interval_hours";
pub(super) const KEEP_BEFORE_UPGRADE_KEY: &str = "backup.keep_before_upgrade";
/// [`BackupSettings::keep_before_upgrade`]'s default, for a file not yet open.
pub(super) const DEFAULT_KEEP_BEFORE_UPGRADE: usize = 3;

const LANGUAGE: &str = "ui.language";
const THEME: &str = "ui.theme";
const EXAMPLE_DIALOGUE: &str = "prompt.example_dialogue";
const KEYWORD_WORLD_INFO_AT_DEPTH: &str = "prompt.keyword_world_info_at_depth";

impl Store {
    /// The saved settings; anything missing or unknown reads as its default.
    pub async fn settings(&self) -> Result<Settings> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT key, value FROM settings WHERE key IN (?, ?, ?, ?)")
                .bind(LANGUAGE)
                .bind(THEME)
                .bind(EXAMPLE_DIALOGUE)
                .bind(KEYWORD_WORLD_INFO_AT_DEPTH)
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
                KEYWORD_WORLD_INFO_AT_DEPTH => settings.keyword_world_info_at_depth = value == "on",
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
        let moved = if settings.keyword_world_info_at_depth {
            "on"
        } else {
            "off"
        };
        upsert(&mut tx, KEYWORD_WORLD_INFO_AT_DEPTH, moved)
            .await
            .map_err(|e| self.sql_error(e))?;
        tx.commit().await.map_err(|e| self.sql_error(e))?;
        self.settings().await
    }
}

impl Store {
    /// How the library is backed up; anything missing or unreadable reads as its default.
    pub async fn backup_settings(&self) -> Result<BackupSettings> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT key, value FROM settings WHERE key IN (?, ?, ?)")
                .bind(BACKUP_KEEP)
                .bind(BACKUP_INTERVAL)
                .bind(KEEP_BEFORE_UPGRADE_KEY)
                .fetch_all(self.pool())
                .await
                .map_err(|e| self.sql_error(e))?;
        let mut settings = BackupSettings::default();
        for (key, value) in rows {
            let Ok(number) = value.parse::<u32>() else {
                continue;
            };
            match key.as_str() {
                BACKUP_KEEP => settings.keep = number,
                BACKUP_INTERVAL => settings.interval_hours = number,
                KEEP_BEFORE_UPGRADE_KEY => settings.keep_before_upgrade = number,
                _ => {}
            }
        }
        if settings.check().is_err() {
            return Ok(BackupSettings::default());
        }
        Ok(settings)
    }

    /// Saves how the library is backed up (checked first) and returns what is stored.
    pub async fn save_backup_settings(&self, settings: &BackupSettings) -> Result<BackupSettings> {
        settings.check()?;
        let mut tx = self.write_tx().await.map_err(|e| self.sql_error(e))?;
        for (key, value) in [
            (BACKUP_KEEP, settings.keep),
            (BACKUP_INTERVAL, settings.interval_hours),
            (KEEP_BEFORE_UPGRADE_KEY, settings.keep_before_upgrade),
        ] {
            upsert(&mut tx, key, &value.to_string())
                .await
                .map_err(|e| self.sql_error(e))?;
        }
        tx.commit().await.map_err(|e| self.sql_error(e))?;
        self.backup_settings().await
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
