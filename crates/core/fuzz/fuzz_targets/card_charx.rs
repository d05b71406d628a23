//! CHARX cards: the raw bytes (seeded with real CHARX files), then a zip built
//! from the input: a `card.json` (the input's JSON, or card-shaped JSON built
//! from it) and files at paths the card lists or not, stored or deflated.
//!
//! Invariants: typed errors; a card read writes back as JSON and reads the
//! same; a CHARX read writes back as a CHARX (`write_charx`) that reads back
//! with the same card, the same avatar and every asset file.
#![no_main]

use std::io::{Cursor, Write};

use arbitrary::{Result, Unstructured};
use confab_core::card::{read_card, write_charx, ParsedCard};
use confab_core_fuzz::{check_card, shaped_card, small_limits};
use libfuzzer_sys::fuzz_target;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const PATHS: &[&str] = &[
    "card.json",
    "CARD.JSON",
    "assets/icon/images/main.png",
    "assets/icon/main.webp",
    "assets/other/x.png",
    "assets/emotion/happy.png",
    "module.risum",
    "x_meta/1.json",
    "assets/",
    "./x.png",
    "a/../b.png",
    "/abs.png",
    "C:/x.png",
    "a\\b.png",
];

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

fn build(u: &mut Unstructured<'_>, card_json: &[u8]) -> Result<Vec<u8>> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let n = u.int_in_range(0..=5)?;
    let card_at = u.int_in_range(0..=n)?;
    for i in 0..=n {
        let method = if u.arbitrary()? {
            CompressionMethod::Deflated
        } else {
            CompressionMethod::Stored
        };
        let opts = SimpleFileOptions::default().compression_method(method);
        let (path, bytes): (String, Vec<u8>) = if i == card_at {
            ("card.json".into(), card_json.to_vec())
        } else {
            let path = if u.ratio(3, 4)? {
                (*u.choose(PATHS)?).to_owned()
            } else {
                u.arbitrary()?
            };
            let bytes = if u.ratio(1, 3)? {
                PNG.to_vec()
            } else {
                u.arbitrary::<Vec<u8>>()?
            };
            (path, bytes)
        };
        if zip.start_file(path, opts).is_err() || zip.write_all(&bytes).is_err() {
            return Err(arbitrary::Error::IncorrectFormat);
        }
    }
    zip.finish()
        .map(Cursor::into_inner)
        .map_err(|_| arbitrary::Error::IncorrectFormat)
}

fn check_charx(card: &ParsedCard) {
    let bytes = write_charx(
        &card.data,
        Some(&card.original),
        card.avatar.as_ref(),
        &card.assets,
    )
    .unwrap_or_else(|e| panic!("a CHARX that was read writes back: {e}"));
    let again = read_card(&bytes, "again.charx", &small_limits())
        .unwrap_or_else(|e| panic!("a written CHARX reads back: {e}"));
    // The writer lists the avatar as the main icon and every file it carries,
    // so `assets` may differ; the rest of the card may not.
    let mut want = card.data.clone();
    let mut got = again.data.clone();
    want.assets.clear();
    got.assets.clear();
    assert_eq!(got, want, "CHARX -> write_charx -> read changed the card");
    assert_eq!(
        again.avatar.as_ref().map(|a| &a.bytes),
        card.avatar.as_ref().map(|a| &a.bytes),
        "the avatar changed"
    );
    for a in &card.assets {
        assert!(
            again
                .assets
                .iter()
                .any(|b| b.path == a.path && b.bytes == a.bytes),
            "asset {} was lost",
            a.path
        );
    }
}

fn check(bytes: &[u8]) {
    let result = read_card(bytes, "fuzz.charx", &small_limits());
    if let Ok(card) = &result {
        if card.format == confab_core::card::CardFormat::Charx {
            check_charx(card);
        }
    }
    check_card(result, "charx");
}

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut u = Unstructured::new(data);
    let card_json = match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(_) => data.to_vec(),
        Err(_) => match shaped_card(&mut u) {
            Ok(v) => serde_json::to_vec(&v).expect("a Value serialises"),
            Err(_) => return,
        },
    };
    if let Ok(zip) = build(&mut u, &card_json) {
        check(&zip);
    }
});
