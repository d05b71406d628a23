//! The texts a chat shows: the Display-scope rules of a character's and the
//! global dictionary applied to message texts (what is stored stays as it was),
//! within limits on how much one call renders.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::apply::apply_all_checked;
use super::cache::CompiledDictionaries;
use crate::error::Error;
use crate::lore::model::DictionaryScope;
use crate::store::Store;
use crate::Result;

/// Most texts one [`display_texts`] call renders.
pub const MAX_DISPLAY_TEXTS: usize = 2_000;
/// Most bytes (all texts together) one [`display_texts`] call renders.
pub const MAX_DISPLAY_BYTES: usize = 32 * 1024 * 1024;

/// Message texts as a chat shows them, after the Display-scope rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DisplayTexts {
    /// How many rules (the character's and the global ones) change what is shown.
    pub rules: u32,
    /// Each text as shown, in the order asked; `null` when no rule changed it.
    pub texts: Vec<Option<String>>,
}

/// Applies the Display-scope rules of a character's and the global dictionary
/// to `texts` (what is stored stays as it was). Asking with no texts tells
/// whether any such rule exists.
pub async fn display_texts(
    compiled: &CompiledDictionaries,
    store: &Store,
    character_id: &str,
    texts: Vec<String>,
) -> Result<DisplayTexts> {
    let bytes: usize = texts.iter().map(String::len).sum();
    if texts.len() > MAX_DISPLAY_TEXTS || bytes > MAX_DISPLAY_BYTES {
        return Err(Error::TooLarge {
            what: format!("{} texts ({} KB) to show", texts.len(), bytes / 1024),
            limit: format!(
                "{MAX_DISPLAY_TEXTS} texts and {} MB at a time",
                MAX_DISPLAY_BYTES / (1024 * 1024)
            ),
        });
    }
    let (character, global) = compiled.for_character(store, character_id).await?;
    let rules =
        character.count_for(DictionaryScope::Display) + global.count_for(DictionaryScope::Display);
    if rules == 0 {
        return Ok(DisplayTexts {
            rules: 0,
            texts: vec![None; texts.len()],
        });
    }
    let texts = crate::offload::run("applying the chat dictionary", move || {
        texts
            .iter()
            .map(|text| {
                match apply_all_checked(&character, &global, text, DictionaryScope::Display).text {
                    Cow::Borrowed(_) => None,
                    Cow::Owned(shown) => Some(shown),
                }
            })
            .collect::<Vec<_>>()
    })
    .await?;
    Ok(DisplayTexts {
        rules: u32::try_from(rules).unwrap_or(u32::MAX),
        texts,
    })
}
