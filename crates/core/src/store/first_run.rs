//! Whether the first-run walk-through was finished or skipped: one row of the settings table.

use super::Store;
use crate::Result;

/// The settings key; its value is when the walk-through ended (Unix milliseconds).
const FIRST_RUN_DONE: &str = "onboarding.first_run_done";

impl Store {
    /// When the first-run walk-through was finished or skipped (Unix ms), if it was.
    pub async fn first_run_done_at(&self) -> Result<Option<f64>> {
        let value: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = ?")
            .bind(FIRST_RUN_DONE)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        // Any stored value means done; an unreadable one (a newer build's) still does.
        Ok(value.map(|(v,)| v.parse::<f64>().unwrap_or(0.0)))
    }

    /// Records that the walk-through ended now; a later call keeps the first time.
    pub async fn set_first_run_done(&self) -> Result<f64> {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at)
             VALUES (?, CAST(CAST(unixepoch('subsec') * 1000 AS INTEGER) AS TEXT),
                     CAST(unixepoch('subsec') * 1000 AS INTEGER))
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(FIRST_RUN_DONE)
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(self.first_run_done_at().await?.unwrap_or(0.0))
    }
}
