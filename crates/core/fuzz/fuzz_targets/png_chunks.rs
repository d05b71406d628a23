//! The PNG chunk reader and everything behind it (text chunks, zTXt/iTXt
//! inflate, base64, JSON, normalize) on PNG-shaped input.
#![no_main]

use confab_core::card::{read_card, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small limits keep each run fast; the code paths are the same.
    let limits = Limits {
        max_json_bytes: 1 << 20,
        ..Limits::default()
    };
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(data.strip_prefix(b"\x89PNG\r\n\x1a\n").unwrap_or(data));
    let _ = read_card(&png, "fuzz.png", &limits);
    // Other containers sniffed from the raw bytes (CHARX, WEBP, JPEG, JSON).
    let _ = read_card(data, "fuzz.bin", &limits);
});
