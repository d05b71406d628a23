//! Character cards: reading every format people bring, writing files every tool reads.
//!
//! Everything normalises into [`CardData`] (the Character Card V3 superset); the
//! original JSON travels beside it so that fields Confab does not know survive a
//! round trip. Reading never decodes pixels and never trusts a size it was told:
//! every input is bounded by [`Limits`].

mod avatar;
pub(crate) use avatar::sniff_image;
mod charx;
mod exif;
mod jpeg;
mod json;
mod limits;
pub mod model;
mod normalize;
mod payload;
mod png;
mod text;
mod webp;
mod yaml;

use std::path::Path;

pub use charx::write_charx;
pub use json::{to_v2_json, to_v3_json, write_json};
pub(crate) use limits::size_words;
pub use limits::Limits;
pub use model::{AssetRef, CardData, CardFormat, CardSpec};
pub use normalize::normalize;
pub use png::write_png;

use crate::error::Error;

/// An embedded image or asset, original bytes untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Its type by content, not by name: `image/png`, `image/webp`, `image/jpeg`, ...
    pub mime: &'static str,
}

/// A file inside a CHARX other than the avatar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedAsset {
    /// The asset's `type` in `data.assets` (`icon`, `emotion`, ...); empty for a
    /// file the card does not list (RisuAI's `module.risum`), which is carried
    /// along unlisted.
    pub kind: String,
    /// The asset's name.
    pub name: String,
    /// Its extension as the card states it (RisuAI says `png` for WEBP files).
    pub ext: String,
    /// Its path inside the CHARX.
    pub path: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// A card as read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedCard {
    /// The character.
    pub data: CardData,
    /// The spec of the card JSON that won.
    pub spec: CardSpec,
    /// The container the card came in.
    pub format: CardFormat,
    /// The winning card JSON exactly as found (V3 wrapper, V2 wrapper or V1 flat object).
    pub original: serde_json::Value,
    /// PNG: the PNG without its card chunks; WEBP/JPEG: the file; CHARX: the main icon.
    pub avatar: Option<Image>,
    /// CHARX files other than the avatar and card.json.
    pub assets: Vec<EmbeddedAsset>,
    /// Plain-words notes about what was recovered or chosen while reading.
    pub warnings: Vec<String>,
}

/// Reads a card from a file's bytes, recognising the format by content first and
/// by the file name's extension second.
pub fn read_card(bytes: &[u8], file_name: &str, limits: &Limits) -> Result<ParsedCard, Error> {
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(file_too_large(file_name, limits));
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::InvalidCard {
            file: file_name.to_owned(),
            detail: "the file is empty".to_owned(),
        });
    }
    if bytes.starts_with(png::SIGNATURE) {
        return png::read(bytes, file_name, limits);
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return charx::read(bytes, file_name, limits);
    }
    match avatar::sniff_image(bytes) {
        Some("image/webp") => {
            let (exif, xmp) = webp::metadata(bytes);
            return image_card(
                bytes,
                file_name,
                limits,
                exif,
                xmp,
                CardFormat::Webp,
                "image/webp",
            );
        }
        Some("image/jpeg") => {
            let (exif, xmp) = jpeg::metadata(bytes);
            return image_card(
                bytes,
                file_name,
                limits,
                exif,
                xmp,
                CardFormat::Jpeg,
                "image/jpeg",
            );
        }
        Some(other) => {
            return Err(Error::UnsupportedFormat {
                file: file_name.to_owned(),
                detail: format!(
                    "it is a {} image; cards come as PNG, WEBP or JPEG",
                    other.trim_start_matches("image/").to_uppercase()
                ),
            })
        }
        None => {}
    }
    let start = payload::strip_bom(bytes);
    if start.first() == Some(&b'{') {
        return json_card(bytes, file_name, limits);
    }
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "yaml" | "yml" => yaml::read(bytes, file_name, limits),
        "md" | "markdown" | "txt" => text::read(bytes, file_name, limits),
        "json" => json_card(bytes, file_name, limits),
        "png" | "webp" | "jpg" | "jpeg" | "charx" => Err(Error::InvalidCard {
            file: file_name.to_owned(),
            detail: format!(
                "its name says .{ext}, but its contents are not a {} file",
                ext.to_uppercase()
            ),
        }),
        _ => Err(Error::UnsupportedFormat {
            file: file_name.to_owned(),
            detail: "it is not a PNG, WEBP, JPEG, JSON, CHARX, YAML, Markdown or text card"
                .to_owned(),
        }),
    }
}

/// Reads a card file, refusing one over `max_file_bytes` before reading it, and
/// anything that is not a regular file (a link to `/dev/zero`, a FIFO).
pub fn read_card_file(path: &Path, limits: &Limits) -> Result<ParsedCard, Error> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let bytes = crate::files::read_regular_file(path, limits.max_file_bytes)?;
    read_card(&bytes, &file_name, limits)
}

fn file_too_large(file: &str, limits: &Limits) -> Error {
    Error::TooLarge {
        what: file.to_owned(),
        limit: limits::size_words(limits.max_file_bytes),
    }
}

fn json_card(bytes: &[u8], file: &str, limits: &Limits) -> Result<ParsedCard, Error> {
    let mut warnings = Vec::new();
    let original = payload::parse_json(bytes, file, limits, &mut warnings)?;
    let (data, spec) = normalize(&original, file)?;
    Ok(ParsedCard {
        data,
        spec,
        format: CardFormat::Json,
        original,
        avatar: None,
        assets: Vec::new(),
        warnings,
    })
}

/// A WEBP or JPEG card: EXIF UserComment first, then XMP.
fn image_card(
    bytes: &[u8],
    file: &str,
    limits: &Limits,
    exif_block: Option<&[u8]>,
    xmp: Option<&[u8]>,
    format: CardFormat,
    mime: &'static str,
) -> Result<ParsedCard, Error> {
    let texts = [
        exif_block.and_then(exif::user_comment),
        xmp.and_then(exif::xmp_card),
    ];
    let mut error = None;
    for text in texts.into_iter().flatten() {
        let mut warnings = Vec::new();
        let parsed = payload::decode_payload(&text, file, limits, &mut warnings)
            .and_then(|v| normalize(&v, file).map(|(d, s)| (v, d, s)));
        match parsed {
            Ok((original, data, spec)) => {
                return Ok(ParsedCard {
                    data,
                    spec,
                    format,
                    original,
                    avatar: Some(Image {
                        bytes: bytes.to_vec(),
                        mime,
                    }),
                    assets: Vec::new(),
                    warnings,
                })
            }
            // A comment that was plainly meant as card JSON (or was too big) is
            // reported; an ordinary camera comment just means "no card".
            Err(e) => {
                let meant = payload::strip_bom(&text).first() == Some(&b'{');
                if error.is_none() && (meant || matches!(e, Error::TooLarge { .. })) {
                    error = Some(e);
                }
            }
        }
    }
    Err(error.unwrap_or(Error::NoCardData {
        file: file.to_owned(),
    }))
}
