//! The usage repository: one row per finished request, summed for the Settings page.

use super::characters::now_ms;
use super::Store;
use crate::Result;

/// How a request ended, as recorded for usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageOutcome {
    /// The reply finished.
    Done,
    /// The provider or the connection failed.
    Failed,
    /// The user (or a limit) stopped it.
    Cancelled,
    /// The app stopped while it streamed.
    Interrupted,
}

impl UsageOutcome {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            UsageOutcome::Done => "done",
            UsageOutcome::Failed => "failed",
            UsageOutcome::Cancelled => "cancelled",
            UsageOutcome::Interrupted => "interrupted",
        }
    }
}

/// One finished request.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecord {
    /// The provider's id (kept even if the provider is deleted later).
    pub provider_id: Option<String>,
    /// The provider's name when the request ran.
    pub provider_name: String,
    /// The model.
    pub model: String,
    /// How it ended.
    pub outcome: UsageOutcome,
    /// The error code or cancel reason; empty when done.
    pub reason: String,
    /// Prompt tokens billed.
    pub prompt_tokens: u32,
    /// Completion tokens billed.
    pub completion_tokens: u32,
    /// US dollars, when known.
    pub cost_usd: Option<f64>,
}

impl Store {
    /// Records one finished request under today's UTC date.
    pub async fn record_usage(&self, record: &UsageRecord) -> Result<()> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO usage_events (day, provider_id, provider_name, model, outcome, reason,
                 prompt_tokens, completion_tokens, cost_usd, created_at)
             VALUES (date(? / 1000, 'unixepoch'), ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(now)
        .bind(&record.provider_id)
        .bind(&record.provider_name)
        .bind(&record.model)
        .bind(record.outcome.as_str())
        .bind(&record.reason)
        .bind(i64::from(record.prompt_tokens))
        .bind(i64::from(record.completion_tokens))
        .bind(record.cost_usd)
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(())
    }
}
