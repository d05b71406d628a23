//! The world-info token budget.

use crate::lore::model::BookSettings;

/// Budget in tokens: `budget_percent`% of the context window, rounded as ST does
/// (`Math.round(...) || 1`), then capped by `budget_cap` when that is set.
pub fn budget_tokens(settings: &BookSettings, context_tokens: u32) -> u32 {
    let raw = (u64::from(settings.budget_percent) * u64::from(context_tokens) + 50) / 100;
    let mut budget = u32::try_from(raw).unwrap_or(u32::MAX).max(1);
    if settings.budget_cap > 0 {
        budget = budget.min(settings.budget_cap);
    }
    budget
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rounds_and_cap_applies() {
        let mut s = BookSettings {
            budget_percent: 25,
            ..BookSettings::default()
        };
        assert_eq!(budget_tokens(&s, 8190), 2048); // 2047.5 rounds up
        assert_eq!(budget_tokens(&s, 0), 1);
        s.budget_cap = 1000;
        assert_eq!(budget_tokens(&s, 8192), 1000);
    }
}
