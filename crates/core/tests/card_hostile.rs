//! Generated cards for every quirk, limit and hostile input the card reader must
//! survive: typed errors, never a panic, never an unbounded allocation.
//!
//! This file: PNG cards (with the allocation-counting allocator). WEBP, JPEG,
//! JSON, YAML, text and files are in card_hostile_formats.rs, CHARX in
//! card_hostile_charx.rs, the fuzz-style loop in card_hostile_fuzz.rs.

mod card_hostile_support;
mod support_alloc;

use std::io::{Cursor, Write};

use card_hostile_support::{b64, code, crc_chunk, plain_png, png_with, read, text_chunk, MB, V2};
use confab_core::card::{read_card, CardSpec, Limits};
use confab_core::ErrorCode;
use serde_json::json;

#[global_allocator]
static ALLOC: support_alloc::Counting = support_alloc::Counting;

// ---------- PNG ----------

#[test]
fn text_chunks_of_every_kind_read() {
    let v3 = r#"{"spec":"chara_card_v3","spec_version":"3.0","data":{"name":"Zed"}}"#;
    // zTXt: keyword, NUL, method 0, zlib data.
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(b64(v3).as_bytes()).unwrap();
    let mut ztxt = b"ccv3\0\0".to_vec();
    ztxt.extend_from_slice(&z.finish().unwrap());
    let card = read(&png_with(&[crc_chunk(b"zTXt", &ztxt)]), "z.png").unwrap();
    assert_eq!((card.data.name.as_str(), card.spec), ("Zed", CardSpec::V3));

    // iTXt uncompressed and compressed, keyword case-insensitive.
    let mut itxt = b"Chara\0\0\0en\0\0".to_vec();
    itxt.extend_from_slice(b64(V2).as_bytes());
    assert_eq!(
        read(&png_with(&[crc_chunk(b"iTXt", &itxt)]), "i.png")
            .unwrap()
            .data
            .name,
        "Ann"
    );
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(b64(V2).as_bytes()).unwrap();
    let mut itxt = b"chara\0\x01\0\0\0".to_vec();
    itxt.extend_from_slice(&z.finish().unwrap());
    assert_eq!(
        read(&png_with(&[crc_chunk(b"iTXt", &itxt)]), "i.png")
            .unwrap()
            .data
            .name,
        "Ann"
    );
}

#[test]
fn card_text_after_idat_and_unpadded_wrapped_base64_read() {
    let text = b64(V2).trim_end_matches('=').to_owned();
    let wrapped: String = text
        .as_bytes()
        .chunks(60)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let card = read(&png_with(&[text_chunk("chara", &wrapped)]), "a.png").unwrap();
    assert_eq!(card.data.name, "Ann");
    assert_eq!(card.spec, CardSpec::V2);
}

#[test]
fn ccv3_that_fails_to_parse_falls_back_to_chara() {
    let png = png_with(&[
        text_chunk("chara", &b64(V2)),
        text_chunk("ccv3", "!!!not base64!!!"),
    ]);
    assert_eq!(read(&png, "a.png").unwrap().data.name, "Ann");
}

#[test]
fn two_chara_chunks_that_disagree_take_the_first_with_a_warning() {
    let other = V2.replace("Ann", "Bea");
    let png = png_with(&[
        text_chunk("chara", &b64(V2)),
        text_chunk("chara", &b64(&other)),
    ]);
    let card = read(&png, "a.png").unwrap();
    assert_eq!(card.data.name, "Ann");
    assert!(
        card.warnings.iter().any(|w| w.contains("disagree")),
        "{:?}",
        card.warnings
    );
}

#[test]
fn a_bad_crc_on_one_of_two_copies_is_ignored_with_a_warning() {
    let mut damaged = text_chunk("ccv3", &b64(&V2.replace("Ann", "Bad")));
    let n = damaged.len();
    damaged[n - 1] ^= 0xFF;
    let png = png_with(&[damaged, text_chunk("chara", &b64(V2))]);
    let card = read(&png, "a.png").unwrap();
    assert_eq!(card.data.name, "Ann", "the intact copy wins");
    assert!(
        card.warnings.iter().any(|w| w.contains("damaged")),
        "{:?}",
        card.warnings
    );
}

#[test]
fn the_only_card_chunk_damaged_is_still_tried() {
    let mut damaged = text_chunk("chara", &b64(V2));
    let n = damaged.len();
    damaged[n - 2] ^= 0x55;
    let card = read(&png_with(&[damaged.clone()]), "a.png").unwrap();
    assert_eq!(card.data.name, "Ann");
    assert!(
        card.warnings.iter().any(|w| w.contains("checksum")),
        "{:?}",
        card.warnings
    );
    // Damage inside the text too: now it cannot parse.
    damaged[20] = b'!';
    assert_eq!(
        code(read(&png_with(&[damaged]), "a.png")),
        ErrorCode::InvalidCard
    );
}

#[test]
fn a_truncated_png_uses_the_chunks_read_so_far() {
    // Card before the pixels: cut inside IDAT still reads.
    let mut png = plain_png();
    let at = 33; // after the signature and IHDR
    let chunk = text_chunk("chara", &b64(V2));
    png.splice(at..at, chunk.iter().copied());
    let cut = &png[..png.len() - 20];
    let card = read(cut, "cut.png").unwrap();
    assert_eq!(card.data.name, "Ann");
    assert!(card.warnings.iter().any(|w| w.contains("cut off")));
    // Cut inside the card chunk: nothing to read.
    assert_eq!(
        code(read(&png[..at + 30], "cut.png")),
        ErrorCode::InvalidCard
    );
    // A chunk length pointing far past the end.
    let mut lie = png[..at].to_vec();
    lie.extend_from_slice(&[0x7F, 0xFF, 0xFF, 0xFF]);
    lie.extend_from_slice(b"tEXtchara\0");
    assert_eq!(code(read(&lie, "lie.png")), ErrorCode::InvalidCard);
    // Every prefix of a card PNG: no panic.
    for n in 0..png.len() {
        let _ = read(&png[..n], "p.png");
    }
}

#[test]
fn latin1_bytes_in_a_text_chunk_do_not_fail_the_card() {
    let mut data = b"chara\0".to_vec();
    data.extend_from_slice(b"{\"name\":\"Jos\xe9\",\"first_mes\":\"Ol\xe1\"}");
    let card = read(&png_with(&[crc_chunk(b"tEXt", &data)]), "a.png").unwrap();
    assert_eq!(card.data.name, "José");
    assert_eq!(card.spec, CardSpec::V1);
}

#[test]
fn a_ztxt_that_inflates_to_gigabytes_is_capped() {
    // One megabyte of zeros as a byte-aligned deflate block, repeated 1024 times:
    // about a gigabyte once inflated, about a megabyte on disk.
    let mut c = flate2::Compress::new(flate2::Compression::best(), false);
    let mut block = Vec::with_capacity(64 * 1024);
    c.compress_vec(&vec![0u8; 1 << 20], &mut block, flate2::FlushCompress::Full)
        .unwrap();
    let mut data = b"chara\0\0\x78\x9c".to_vec();
    for _ in 0..1024 {
        data.extend_from_slice(&block);
    }
    let start = std::time::Instant::now();
    let err = code(read(&png_with(&[crc_chunk(b"zTXt", &data)]), "bomb.png"));
    assert_eq!(err, ErrorCode::TooLarge);
    assert!(start.elapsed().as_secs() < 20);
}

/// A zTXt chunk holding `text` under `keyword`.
fn ztxt_chunk(keyword: &str, text: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(text).unwrap();
    let mut data = format!("{keyword}\0\0").into_bytes();
    data.extend_from_slice(&z.finish().unwrap());
    crc_chunk(b"zTXt", &data)
}

/// A V2 card named `name` whose description is `size` bytes of `x`, as base64.
fn big_card_b64(name: &str, size: usize) -> String {
    let card = json!({"spec": "chara_card_v2", "spec_version": "2.0",
        "data": {"name": name, "description": "x".repeat(size)}});
    b64(&card.to_string())
}

#[test]
fn a_thousand_ztxt_card_chunks_are_refused_before_any_is_inflated() {
    // Each chunk is a few kilobytes on disk and a quarter-megabyte card once
    // inflated and parsed; every one used to be inflated, parsed and kept.
    let chunk = ztxt_chunk("chara", big_card_b64("Ann", MB / 4).as_bytes());
    let chunks = vec![chunk; 1000];
    let png = png_with(&chunks);
    assert!(png.len() < 10 * MB, "{}", png.len());
    let (result, peak, total) = support_alloc::measure(|| read(&png, "many.png"));
    let err = result.unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooLarge);
    assert!(err.to_string().contains("chunks"), "{err}");
    assert!(peak < MB, "peak {peak} bytes");
    assert!(total < 2 * MB, "allocated {total} bytes");

    // Within the count, the card is read as usual.
    let few = png_with(&chunks[..3]);
    assert_eq!(read(&few, "few.png").unwrap().data.name, "Ann");
}

#[test]
fn many_chara_copies_are_compared_by_hash_within_a_budget() {
    // Sixteen (the most allowed) different cards of 900 KB each: the first is
    // used, the disagreement is warned about, and at most two are decoded at
    // a time instead of all sixteen kept.
    let limits = Limits {
        max_json_bytes: MB,
        ..Limits::default()
    };
    let chunks: Vec<Vec<u8>> = (0..16)
        .map(|i| {
            ztxt_chunk(
                "chara",
                big_card_b64(&format!("Ann {i}"), 900 * 1024).as_bytes(),
            )
        })
        .collect();
    let png = png_with(&chunks);
    let (card, peak, _) = support_alloc::measure(|| read_card(&png, "copies.png", &limits));
    let card = card.unwrap();
    assert_eq!(card.data.name, "Ann 0");
    assert!(
        card.warnings
            .iter()
            .any(|w| w.contains("16 `chara` chunks that disagree")),
        "{:?}",
        card.warnings
    );
    // The chosen card (text, JSON value, normalised data) and one copy being compared.
    assert!(peak < 10 * MB, "peak {} MB", peak / MB);
}

#[test]
fn text_chunks_that_inflate_to_the_cap_share_one_budget() {
    // Sixteen chunks of garbage, each inflating past the per-chunk cap: all
    // together are inflated at most to twice the cap, not sixteen times.
    let limits = Limits {
        max_json_bytes: MB,
        ..Limits::default()
    };
    let chunk = ztxt_chunk("chara", &vec![b'A'; 2 * MB]);
    let png = png_with(&vec![chunk; 16]);
    let (result, _, total) = support_alloc::measure(|| read_card(&png, "garbage.png", &limits));
    assert_eq!(code(result), ErrorCode::TooLarge);
    // One chunk's cap is about 1.3 MB; growing vectors allocate about twice what they hold.
    assert!(total < 12 * MB, "allocated {} MB", total / MB);
}

#[test]
fn an_image_without_a_card_is_no_card_data() {
    assert_eq!(code(read(&plain_png(), "photo.png")), ErrorCode::NoCardData);
    let other = png_with(&[text_chunk("Comment", "hello")]);
    assert_eq!(code(read(&other, "photo.png")), ErrorCode::NoCardData);
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::new(4, 4));
    for (fmt, name) in [
        (image::ImageFormat::Jpeg, "photo.jpg"),
        (image::ImageFormat::WebP, "photo.webp"),
    ] {
        let mut bytes = Vec::new();
        img.write_to(&mut Cursor::new(&mut bytes), fmt).unwrap();
        assert_eq!(code(read(&bytes, name)), ErrorCode::NoCardData, "{name}");
    }
}
