//! YAML, Markdown and plain-text cards (chosen by the file name, since their
//! bytes have no magic), and JSON not starting with `{` read as `.json`.
//!
//! Input: byte 0 picks the extension, the rest is the file. Invariants: typed
//! errors (YAML bombs and deep nesting are `too_large`); a card read writes
//! back as JSON and reads the same.
#![no_main]

use confab_core::card::read_card;
use confab_core_fuzz::{check_card, small_limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let name = match pick % 4 {
        0 | 1 => "fuzz.yaml",
        2 => "fuzz.md",
        _ => "fuzz.json",
    };
    check_card(read_card(body, name, &small_limits()), name);
});
