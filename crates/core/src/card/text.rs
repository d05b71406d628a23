//! Markdown and plain-text cards: the file name is the character's name, the
//! text its description.

use super::json::to_v3_json;
use super::limits::{json_too_large, Limits};
use super::model::{CardData, CardFormat, CardSpec};
use super::normalize::unix_newlines;
use super::ParsedCard;
use crate::error::Error;

/// The character's name from a file name: no extension, `_`/`-` as spaces, trimmed.
pub(crate) fn name_from_file(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let stem = base.rsplit_once('.').map_or(base, |(s, _)| s);
    let spaced: String = stem
        .chars()
        .map(|c| if c == '_' || c == '-' { ' ' } else { c })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads a Markdown or text file as a card. The card is new, so its spec is V3
/// and `original` is the V3 JSON built from it.
pub(crate) fn read(bytes: &[u8], file: &str, limits: &Limits) -> Result<ParsedCard, Error> {
    if bytes.len() > limits.max_json_bytes {
        return Err(json_too_large(file, limits));
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut warnings = Vec::new();
    let text = match std::str::from_utf8(body) {
        Ok(t) => t.to_owned(),
        Err(_) => {
            warnings.push(
                "Some characters in the file were not valid UTF-8 and were replaced with \u{FFFD}."
                    .to_owned(),
            );
            String::from_utf8_lossy(body).into_owned()
        }
    };
    let data = CardData {
        name: name_from_file(file),
        description: unix_newlines(text.trim()),
        ..CardData::default()
    };
    let original = to_v3_json(&data, None);
    Ok(ParsedCard {
        data,
        spec: CardSpec::V3,
        format: CardFormat::Text,
        original,
        avatar: None,
        assets: Vec::new(),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_file_names() {
        assert_eq!(name_from_file("dir/ann_marie-smith.md"), "ann marie smith");
        assert_eq!(name_from_file("  _Bob_ .txt"), "Bob");
        assert_eq!(name_from_file("noext"), "noext");
    }
}
