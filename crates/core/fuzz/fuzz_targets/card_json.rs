//! normalize (and the JSON round trip) on arbitrary JSON bytes.
#![no_main]

use confab_core::card::{normalize, read_card, to_v2_json, to_v3_json, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok((card, _)) = normalize(&value, "fuzz.json") {
            // Whatever was read must write, and read back to the same data.
            let v3 = to_v3_json(&card, Some(&value));
            let (again, _) = normalize(&v3, "fuzz.json").expect("a written card reads back");
            assert_eq!(again, card);
            let _ = to_v2_json(&card, Some(&value));
        }
    }
    let _ = read_card(data, "fuzz.json", &Limits::default());
});
