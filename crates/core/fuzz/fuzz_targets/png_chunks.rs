//! The PNG chunk reader and everything behind it (text chunks, zTXt/iTXt
//! inflate, base64, JSON, normalize) on PNG-shaped input, and the raw bytes
//! sniffed as any container (CHARX, WEBP, JPEG, JSON).
//!
//! Invariants: typed errors; a card read writes back as JSON and reads the same.
#![no_main]

use confab_core::card::read_card;
use confab_core_fuzz::{check_card, small_limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = small_limits();
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(data.strip_prefix(b"\x89PNG\r\n\x1a\n").unwrap_or(data));
    check_card(read_card(&png, "fuzz.png", &limits), "png");
    check_card(read_card(data, "fuzz.bin", &limits), "sniffed");
});
