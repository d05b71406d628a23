//! The macro expander (`substitute_macros`) with an arbitrary context and text.
//!
//! Invariants: one pass, so the output is bounded by the input times the
//! largest value a macro can put in (no re-expansion, no blow-up); the same
//! context gives the same text; text without `{{` or `<` comes back as it was.
#![no_main]

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use confab_core::prompt::{substitute_macros, MacroContext};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    char_name: String,
    user_name: String,
    original: String,
    /// A readable `now` (year, month, day, hour, minute) or any text.
    now: Result<(u16, u8, u8, u8, u8), String>,
    seed: u64,
    outlets: Vec<(String, String)>,
    text: String,
}

fuzz_target!(|input: Input| {
    let now = match input.now {
        Ok((y, mo, d, h, mi)) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:00Z",
            y % 10000,
            mo % 14,
            d % 33,
            h % 25,
            mi % 61
        ),
        Err(s) => s,
    };
    let ctx = MacroContext {
        group: input.char_name.clone(),
        char_name: input.char_name,
        user_name: input.user_name,
        original: input.original,
        now,
        seed: input.seed,
        outlets: input
            .outlets
            .into_iter()
            .take(8)
            .collect::<BTreeMap<_, _>>(),
    };
    let text = input.text.as_str();
    let out = substitute_macros(text, &ctx);

    // Every macro takes at least 4 bytes of the text (`{{x}}`, `<BOT>`) and puts
    // in at most one context value, or a date, a roll, a pick from its own text.
    let largest = [&ctx.char_name, &ctx.user_name, &ctx.original]
        .into_iter()
        .chain(ctx.outlets.values())
        .map(String::len)
        .max()
        .unwrap_or(0)
        .max(64);
    let bound = text.len() + (text.len() / 4 + 1) * largest;
    assert!(
        out.len() <= bound,
        "{} bytes from {} (bound {bound})",
        out.len(),
        text.len()
    );

    assert_eq!(
        substitute_macros(text, &ctx),
        out,
        "the same context gives the same text"
    );
    if !text.contains("{{") && !text.contains('<') {
        assert_eq!(out, text, "text without macros changed");
    }
});
