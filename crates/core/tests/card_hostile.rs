//! Generated cards for every quirk, limit and hostile input the card reader must
//! survive: typed errors, never a panic, never an unbounded allocation.

use std::io::{Cursor, Write};

use base64::Engine;
use confab_core::card::{
    normalize, read_card, read_card_file, write_charx, write_png, CardData, CardFormat, CardSpec,
    EmbeddedAsset, Image, Limits,
};
use confab_core::{Error, ErrorCode};
use serde_json::json;

mod support_alloc;

#[global_allocator]
static ALLOC: support_alloc::Counting = support_alloc::Counting;

const MB: usize = 1024 * 1024;

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn crc_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut h = crc32fast::Hasher::new();
    h.update(kind);
    h.update(data);
    out.extend_from_slice(&h.finalize().to_be_bytes());
    out
}

/// A small real PNG (8x8, RGB), no text chunks.
fn plain_png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(8, 8, |x, y| image::Rgb([x as u8 * 30, y as u8 * 30, 99]));
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// `plain_png` with the given chunks inserted before IEND.
fn png_with(chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut png = plain_png();
    let iend = png.len() - 12;
    let tail = png.split_off(iend);
    for c in chunks {
        png.extend_from_slice(c);
    }
    png.extend_from_slice(&tail);
    png
}

fn text_chunk(keyword: &str, text: &str) -> Vec<u8> {
    crc_chunk(b"tEXt", format!("{keyword}\0{text}").as_bytes())
}

fn read(bytes: &[u8], name: &str) -> Result<confab_core::card::ParsedCard, Error> {
    read_card(bytes, name, &Limits::default())
}

fn code(r: Result<confab_core::card::ParsedCard, Error>) -> ErrorCode {
    match r {
        Ok(c) => panic!("expected an error, read {:?}", c.data.name),
        Err(e) => {
            // Every message is a sentence about the file, not a debug dump.
            let msg = e.to_string();
            assert!(!msg.contains("Error {") && msg.len() > 10, "{msg}");
            e.code()
        }
    }
}

const V2: &str =
    r#"{"spec":"chara_card_v2","spec_version":"2.0","data":{"name":"Ann","first_mes":"Hi"}}"#;

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

// ---------- WEBP / JPEG ----------

fn tiff_with_comment(comment: &[u8]) -> Vec<u8> {
    let mut t = b"Exif\0\0II*\0\x08\0\0\0".to_vec();
    t.extend_from_slice(&1u16.to_le_bytes());
    t.extend_from_slice(&0x9286u16.to_le_bytes());
    t.extend_from_slice(&7u16.to_le_bytes());
    t.extend_from_slice(&(comment.len() as u32).to_le_bytes());
    t.extend_from_slice(&26u32.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(comment);
    t
}

fn jpeg_with_app1(payload: &[u8]) -> Vec<u8> {
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::new(4, 4));
    let mut jpg = Vec::new();
    img.write_to(&mut Cursor::new(&mut jpg), image::ImageFormat::Jpeg)
        .unwrap();
    let mut seg = vec![0xFF, 0xE1];
    seg.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    seg.extend_from_slice(payload);
    jpg.splice(2..2, seg);
    jpg
}

#[test]
fn jpeg_cards_read_from_exif_and_xmp() {
    let mut comment = b"ASCII\0\0\0".to_vec();
    comment.extend_from_slice(V2.as_bytes());
    let card = read(&jpeg_with_app1(&tiff_with_comment(&comment)), "a.jpg").unwrap();
    assert_eq!(
        (card.data.name.as_str(), card.format),
        ("Ann", CardFormat::Jpeg)
    );
    assert_eq!(card.avatar.as_ref().map(|a| a.mime), Some("image/jpeg"));

    let xmp = format!(
        "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><rdf:Description xmlns:c=\"u\" c:chara=\"{}\"/></x:xmpmeta>",
        b64(V2)
    );
    let card = read(&jpeg_with_app1(xmp.as_bytes()), "a.jpg").unwrap();
    assert_eq!(card.data.name, "Ann");
    // And a PNG made from it transcodes the JPEG.
    let png = write_png(&card.data, Some(&card.original), card.avatar.as_ref()).unwrap();
    assert_eq!(read(&png, "a.png").unwrap().data, card.data);
}

#[test]
fn webp_cards_read_from_xmp() {
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::new(4, 4));
    let mut webp = Vec::new();
    img.write_to(&mut Cursor::new(&mut webp), image::ImageFormat::WebP)
        .unwrap();
    let xmp = format!("<c:ccv3>{}</c:ccv3>", b64(V2));
    webp.extend_from_slice(b"XMP ");
    webp.extend_from_slice(&(xmp.len() as u32).to_le_bytes());
    webp.extend_from_slice(xmp.as_bytes());
    let card = read(&webp, "a.webp").unwrap();
    assert_eq!(
        (card.data.name.as_str(), card.format),
        ("Ann", CardFormat::Webp)
    );
}

// ---------- JSON ----------

#[test]
fn sloppy_json_is_accepted() {
    let text = "\u{FEFF}\r\n {\"data\": {\"name\": \"Ann\", \"description\": \"line1\\r\\nline2\", \"character_book\": null,
        \"alternate_greetings\": \"Hello\", \"tags\": \"a, b\", \"creation_date\": \"1700000000000\",
        \"personality\": null, \"scenario\": 12, \"extensions\": {\"x\": {\"y\": [1]}}}}";
    let card = read(text.as_bytes(), "c.json").unwrap();
    let d = &card.data;
    assert_eq!(card.spec, CardSpec::V2, "a wrapper without spec is V2");
    assert_eq!(d.description, "line1\nline2");
    assert_eq!(d.character_book, None);
    assert_eq!(d.alternate_greetings, ["Hello"]);
    assert_eq!(d.tags, ["a", "b"]);
    assert_eq!(d.creation_date, Some(1_700_000_000));
    assert_eq!(d.personality, "");
    assert_eq!(d.scenario, "12");
    assert_eq!(d.extensions["x"], json!({"y": [1]}));
}

#[test]
fn v1_json_maps_like_sillytavern() {
    let v = json!({"name": "Old", "description": "d", "first_mes": "hi", "creatorcomment": "notes",
        "talkativeness": "0.7", "create_date": "2023-2-21 @10h", "chat": "x"});
    let (d, spec) = normalize(&v, "old.json").unwrap();
    assert_eq!(spec, CardSpec::V1);
    assert_eq!(d.creator_notes, "notes");
    assert_eq!(d.extensions["talkativeness"], "0.7");
    // V1 extras survive an export at the top level, as SillyTavern keeps them.
    let out = confab_core::card::to_v2_json(&d, Some(&v));
    assert_eq!(out["chat"], "x");
    assert_eq!(out["data"]["name"], "Old");
}

#[test]
fn json_nested_ten_thousand_deep_is_too_large() {
    let deep = format!(
        "{{\"name\":\"x\",\"extensions\":{}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert_eq!(
        code(read(deep.as_bytes(), "deep.json")),
        ErrorCode::TooLarge
    );
    // Same inside a PNG.
    let png = png_with(&[text_chunk("chara", &b64(&deep))]);
    assert_eq!(code(read(&png, "deep.png")), ErrorCode::TooLarge);
}

#[test]
fn json_that_is_not_a_card_is_refused_in_words() {
    assert_eq!(
        code(read(b"{\"hello\": 1}", "x.json")),
        ErrorCode::InvalidCard
    );
    assert_eq!(code(read(b"{\"name\": ", "x.json")), ErrorCode::InvalidCard);
    assert_eq!(code(read(b"[1,2]", "x.json")), ErrorCode::InvalidCard);
}

#[test]
fn big_json_over_the_limit_is_too_large() {
    let limits = Limits {
        max_json_bytes: 1000,
        ..Limits::default()
    };
    let big = format!("{{\"name\":\"{}\"}}", "a".repeat(2000));
    assert_eq!(
        read_card(big.as_bytes(), "b.json", &limits)
            .unwrap_err()
            .code(),
        ErrorCode::TooLarge
    );
    let png = png_with(&[text_chunk("chara", &b64(&big))]);
    assert_eq!(
        read_card(&png, "b.png", &limits).unwrap_err().code(),
        ErrorCode::TooLarge
    );
}

// ---------- files, sizes, junk ----------

#[test]
fn a_60_mb_file_is_too_large_without_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.png");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(60 * 1024 * 1024).unwrap(); // sparse: nothing is written or read
    let err = read_card_file(&path, &Limits::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooLarge);
    assert!(err.to_string().contains("50 MB"), "{err}");
    let bytes = vec![0u8; 60 * 1024 * 1024];
    assert_eq!(code(read(&bytes, "huge.png")), ErrorCode::TooLarge);
}

#[test]
fn read_card_file_reads_and_reports_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ann.json");
    std::fs::write(&path, V2).unwrap();
    assert_eq!(
        read_card_file(&path, &Limits::default()).unwrap().data.name,
        "Ann"
    );
    let err = read_card_file(&dir.path().join("nope.png"), &Limits::default()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Io);
}

#[test]
fn empty_and_random_files_are_refused() {
    assert_eq!(code(read(b"", "e.png")), ErrorCode::InvalidCard);
    assert_eq!(code(read(b"  \n", "e.json")), ErrorCode::InvalidCard);
    let mut x: u64 = 0x9E3779B97F4A7C15;
    let junk: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    assert_eq!(code(read(&junk, "junk.bin")), ErrorCode::UnsupportedFormat);
    assert_eq!(code(read(&junk, "junk.png")), ErrorCode::InvalidCard);
    assert_eq!(
        code(read(b"GIF89a....", "a.gif")),
        ErrorCode::UnsupportedFormat
    );
}

// ---------- CHARX ----------

fn zip_of(files: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in files {
        z.start_file(*name, opts).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap().into_inner()
}

const CARD_JSON: &[u8] = br#"{"spec":"chara_card_v3","spec_version":"3.0","data":{"name":"Zip","assets":[{"type":"icon","uri":"embedded://a/face.png","name":"face","ext":"png"}]}}"#;

#[test]
fn charx_with_fifty_thousand_listed_assets_matches_in_linear_time() {
    // 50,000 listings and 4,000 files (near the entry limit): matching each
    // file against every listing was 200 million comparisons, three times over.
    const LISTED: usize = 50_000;
    const FILES: usize = 4_000;
    let mut listed = vec![
        json!({"type": "icon", "uri": "embeded://assets/icon/main.png",
        "name": "main", "ext": "png"}),
    ];
    // The files' listings come last, so a scan from the front finds each one last.
    listed.extend((0..LISTED).rev().map(|i| {
        json!({"type": "emotion", "uri": format!("embeded://assets/emotion/{i}.png"),
            "name": format!("e{i}"), "ext": "png"})
    }));
    let card = json!({"spec": "chara_card_v3", "spec_version": "3.0",
        "data": {"name": "Many", "assets": listed}})
    .to_string();
    let avatar = plain_png();
    let bodies: Vec<(String, Vec<u8>)> = (0..FILES)
        .map(|i| {
            (
                format!("assets/emotion/{i}.png"),
                format!("e{i}").into_bytes(),
            )
        })
        .collect();
    let mut files: Vec<(&str, &[u8])> = vec![
        ("card.json", card.as_bytes()),
        ("assets/icon/main.png", &avatar),
    ];
    files.extend(bodies.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
    let zip = zip_of(&files, zip::CompressionMethod::Stored);

    let read_back = read(&zip, "many.charx").unwrap();
    assert_eq!(read_back.avatar.as_ref().unwrap().bytes, avatar);
    assert_eq!(read_back.assets.len(), FILES);
    for (i, a) in read_back.assets.iter().enumerate() {
        assert_eq!(
            (a.kind.as_str(), a.name.as_str()),
            ("emotion", format!("e{i}").as_str())
        );
    }
    // 46,000 missing files: twenty named, the rest counted in one line.
    assert_eq!(
        read_back.warnings.len(),
        21,
        "{:?}",
        &read_back.warnings[..3]
    );
    assert!(read_back
        .warnings
        .iter()
        .any(|w| w.starts_with(&format!("{} more listed assets", LISTED - FILES - 20))));

    // Writing it again matches every asset against the listing the same way.
    let written = write_charx(
        &read_back.data,
        Some(&read_back.original),
        read_back.avatar.as_ref(),
        &read_back.assets,
    )
    .unwrap();
    let again = read(&written, "again.charx").unwrap();
    assert_eq!(again.assets.len(), FILES);
    assert_eq!(again.avatar.unwrap().bytes, avatar);
}

#[test]
fn charx_with_embedded_spelling_and_first_icon_reads() {
    let png = plain_png();
    let zip = zip_of(
        &[("card.json", CARD_JSON), ("a/face.png", &png)],
        zip::CompressionMethod::Deflated,
    );
    let card = read(&zip, "z.charx").unwrap();
    assert_eq!(card.data.name, "Zip");
    assert_eq!(
        card.avatar,
        Some(Image {
            bytes: png,
            mime: "image/png"
        })
    );
    assert!(card.assets.is_empty());
}

#[test]
fn charx_paths_that_escape_are_refused() {
    for bad in ["../evil", "/abs", "a/../../evil", "..\\evil", "C:/evil"] {
        let zip = zip_of(
            &[("card.json", CARD_JSON), (bad, b"x")],
            zip::CompressionMethod::Stored,
        );
        let err = read(&zip, "z.charx").unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidCard, "{bad}");
        assert!(err.to_string().contains("unsafe path"), "{err}");
    }
    // And the writer will not create them.
    let asset = EmbeddedAsset {
        kind: "x".into(),
        name: "e".into(),
        ext: "".into(),
        path: "../e".into(),
        bytes: vec![],
    };
    assert!(write_charx(&CardData::default(), None, None, &[asset]).is_err());
}

#[test]
fn charx_zip_bombs_are_refused() {
    // Tiny compressed, huge actual: 8 MB of zeros deflates to a few KB.
    let zeros = vec![0u8; 8 << 20];
    let zip = zip_of(
        &[("card.json", CARD_JSON), ("bomb.bin", &zeros)],
        zip::CompressionMethod::Deflated,
    );
    assert!(zip.len() < 100_000);
    assert_eq!(code(read(&zip, "bomb.charx")), ErrorCode::TooLarge);

    // Over the total, by declared sizes.
    let small = Limits {
        max_charx_total_bytes: 1 << 20,
        max_charx_ratio: u64::MAX,
        ..Limits::default()
    };
    let stored = zip_of(
        &[("card.json", CARD_JSON), ("big.bin", &vec![7u8; 2 << 20])],
        zip::CompressionMethod::Stored,
    );
    assert_eq!(
        read_card(&stored, "big.charx", &small).unwrap_err().code(),
        ErrorCode::TooLarge
    );

    // Headers that lie: declared 100 bytes, 8 MB inside. Reading stops at the
    // declared size (ours: `take`; the zip crate's own limit too), so the bomb is
    // never inflated; the entry then fails its size or checksum check.
    let mut lying = zip.clone();
    patch_sizes(&mut lying, "bomb.bin", 100);
    let lenient = Limits {
        max_charx_ratio: u64::MAX,
        ..Limits::default()
    };
    let err = read_card(&lying, "lie.charx", &lenient).unwrap_err();
    assert!(
        matches!(err.code(), ErrorCode::TooLarge | ErrorCode::InvalidCard),
        "{err}"
    );
    eprintln!("lying header: {err}");

    // Headers that declare 4 GB.
    let mut huge = zip.clone();
    patch_sizes(&mut huge, "bomb.bin", u32::MAX - 1);
    assert_eq!(code(read(&huge, "huge.charx")), ErrorCode::TooLarge);

    // Too many entries.
    let names: Vec<String> = (0..50).map(|i| format!("f{i}")).collect();
    let mut files: Vec<(&str, &[u8])> = vec![("card.json", CARD_JSON)];
    files.extend(names.iter().map(|n| (n.as_str(), &b""[..])));
    let many = zip_of(&files, zip::CompressionMethod::Stored);
    let few = Limits {
        max_charx_entries: 10,
        ..Limits::default()
    };
    assert_eq!(
        read_card(&many, "many.charx", &few).unwrap_err().code(),
        ErrorCode::TooLarge
    );
}

/// Sets the uncompressed size of `name` in its local and central headers.
fn patch_sizes(zip: &mut [u8], name: &str, size: u32) {
    let n = name.as_bytes();
    for i in 0..zip.len().saturating_sub(46) {
        if zip[i..].starts_with(b"PK\x03\x04") && zip[i + 30..].starts_with(n) {
            zip[i + 22..i + 26].copy_from_slice(&size.to_le_bytes());
        }
        if zip[i..].starts_with(b"PK\x01\x02") && zip[i + 46..].starts_with(n) {
            zip[i + 24..i + 28].copy_from_slice(&size.to_le_bytes());
        }
    }
}

#[test]
fn charx_without_card_json_or_damaged_is_invalid() {
    let zip = zip_of(&[("other.json", b"{}")], zip::CompressionMethod::Stored);
    assert_eq!(code(read(&zip, "z.charx")), ErrorCode::InvalidCard);
    assert_eq!(
        code(read(&zip[..zip.len() / 2], "z.charx")),
        ErrorCode::InvalidCard
    );
}

#[test]
fn charx_write_lists_avatar_and_assets() {
    let data = CardData {
        name: "W".into(),
        ..CardData::default()
    };
    let avatar = Image {
        bytes: plain_png(),
        mime: "image/png",
    };
    let assets = vec![
        EmbeddedAsset {
            kind: "emotion".into(),
            name: "joy".into(),
            ext: "png".into(),
            path: "assets/emotion/joy.png".into(),
            bytes: plain_png(),
        },
        EmbeddedAsset {
            kind: "".into(),
            name: "notes".into(),
            ext: "txt".into(),
            path: "x_meta/notes.txt".into(),
            bytes: b"hi".to_vec(),
        },
    ];
    let zip = write_charx(&data, None, Some(&avatar), &assets).unwrap();
    let card = read(&zip, "w.charx").unwrap();
    let uris: Vec<&str> = card.data.assets.iter().map(|a| a.uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            "embeded://assets/icon/image/main.png",
            "embeded://assets/emotion/joy.png"
        ]
    );
    assert_eq!(card.avatar, Some(avatar));
    assert_eq!(card.assets, assets);
}

// ---------- YAML, text ----------

#[test]
fn yaml_cards_read_flat_and_wrapped() {
    let flat = "name: Yara\ndescription: |\n  Line one\n  Line two\nfirst_mes: Hi\ntags: a, b\n";
    let card = read(flat.as_bytes(), "yara.yaml").unwrap();
    assert_eq!(
        (card.data.name.as_str(), card.spec, card.format),
        ("Yara", CardSpec::V1, CardFormat::Yaml)
    );
    assert_eq!(card.data.description, "Line one\nLine two\n");
    assert_eq!(card.data.tags, ["a", "b"]);
    let wrapped = "spec: chara_card_v3\nspec_version: '3.0'\ndata:\n  name: Yon\n  creation_date: 1700000000\n  alternate_greetings: [a, b]\n";
    let card = read(wrapped.as_bytes(), "y.yml").unwrap();
    assert_eq!((card.data.name.as_str(), card.spec), ("Yon", CardSpec::V3));
    assert_eq!(card.data.alternate_greetings, ["a", "b"]);
}

#[test]
fn hostile_yaml_is_refused() {
    let bomb = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: [*h,*h,*h,*h,*h,*h,*h,*h,*h]\nname: x\n";
    let c = code(read(bomb.as_bytes(), "bomb.yaml"));
    assert!(
        matches!(c, ErrorCode::TooLarge | ErrorCode::InvalidCard),
        "{c:?}"
    );
    let deep = format!(
        "name: x\nextensions: {}1{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let c = code(read(deep.as_bytes(), "deep.yaml"));
    assert!(
        matches!(c, ErrorCode::TooLarge | ErrorCode::InvalidCard),
        "{c:?}"
    );
    let deep_ok_for_yaml = format!(
        "name: x\nextensions: {{a: {}1{}}}\n",
        "[".repeat(110),
        "]".repeat(110)
    );
    assert_eq!(
        code(read(deep_ok_for_yaml.as_bytes(), "deep.yaml")),
        ErrorCode::TooLarge
    );
    assert_eq!(
        code(read(b"- just\n- a list\n", "l.yaml")),
        ErrorCode::InvalidCard
    );
}

#[test]
fn text_and_markdown_cards_take_their_name_from_the_file() {
    let card = read(
        "\u{FEFF}# About\r\nA quiet librarian.\r\n".as_bytes(),
        "old_book-keeper.md",
    )
    .unwrap();
    assert_eq!(card.data.name, "old book keeper");
    assert_eq!(card.data.description, "# About\nA quiet librarian.");
    assert_eq!(card.format, CardFormat::Text);
    let png = write_png(&card.data, Some(&card.original), None).unwrap();
    assert_eq!(read(&png, "x.png").unwrap().data, card.data);
    assert!(png.len() < 30_000, "placeholder PNG is {} bytes", png.len());
}

// ---------- fuzz-style loop ----------

#[test]
fn mutated_cards_never_panic() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cards/");
    let seeds = [
        "ccv3_over_chara__vibetavern.png",
        "ccv3_only__choral_Default-chan.png",
        "charx_small__tavernkit_test_character.charx",
        "webp_exif_ascii__TavernAI_Aqua_2023-03.webp",
        "v1_json_zh__mushoku_Roxy_stage1.json",
    ];
    let mut x: u64 = 42;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for seed in seeds {
        let original = std::fs::read(format!("{dir}{seed}")).unwrap();
        for _ in 0..60 {
            let mut m = original.clone();
            for _ in 0..(1 + next() % 8) {
                let i = (next() as usize) % m.len();
                m[i] = next() as u8;
            }
            if next() % 3 == 0 {
                m.truncate((next() as usize) % m.len());
            }
            let _ = read(&m, seed);
        }
    }
}

#[test]
fn sloppy_values_read_back_the_same_after_export() {
    // A bounded, deterministic property test: random sloppy values in every
    // field; whatever normalize makes of them must survive V3 and V2 export.
    let mut x: u64 = 7;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let fields = [
        "name",
        "nickname",
        "description",
        "personality",
        "scenario",
        "first_mes",
        "mes_example",
        "alternate_greetings",
        "group_only_greetings",
        "system_prompt",
        "post_history_instructions",
        "creator_notes",
        "creator_notes_multilingual",
        "tags",
        "creator",
        "character_version",
        "source",
        "creation_date",
        "modification_date",
        "assets",
        "character_book",
        "extensions",
        "creatorcomment",
        "talkativeness",
    ];
    for _ in 0..400 {
        let mut pick = |n: u64| next() % n;
        let mut obj = serde_json::Map::new();
        for f in fields {
            let v = match pick(12) {
                0 => json!(null),
                1 => json!(" a\r\nb "),
                2 => json!(1_745_411_957_356u64),
                3 => json!("1700000000"),
                4 => json!(["x", null, 3, {"k": "v"}]),
                5 => json!("t1, t2,,"),
                6 => json!({"en": "hi", "ja": null}),
                7 => json!(-2.5e20),
                8 => json!(true),
                9 => json!([{"type": "icon", "uri": "embeded://a.png", "name": "main", "ext": 4}]),
                10 => continue,
                _ => json!(""),
            };
            obj.insert(f.to_owned(), v);
        }
        obj.insert("name".into(), json!("N"));
        let value = match pick(3) {
            0 => serde_json::Value::Object(obj),
            1 => json!({"spec": "chara_card_v2", "data": obj}),
            _ => json!({"spec": "chara_card_v3", "spec_version": "3.0", "data": obj, "extra": 1}),
        };
        let (card, _) = normalize(&value, "p.json").unwrap();
        for out in [
            confab_core::card::to_v3_json(&card, Some(&value)),
            confab_core::card::to_v2_json(&card, Some(&value)),
        ] {
            let (again, _) = normalize(&out, "p.json").unwrap();
            assert_eq!(again, card, "{value}");
        }
    }
}
