//! Cards inside image metadata: EXIF `UserComment` (TavernAI's WEBP cards) and
//! XMP (a `chara` or `ccv3` attribute or element). The TIFF structure is parsed
//! by hand with every offset bounds-checked.

/// The UserComment text of a TIFF/EXIF block, from IFD0 or the Exif sub-IFD.
/// A leading `Exif\0\0` header is skipped.
pub(crate) fn user_comment(block: &[u8]) -> Option<Vec<u8>> {
    let tiff = block.strip_prefix(b"Exif\0\0").unwrap_or(block);
    let le = match tiff.get(0..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b = tiff.get(at..at.checked_add(2)?)?;
        Some(if le {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b = tiff.get(at..at.checked_add(4)?)?;
        let a = [b[0], b[1], b[2], b[3]];
        Some(if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    };
    if u16_at(2)? != 42 {
        return None;
    }
    let mut queue = vec![u32_at(4)? as usize];
    let mut visited = Vec::new();
    // IFD0, its Exif sub-IFD, and no more: a loop of offsets ends here too.
    while let Some(ifd) = queue.pop() {
        if visited.contains(&ifd) || visited.len() >= 4 {
            continue;
        }
        visited.push(ifd);
        let count = u16_at(ifd)? as usize;
        for n in 0..count {
            let entry = ifd.checked_add(2 + n * 12)?;
            let (Some(tag), Some(kind), Some(len)) =
                (u16_at(entry), u16_at(entry + 2), u32_at(entry + 4))
            else {
                break;
            };
            match tag {
                // ExifIFDPointer
                0x8769 => queue.push(u32_at(entry + 8)? as usize),
                // UserComment: UNDEFINED (7) or, from sloppy writers, ASCII (2).
                0x9286 if kind == 7 || kind == 2 => {
                    let len = len as usize;
                    let value = if len <= 4 {
                        tiff.get(entry + 8..entry + 8 + len)?
                    } else {
                        let at = u32_at(entry + 8)? as usize;
                        tiff.get(at..at.checked_add(len)?)?
                    };
                    return Some(decode_comment(value, le));
                }
                _ => {}
            }
        }
    }
    None
}

/// Strips the 8-byte character-code header; UNICODE comments are UTF-16.
fn decode_comment(value: &[u8], le: bool) -> Vec<u8> {
    let (code, body) = match value.get(..8) {
        Some(code) => (code, value.get(8..).unwrap_or_default()),
        None => (&b""[..], value),
    };
    if code == b"UNICODE\0" {
        let units: Vec<u16> = body
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        return String::from_utf16_lossy(&units).into_bytes();
    }
    if code == b"ASCII\0\0\0" || code == b"JIS\0\0\0\0\0" || code == [0u8; 8] {
        return body.to_vec();
    }
    // No recognised header: the writer put the text straight in.
    value.to_vec()
}

/// The card text in an XMP packet: the value of a `chara`/`ccv3` attribute or
/// element (any namespace prefix), entities decoded. `ccv3` is preferred.
pub(crate) fn xmp_card(xmp: &[u8]) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(xmp);
    ["ccv3", "chara"]
        .iter()
        .find_map(|key| xmp_value(&text, key))
        .map(|v| unescape(&v).into_bytes())
}

fn xmp_value(text: &str, key: &str) -> Option<String> {
    let mut from = 0;
    while let Some(found) = text.get(from..)?.find(key) {
        let at = from + found;
        from = at + key.len();
        // The key must be a whole name: preceded by ':' or '<' or whitespace.
        let before = text.get(..at)?.chars().next_back();
        if !matches!(before, Some(':' | '<' | ' ' | '\t' | '\n' | '\r')) {
            continue;
        }
        let rest = text.get(from..)?;
        let trimmed = rest.trim_start();
        if let Some(after_eq) = trimmed.strip_prefix('=') {
            let after_eq = after_eq.trim_start();
            let quote = after_eq
                .chars()
                .next()
                .filter(|c| *c == '"' || *c == '\'')?;
            let body = after_eq.get(1..)?;
            return body
                .find(quote)
                .and_then(|end| body.get(..end))
                .map(str::to_owned);
        }
        if let Some(after_gt) = rest.strip_prefix('>') {
            let end = after_gt.find("</")?;
            let value = after_gt.get(..end)?.trim();
            if !value.is_empty() {
                return Some(value.to_owned());
            }
        }
    }
    None
}

fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let tail = rest.get(amp..).unwrap_or_default();
        // An entity is short: look for its `;` only nearby, or a packet of
        // ampersands with no `;` would be searched to its end once per `&`.
        let near = &tail.as_bytes()[..tail.len().min(11)];
        let Some(semi) = near.iter().position(|&b| b == b';') else {
            out.push('&');
            rest = tail.get(1..).unwrap_or_default();
            continue;
        };
        let entity = tail.get(1..semi).unwrap_or_default();
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e => e
                .strip_prefix("#x")
                .or_else(|| e.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| e.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = tail.get(semi + 1..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = tail.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian TIFF with one IFD0 entry: UserComment.
    fn tiff_with_comment(comment: &[u8]) -> Vec<u8> {
        let mut t = b"II*\0\x08\0\0\0".to_vec();
        t.extend_from_slice(&1u16.to_le_bytes());
        t.extend_from_slice(&0x9286u16.to_le_bytes());
        t.extend_from_slice(&7u16.to_le_bytes());
        t.extend_from_slice(&(comment.len() as u32).to_le_bytes());
        t.extend_from_slice(&26u32.to_le_bytes());
        t.extend_from_slice(&0u32.to_le_bytes());
        t.extend_from_slice(comment);
        t
    }

    #[test]
    fn user_comment_is_found_and_bounds_are_checked() {
        let t = tiff_with_comment(b"ASCII\0\0\0{\"name\":\"A\"}");
        assert_eq!(user_comment(&t).unwrap(), b"{\"name\":\"A\"}");
        for cut in 0..t.len() {
            let _ = user_comment(&t[..cut]);
        }
    }

    #[test]
    fn xmp_attribute_and_element_forms() {
        let attr = br#"<rdf:Description xmlns:x="u" x:chara="eyJh&quot;"/>"#;
        assert_eq!(xmp_card(attr).unwrap(), b"eyJh\"");
        let elem = b"<x:ccv3> {&#x22;a&#34;:1} </x:ccv3><x:chara>no</x:chara>";
        assert_eq!(xmp_card(elem).unwrap(), b"{\"a\":1}");
        assert!(xmp_card(b"<x:character>1</x:character>").is_none());
    }
}
