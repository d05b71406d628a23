//! Conflicts between an archive and the library, and what the user chose for
//! each: nothing in the library is overwritten unless they said so.

use serde::{Deserialize, Serialize};

use super::ItemKind;

/// What to do with an archive item that differs from the library's item under
/// the same id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ConflictChoice {
    /// Keep the library's item; leave the archive's out.
    #[default]
    Skip,
    /// Replace the library's item by the archive's (the library's stays in the
    /// safety backup taken before the import).
    Overwrite,
    /// Keep the library's item and add the archive's as a copy: a new id, and
    /// "(imported)" after its name.
    KeepBoth,
}

impl ConflictChoice {
    /// The choice as the merge's SQL spells it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ConflictChoice::Skip => "skip",
            ConflictChoice::Overwrite => "overwrite",
            ConflictChoice::KeepBoth => "keepBoth",
        }
    }

    pub(crate) fn parse(text: &str) -> ConflictChoice {
        match text {
            "overwrite" => ConflictChoice::Overwrite,
            "keepBoth" => ConflictChoice::KeepBoth,
            _ => ConflictChoice::Skip,
        }
    }
}

/// The choice for one conflicting item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ItemChoice {
    /// What it is.
    pub kind: ItemKind,
    /// Its id in the archive.
    pub id: String,
    /// What to do with it.
    pub choice: ConflictChoice,
}

/// How an import settles conflicts: a choice per item, and one for the rest
/// (skip unless said otherwise), and the word a kept-both copy's name gets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ImportChoices {
    /// For every conflict not listed in `items`.
    #[serde(default)]
    pub default: ConflictChoice,
    /// Choices for single items.
    #[serde(default)]
    pub items: Vec<ItemChoice>,
    /// What a kept-both copy's name gets after it, in the user's language
    /// ("imported" when none is given): "Megumin (imported)".
    #[serde(default)]
    pub copy_label: Option<String>,
}

/// The longest copy label taken; a longer one falls back to the default.
const MAX_COPY_LABEL_CHARS: usize = 40;

impl ImportChoices {
    /// The same choice for every conflict.
    pub fn all(choice: ConflictChoice) -> ImportChoices {
        ImportChoices {
            default: choice,
            ..ImportChoices::default()
        }
    }

    /// What goes after a kept-both copy's name: " (imported)", or the label given.
    pub(crate) fn copy_suffix(&self) -> String {
        let label = self
            .copy_label
            .as_deref()
            .map(str::trim)
            .filter(|l| {
                !l.is_empty()
                    && l.chars().count() <= MAX_COPY_LABEL_CHARS
                    && !l.chars().any(char::is_control)
            })
            .unwrap_or("imported");
        format!(" ({label})")
    }
}

/// An archive item that differs from the library's item under the same id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Conflict {
    /// What it is.
    pub kind: ItemKind,
    /// Its id, in the archive and in the library.
    pub id: String,
    /// Its name in the archive (a chat's title, or its character's name).
    pub name: String,
    /// The library's item's name.
    pub current_name: String,
    /// What was (or, in a dry run, would be) done with it.
    pub choice: ConflictChoice,
    /// The copy's id, when it was kept as a copy.
    pub copy_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_s_label_is_the_one_given_or_imported() {
        let with = |label: Option<&str>| ImportChoices {
            copy_label: label.map(str::to_owned),
            ..ImportChoices::default()
        };
        assert_eq!(with(None).copy_suffix(), " (imported)");
        assert_eq!(
            with(Some(" импортировано ")).copy_suffix(),
            " (импортировано)"
        );
        for bad in ["", "   ", "a\nb", &"x".repeat(41)] {
            assert_eq!(with(Some(bad)).copy_suffix(), " (imported)", "{bad:?}");
        }
    }
}
