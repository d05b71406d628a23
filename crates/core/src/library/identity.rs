//! When two cards are "the same card".

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::card::CardData;
use crate::store::hex;

/// SHA-256 of the card's canonical JSON (object keys sorted at every level).
///
/// Two files hold the same card when every field is equal, whatever their
/// container or key order: so a PNG exported from Confab and imported again is
/// found, not copied. `assets` is left out: it says where files sit in a
/// container (a CHARX export lists the avatar there, a PNG does not), not what
/// the character is.
pub fn content_hash(card: &CardData) -> String {
    let mut value = serde_json::to_value(card).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("assets");
    }
    let mut canonical = String::new();
    write_canonical(&value, &mut canonical);
    hex(&Sha256::digest(canonical.as_bytes()))
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(name: &str) -> CardData {
        CardData {
            name: name.into(),
            description: "A healer of the forest.".into(),
            ..Default::default()
        }
    }

    #[test]
    fn equal_cards_hash_equal_and_any_change_changes_the_hash() {
        assert_eq!(
            content_hash(&card("Seraphina")),
            content_hash(&card("Seraphina"))
        );
        assert_ne!(
            content_hash(&card("Seraphina")),
            content_hash(&card("Seraphina "))
        );
        let mut edited = card("Seraphina");
        edited.alternate_greetings.push("Hello".into());
        assert_ne!(content_hash(&card("Seraphina")), content_hash(&edited));
    }

    #[test]
    fn where_a_container_keeps_the_avatar_does_not_matter() {
        let mut charx = card("A");
        charx.assets.push(crate::card::AssetRef {
            kind: "icon".into(),
            uri: "embeded://assets/icon/images/main.png".into(),
            name: "main".into(),
            ext: "png".into(),
        });
        assert_eq!(content_hash(&card("A")), content_hash(&charx));
    }

    #[test]
    fn extension_key_order_does_not_matter() {
        let mut a = card("A");
        let mut b = card("A");
        let x: serde_json::Map<String, Value> =
            serde_json::from_str(r#"{"z":1,"a":{"y":2,"b":3}}"#).unwrap();
        let y: serde_json::Map<String, Value> =
            serde_json::from_str(r#"{"a":{"b":3,"y":2},"z":1}"#).unwrap();
        a.extensions = x;
        b.extensions = y;
        assert_eq!(content_hash(&a), content_hash(&b));
    }
}
