//! What replies cost: prices per million tokens, and usage summed per day,
//! provider and model, on a real SQLite file.

mod http_support;
mod providers_support;

use confab_core::llm::{ModelInfo, Usage};
use confab_core::providers;
use confab_core::store::{UsageOutcome, UsageRecord};
use confab_core::ErrorCode;
use providers_support::env;

// ---------------------------------------------------------------------------
// Cost and usage

fn model(prompt: Option<f64>, completion: Option<f64>) -> ModelInfo {
    ModelInfo {
        id: "m".into(),
        name: "m".into(),
        context_length: None,
        prompt_price_per_million: prompt,
        completion_price_per_million: completion,
        cache_read_price_per_million: None,
        cache_write_price_per_million: None,
    }
}

#[test]
fn cost_comes_from_prices_per_million() {
    let gpt = model(Some(0.15), Some(0.6));
    let cost = providers::cost_usd(Some(&gpt), 1_000_000, 500_000).unwrap();
    assert!((cost - 0.45).abs() < 1e-12, "{cost}");
    let cost = providers::cost_usd(Some(&gpt), 1200, 300).unwrap();
    assert!((cost - (1200.0 * 0.15 + 300.0 * 0.6) / 1e6).abs() < 1e-15);
    assert_eq!(
        providers::cost_usd(Some(&model(Some(0.0), Some(0.0))), 10, 10),
        Some(0.0)
    );
    // Unknown model or prices: unknown cost, never a partial one.
    assert_eq!(providers::cost_usd(None, 10, 10), None);
    assert_eq!(providers::cost_usd(Some(&model(None, None)), 10, 10), None);
    assert_eq!(
        providers::cost_usd(Some(&model(Some(1.0), None)), 10, 10),
        None
    );
    // A kind of token not used needs no price.
    assert_eq!(
        providers::cost_usd(Some(&model(Some(2.0), None)), 1_000_000, 0),
        Some(2.0)
    );
}

fn record(provider: &str, model: &str, outcome: UsageOutcome, reason: &str) -> UsageRecord {
    UsageRecord {
        provider_id: None,
        provider_name: provider.into(),
        model: model.into(),
        outcome,
        reason: reason.into(),
        prompt_tokens: 0,
        completion_tokens: 0,
        cost_usd: None,
        cache_write_tokens: 0,
        cache_read_tokens: 0,
        cache_saved_usd: None,
    }
}

#[tokio::test]
async fn usage_is_summed_per_day_provider_and_model() {
    let e = env().await;
    let day_ms: i64 = 86_400_000;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let today = now;
    let yesterday = now - day_ms;
    let long_ago = now - 30 * day_ms;

    let done = |p: &str, m: &str, pt: u32, ct: u32, cost: Option<f64>| UsageRecord {
        prompt_tokens: pt,
        completion_tokens: ct,
        cost_usd: cost,
        ..record(p, m, UsageOutcome::Done, "")
    };
    let rows = [
        (done("OpenRouter", "gpt", 100, 10, Some(0.5)), today),
        (done("OpenRouter", "gpt", 200, 20, None), today),
        (done("OpenRouter", "gpt", 300, 30, Some(0.25)), today),
        (done("Local", "llama", 1000, 100, None), today),
        (done("Local", "llama", 1000, 100, None), today),
        (done("OpenRouter", "gpt", 1, 1, Some(1.0)), yesterday),
        (done("OpenRouter", "gpt", 5, 5, Some(9.0)), long_ago),
        (
            record("OpenRouter", "gpt", UsageOutcome::Failed, "rate_limited"),
            today,
        ),
        (
            record("OpenRouter", "gpt", UsageOutcome::Failed, "rate_limited"),
            yesterday,
        ),
        (
            record("Local", "llama", UsageOutcome::Cancelled, "user"),
            today,
        ),
        (
            record("Local", "llama", UsageOutcome::Failed, "network"),
            long_ago,
        ),
        (
            record("Local", "llama", UsageOutcome::Interrupted, "app_closed"),
            today,
        ),
    ];
    for (r, at) in &rows {
        e.store.record_usage_at(r, *at).await.unwrap();
    }
    // Today's date as SQLite sees it, to name the rows.
    let day = |ms: i64| {
        let secs = ms / 1000;
        let days = secs.div_euclid(86_400);
        civil(days)
    };

    let report = providers::usage(&e.store, 7).await.unwrap();
    let got: Vec<_> = report
        .rows
        .iter()
        .map(|r| {
            (
                r.day.as_str(),
                r.provider_name.as_str(),
                r.model.as_str(),
                r.requests,
                r.prompt_tokens,
                r.completion_tokens,
                r.cost_usd,
            )
        })
        .collect();
    let (t, y) = (day(today), day(yesterday));
    assert_eq!(
        got,
        [
            // Failures count as requests; a group's cost sums the known ones.
            (t.as_str(), "Local", "llama", 4, 2000, 200, None),
            (t.as_str(), "OpenRouter", "gpt", 4, 600, 60, Some(0.75)),
            (y.as_str(), "OpenRouter", "gpt", 2, 1, 1, Some(1.0)),
        ]
    );
    let outcomes: Vec<_> = report
        .outcomes
        .iter()
        .map(|o| (o.outcome.as_str(), o.reason.as_str(), o.count))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("failed", "rate_limited", 2),
            ("cancelled", "user", 1),
            ("interrupted", "app_closed", 1),
        ]
    );

    // One day is today only; a longer window reaches the old rows.
    let today_only = providers::usage(&e.store, 1).await.unwrap();
    assert!(today_only.rows.iter().all(|r| r.day == t));
    assert_eq!(today_only.rows.len(), 2);
    let long = providers::usage(&e.store, 60).await.unwrap();
    assert_eq!(long.rows.len(), 5);
    assert_eq!(long.rows[3].provider_name, "Local");
    assert_eq!(long.rows[4].cost_usd, Some(9.0));
    assert_eq!(long.outcomes.len(), 4);

    for days in [0, 100_000] {
        assert_eq!(
            providers::usage(&e.store, days).await.unwrap_err().code(),
            ErrorCode::InvalidInput
        );
    }
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["rows"][0]["providerName"], "Local");
    assert_eq!(json["rows"][0]["costUsd"], serde_json::Value::Null);
}

/// `YYYY-MM-DD` of a count of days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

// ---------------------------------------------------------------------------
// Prompt caching: cost and savings

fn priced(id: &str, input: f64, output: f64, read: Option<f64>, write: Option<f64>) -> ModelInfo {
    ModelInfo {
        id: id.into(),
        name: id.into(),
        context_length: None,
        prompt_price_per_million: Some(input),
        completion_price_per_million: Some(output),
        cache_read_price_per_million: read,
        cache_write_price_per_million: write,
    }
}

fn cached(prompt: u32, completion: u32, read: u32, write: u32) -> Usage {
    Usage {
        prompt_tokens: Some(prompt),
        completion_tokens: Some(completion),
        cache_read_tokens: Some(read),
        cache_write_tokens: Some(write),
        cost_usd: None,
    }
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-12)
}

#[test]
fn anthropic_writes_cost_a_quarter_more_and_reads_a_tenth() {
    // $3 in, $15 out per million; no cache prices listed: Anthropic's multipliers.
    let claude = priced("anthropic/claude-sonnet-4.5", 3.0, 15.0, None, None);
    // 1,000,000 prompt tokens: 100,000 fresh, 300,000 written, 600,000 read; 10,000 out.
    let c = providers::request_cost(Some(&claude), &cached(1_000_000, 10_000, 600_000, 300_000));
    let cost = 0.1 * 3.0 + 0.3 * 3.0 * 1.25 + 0.6 * 3.0 * 0.1 + 0.01 * 15.0;
    assert!(close(c.cost_usd, cost), "{c:?}");
    // Saved: reads' 90% off less the writes' 25% premium.
    let saved = 0.6 * 3.0 * 0.9 - 0.3 * 3.0 * 0.25;
    assert!(close(c.cache_saved_usd, saved), "{c:?}");
    // Writes only (the first turn): the cache cost more than it saved.
    let first = providers::request_cost(Some(&claude), &cached(1_000_000, 0, 0, 1_000_000));
    assert!(close(first.cache_saved_usd, -0.75), "{first:?}");
}

#[test]
fn listed_cache_prices_win_over_the_multipliers() {
    // OpenRouter's list for an OpenAI model: reads at $0.075 where input is $0.15.
    let gpt = priced("openai/gpt-4o-mini", 0.15, 0.6, Some(0.075), None);
    let c = providers::request_cost(Some(&gpt), &cached(2006, 300, 1920, 0));
    let cost = (86.0 * 0.15 + 1920.0 * 0.075 + 300.0 * 0.6) / 1e6;
    assert!(close(c.cost_usd, cost), "{c:?}");
    assert!(close(c.cache_saved_usd, 1920.0 * 0.075 / 1e6), "{c:?}");
    // A listed write price is used as is.
    let listed = priced("x/model", 1.0, 1.0, Some(0.2), Some(2.0));
    let c = providers::request_cost(Some(&listed), &cached(1_000_000, 0, 500_000, 500_000));
    assert!(close(c.cost_usd, 0.5 * 0.2 + 0.5 * 2.0), "{c:?}");
    assert!(close(c.cache_saved_usd, 0.5 * 0.8 - 0.5 * 1.0), "{c:?}");
}

#[test]
fn unknown_models_claim_no_saving_and_unknown_prices_no_cost() {
    let other = priced("mistralai/mistral-large", 2.0, 6.0, None, None);
    let c = providers::request_cost(Some(&other), &cached(1000, 0, 800, 0));
    assert!(close(c.cost_usd, 1000.0 * 2.0 / 1e6));
    assert!(close(c.cache_saved_usd, 0.0));
    assert_eq!(
        providers::request_cost(None, &cached(1000, 0, 800, 0)),
        providers::RequestCost::default()
    );
    // No cache used: no saving, the cost as before.
    let claude = priced("claude-3-5-haiku", 0.8, 4.0, None, None);
    let c = providers::request_cost(Some(&claude), &cached(1000, 100, 0, 0));
    assert_eq!(c.cost_usd, providers::cost_usd(Some(&claude), 1000, 100));
    assert!(close(c.cache_saved_usd, 0.0));
    // Nonsense (more cached than the prompt) is clamped, never negative tokens.
    let c = providers::request_cost(Some(&claude), &cached(10, 0, 50, 50));
    assert!(close(c.cost_usd, 10.0 * 0.08 / 1e6), "{c:?}");
    assert_eq!(providers::cache_multipliers("claude-opus-4-1"), (0.1, 1.25));
    assert_eq!(
        providers::cache_multipliers("google/gemini-2.5-pro"),
        (0.25, 1.0)
    );
    assert_eq!(providers::cache_multipliers("gpt-4.1"), (0.5, 1.0));
    assert_eq!(
        providers::cache_multipliers("meta-llama/llama-3-70b"),
        (1.0, 1.0)
    );
}

#[test]
fn a_cost_the_provider_reports_wins() {
    let claude = priced("anthropic/claude-sonnet-4.5", 3.0, 15.0, None, None);
    let usage = Usage {
        cost_usd: Some(0.0045),
        ..cached(10_339, 60, 10_318, 0)
    };
    let c = providers::request_cost(Some(&claude), &usage);
    assert_eq!(c.cost_usd, Some(0.0045));
    // The saving still comes from the prices.
    assert!(
        close(c.cache_saved_usd, 10_318.0 * 3.0 * 0.9 / 1e6),
        "{c:?}"
    );
    // Without a model list, the reported cost is all there is.
    let c = providers::request_cost(None, &usage);
    assert_eq!((c.cost_usd, c.cache_saved_usd), (Some(0.0045), None));
}

#[tokio::test]
async fn the_report_sums_cache_tokens_and_savings() {
    let e = env().await;
    let with_cache = |read: u32, write: u32, saved: Option<f64>| UsageRecord {
        prompt_tokens: 2000,
        completion_tokens: 10,
        cost_usd: Some(0.01),
        cache_read_tokens: read,
        cache_write_tokens: write,
        cache_saved_usd: saved,
        ..record("Anthropic", "claude", UsageOutcome::Done, "")
    };
    for r in [
        with_cache(0, 1800, Some(-0.0015)),
        with_cache(1800, 100, Some(0.0046)),
        with_cache(1900, 0, None),
    ] {
        e.store.record_usage(&r).await.unwrap();
    }
    let report = providers::usage(&e.store, 1).await.unwrap();
    let [row] = report.rows.as_slice() else {
        panic!("{report:?}")
    };
    assert_eq!(
        (row.cache_read_tokens, row.cache_write_tokens),
        (3700, 1900)
    );
    assert!(close(row.cache_saved_usd, 0.0031), "{row:?}");
    let json = serde_json::to_value(row).unwrap();
    assert_eq!(json["cacheReadTokens"], 3700);
    assert_eq!(json["cacheWriteTokens"], 1900);
}
