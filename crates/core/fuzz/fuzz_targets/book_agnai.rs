//! World books through `read_book`, aimed at the Agnai format: the raw bytes,
//! then JSON shaped like the format (the input's own, or built from it) with
//! its marker forced. Invariants: typed errors; a book read exports to
//! SillyTavern JSON and into a card and reads back the same; it compiles.
#![no_main]

use confab_core_fuzz::{fuzz_book, BookTarget};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_book(data, BookTarget::Agnai));
