//! Checking rules before they are saved, and while they are edited: exactly as
//! the core will compile them.

use serde::{Deserialize, Serialize};

use super::compile::{build, regex_words};
use super::limits::{MAX_DICTIONARY_RULES, MAX_RULE_TEXT_BYTES};
use super::Dictionary;
use crate::error::Error;
use crate::lore::model::DictionaryRule;
use crate::Result;

/// Checks rules before they are saved: too many is `too_large`, a rule that
/// cannot work is `invalid_input` naming it (from 1) and why.
pub fn check_rules(rules: &[DictionaryRule]) -> Result<()> {
    if rules.len() > MAX_DICTIONARY_RULES {
        return Err(Error::TooLarge {
            what: format!("The chat dictionary ({} rules)", rules.len()),
            limit: format!("{MAX_DICTIONARY_RULES} rules"),
        });
    }
    // Rules that are off are still stored: their texts count too.
    if let Some((i, len)) = rules.iter().enumerate().find_map(|(i, r)| {
        let len = r.find.len().max(r.replace.len());
        (len > MAX_RULE_TEXT_BYTES).then_some((i, len))
    }) {
        return Err(Error::TooLarge {
            what: format!("Chat dictionary rule {} ({} KB)", i + 1, len.div_ceil(1024)),
            limit: format!(
                "{} KB of text to find or to put",
                MAX_RULE_TEXT_BYTES / 1024
            ),
        });
    }
    let (_, problems) = Dictionary::compile(rules);
    match problems.into_iter().next() {
        Some((index, reason)) => Err(Error::InvalidInput(format!(
            "chat dictionary rule {}: {reason}",
            index + 1
        ))),
        None => Ok(()),
    }
}

/// Why one rule of a dictionary being edited cannot work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RuleProblem {
    /// The rule's position in the list (from 0).
    pub index: u32,
    /// The reason, in plain words.
    pub message: String,
}

/// What is wrong with rules being edited, read exactly as the core will
/// apply them (the editor shows this while typing). Rules with nothing to
/// find yet are not reported: saving leaves them out.
pub fn rule_problems(rules: &[DictionaryRule]) -> Vec<RuleProblem> {
    let (_, problems) = Dictionary::compile(rules);
    let mut found: Vec<RuleProblem> = problems
        .into_iter()
        .filter(|(i, _)| rules.get(*i).is_some_and(|r| !r.find.is_empty()))
        .map(|(i, message)| RuleProblem {
            index: u32::try_from(i).unwrap_or(u32::MAX),
            message,
        })
        .collect();
    // Rules that are off are not compiled, but their regexes are still checked.
    for (i, rule) in rules.iter().enumerate().take(MAX_DICTIONARY_RULES) {
        if rule.enabled
            || !rule.regex
            || rule.find.is_empty()
            || rule.find.len() > MAX_RULE_TEXT_BYTES
        {
            continue;
        }
        if let Err(e) = build(&rule.find, rule.case_sensitive) {
            found.push(RuleProblem {
                index: u32::try_from(i).unwrap_or(u32::MAX),
                message: regex_words(&rule.find, &e),
            });
        }
    }
    found.sort_by_key(|p| p.index);
    found
}
