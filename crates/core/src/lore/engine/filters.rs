//! Who and what an entry is for: generation-type triggers and character filters,
//! checked as SillyTavern's `checkWorldInfo` checks them.

use super::{ScanCharacter, Trigger};
use crate::lore::model::CharacterFilter;

/// Whether an entry with `triggers` fires for `trigger`: an empty list means every
/// kind. Confab's Regenerate writes a new swipe, so it also counts as `swipe`.
pub(crate) fn trigger_allows(triggers: &[String], trigger: Trigger) -> bool {
    let mut listed = triggers
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .peekable();
    if listed.peek().is_none() {
        return true;
    }
    listed.any(|t| {
        t.eq_ignore_ascii_case(trigger.st_name())
            || (trigger == Trigger::Regenerate && t.eq_ignore_ascii_case(Trigger::Swipe.st_name()))
    })
}

/// Whether `filter` leaves `character` out: `Some(by_tag)` when it does (by its tags,
/// else by its names), `None` when the entry is for this character.
///
/// As in ST, names and tags are two checks that must both pass: an including filter
/// needs the character among its names (when it has names) and one of its tags
/// (when it has tags); an excluding filter leaves out a listed name or any listed tag.
pub(crate) fn filtered_out(filter: &CharacterFilter, character: &ScanCharacter) -> Option<bool> {
    let names = filter.names.iter().filter(|n| !n.trim().is_empty());
    if names.clone().next().is_some() {
        let listed = names
            .into_iter()
            .any(|n| same_character(n, &character.name));
        if listed == filter.exclude {
            return Some(false);
        }
    }
    let tags = filter.tags.iter().filter(|t| !t.trim().is_empty());
    if tags.clone().next().is_some() {
        let tagged = tags.into_iter().any(|t| {
            character
                .tags
                .iter()
                .any(|c| t.trim().to_lowercase() == c.trim().to_lowercase())
        });
        if tagged == filter.exclude {
            return Some(true);
        }
    }
    None
}

/// A filter name names `character`: the same name regardless of case, or the same
/// once a file extension is left off (ST lists avatar files, `Seraphina.png`).
fn same_character(listed: &str, character: &str) -> bool {
    let listed = listed.trim().to_lowercase();
    let character = character.trim().to_lowercase();
    if character.is_empty() {
        return false;
    }
    if listed == character {
        return true;
    }
    // ST strips `\.[^/.]+$` from avatar file names.
    match listed.rsplit_once('.') {
        Some((stem, ext)) if !ext.is_empty() && !ext.contains('/') => stem.trim() == character,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(name: &str, tags: &[&str]) -> ScanCharacter {
        ScanCharacter {
            name: name.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn triggers_list_the_kinds_an_entry_fires_for() {
        let list = |l: &[&str]| l.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        assert!(trigger_allows(&[], Trigger::Quiet));
        assert!(trigger_allows(
            &list(&["normal", "continue"]),
            Trigger::Continue
        ));
        assert!(!trigger_allows(&list(&["normal"]), Trigger::Impersonate));
        assert!(trigger_allows(&list(&["swipe"]), Trigger::Regenerate));
        assert!(trigger_allows(&list(&["regenerate"]), Trigger::Regenerate));
        assert!(!trigger_allows(&list(&["regenerate"]), Trigger::Swipe));
        assert!(trigger_allows(&list(&[" "]), Trigger::Normal));
    }

    #[test]
    fn names_match_avatar_files_and_any_case() {
        assert!(same_character("Seraphina.png", "seraphina"));
        assert!(same_character("SERAPHINA", "Seraphina"));
        assert!(same_character("Dr. Who", "Dr. Who"));
        assert!(!same_character("Seraphina.png", "Sera"));
        assert!(!same_character("", ""));
    }

    #[test]
    fn include_and_exclude_by_names_and_tags() {
        let filter = |exclude, names: &[&str], tags: &[&str]| CharacterFilter {
            exclude,
            names: names.iter().map(|n| n.to_string()).collect(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        };
        let mira = who("Mira", &["Fantasy", "elf"]);
        assert_eq!(
            filtered_out(&filter(false, &["Mira.png"], &[]), &mira),
            None
        );
        assert_eq!(
            filtered_out(&filter(false, &["Ann"], &[]), &mira),
            Some(false)
        );
        assert_eq!(
            filtered_out(&filter(true, &["mira"], &[]), &mira),
            Some(false)
        );
        assert_eq!(filtered_out(&filter(false, &[], &["ELF"]), &mira), None);
        assert_eq!(
            filtered_out(&filter(false, &[], &["scifi"]), &mira),
            Some(true)
        );
        assert_eq!(
            filtered_out(&filter(true, &[], &["fantasy"]), &mira),
            Some(true)
        );
        // Both checks must pass for an including filter.
        assert_eq!(
            filtered_out(&filter(false, &["Mira"], &["scifi"]), &mira),
            Some(true)
        );
        // An empty filter, excluding or not, leaves everyone in.
        assert_eq!(filtered_out(&filter(true, &[], &[]), &mira), None);
    }
}
