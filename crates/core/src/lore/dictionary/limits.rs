//! How much a dictionary may hold and do: rules, their texts, its regexes'
//! memory, and how much applying it may make a text grow.

/// Most rules one dictionary may hold (saved, read from a card, or compiled).
pub const MAX_DICTIONARY_RULES: usize = 10_000;
/// Longest find or replace text of one rule, in bytes.
pub const MAX_RULE_TEXT_BYTES: usize = 64 * 1024;
/// Memory all the regexes of one dictionary may use together once compiled.
pub const MAX_DICTIONARY_REGEX_MEMORY: usize = 32 * 1024 * 1024;

/// A text may grow to this many times its length...
pub const MAX_GROWTH_FACTOR: usize = 4;
/// ...or by this many bytes, whichever is more...
pub const GROWTH_ALLOWANCE_BYTES: usize = 64 * 1024;
/// ...but never past this (unless it was that long to begin with).
pub const MAX_OUTPUT_BYTES: usize = 16 * 1024 * 1024;

/// How long dictionaries may make a text of `input_len` bytes: at most
/// [`MAX_GROWTH_FACTOR`] times as long or [`GROWTH_ALLOWANCE_BYTES`] longer,
/// whichever is more, and never over [`MAX_OUTPUT_BYTES`]; a text already
/// longer than that may keep its length.
pub fn output_limit(input_len: usize) -> usize {
    let grown = input_len
        .saturating_mul(MAX_GROWTH_FACTOR)
        .max(input_len.saturating_add(GROWTH_ALLOWANCE_BYTES));
    grown.min(MAX_OUTPUT_BYTES).max(input_len)
}
