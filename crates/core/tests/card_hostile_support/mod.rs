//! Shared by the hostile card tests: building PNGs with text chunks, base64,
//! reading a card with default limits, an error's code, a V2 card's JSON.
#![allow(dead_code)] // each test binary uses its own part of this

use std::io::Cursor;

use base64::Engine;
use confab_core::card::{read_card, Limits};
use confab_core::{Error, ErrorCode};

pub const MB: usize = 1024 * 1024;

pub fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

pub fn crc_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
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
pub fn plain_png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(8, 8, |x, y| image::Rgb([x as u8 * 30, y as u8 * 30, 99]));
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// `plain_png` with the given chunks inserted before IEND.
pub fn png_with(chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut png = plain_png();
    let iend = png.len() - 12;
    let tail = png.split_off(iend);
    for c in chunks {
        png.extend_from_slice(c);
    }
    png.extend_from_slice(&tail);
    png
}

pub fn text_chunk(keyword: &str, text: &str) -> Vec<u8> {
    crc_chunk(b"tEXt", format!("{keyword}\0{text}").as_bytes())
}

pub fn read(bytes: &[u8], name: &str) -> Result<confab_core::card::ParsedCard, Error> {
    read_card(bytes, name, &Limits::default())
}

pub fn code(r: Result<confab_core::card::ParsedCard, Error>) -> ErrorCode {
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

pub const V2: &str =
    r#"{"spec":"chara_card_v2","spec_version":"2.0","data":{"name":"Ann","first_mes":"Hi"}}"#;
