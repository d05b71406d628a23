//! WEBP and JPEG cards (EXIF UserComment, XMP): the raw bytes (seeded with the
//! WEBP fixtures), then a WEBP or JPEG built around the input: an EXIF block
//! (little or big endian, in IFD0 or the Exif sub-IFD, with each character
//! code) and/or an XMP packet, holding card JSON as is, as base64 or as
//! TavernAI's decimal bytes.
//!
//! Invariants: typed errors; a card read writes back as JSON and reads the same.
#![no_main]

use arbitrary::{Result, Unstructured};
use base64::Engine;
use confab_core::card::read_card;
use confab_core_fuzz::{check_card, shaped_card, small_limits};
use libfuzzer_sys::fuzz_target;

fn payload(u: &mut Unstructured<'_>, data: &[u8]) -> Result<Vec<u8>> {
    let json = match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(_) => data.to_vec(),
        Err(_) => serde_json::to_vec(&shaped_card(u)?).expect("a Value serialises"),
    };
    Ok(match u.choose_index(4)? {
        0 => json,
        1 => base64::engine::general_purpose::STANDARD
            .encode(&json)
            .into_bytes(),
        2 => json
            .iter()
            .map(|b| b.to_string())
            .collect::<Vec<_>>()
            .join(",")
            .into_bytes(),
        _ => u.arbitrary()?,
    })
}

/// A TIFF block whose UserComment holds `text`.
fn tiff(u: &mut Unstructured<'_>, text: &[u8]) -> Result<Vec<u8>> {
    let le: bool = u.arbitrary()?;
    let w16 = |v: u16| if le { v.to_le_bytes() } else { v.to_be_bytes() };
    let w32 = |v: u32| if le { v.to_le_bytes() } else { v.to_be_bytes() };
    let mut comment = match u.choose_index(4)? {
        0 => b"ASCII\0\0\0".to_vec(),
        1 => b"UNICODE\0".to_vec(),
        2 => vec![0; 8],
        _ => Vec::new(),
    };
    if comment.starts_with(b"UNICODE") {
        for c in String::from_utf8_lossy(text).encode_utf16() {
            comment.extend_from_slice(&w16(c));
        }
    } else {
        comment.extend_from_slice(text);
    }
    let kind: u16 = if u.arbitrary()? { 7 } else { 2 };
    let sub_ifd: bool = u.arbitrary()?;
    let mut t = if le { b"II".to_vec() } else { b"MM".to_vec() };
    t.extend_from_slice(&w16(42));
    t.extend_from_slice(&w32(8));
    if sub_ifd {
        // IFD0 (at 8): one ExifIFDPointer to the sub-IFD at 26.
        t.extend_from_slice(&w16(1));
        t.extend_from_slice(&w16(0x8769));
        t.extend_from_slice(&w16(4));
        t.extend_from_slice(&w32(1));
        t.extend_from_slice(&w32(26));
        t.extend_from_slice(&w32(0));
    }
    let ifd = t.len() as u32;
    t.extend_from_slice(&w16(1));
    t.extend_from_slice(&w16(0x9286));
    t.extend_from_slice(&w16(kind));
    t.extend_from_slice(&w32(comment.len() as u32));
    t.extend_from_slice(&w32(ifd + 18));
    t.extend_from_slice(&w32(0));
    t.extend_from_slice(&comment);
    Ok(t)
}

fn xmp(u: &mut Unstructured<'_>, text: &[u8]) -> Result<Vec<u8>> {
    let text = String::from_utf8_lossy(text)
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    let key = if u.arbitrary()? { "ccv3" } else { "chara" };
    Ok(if u.arbitrary()? {
        format!("<x:xmpmeta><rdf:Description tavern:{key}=\"{text}\"/></x:xmpmeta>")
    } else {
        format!("<x:xmpmeta><tavern:{key}>{text}</tavern:{key}></x:xmpmeta>")
    }
    .into_bytes())
}

fn build(u: &mut Unstructured<'_>, data: &[u8]) -> Result<Vec<u8>> {
    let text = payload(u, data)?;
    let exif = if u.ratio(3, 4)? {
        Some(tiff(u, &text)?)
    } else {
        None
    };
    let xmp = if exif.is_none() || u.ratio(1, 4)? {
        Some(xmp(u, &text)?)
    } else {
        None
    };
    if u.arbitrary()? {
        let mut body = b"WEBP".to_vec();
        let mut chunk = |tag: &[u8; 4], bytes: &[u8]| {
            body.extend_from_slice(tag);
            body.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            body.extend_from_slice(bytes);
            if bytes.len() % 2 == 1 {
                body.push(0);
            }
        };
        chunk(b"VP8X", &[0; 10]);
        if let Some(e) = &exif {
            chunk(b"EXIF", e);
        }
        if let Some(x) = &xmp {
            chunk(b"XMP ", x);
        }
        let mut file = b"RIFF".to_vec();
        file.extend_from_slice(&(body.len() as u32).to_le_bytes());
        file.extend_from_slice(&body);
        Ok(file)
    } else {
        let mut file = vec![0xFF, 0xD8];
        let mut segment = |head: &[u8], bytes: &[u8]| -> Result<()> {
            let len = u16::try_from(head.len() + bytes.len() + 2)
                .map_err(|_| arbitrary::Error::IncorrectFormat)?;
            file.extend_from_slice(&[0xFF, 0xE1]);
            file.extend_from_slice(&len.to_be_bytes());
            file.extend_from_slice(head);
            file.extend_from_slice(bytes);
            Ok(())
        };
        if let Some(e) = &exif {
            segment(b"Exif\0\0", e)?;
        }
        if let Some(x) = &xmp {
            segment(b"http://ns.adobe.com/xap/1.0/\0", x)?;
        }
        file.extend_from_slice(&[0xFF, 0xDA, 0, 2, 0xFF, 0xD9]);
        Ok(file)
    }
}

fuzz_target!(|data: &[u8]| {
    check_card(read_card(data, "fuzz.webp", &small_limits()), "image (raw)");
    if let Ok(file) = build(&mut Unstructured::new(data), data) {
        check_card(
            read_card(&file, "fuzz.webp", &small_limits()),
            "image (built)",
        );
    }
});
