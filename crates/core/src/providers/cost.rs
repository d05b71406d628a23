//! What a request cost, and what the provider's prompt cache saved.
//!
//! Prices come from the model list (OpenRouter publishes them per token:
//! `pricing.prompt`, `completion`, `input_cache_read`, `input_cache_write`).
//! When the list has the input price but not the cache prices, the provider's
//! documented multipliers stand in: Anthropic bills cache writes at 1.25× and
//! reads at 0.1× the input price, OpenAI reads at 0.5× (writes are free),
//! Gemini reads at 0.25×, DeepSeek at 0.1×; elsewhere a cached token is priced
//! as any other, so no saving is claimed that cannot be shown.

use crate::llm::{ModelInfo, Usage};

/// A request's cost and what the cache saved, in US dollars; `None` when a
/// price that was needed is unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RequestCost {
    /// What the request cost.
    pub cost_usd: Option<f64>,
    /// What it would have cost without the cache, minus what it cost: reads at
    /// their discount, less the writes' premium (negative when writes outweigh reads).
    pub cache_saved_usd: Option<f64>,
}

/// Cache read and write prices as multiples of the input price, for a model
/// whose list gives no cache prices.
pub fn cache_multipliers(model_id: &str) -> (f64, f64) {
    let id = model_id.to_ascii_lowercase();
    let id = id.rsplit('/').next().unwrap_or(&id).to_owned();
    let vendor = model_id
        .split_once('/')
        .map(|(v, _)| v.to_ascii_lowercase());
    let is = |prefix: &str, name: &str| vendor.as_deref() == Some(prefix) || id.starts_with(name);
    if is("anthropic", "claude") {
        (0.1, 1.25)
    } else if is("openai", "gpt-")
        || id.starts_with('o') && id.chars().nth(1).is_some_and(|c| c.is_ascii_digit())
    {
        (0.5, 1.0)
    } else if is("google", "gemini") {
        (0.25, 1.0)
    } else if is("deepseek", "deepseek") {
        (0.1, 1.0)
    } else {
        (1.0, 1.0)
    }
}

/// What `usage` cost with `model`'s prices per million tokens, and what the
/// cache saved. `usage.prompt_tokens` includes the cache reads and writes; a
/// cost the provider reported (`usage.cost_usd`) wins over the one worked out.
pub fn request_cost(model: Option<&ModelInfo>, usage: &Usage) -> RequestCost {
    let reported = usage.cost_usd.filter(|c| c.is_finite() && *c >= 0.0);
    let worked_out = priced(model, usage);
    RequestCost {
        cost_usd: reported.or(worked_out.cost_usd),
        ..worked_out
    }
}

fn priced(model: Option<&ModelInfo>, usage: &Usage) -> RequestCost {
    let Some(model) = model else {
        return RequestCost::default();
    };
    let valid = |p: Option<f64>| p.filter(|p| p.is_finite() && *p >= 0.0);
    let input = valid(model.prompt_price_per_million);
    let output = valid(model.completion_price_per_million);
    if input.is_none() && output.is_none() {
        return RequestCost::default();
    }
    let prompt = u64::from(usage.prompt_tokens.unwrap_or(0));
    let completion = u64::from(usage.completion_tokens.unwrap_or(0));
    let read = u64::from(usage.cache_read_tokens.unwrap_or(0)).min(prompt);
    let write = u64::from(usage.cache_write_tokens.unwrap_or(0)).min(prompt - read);
    let fresh = prompt - read - write;
    let (read_x, write_x) = cache_multipliers(&model.id);
    let read_price = valid(model.cache_read_price_per_million).or(input.map(|p| p * read_x));
    let write_price = valid(model.cache_write_price_per_million).or(input.map(|p| p * write_x));
    let part = |tokens: u64, price: Option<f64>| -> Option<f64> {
        if tokens == 0 {
            Some(0.0)
        } else {
            price.map(|p| tokens as f64 * p / 1_000_000.0)
        }
    };
    let cost = (|| {
        Some(
            part(fresh, input)?
                + part(read, read_price)?
                + part(write, write_price)?
                + part(completion, output)?,
        )
    })();
    let saved = (|| {
        let without = part(read + write, input)?;
        Some(without - part(read, read_price)? - part(write, write_price)?)
    })();
    RequestCost {
        cost_usd: cost,
        cache_saved_usd: saved,
    }
}

/// What a request cost in US dollars, from the model's published prices per
/// million tokens; `None` when the price of a kind of token that was used is
/// unknown (or `model` is `None`), never a partial sum. No cache: see [`request_cost`].
pub fn cost_usd(
    model: Option<&ModelInfo>,
    prompt_tokens: u32,
    completion_tokens: u32,
) -> Option<f64> {
    request_cost(
        model,
        &Usage {
            prompt_tokens: Some(prompt_tokens),
            completion_tokens: Some(completion_tokens),
            ..Usage::default()
        },
    )
    .cost_usd
}
