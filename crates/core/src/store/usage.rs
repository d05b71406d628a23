//! The usage repository: one row per finished request, summed for the Settings page.

use super::characters::now_ms;
use super::Store;
use crate::providers::{OutcomeRow, UsageReport, UsageRow};
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
    /// Prompt tokens written to the provider's prompt cache.
    pub cache_write_tokens: u32,
    /// Prompt tokens read from the provider's prompt cache.
    pub cache_read_tokens: u32,
    /// US dollars the cache saved, when known.
    pub cache_saved_usd: Option<f64>,
}

impl Store {
    /// Records one finished request under today's UTC date.
    pub async fn record_usage(&self, record: &UsageRecord) -> Result<()> {
        self.record_usage_at(record, now_ms()).await
    }

    /// Records one request that finished at `at` (Unix ms), under that UTC date.
    pub async fn record_usage_at(&self, record: &UsageRecord, at: i64) -> Result<()> {
        let now = at;
        sqlx::query(
            "INSERT INTO usage_events (day, provider_id, provider_name, model, outcome, reason,
                 prompt_tokens, completion_tokens, cost_usd, cache_write_tokens,
                 cache_read_tokens, cache_saved_usd, created_at)
             VALUES (date(? / 1000, 'unixepoch'), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        .bind(i64::from(record.cache_write_tokens))
        .bind(i64::from(record.cache_read_tokens))
        .bind(record.cache_saved_usd)
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(())
    }
}

impl Store {
    /// Usage over the last `days` UTC days, today included: tokens, requests and
    /// cost per day, provider name and model (newest day first), and the requests
    /// that did not finish, by outcome and reason (most frequent first).
    ///
    /// A group's cost sums the rows whose cost is known, and is `None` when no
    /// row of the group has one.
    pub async fn usage_report(&self, days: u32) -> Result<UsageReport> {
        // date('now', '-0 days') is today: the last `days` days start `days - 1` days ago.
        let since = format!("-{} days", days.saturating_sub(1));
        let rows: Vec<GroupRow> = sqlx::query_as::<_, RawGroupRow>(
            "SELECT day, provider_name, model, COUNT(*), SUM(prompt_tokens),
                    SUM(completion_tokens), SUM(cost_usd), SUM(cache_write_tokens),
                    SUM(cache_read_tokens), SUM(cache_saved_usd)
             FROM usage_events WHERE day >= date('now', ?)
             GROUP BY day, provider_name, model
             ORDER BY day DESC, provider_name, model",
        )
        .bind(&since)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?
        .into_iter()
        .map(|(day, p, m, n, pt, ct, cost, w, r, saved)| {
            (day, p, m, (n, pt, ct), cost, w, r, saved)
        })
        .collect();
        let outcomes: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT outcome, reason, COUNT(*) FROM usage_events
             WHERE day >= date('now', ?) AND outcome <> 'done'
             GROUP BY outcome, reason
             ORDER BY COUNT(*) DESC, outcome, reason",
        )
        .bind(&since)
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(UsageReport {
            rows: rows
                .into_iter()
                .map(
                    |(day, provider_name, model, counts, cost, write, read, saved)| UsageRow {
                        day,
                        provider_name,
                        model,
                        requests: saturate(counts.0),
                        prompt_tokens: saturate(counts.1),
                        completion_tokens: saturate(counts.2),
                        cost_usd: cost,
                        cache_write_tokens: saturate(write),
                        cache_read_tokens: saturate(read),
                        cache_saved_usd: saved,
                    },
                )
                .collect(),
            outcomes: outcomes
                .into_iter()
                .map(|(outcome, reason, count)| OutcomeRow {
                    outcome,
                    reason,
                    count: saturate(count),
                })
                .collect(),
        })
    }
}

/// day, provider name, model, requests, prompt tokens, completion tokens, cost,
/// cache writes, cache reads, cache savings.
type RawGroupRow = (
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<f64>,
    i64,
    i64,
    Option<f64>,
);

/// A [`RawGroupRow`] with its counts (requests, prompt, completion) together.
type GroupRow = (
    String,
    String,
    String,
    (i64, i64, i64),
    Option<f64>,
    i64,
    i64,
    Option<f64>,
);

/// A count as u32, clamped (a sum over years of heavy use may not fit).
fn saturate(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}
