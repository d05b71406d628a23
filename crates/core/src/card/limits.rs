//! Hard limits on what a card file may make Confab allocate or recurse into.

use crate::error::Error;

const MB: u64 = 1024 * 1024;

/// Caps applied while reading a card; every one gives a typed error, never a crash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest card file read at all.
    pub max_file_bytes: u64,
    /// Largest card JSON (or YAML) after decoding base64 or inflating a chunk.
    pub max_json_bytes: usize,
    /// Deepest nesting of objects and arrays in a card's JSON or YAML.
    pub max_json_depth: usize,
    /// Most entries a CHARX archive may hold.
    pub max_charx_entries: usize,
    /// Most bytes all CHARX entries together may unpack to.
    pub max_charx_total_bytes: u64,
    /// Highest compression ratio a large CHARX entry may have (zip bombs go far beyond).
    pub max_charx_ratio: u64,
    /// Most `chara`/`ccv3` text chunks a PNG may carry.
    pub max_png_card_chunks: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 50 * MB,
            max_json_bytes: 20 * MB as usize,
            // serde_json refuses nesting at 128 on its own; staying under it means
            // our own check, with its clear message, is the one users see.
            max_json_depth: 100,
            max_charx_entries: 4096,
            max_charx_total_bytes: 200 * MB,
            max_charx_ratio: 200,
            max_png_card_chunks: 16,
        }
    }
}

/// A byte count in words ("50 MB", "512 KB", "300 bytes").
pub(crate) fn size_words(bytes: u64) -> String {
    if bytes >= MB && bytes.is_multiple_of(MB) {
        format!("{} MB", bytes / MB)
    } else if bytes >= MB {
        format!("{:.1} MB", bytes as f64 / MB as f64)
    } else if bytes >= 1024 {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// The error for card JSON over `max_json_bytes`.
pub(crate) fn json_too_large(file: &str, limits: &Limits) -> Error {
    Error::TooLarge {
        what: format!("The character data in {file}"),
        limit: size_words(limits.max_json_bytes as u64),
    }
}

/// The error for nesting deeper than `max_json_depth`.
pub(crate) fn too_deep(file: &str, limits: &Limits) -> Error {
    Error::TooLarge {
        what: format!("The nesting of the character data in {file}"),
        limit: format!("{} levels", limits.max_json_depth),
    }
}

/// Checks the nesting depth of JSON text without parsing it (so a 10,000-deep
/// file is refused before any recursive parser sees it).
pub(crate) fn check_json_depth(bytes: &[u8], file: &str, limits: &Limits) -> Result<(), Error> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > limits.max_json_depth {
                    return Err(too_deep(file, limits));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// The nesting depth of a parsed value, walked without recursion.
pub(crate) fn value_depth_exceeds(value: &serde_json::Value, max: usize) -> bool {
    let mut stack: Vec<(&serde_json::Value, usize)> = vec![(value, 1)];
    while let Some((v, d)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &serde_json::Value>> = match v {
            serde_json::Value::Array(a) => Box::new(a.iter()),
            serde_json::Value::Object(o) => Box::new(o.values()),
            _ => continue,
        };
        if d > max {
            return true;
        }
        for c in children {
            stack.push((c, d + 1));
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_scan_ignores_brackets_in_strings() {
        let limits = Limits {
            max_json_depth: 2,
            ..Limits::default()
        };
        assert!(check_json_depth(br#"{"a":["[[[{{{\"[["]}"#, "x", &limits).is_ok());
        assert!(check_json_depth(br#"{"a":[[1]]}"#, "x", &limits).is_err());
    }

    #[test]
    fn value_depth_counts_containers() {
        let v = serde_json::json!({"a": [1, {"b": []}]});
        assert!(!value_depth_exceeds(&v, 4));
        assert!(value_depth_exceeds(&v, 3));
    }

    #[test]
    fn sizes_read_as_words() {
        assert_eq!(size_words(50 * MB), "50 MB");
        assert_eq!(size_words(2048), "2 KB");
        assert_eq!(size_words(12), "12 bytes");
    }
}
