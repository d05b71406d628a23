//! Generated CHARX cards (zip archives) the card reader must survive: huge
//! asset lists in linear time, paths that escape, zip bombs, damaged archives;
//! and what writing one lists.

mod card_hostile_support;

use std::io::{Cursor, Write};

use card_hostile_support::{code, plain_png, read};
use confab_core::card::{read_card, write_charx, CardData, EmbeddedAsset, Image, Limits};
use confab_core::ErrorCode;
use serde_json::json;

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
