//! Shared by the world-book format tests: reading the lorebook fixtures, the
//! lists of them, the SillyTavern entry fields Confab knows, the parts of an
//! `invalid_world_book` error, and Seraphina's embedded book.
#![allow(dead_code)] // each test binary uses its own part of this

use confab_core::card::{read_card_file, Limits};
use confab_core::lore::formats::{read_book, BookFormat};
use confab_core::lore::Book;
use confab_core::Error;
use serde_json::Value;

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/lorebooks/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn read(name: &str) -> (Book, BookFormat) {
    read_book(&fixture(name), name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn read_json(v: &Value, name: &str) -> Result<(Book, BookFormat), Error> {
    read_book(&serde_json::to_vec(v).unwrap(), name)
}

pub const ST_FIXTURES: &[&str] = &[
    "st_worldinfo_official__Eldoria.json",
    "st_worldinfo_newfields__vibetavern_complete_book.json",
    "st_worldinfo_legacy__Toaru_2023.json",
];

pub const ALL_FIXTURES: &[&str] = &[
    "st_worldinfo_official__Eldoria.json",
    "st_worldinfo_newfields__vibetavern_complete_book.json",
    "st_worldinfo_legacy__Toaru_2023.json",
    "novelai__Ripple.lorebook",
    "novelai_truncated__Ripple.lorebook",
    "agnai_memorybook__chub_hogwarts.json",
    "risu_lorebook__rpg_perks.json",
];

/// ST entry fields Confab maps (everything else must survive verbatim).
pub const ST_KNOWN: &[&str] = &[
    "uid",
    "key",
    "keysecondary",
    "comment",
    "content",
    "constant",
    "selective",
    "selectiveLogic",
    "order",
    "position",
    "disable",
    "excludeRecursion",
    "preventRecursion",
    "delayUntilRecursion",
    "probability",
    "useProbability",
    "depth",
    "group",
    "groupOverride",
    "groupWeight",
    "scanDepth",
    "caseSensitive",
    "matchWholeWords",
    "useGroupScoring",
    "sticky",
    "cooldown",
    "delay",
    "ignoreBudget",
    "role",
    "outletName",
    "vectorized",
    "automationId",
    "triggers",
    "displayIndex",
    "characterFilter",
    "matchPersonaDescription",
    "matchCharacterDescription",
    "matchCharacterPersonality",
    "matchCharacterDepthPrompt",
    "matchScenario",
    "matchCreatorNotes",
];

pub fn invalid_parts(err: &Error) -> (Option<String>, Option<String>) {
    match err {
        Error::InvalidWorldBook { entry, field, .. } => (entry.clone(), field.clone()),
        other => panic!("expected InvalidWorldBook, got {other:?}"),
    }
}

pub fn seraphina_book_json() -> Value {
    let path = format!(
        "{}/tests/fixtures/cards/ccv3_plus_chara__st_default_Seraphina.png",
        env!("CARGO_MANIFEST_DIR")
    );
    let card = read_card_file(std::path::Path::new(&path), &Limits::default()).unwrap();
    card.data
        .character_book
        .expect("Seraphina's card embeds a world book")
}
