//! PNG cards: the card lives in `tEXt`/`zTXt`/`iTXt` chunks named `chara`
//! (V1/V2) and `ccv3` (V3). Chunks are walked by hand (cards often put their
//! text after `IDAT`); pixels are never decoded.
//!
//! Choice among several card chunks: intact chunks before damaged ones, then
//! `ccv3` before `chara`, then the first in the file. SillyTavern's reader
//! (`src/character-card-parser.js`) takes the first `ccv3`, else the first
//! `chara` (`findIndex`), so two `chara` chunks that disagree resolve the same
//! way here, with a warning.

use std::io::Read;

use serde_json::Value;

use super::limits::{json_too_large, size_words, Limits};
use super::model::{CardData, CardFormat, CardSpec};
use super::payload::decode_payload;
use super::{normalize, Image, ParsedCard};
use crate::error::Error;

/// The eight bytes every PNG starts with.
pub(crate) const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// One chunk as found in the file.
pub(crate) struct Chunk<'a> {
    /// Chunk type (`IHDR`, `tEXt`, ...).
    pub kind: [u8; 4],
    /// The chunk's data.
    pub data: &'a [u8],
    /// The whole chunk: length, type, data and CRC, as in the file.
    pub raw: &'a [u8],
    /// Whether the stored CRC matches (checked for text chunks only).
    pub crc_ok: bool,
}

/// The chunks of a PNG, and whether the file ended in the middle of one.
pub(crate) struct Chunks<'a> {
    pub chunks: Vec<Chunk<'a>>,
    pub truncated: bool,
}

/// Walks the chunks after the signature, stopping at `IEND` or where the file is cut off.
pub(crate) fn walk(bytes: &[u8]) -> Chunks<'_> {
    let mut chunks = Vec::new();
    let mut pos = SIGNATURE.len();
    let mut truncated = false;
    while pos < bytes.len() {
        let Some(header) = bytes.get(pos..pos + 8) else {
            truncated = true;
            break;
        };
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind = [header[4], header[5], header[6], header[7]];
        let end = pos.checked_add(12).and_then(|e| e.checked_add(len));
        let Some(raw) = end.and_then(|end| bytes.get(pos..end)) else {
            truncated = true;
            break;
        };
        let (Some(typed), Some(crc)) = (raw.get(4..8 + len), raw.get(8 + len..)) else {
            truncated = true;
            break;
        };
        let stored = u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]);
        let data = typed.get(4..).unwrap_or_default();
        // Only text chunks are checked: pixels are copied, never decoded, and
        // hashing megabytes of IDAT would double the cost of reading a card.
        let is_text = matches!(&kind, b"tEXt" | b"zTXt" | b"iTXt");
        chunks.push(Chunk {
            kind,
            data,
            raw,
            crc_ok: !is_text || crc32fast::hash(typed) == stored,
        });
        pos += raw.len();
        if &kind == b"IEND" {
            break;
        }
    }
    Chunks { chunks, truncated }
}

/// Which keyword a text chunk carries, if it is one of the card keywords.
fn card_keyword(chunk: &Chunk<'_>) -> Option<Keyword> {
    if !matches!(&chunk.kind, b"tEXt" | b"zTXt" | b"iTXt") {
        return None;
    }
    let nul = chunk.data.iter().position(|b| *b == 0)?;
    let key = chunk.data.get(..nul)?;
    if key.eq_ignore_ascii_case(b"ccv3") {
        Some(Keyword::Ccv3)
    } else if key.eq_ignore_ascii_case(b"chara") {
        Some(Keyword::Chara)
    } else {
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Keyword {
    Ccv3,
    Chara,
}

impl Keyword {
    fn as_str(self) -> &'static str {
        match self {
            Keyword::Ccv3 => "ccv3",
            Keyword::Chara => "chara",
        }
    }
}

/// The text of a card chunk: tEXt as is, zTXt and compressed iTXt inflated to
/// at most `cap` bytes ([`Error::TooLarge`] beyond).
fn chunk_text<'a>(
    chunk: &Chunk<'a>,
    file: &str,
    limits: &Limits,
    cap: u64,
) -> Result<std::borrow::Cow<'a, [u8]>, Error> {
    let nul = chunk.data.iter().position(|b| *b == 0).unwrap_or(0);
    let rest = chunk.data.get(nul + 1..).unwrap_or_default();
    let damaged = |what: &str| Error::InvalidCard {
        file: file.to_owned(),
        detail: format!(
            "its {} chunk is damaged ({what})",
            String::from_utf8_lossy(&chunk.kind)
        ),
    };
    match &chunk.kind {
        b"zTXt" => {
            // Byte 0 is the compression method (0 = zlib, the only one defined).
            let compressed = rest.get(1..).ok_or_else(|| damaged("it has no text"))?;
            inflate(compressed, file, limits, cap).map(Into::into)
        }
        b"iTXt" => {
            let flag = *rest.first().ok_or_else(|| damaged("it has no header"))?;
            let after = rest.get(2..).ok_or_else(|| damaged("it has no header"))?;
            // Skip the language tag and the translated keyword (two NUL-terminated strings).
            let lang_end = after
                .iter()
                .position(|b| *b == 0)
                .ok_or_else(|| damaged("its header is cut off"))?;
            let after = after.get(lang_end + 1..).unwrap_or_default();
            let tr_end = after
                .iter()
                .position(|b| *b == 0)
                .ok_or_else(|| damaged("its header is cut off"))?;
            let text = after.get(tr_end + 1..).unwrap_or_default();
            if flag == 1 {
                inflate(text, file, limits, cap).map(Into::into)
            } else {
                Ok(text.into())
            }
        }
        // tEXt is Latin-1 by spec; a card's base64 is ASCII either way, and raw
        // JSON in a tEXt is read as UTF-8 when it is valid UTF-8, else as Latin-1.
        _ => {
            if std::str::from_utf8(rest).is_ok() {
                Ok(rest.into())
            } else {
                Ok(rest
                    .iter()
                    .map(|b| *b as char)
                    .collect::<String>()
                    .into_bytes()
                    .into())
            }
        }
    }
}

/// The largest text one card chunk may need: base64 of `max_json_bytes`.
fn chunk_cap(limits: &Limits) -> u64 {
    (limits.max_json_bytes as u64).saturating_mul(4) / 3 + 1024
}

/// zlib inflate that stops after `cap` bytes.
fn inflate(compressed: &[u8], file: &str, limits: &Limits, cap: u64) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(cap + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::InvalidCard {
            file: file.to_owned(),
            detail: format!("its compressed text chunk cannot be inflated ({e})"),
        })?;
    if out.len() as u64 > cap {
        return Err(json_too_large(file, limits));
    }
    Ok(out)
}

/// Reads a PNG card.
pub(crate) fn read(bytes: &[u8], file: &str, limits: &Limits) -> Result<ParsedCard, Error> {
    let Chunks { chunks, truncated } = walk(bytes);
    let mut warnings = Vec::new();
    if truncated {
        warnings.push("The PNG file is cut off; Confab read the part that is there.".to_owned());
    }
    let mut candidates: Vec<(Keyword, usize, &Chunk<'_>)> = chunks
        .iter()
        .enumerate()
        .filter_map(|(i, c)| card_keyword(c).map(|k| (k, i, c)))
        .collect();
    if candidates.is_empty() {
        return Err(if truncated {
            Error::InvalidCard {
                file: file.to_owned(),
                detail: "the PNG file is cut off and no character data was found in the part that is there".to_owned(),
            }
        } else {
            Error::NoCardData {
                file: file.to_owned(),
            }
        });
    }
    // A real card has one or two card chunks (a tool that appends on every save
    // a few more); a thousand tiny zTXt chunks that each inflate to megabytes
    // are an attack, refused before anything is inflated.
    if candidates.len() > limits.max_png_card_chunks {
        return Err(Error::TooLarge {
            what: format!("The number of character data chunks in {file}"),
            limit: format!("{} chunks", limits.max_png_card_chunks),
        });
    }
    // Intact before damaged, ccv3 before chara, earlier before later.
    candidates.sort_by_key(|(k, i, c)| (!c.crc_ok, *k, *i));

    // All chunks together may yield at most two chunks' worth of text, so the
    // time spent inflating and parsing is bounded whatever the file holds.
    let per_chunk = chunk_cap(limits);
    let mut budget = per_chunk.saturating_mul(2);
    let all_chunks_too_large = || Error::TooLarge {
        what: format!("The character data in all the text chunks of {file} together"),
        limit: size_words(per_chunk.saturating_mul(2)),
    };
    let mut first_error = None;
    let mut chosen: Option<(Keyword, bool, Value, CardData, CardSpec)> = None;
    // Other `chara` copies only matter to warn when they disagree: each is kept
    // as a hash of its card, never as a copy, and the comparing stops at the
    // first disagreement or when the budget is spent.
    let mut first_chara: Option<String> = None;
    let mut chara_disagree = false;
    let chara_count = candidates
        .iter()
        .filter(|(k, _, _)| *k == Keyword::Chara)
        .count();
    for (keyword, _, chunk) in &candidates {
        if chosen.is_some() && (*keyword != Keyword::Chara || chara_count < 2 || chara_disagree) {
            continue;
        }
        if budget == 0 {
            if chosen.is_none() && first_error.is_none() {
                first_error = Some(all_chunks_too_large());
            }
            break;
        }
        let mut w = Vec::new();
        let cap = per_chunk.min(budget);
        let parsed = chunk_text(chunk, file, limits, cap)
            .map_err(|e| match e {
                // Cut short by what the earlier chunks used, not by its own size.
                Error::TooLarge { .. } if cap < per_chunk => all_chunks_too_large(),
                e => e,
            })
            .inspect(|text| budget = budget.saturating_sub(text.len() as u64))
            .and_then(|text| decode_payload(&text, file, limits, &mut w))
            .and_then(|value| normalize(&value, file).map(|(d, s)| (value, d, s)));
        match parsed {
            Ok((value, data, spec)) => {
                if *keyword == Keyword::Chara && chara_count > 1 {
                    let hash = crate::library::content_hash(&data);
                    match &first_chara {
                        None => first_chara = Some(hash),
                        Some(first) => chara_disagree |= *first != hash,
                    }
                }
                if chosen.is_none() {
                    warnings.extend(w);
                    chosen = Some((*keyword, chunk.crc_ok, value, data, spec));
                }
            }
            Err(e) => {
                // An inflate that hit its cap spent all it was allowed.
                if matches!(e, Error::TooLarge { .. }) {
                    budget = budget.saturating_sub(cap);
                }
                if first_error.is_none() {
                    first_error = Some(e);
                }
            }
        }
    }
    let Some((keyword, crc_ok, original, data, spec)) = chosen else {
        return Err(first_error.unwrap_or(Error::NoCardData {
            file: file.to_owned(),
        }));
    };
    let damaged_total = candidates.iter().filter(|(_, _, c)| !c.crc_ok).count();
    if !crc_ok {
        warnings.push(format!(
            "The `{}` text chunk is damaged (its checksum does not match); Confab read it anyway, so check the character's text.",
            keyword.as_str()
        ));
    } else if damaged_total > 0 {
        warnings.push(if damaged_total == 1 {
            "A damaged copy of the card (bad checksum) was ignored; Confab used an intact copy."
                .to_owned()
        } else {
            format!("{damaged_total} damaged copies of the card (bad checksums) were ignored; Confab used an intact copy.")
        });
    }
    if chara_disagree {
        warnings.push(format!(
            "This PNG carries {chara_count} `chara` chunks that disagree; Confab used the first, as SillyTavern does."
        ));
    }
    Ok(ParsedCard {
        data,
        spec,
        format: CardFormat::Png,
        original,
        avatar: Some(Image {
            bytes: strip_card_chunks(bytes),
            mime: "image/png",
        }),
        assets: Vec::new(),
        warnings,
    })
}

/// The PNG without its card chunks: the avatar as an image, byte for byte otherwise.
fn strip_card_chunks(bytes: &[u8]) -> Vec<u8> {
    let Chunks { chunks, truncated } = walk(bytes);
    if truncated || !chunks.iter().any(|c| &c.kind == b"IEND") {
        // A damaged file: keep it whole rather than guess.
        return bytes.to_vec();
    }
    let kept = || chunks.iter().filter(|c| card_keyword(c).is_none());
    let mut out = Vec::with_capacity(SIGNATURE.len() + kept().map(|c| c.raw.len()).sum::<usize>());
    out.extend_from_slice(SIGNATURE);
    for c in kept() {
        out.extend_from_slice(c.raw);
    }
    out
}

/// Appends one chunk (length, type, data, CRC).
fn push_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut h = crc32fast::Hasher::new();
    h.update(kind);
    h.update(data);
    out.extend_from_slice(&h.finalize().to_be_bytes());
}

/// A tEXt chunk's data: keyword, NUL, base64 of the JSON.
fn text_chunk_data(keyword: &str, json: &Value) -> Vec<u8> {
    use base64::Engine;
    let text = serde_json::to_vec(json).unwrap_or_default();
    let mut data = Vec::with_capacity(keyword.len() + 1 + text.len() * 4 / 3 + 4);
    data.extend_from_slice(keyword.as_bytes());
    data.push(0);
    data.extend_from_slice(
        base64::engine::general_purpose::STANDARD
            .encode(text)
            .as_bytes(),
    );
    data
}

/// Writes a PNG card: the avatar's chunks byte for byte (a non-PNG avatar is
/// transcoded, no avatar gives a placeholder), old card chunks dropped, new
/// `chara` (V2) and `ccv3` (V3) tEXt chunks before `IEND`.
pub fn write_png(
    data: &CardData,
    original: Option<&Value>,
    avatar: Option<&Image>,
) -> Result<Vec<u8>, Error> {
    let png = match avatar {
        Some(img) if img.bytes.starts_with(SIGNATURE) && !walk(&img.bytes).truncated => {
            std::borrow::Cow::Borrowed(img.bytes.as_slice())
        }
        Some(img) => super::avatar::to_png(&img.bytes)?.into(),
        None => super::avatar::placeholder(&data.name)?.into(),
    };
    let Chunks { chunks, .. } = walk(&png);
    let v2 = text_chunk_data("chara", &super::json::to_v2_json(data, original));
    let v3 = text_chunk_data("ccv3", &super::json::to_v3_json(data, original));
    let mut out = Vec::with_capacity(png.len() + v2.len() + v3.len() + 64);
    out.extend_from_slice(SIGNATURE);
    for c in chunks
        .iter()
        .filter(|c| card_keyword(c).is_none() && &c.kind != b"IEND")
    {
        out.extend_from_slice(c.raw);
    }
    push_chunk(&mut out, b"tEXt", &v2);
    push_chunk(&mut out, b"tEXt", &v3);
    push_chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_survives_every_truncation() {
        let mut png = SIGNATURE.to_vec();
        push_chunk(&mut png, b"IHDR", &[0; 13]);
        push_chunk(&mut png, b"tEXt", b"chara\0e30=");
        push_chunk(&mut png, b"IEND", &[]);
        for cut in 0..png.len() {
            let c = walk(&png[..cut]);
            assert!(c.chunks.len() <= 3);
        }
        let full = walk(&png);
        assert!(!full.truncated && full.chunks.iter().all(|c| c.crc_ok));
    }

    #[test]
    fn latin1_text_chunks_decode() {
        let chunk = Chunk {
            kind: *b"tEXt",
            data: b"chara\0{\"name\":\"Caf\xe9\"}",
            raw: &[],
            crc_ok: true,
        };
        let text = chunk_text(&chunk, "x", &Limits::default(), 1024).unwrap();
        assert_eq!(std::str::from_utf8(&text).unwrap(), "{\"name\":\"Café\"}");
    }
}
