//! Decoding the text a container holds into card JSON: base64 (padded or not,
//! with whitespace, standard or URL alphabet), raw JSON, or TavernAI's
//! comma-separated decimal bytes.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde_json::Value;

use super::limits::{check_json_depth, json_too_large, too_deep, Limits};
use crate::error::Error;

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Parses JSON bytes under the limits: size, depth (checked before parsing), BOM,
/// and invalid UTF-8 (replaced, with a warning, rather than refusing the card).
pub(crate) fn parse_json(
    bytes: &[u8],
    file: &str,
    limits: &Limits,
    warnings: &mut Vec<String>,
) -> Result<Value, Error> {
    if bytes.len() > limits.max_json_bytes {
        return Err(json_too_large(file, limits));
    }
    let bytes = strip_bom(bytes);
    check_json_depth(bytes, file, limits)?;
    let parsed = match std::str::from_utf8(bytes) {
        Ok(s) => serde_json::from_str::<Value>(s),
        Err(_) => {
            warnings.push(
                "Some characters in the card were not valid UTF-8 and were replaced with \u{FFFD}."
                    .to_owned(),
            );
            serde_json::from_str::<Value>(&String::from_utf8_lossy(bytes))
        }
    };
    parsed.map_err(|e| {
        if e.to_string().contains("recursion limit") {
            too_deep(file, limits)
        } else {
            Error::InvalidCard {
                file: file.to_owned(),
                detail: format!("its character data is not valid JSON ({e})"),
            }
        }
    })
}

/// Removes a UTF-8 byte order mark and leading whitespace.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    b.get(start..).unwrap_or_default()
}

/// Decodes a card payload: raw JSON if it starts with `{`, decimal bytes if it is
/// digits and commas, base64 otherwise.
pub(crate) fn decode_payload(
    text: &[u8],
    file: &str,
    limits: &Limits,
    warnings: &mut Vec<String>,
) -> Result<Value, Error> {
    let trimmed = strip_bom(text);
    let trimmed = trimmed
        .iter()
        .rposition(|c| !c.is_ascii_whitespace() && *c != 0)
        .and_then(|end| trimmed.get(..=end))
        .unwrap_or_default();
    if trimmed.is_empty() {
        return Err(Error::InvalidCard {
            file: file.to_owned(),
            detail: "its character data is empty".to_owned(),
        });
    }
    if trimmed.first() == Some(&b'{') {
        return parse_json(trimmed, file, limits, warnings);
    }
    if trimmed
        .iter()
        .all(|c| c.is_ascii_digit() || *c == b',' || c.is_ascii_whitespace())
        && trimmed.contains(&b',')
    {
        let bytes = decimal_bytes(trimmed, file, limits)?;
        return parse_json(&bytes, file, limits, warnings);
    }
    let bytes = decode_base64(trimmed, file, limits)?;
    parse_json(&bytes, file, limits, warnings)
}

/// Base64 as real tools write it; refuses output over `max_json_bytes` before decoding.
pub(crate) fn decode_base64(text: &[u8], file: &str, limits: &Limits) -> Result<Vec<u8>, Error> {
    if text.len() / 4 * 3 > limits.max_json_bytes.saturating_add(3) {
        return Err(json_too_large(file, limits));
    }
    // Copy only when the text needs cleaning (whitespace or the URL-safe alphabet).
    let needs_cleaning = text
        .iter()
        .any(|c| c.is_ascii_whitespace() || *c == b'-' || *c == b'_');
    let cleaned: std::borrow::Cow<[u8]> = if needs_cleaning {
        text.iter()
            .filter(|c| !c.is_ascii_whitespace())
            .map(|c| match c {
                b'-' => b'+',
                b'_' => b'/',
                c => *c,
            })
            .collect::<Vec<u8>>()
            .into()
    } else {
        text.into()
    };
    LENIENT.decode(&cleaned).map_err(|e| Error::InvalidCard {
        file: file.to_owned(),
        detail: format!("its character data is neither JSON nor valid base64 ({e})"),
    })
}

/// TavernAI 1.4's form: the UTF-8 bytes of the JSON as comma-separated decimals.
fn decimal_bytes(text: &[u8], file: &str, limits: &Limits) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity((text.len() / 3).min(limits.max_json_bytes));
    for part in text.split(|c| *c == b',') {
        let part = part.trim_ascii();
        if part.is_empty() {
            continue;
        }
        let n = std::str::from_utf8(part)
            .ok()
            .and_then(|s| s.parse::<u8>().ok())
            .ok_or_else(|| Error::InvalidCard {
                file: file.to_owned(),
                detail: "its character data is a list of numbers, but one is not a byte (0 to 255)"
                    .to_owned(),
            })?;
        if out.len() >= limits.max_json_bytes {
            return Err(json_too_large(file, limits));
        }
        out.push(n);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Result<Value, Error> {
        decode_payload(s.as_bytes(), "t", &Limits::default(), &mut Vec::new())
    }

    #[test]
    fn base64_variants_all_decode() {
        // {"a":"é?"} in standard base64 has padding and a '/' or '+'-free form; build one with both.
        let json = r#"{"name":"ÿ?>"}"#;
        let std = base64::engine::general_purpose::STANDARD.encode(json);
        let unpadded = std.trim_end_matches('=').to_owned();
        let wrapped: String = std
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\r\n ");
        let url = std.replace('+', "-").replace('/', "_");
        for text in [std.clone(), unpadded, wrapped, url] {
            assert_eq!(dec(&text).unwrap()["name"], "ÿ?>", "{text}");
        }
    }

    #[test]
    fn decimal_bytes_and_raw_json_decode() {
        assert_eq!(dec("123,125").unwrap(), serde_json::json!({}));
        assert_eq!(dec("\u{FEFF} {\"a\":1}\0\0").unwrap()["a"], 1);
        assert!(matches!(dec("1,2,999"), Err(Error::InvalidCard { .. })));
    }

    #[test]
    fn invalid_utf8_is_replaced_with_a_warning() {
        let mut w = Vec::new();
        let v = parse_json(b"{\"a\":\"\xff\"}", "t", &Limits::default(), &mut w).unwrap();
        assert_eq!(v["a"], "\u{FFFD}");
        assert_eq!(w.len(), 1);
    }
}
