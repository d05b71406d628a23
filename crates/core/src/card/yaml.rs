//! YAML cards: flat V1-like keys or a V2/V3 structure.
//!
//! Parsed with `serde_yaml_ng`, the maintained continuation of `serde_yaml`: it
//! keeps serde_yaml's recursion limit (128) and its cap on alias expansion
//! (a "billion laughs" file fails instead of exhausting memory). The text is
//! size-checked before parsing and the result depth-checked after.

use serde_json::Value;

use super::limits::{json_too_large, too_deep, value_depth_exceeds, Limits};
use super::model::CardFormat;
use super::payload::strip_bom;
use super::{normalize, ParsedCard};
use crate::error::Error;

/// Reads a YAML card.
pub(crate) fn read(bytes: &[u8], file: &str, limits: &Limits) -> Result<ParsedCard, Error> {
    if bytes.len() > limits.max_json_bytes {
        return Err(json_too_large(file, limits));
    }
    let text = std::str::from_utf8(strip_bom(bytes)).map_err(|_| Error::InvalidCard {
        file: file.to_owned(),
        detail: "the YAML file is not UTF-8 text".to_owned(),
    })?;
    let value: Value = serde_yaml_ng::from_str(text).map_err(|e| {
        let msg = e.to_string();
        if msg.contains("recursion limit") {
            too_deep(file, limits)
        } else if msg.contains("repetition limit") {
            Error::TooLarge {
                what: format!("The aliases in {file}"),
                limit: "what serde_yaml_ng allows".to_owned(),
            }
        } else {
            Error::InvalidCard {
                file: file.to_owned(),
                detail: format!("it is not valid YAML ({msg})"),
            }
        }
    })?;
    if value_depth_exceeds(&value, limits.max_json_depth) {
        return Err(too_deep(file, limits));
    }
    let (data, spec) = normalize(&value, file)?;
    Ok(ParsedCard {
        data,
        spec,
        format: CardFormat::Yaml,
        original: value,
        avatar: None,
        assets: Vec::new(),
        warnings: Vec::new(),
    })
}
