//! normalize (and the JSON round trip) on arbitrary JSON bytes, and on
//! card-shaped JSON built from them when they are not JSON.
//!
//! Invariants: typed errors; whatever was read writes (V3, V2) and reads back
//! to the same data.
#![no_main]

use arbitrary::Unstructured;
use confab_core::card::{normalize, read_card, to_v2_json, to_v3_json, Limits};
use confab_core_fuzz::{check_card, shaped_card};
use libfuzzer_sys::fuzz_target;

fn check_value(value: &serde_json::Value) {
    if let Ok((card, _)) = normalize(value, "fuzz.json") {
        // Whatever was read must write, and read back to the same data.
        let v3 = to_v3_json(&card, Some(value));
        let (again, _) = normalize(&v3, "fuzz.json").expect("a written card reads back");
        assert_eq!(again, card);
        let _ = to_v2_json(&card, Some(value));
    }
    let bytes = serde_json::to_vec(value).expect("a Value serialises");
    check_card(
        read_card(&bytes, "fuzz.json", &Limits::default()),
        "json (shaped)",
    );
}

fuzz_target!(|data: &[u8]| {
    match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(value) => check_value(&value),
        Err(_) => {
            if let Ok(value) = shaped_card(&mut Unstructured::new(data)) {
                check_value(&value);
            }
        }
    }
    check_card(read_card(data, "fuzz.json", &Limits::default()), "json");
});
