//! The normalised character card.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Which card specification a file was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum CardSpec {
    /// TavernAI's flat JSON (no `spec` field).
    V1,
    /// `chara_card_v2`.
    V2,
    /// `chara_card_v3`.
    V3,
}

/// The container a card arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum CardFormat {
    /// PNG with `chara`/`ccv3` text chunks.
    Png,
    /// Bare JSON.
    Json,
    /// CHARX zip (card.json + assets).
    Charx,
    /// YAML.
    Yaml,
    /// Markdown or plain text: name from the file, text as description.
    Text,
    /// WEBP with the card in EXIF or XMP.
    Webp,
    /// JPEG with the card in EXIF or XMP.
    Jpeg,
}

/// An asset a V3 card lists (`data.assets[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AssetRef {
    /// `icon`, `background`, `user_icon`, `emotion`, or anything else.
    #[serde(rename = "type")]
    pub kind: String,
    /// `ccdefault:`, `embeded://path`, `__asset:N`, a data URL or an http(s) URL.
    pub uri: String,
    /// The asset's name (`main` for the main icon).
    pub name: String,
    /// File extension without the dot.
    pub ext: String,
}

/// A character, as Character Card V3 defines `data`: every field of V1/V2/V3.
///
/// Field names follow the spec (snake_case) so the struct serialises to a
/// valid `data` object as it is. Deserialising it is strict (every field
/// present, as Confab writes it); outside JSON goes through
/// [`normalize`](super::normalize), which forgives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CardData {
    /// The character's name.
    pub name: String,
    /// What the prompt calls the character instead of `name`, if set.
    pub nickname: Option<String>,
    /// The main description.
    pub description: String,
    /// Personality summary.
    pub personality: String,
    /// The scenario.
    pub scenario: String,
    /// The first message (greeting).
    pub first_mes: String,
    /// Example dialogue.
    pub mes_example: String,
    /// Other greetings, offered as swipes of the first message.
    pub alternate_greetings: Vec<String>,
    /// Greetings used only in group chats.
    pub group_only_greetings: Vec<String>,
    /// The card's system prompt (replaces the default when set).
    pub system_prompt: String,
    /// Instructions placed after the chat history.
    pub post_history_instructions: String,
    /// Notes from the creator for the user (not sent to the model).
    pub creator_notes: String,
    /// Creator notes by language code (`en`, `ja`, ...).
    pub creator_notes_multilingual: BTreeMap<String, String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Who made the card.
    pub creator: String,
    /// The card's own version string.
    pub character_version: String,
    /// Where the card came from (URLs or ids).
    pub source: Vec<String>,
    /// Creation time, Unix seconds.
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub creation_date: Option<i64>,
    /// Last modification time, Unix seconds.
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub modification_date: Option<i64>,
    /// Assets the card lists.
    pub assets: Vec<AssetRef>,
    /// The embedded lorebook, kept verbatim (the world-book issue links it).
    #[cfg_attr(feature = "specta", specta(type = Option<JsonValue>))]
    pub character_book: Option<serde_json::Value>,
    /// Tool-specific data, kept verbatim.
    #[cfg_attr(feature = "specta", specta(type = BTreeMap<String, JsonValue>))]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

/// Any JSON value as TypeScript sees it: specta refuses `serde_json::Value`
/// itself because its integers may not fit a JS number; card JSON never needs
/// more than f64 precision.
#[cfg(feature = "specta")]
#[derive(specta::Type, Serialize)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum JsonValue {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number (typed through `u32` so TypeScript gets `number`, not `number | null`).
    Number(u32),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<JsonValue>),
    /// An object.
    Object(BTreeMap<String, JsonValue>),
}
