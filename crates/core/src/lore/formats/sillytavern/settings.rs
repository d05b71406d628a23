//! A book's settings, both ways: the card-book names (`scan_depth`,
//! `token_budget`, `recursive_scanning`) and Confab's own `"confab/settings"`
//! object for those SillyTavern has no per-book place for.

use serde_json::{json, Map, Value};

use crate::error::Error;
use crate::lore::formats::value::Ctx;
use crate::lore::model::BookSettings;

/// Where Confab keeps the book settings SillyTavern has no per-book place for.
pub(crate) const SETTINGS_KEY: &str = "confab/settings";

/// `scan_depth`, `token_budget`, `recursive_scanning` (card-book names, also
/// found at the top of some world-info files).
pub(crate) fn read_card_style_settings(
    ctx: &Ctx<'_>,
    obj: &Map<String, Value>,
    settings: &mut BookSettings,
) -> Result<(), Error> {
    if let Some(d) = ctx.u32_opt(obj, "scan_depth")? {
        settings.scan_depth = d;
    }
    if let Some(b) = ctx.u32_opt(obj, "token_budget")? {
        settings.budget_cap = b;
    }
    if let Some(r) = ctx.bool_opt(obj, "recursive_scanning")? {
        settings.recursive = r;
    }
    Ok(())
}

/// Writes the card-book names of the settings that differ from the defaults.
pub(crate) fn write_card_style_settings(settings: &BookSettings, out: &mut Map<String, Value>) {
    let d = BookSettings::default();
    if settings.scan_depth != d.scan_depth {
        out.insert("scan_depth".into(), settings.scan_depth.into());
    }
    if settings.budget_cap != d.budget_cap {
        out.insert("token_budget".into(), settings.budget_cap.into());
    }
    if settings.recursive != d.recursive {
        out.insert("recursive_scanning".into(), settings.recursive.into());
    }
}

/// Applies a `"confab/settings"` object over `settings`; unknown keys are ignored.
pub(crate) fn read_confab_settings(
    ctx: &Ctx<'_>,
    v: Option<&Value>,
    settings: &mut BookSettings,
) -> Result<(), Error> {
    let obj = match v {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(ctx.err(
                SETTINGS_KEY,
                format!(
                    "must be an object, not {}",
                    crate::lore::formats::value::kind(other)
                ),
            ))
        }
    };
    let field = |k: &str| format!("{SETTINGS_KEY}.{k}");
    let num = |k: &str, slot: &mut u32| -> Result<(), Error> {
        if let Some(x) = ctx.u32_value(obj.get(k), &field(k))? {
            *slot = x;
        }
        Ok(())
    };
    let flag = |k: &str, slot: &mut bool| -> Result<(), Error> {
        if let Some(x) = ctx.bool_value(obj.get(k), &field(k))? {
            *slot = x;
        }
        Ok(())
    };
    num("scanDepth", &mut settings.scan_depth)?;
    num("budgetPercent", &mut settings.budget_percent)?;
    num("budgetCap", &mut settings.budget_cap)?;
    flag("recursive", &mut settings.recursive)?;
    num("maxRecursionSteps", &mut settings.max_recursion_steps)?;
    num("minActivations", &mut settings.min_activations)?;
    num(
        "minActivationsDepthMax",
        &mut settings.min_activations_depth_max,
    )?;
    flag("caseSensitive", &mut settings.case_sensitive)?;
    flag("matchWholeWords", &mut settings.match_whole_words)?;
    flag("includeNames", &mut settings.include_names)?;
    flag("useGroupScoring", &mut settings.use_group_scoring)?;
    Ok(())
}

/// The `"confab/settings"` object, or `None` when the settings are the defaults.
pub(crate) fn confab_settings_json(settings: &BookSettings) -> Option<Value> {
    if *settings == BookSettings::default() {
        return None;
    }
    Some(json!({
        "scanDepth": settings.scan_depth,
        "budgetPercent": settings.budget_percent,
        "budgetCap": settings.budget_cap,
        "recursive": settings.recursive,
        "maxRecursionSteps": settings.max_recursion_steps,
        "minActivations": settings.min_activations,
        "minActivationsDepthMax": settings.min_activations_depth_max,
        "caseSensitive": settings.case_sensitive,
        "matchWholeWords": settings.match_whole_words,
        "includeNames": settings.include_names,
        "useGroupScoring": settings.use_group_scoring,
    }))
}
