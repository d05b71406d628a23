//! The Character's note (a card's depth prompt) and the Author's Note, as
//! SillyTavern's files carry them.

use serde_json::{json, Map, Value};

use crate::card::CardData;
use crate::error::{Error, Result};
use crate::session::Role;

use super::model::{AuthorsNote, CharacterNote, NotePosition};

/// The deepest a note may go: deeper than any window holds, and small enough to be sane.
pub const MAX_NOTE_DEPTH: u32 = 10_000;
/// The longest interval an Author's Note may have.
pub const MAX_NOTE_INTERVAL: u32 = 10_000;
/// The longest note text, in bytes.
pub const MAX_NOTE_BYTES: usize = 100_000;

/// SillyTavern's default depth for both notes.
const DEFAULT_DEPTH: u32 = 4;

/// The card's Character's note: `extensions.depth_prompt {prompt, depth, role}`.
///
/// Lenient as SillyTavern is: a missing or unreadable depth is 4, an unknown
/// role is system; a blank prompt is no note.
pub fn character_note(card: &CardData) -> Option<CharacterNote> {
    let dp = card.extensions.get("depth_prompt")?.as_object()?;
    let text = dp.get("prompt")?.as_str()?;
    if text.trim().is_empty() {
        return None;
    }
    let depth = dp
        .get("depth")
        .and_then(number)
        .map_or(DEFAULT_DEPTH, |d| d.min(MAX_NOTE_DEPTH));
    let role = dp
        .get("role")
        .and_then(Value::as_str)
        .map_or(Role::System, role_from_name);
    Some(CharacterNote {
        text: text.to_owned(),
        depth,
        role,
    })
}

/// Writes a Character's note into the card (`None` or a blank text removes
/// it), keeping any other field SillyTavern or another app put there.
pub fn set_character_note(card: &mut CardData, note: Option<&CharacterNote>) -> Result<()> {
    match note.filter(|n| !n.text.trim().is_empty()) {
        None => {
            card.extensions.remove("depth_prompt");
        }
        Some(note) => {
            check_text("the Character's note", &note.text)?;
            check_depth(note.depth)?;
            let mut dp = match card.extensions.remove("depth_prompt") {
                Some(Value::Object(map)) => map,
                _ => Map::new(),
            };
            dp.insert("prompt".into(), json!(note.text));
            dp.insert("depth".into(), json!(note.depth));
            dp.insert("role".into(), json!(note.role.as_str()));
            card.extensions
                .insert("depth_prompt".into(), Value::Object(dp));
        }
    }
    Ok(())
}

/// Checks an Author's Note before it is saved.
pub fn validate_authors_note(note: &AuthorsNote) -> Result<()> {
    check_text("the Author's Note", &note.text)?;
    check_depth(note.depth)?;
    if note.interval > MAX_NOTE_INTERVAL {
        return Err(Error::InvalidInput(format!(
            "the Author's Note can be sent every {MAX_NOTE_INTERVAL} user messages at most"
        )));
    }
    Ok(())
}

/// The Author's Note a SillyTavern chat's `chat_metadata` carries
/// (`note_prompt`, `note_interval`, `note_position`, `note_depth`, `note_role`);
/// `None` when it sets none of them, or only an empty note with every default.
pub fn authors_note_from_metadata(meta: &Map<String, Value>) -> Option<AuthorsNote> {
    let defaults = AuthorsNote::default();
    let text = meta
        .get("note_prompt")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let position = match meta.get("note_position").and_then(number) {
        Some(0) => NotePosition::AfterSystem,
        Some(2) => NotePosition::BeforeSystem,
        _ => NotePosition::InChat,
    };
    let note = AuthorsNote {
        text,
        position,
        depth: meta
            .get("note_depth")
            .and_then(number)
            .map_or(defaults.depth, |d| d.min(MAX_NOTE_DEPTH)),
        role: match meta.get("note_role").and_then(number) {
            Some(1) => Role::User,
            Some(2) => Role::Assistant,
            _ => Role::System,
        },
        interval: meta
            .get("note_interval")
            .and_then(number)
            .map_or(defaults.interval, |i| i.min(MAX_NOTE_INTERVAL)),
    };
    (note != defaults).then_some(note)
}

/// Writes an Author's Note into a SillyTavern `chat_metadata`.
pub fn authors_note_into_metadata(note: &AuthorsNote, meta: &mut Map<String, Value>) {
    let position = match note.position {
        NotePosition::AfterSystem => 0,
        NotePosition::InChat => 1,
        NotePosition::BeforeSystem => 2,
    };
    let role = match note.role {
        Role::System => 0,
        Role::User => 1,
        Role::Assistant => 2,
    };
    meta.insert("note_prompt".into(), json!(note.text));
    meta.insert("note_interval".into(), json!(note.interval));
    meta.insert("note_position".into(), json!(position));
    meta.insert("note_depth".into(), json!(note.depth));
    meta.insert("note_role".into(), json!(role));
}

/// A non-negative whole number, also when written as a float or a string ("4").
fn number(v: &Value) -> Option<u32> {
    let n = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (n.is_finite() && n >= 0.0).then(|| n.min(f64::from(u32::MAX)) as u32)
}

fn role_from_name(name: &str) -> Role {
    match name.trim().to_ascii_lowercase().as_str() {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        _ => Role::System,
    }
}

fn check_text(what: &str, text: &str) -> Result<()> {
    if text.len() > MAX_NOTE_BYTES {
        return Err(Error::InvalidInput(format!(
            "{what} is too long: {} bytes, at most {MAX_NOTE_BYTES}",
            text.len()
        )));
    }
    Ok(())
}

fn check_depth(depth: u32) -> Result<()> {
    if depth > MAX_NOTE_DEPTH {
        return Err(Error::InvalidInput(format!(
            "a note can go at most {MAX_NOTE_DEPTH} messages deep"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card_with(dp: Value) -> CardData {
        let mut card = CardData::default();
        card.extensions.insert("depth_prompt".into(), dp);
        card
    }

    #[test]
    fn depth_prompt_is_read_leniently() {
        let note = character_note(&card_with(
            json!({"prompt": "Be kind.", "depth": 2, "role": "user"}),
        ))
        .unwrap();
        assert_eq!(
            (note.text.as_str(), note.depth, note.role),
            ("Be kind.", 2, Role::User)
        );
        let note = character_note(&card_with(json!({"prompt": "x", "depth": "7"}))).unwrap();
        assert_eq!((note.depth, note.role), (7, Role::System));
        let note =
            character_note(&card_with(json!({"prompt": "x", "depth": -3, "role": 9}))).unwrap();
        assert_eq!((note.depth, note.role), (4, Role::System));
        assert!(character_note(&card_with(json!({"prompt": "  ", "depth": 2}))).is_none());
        assert!(character_note(&card_with(json!("not an object"))).is_none());
        assert!(character_note(&CardData::default()).is_none());
    }

    #[test]
    fn writing_the_note_keeps_other_fields() {
        let mut card = card_with(json!({"prompt": "old", "depth": 4, "role": "system", "x": 1}));
        let note = CharacterNote {
            text: "new".into(),
            depth: 1,
            role: Role::Assistant,
        };
        set_character_note(&mut card, Some(&note)).unwrap();
        assert_eq!(
            card.extensions["depth_prompt"],
            json!({"prompt": "new", "depth": 1, "role": "assistant", "x": 1})
        );
        assert_eq!(character_note(&card), Some(note));
        set_character_note(&mut card, None).unwrap();
        assert!(!card.extensions.contains_key("depth_prompt"));
    }

    #[test]
    fn st_chat_metadata_round_trips() {
        let meta: Map<String, Value> = serde_json::from_value(json!({
            "note_prompt": "[Mood: tense]", "note_interval": 3, "note_position": 0,
            "note_depth": 2, "note_role": 2, "integrity": "x"
        }))
        .unwrap();
        let note = authors_note_from_metadata(&meta).unwrap();
        assert_eq!(
            note,
            AuthorsNote {
                text: "[Mood: tense]".into(),
                position: NotePosition::AfterSystem,
                depth: 2,
                role: Role::Assistant,
                interval: 3,
            }
        );
        let mut out = Map::new();
        authors_note_into_metadata(&note, &mut out);
        assert_eq!(authors_note_from_metadata(&out), Some(note));
        // SillyTavern's defaults with an empty note are no note at all.
        let blank: Map<String, Value> = serde_json::from_value(json!({
            "note_prompt": "", "note_interval": 1, "note_position": 1, "note_depth": 4, "note_role": 0
        }))
        .unwrap();
        assert_eq!(authors_note_from_metadata(&blank), None);
    }
}
