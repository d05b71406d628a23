//! Shared by the activation engine tests: entries and books built in code,
//! compiling them, a chat to scan, and reading what fired and what was dropped.
#![allow(dead_code)] // each test binary uses its own part of this

use confab_core::lore::{
    compile, scan, Book, BookSettings, CompiledBook, DropReason, Entry, ScanInput, ScanMessage,
    ScanReport, TimedState,
};
use confab_core::tokens::{EstimateCounter, TokenCounter};

pub fn entry(uid: u32, keys: &[&str], content: &str) -> Entry {
    let mut e = Entry::new(uid);
    e.keys = keys.iter().map(|k| k.to_string()).collect();
    e.content = content.to_owned();
    e.comment = format!("entry {uid}");
    e
}

pub fn book(entries: Vec<Entry>) -> Book {
    book_with(BookSettings::default(), entries)
}

pub fn book_with(settings: BookSettings, entries: Vec<Entry>) -> Book {
    Book {
        name: "test".into(),
        description: String::new(),
        settings,
        entries,
        extensions: Default::default(),
    }
}

pub fn counter() -> &'static dyn TokenCounter {
    static C: EstimateCounter = EstimateCounter;
    &C
}

pub fn compiled(b: &Book) -> CompiledBook {
    compile(b, "book", counter()).expect("compiles")
}

/// Messages oldest first, alternating user "Ann" / assistant "Mira".
pub fn chat(texts: &[&str]) -> ScanInput {
    ScanInput {
        messages: texts
            .iter()
            .enumerate()
            .map(|(i, t)| ScanMessage {
                role: if i % 2 == 0 { "user" } else { "assistant" }.into(),
                name: if i % 2 == 0 { "Ann" } else { "Mira" }.into(),
                content: t.to_string(),
            })
            .collect(),
        context_tokens: 100_000,
        ..ScanInput::default()
    }
}

pub fn run(b: &Book, input: &ScanInput) -> ScanReport {
    let c = compiled(b);
    scan(&[&c], input, &mut TimedState::default(), 1)
}

pub fn fired(r: &ScanReport) -> Vec<u32> {
    r.activated.iter().map(|a| a.uid).collect()
}

pub fn drop_of(r: &ScanReport, uid: u32) -> Option<&DropReason> {
    r.dropped.iter().find(|d| d.uid == uid).map(|d| &d.reason)
}
