//! Generated cards in every other format the card reader takes, with their
//! quirks, limits and hostile inputs: WEBP and JPEG metadata, JSON, YAML, text
//! and Markdown, and files too large, missing, empty or random.

mod card_hostile_support;

use std::io::Cursor;

use card_hostile_support::{b64, code, png_with, read, text_chunk, V2};
use confab_core::card::{
    normalize, read_card, read_card_file, write_png, CardFormat, CardSpec, Limits,
};
use confab_core::ErrorCode;
use serde_json::json;

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
