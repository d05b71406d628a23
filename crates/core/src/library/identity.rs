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
///
/// The JSON streams into the hasher field by field: a 30 MB card is not copied.
/// Keys are sorted explicitly because the app's build of serde_json keeps
/// insertion order (another crate enables `preserve_order`).
pub fn content_hash(card: &CardData) -> String {
    let mut out = Hashed(Sha256::new());
    let fields: [(&str, Field<'_>); 21] = [
        (
            "alternate_greetings",
            Field::Plain(&card.alternate_greetings),
        ),
        ("character_book", Field::Json(card.character_book.as_ref())),
        ("character_version", Field::Plain(&card.character_version)),
        ("creation_date", Field::Plain(&card.creation_date)),
        ("creator", Field::Plain(&card.creator)),
        ("creator_notes", Field::Plain(&card.creator_notes)),
        (
            "creator_notes_multilingual",
            Field::Plain(&card.creator_notes_multilingual),
        ),
        ("description", Field::Plain(&card.description)),
        ("extensions", Field::Extensions(&card.extensions)),
        ("first_mes", Field::Plain(&card.first_mes)),
        (
            "group_only_greetings",
            Field::Plain(&card.group_only_greetings),
        ),
        ("mes_example", Field::Plain(&card.mes_example)),
        ("modification_date", Field::Plain(&card.modification_date)),
        ("name", Field::Plain(&card.name)),
        ("nickname", Field::Plain(&card.nickname)),
        ("personality", Field::Plain(&card.personality)),
        (
            "post_history_instructions",
            Field::Plain(&card.post_history_instructions),
        ),
        ("scenario", Field::Plain(&card.scenario)),
        ("source", Field::Plain(&card.source)),
        ("system_prompt", Field::Plain(&card.system_prompt)),
        ("tags", Field::Plain(&card.tags)),
    ];
    out.write("{");
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.write(",");
        }
        out.json(key);
        out.write(":");
        match value {
            Field::Plain(v) => out.json(*v),
            Field::Json(Some(v)) => write_canonical(v, &mut out),
            Field::Json(None) => out.write("null"),
            Field::Extensions(m) => {
                write_object_skipping(m, Some(crate::library::DICTIONARY_EXTENSION), &mut out)
            }
        }
    }
    out.write("}");
    hex(&out.0.finalize())
}

/// One field of the card, by how it must be written canonically.
enum Field<'a> {
    /// Strings, lists, numbers, sorted maps: serde's output is already canonical.
    Plain(&'a dyn erased::Json),
    /// Free-form JSON whose object keys must be sorted.
    Json(Option<&'a Value>),
    /// The card's extensions, less Confab's own chat dictionary (data that
    /// travels with the card, like its avatar, not part of what it is).
    Extensions(&'a serde_json::Map<String, Value>),
}

mod erased {
    /// Anything serde can write as JSON, behind a reference.
    pub trait Json {
        fn write_json(&self, out: &mut dyn std::io::Write);
    }

    impl<T: serde::Serialize> Json for T {
        fn write_json(&self, out: &mut dyn std::io::Write) {
            // Serialising owned data into a hasher cannot fail.
            let _ = serde_json::to_writer(out, self);
        }
    }
}

/// Bytes written here go into the hash.
struct Hashed(Sha256);

impl Hashed {
    fn write(&mut self, s: &str) {
        self.0.update(s.as_bytes());
    }

    fn json(&mut self, value: &dyn erased::Json) {
        value.write_json(self);
    }
}

impl std::io::Write for Hashed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn write_canonical(value: &Value, out: &mut Hashed) {
    match value {
        Value::Object(map) => write_object(map, out),
        Value::Array(items) => {
            out.write("[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.write(",");
                }
                write_canonical(item, out);
            }
            out.write("]");
        }
        scalar => out.json(scalar),
    }
}

fn write_object(map: &serde_json::Map<String, Value>, out: &mut Hashed) {
    write_object_skipping(map, None, out);
}

fn write_object_skipping(
    map: &serde_json::Map<String, Value>,
    skip: Option<&str>,
    out: &mut Hashed,
) {
    let mut keys: Vec<&String> = map.keys().filter(|k| Some(k.as_str()) != skip).collect();
    keys.sort();
    out.write("{");
    for (i, key) in keys.into_iter().enumerate() {
        if i > 0 {
            out.write(",");
        }
        out.json(key);
        out.write(":");
        if let Some(v) = map.get(key) {
            write_canonical(v, out);
        }
    }
    out.write("}");
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
    fn every_card_field_but_assets_is_hashed() {
        // A new CardData field must be added to content_hash: this lists them all.
        let value = serde_json::to_value(CardData::default()).unwrap();
        let mut keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        keys.retain(|k| *k != "assets");
        assert_eq!(keys.len(), 21, "content_hash lists 21 fields: {keys:?}");
        // Each field changes the hash.
        let base = content_hash(&CardData::default());
        let mut map = value.as_object().unwrap().clone();
        for key in keys {
            let original = map[key].clone();
            // The first replacement value this field accepts.
            let candidates = [
                serde_json::json!("changed"),
                serde_json::json!(["changed"]),
                serde_json::json!({"changed": "yes"}),
                serde_json::json!(1),
            ];
            let changed = candidates
                .into_iter()
                .find_map(|candidate| {
                    map[key] = candidate;
                    serde_json::from_value::<CardData>(Value::Object(map.clone())).ok()
                })
                .unwrap();
            assert_ne!(
                content_hash(&changed),
                base,
                "{key} is part of the identity"
            );
            map[key] = original;
        }
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
