//! Inputs found while fuzzing (crates/core/fuzz, `make fuzz`), kept as tests of
//! the normal suite: each one failed, hung or panicked before its fix.

use std::io::{Cursor, Write};

use confab_core::card::{read_card, write_charx, write_json, CardSpec, Limits};
use confab_core::lore::formats::{
    from_character_book, read_book, to_character_book, to_sillytavern_json, BookFormat,
};
use confab_core::session::transcript::{read_sillytavern_jsonl, write_sillytavern_jsonl};
use confab_core::ErrorCode;
use serde_json::json;

/// A WEBP file around one `XMP ` chunk.
fn webp_with_xmp(xmp: &[u8]) -> Vec<u8> {
    let mut body = b"WEBP".to_vec();
    body.extend_from_slice(b"XMP ");
    body.extend_from_slice(&(xmp.len() as u32).to_le_bytes());
    body.extend_from_slice(xmp);
    if xmp.len() % 2 == 1 {
        body.push(0);
    }
    let mut file = b"RIFF".to_vec();
    file.extend_from_slice(&(body.len() as u32).to_le_bytes());
    file.extend_from_slice(&body);
    file
}

/// Found writing the `card_image` target: XMP entities were decoded by looking
/// for each `&`'s `;` in the whole rest of the packet, so a packet of
/// ampersands took time quadratic in its size (8 MB: hours).
#[test]
fn an_xmp_value_of_ampersands_decodes_in_linear_time() {
    let mut xmp = b"<x:xmpmeta tavern:chara=\"".to_vec();
    xmp.extend(std::iter::repeat_n(b'&', 8 * 1024 * 1024));
    xmp.extend_from_slice(b"\"/>");
    let err = read_card(&webp_with_xmp(&xmp), "amps.webp", &Limits::default()).unwrap_err();
    // Eight million `&` are no card, just an odd comment.
    assert_eq!(err.code(), ErrorCode::NoCardData, "{err}");

    // Entities still decode, up to the longest one (`&#x10FFFF;`).
    let json = r#"{"name":"A&B <x> \"q\"","description":"d"}"#;
    let escaped = json
        .replace('&', "&amp;")
        .replace('<', "&#60;")
        .replace('>', "&#x3E;")
        .replace('"', "&quot;");
    let xmp = format!("<x:xmpmeta tavern:chara=\"{escaped}\"/>");
    let card = read_card(
        &webp_with_xmp(xmp.as_bytes()),
        "ok.webp",
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(card.data.name, "A&B <x> \"q\"");
}

/// Found by `chat_jsonl`, `card_json`, `card_image` and every `book_*` target:
/// serde_json's default float parser may miss the last digit, so a number
/// kept verbatim (an unknown field of a chat, card or book) changed on every
/// import and export. Fixed by its `float_roundtrip` feature (Cargo.toml).
#[test]
fn numbers_in_unknown_fields_survive_import_and_export_exactly() {
    let odd = [
        "-2.1052589981759242e-156",
        "8.371705537096464e-144",
        "-2.5758766321675703e-171",
    ];

    let chat = format!(
        "{{\"user_name\":\"U\",\"character_name\":\"C\"}}\n\
         {{\"name\":\"C\",\"is_user\":false,\"mes\":\"hi\",\"force_avatar\":[{}]}}\n",
        odd.join(",")
    );
    let read = read_sillytavern_jsonl(chat.as_bytes(), "chat.jsonl").unwrap();
    let written = write_sillytavern_jsonl(&read);
    let text = String::from_utf8(written.clone()).unwrap();
    for n in odd {
        assert!(
            text.contains(n),
            "{n} was not written back as it was: {text}"
        );
    }
    assert_eq!(
        read_sillytavern_jsonl(&written, "back.jsonl").unwrap(),
        read
    );

    let card = format!(
        "{{\"spec\":\"chara_card_v3\",\"spec_version\":\"3.0\",\"data\":{{\"name\":\"N\",\
         \"extensions\":{{\"x\":{}}}}}}}",
        odd[0]
    );
    let parsed = read_card(card.as_bytes(), "card.json", &Limits::default()).unwrap();
    let out = write_json(&parsed.data, Some(&parsed.original), CardSpec::V3);
    assert!(String::from_utf8_lossy(&out).contains(odd[0]));
    let again = read_card(&out, "again.json", &Limits::default()).unwrap();
    assert_eq!(again.data, parsed.data);

    let book = format!(
        "{{\"entries\":{{\"0\":{{\"uid\":0,\"key\":[\"k\"],\"x\":{}}}}}}}",
        odd[1]
    );
    let (b, _) = read_book(book.as_bytes(), "b.json").unwrap();
    let st = serde_json::to_vec(&to_sillytavern_json(&b)).unwrap();
    assert!(String::from_utf8_lossy(&st).contains(odd[1]));
    assert_eq!(read_book(&st, "b.json").unwrap().0, b);
}

/// Found by `book_character_book`: a card's book carrying a field that is
/// another format's marker (`kind: "memory"`, `spec: "lorebook_v3"`, ...)
/// kept it, so its SillyTavern export was taken for that format on import
/// and refused ("`entries` must be a list").
#[test]
fn an_exported_book_reads_back_whatever_markers_it_kept() {
    for marker in [
        json!({"kind": "memory"}),
        json!({"spec": "lorebook_v3", "data": {"entries": []}}),
        json!({"lorebookVersion": 5}),
        json!({"type": "risu"}),
    ] {
        let mut cb = json!({"name": "B", "entries": [{"keys": ["elf"], "content": "Elves."}]});
        for (k, v) in marker.as_object().unwrap() {
            cb[k] = v.clone();
        }
        let book = from_character_book(&cb, "card").unwrap();
        let st = serde_json::to_vec(&to_sillytavern_json(&book)).unwrap();
        let (again, format) = read_book(&st, "B.json")
            .unwrap_or_else(|e| panic!("{marker}: the export does not read back: {e}"));
        assert_eq!(format, BookFormat::SillyTavern, "{marker}");
        assert_eq!(again, book, "{marker}");
    }
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Found by `card_charx`: a second `CARD.JSON` beside `card.json` was kept as
/// an asset, which `write_charx` refuses, so the character could never be
/// exported again.
#[test]
fn a_charx_with_card_json_in_other_letters_exports_again() {
    let card = br#"{"spec":"chara_card_v3","spec_version":"3.0","data":{"name":"Twin"}}"#;
    let bytes = zip_of(&[
        ("card.json", card),
        ("CARD.JSON", b"{}"),
        ("assets/x.bin", b"x"),
    ]);
    let parsed = read_card(&bytes, "twin.charx", &Limits::default()).unwrap();
    assert_eq!(parsed.data.name, "Twin");
    assert!(parsed
        .assets
        .iter()
        .all(|a| !a.path.eq_ignore_ascii_case("card.json")));
    assert_eq!(parsed.assets.len(), 1, "{:?}", parsed.assets);
    assert!(
        parsed.warnings.iter().any(|w| w.contains("card.json")),
        "{:?}",
        parsed.warnings
    );
    let out = write_charx(
        &parsed.data,
        Some(&parsed.original),
        parsed.avatar.as_ref(),
        &parsed.assets,
    )
    .expect("the card exports");
    let again = read_card(&out, "again.charx", &Limits::default()).unwrap();
    assert_eq!(again.data.name, "Twin");
}

/// Found by `book_sillytavern`'s round trip: `group` written as a list kept
/// names with commas or spaces around them, which the export (one
/// comma-separated text, as SillyTavern writes it) turned into other groups.
#[test]
fn group_lists_read_the_way_the_export_writes_them() {
    let v = json!({"entries": {"0": {"uid": 0, "key": ["k"], "group": ["a,b", " c ", ""]}}});
    let (book, _) = read_book(&serde_json::to_vec(&v).unwrap(), "g.json").unwrap();
    assert_eq!(book.entries[0].groups, ["a", "b", "c"]);
    let st = serde_json::to_vec(&to_sillytavern_json(&book)).unwrap();
    assert_eq!(read_book(&st, "g.json").unwrap().0, book);
    let cb = json!({"entries": [{"keys": ["k"], "extensions": {"group": [" x,y "]}}]});
    let book = from_character_book(&cb, "card").unwrap();
    assert_eq!(book.entries[0].groups, ["x", "y"]);
    let back = from_character_book(&to_character_book(&book), "card").unwrap();
    assert_eq!(back.entries[0].groups, book.entries[0].groups);
}
