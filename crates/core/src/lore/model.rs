//! World books and their entries: SillyTavern's field set, named in Confab's words.

#[cfg(feature = "specta")]
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How a world book scans the chat; every field has SillyTavern's default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct BookSettings {
    /// How many recent messages are scanned for keys (ST `world_info_depth`, default 2).
    pub scan_depth: u32,
    /// Token budget as a percent of the context window (ST default 25).
    pub budget_percent: u32,
    /// Hard cap on the budget in tokens; 0 means no cap.
    pub budget_cap: u32,
    /// Activated entries' content is scanned for more keys.
    pub recursive: bool,
    /// Most recursion steps; 0 means as many as it takes (still bounded by the engine).
    pub max_recursion_steps: u32,
    /// Keep scanning deeper until at least this many entries fired; 0 turns it off.
    pub min_activations: u32,
    /// The deepest `min_activations` may scan to; 0 means the whole chat.
    pub min_activations_depth_max: u32,
    /// Keys match case-sensitively unless an entry says otherwise.
    pub case_sensitive: bool,
    /// Keys match whole words only unless an entry says otherwise.
    pub match_whole_words: bool,
    /// Scanned text includes each message's speaker name (`Name: text`).
    pub include_names: bool,
    /// Inclusion groups pick by key-match score unless an entry says otherwise.
    pub use_group_scoring: bool,
}

impl Default for BookSettings {
    fn default() -> Self {
        BookSettings {
            scan_depth: 2,
            budget_percent: 25,
            budget_cap: 0,
            recursive: false,
            max_recursion_steps: 0,
            min_activations: 0,
            min_activations_depth_max: 0,
            case_sensitive: false,
            match_whole_words: false,
            include_names: true,
            use_group_scoring: false,
        }
    }
}

/// How secondary keys combine with the primary match (ST `selectiveLogic`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum SelectiveLogic {
    /// Any secondary key also matches (ST 0).
    #[default]
    AndAny,
    /// Not every secondary key matches (ST 1).
    NotAll,
    /// No secondary key matches (ST 2).
    NotAny,
    /// Every secondary key matches (ST 3).
    AndAll,
}

/// Where an activated entry goes in the prompt (ST `position`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum EntryPosition {
    /// Before the character definitions (ST 0).
    #[default]
    BeforeCharacter,
    /// After the character definitions (ST 1).
    AfterCharacter,
    /// Top of the author's note (ST 2); Confab places it like `AfterCharacter`.
    AuthorsNoteTop,
    /// Bottom of the author's note (ST 3); Confab places it like `AfterCharacter`.
    AuthorsNoteBottom,
    /// In the chat history at `depth`, as a message with `role` (ST 4).
    AtDepth,
    /// Before the example messages (ST 5); Confab places it like `BeforeCharacter`.
    ExampleMessagesTop,
    /// After the example messages (ST 6); Confab places it like `AfterCharacter`.
    ExampleMessagesBottom,
    /// A named outlet a prompt template pulls in (ST 7); kept, not placed automatically.
    Outlet,
}

/// The role of an entry placed in the history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum EntryRole {
    /// System (ST 0).
    #[default]
    System,
    /// User (ST 1).
    User,
    /// Assistant (ST 2).
    Assistant,
}

/// Which texts besides the chat an entry's keys are matched against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct MatchSources {
    /// The user's persona description.
    pub persona_description: bool,
    /// The character's description.
    pub character_description: bool,
    /// The character's personality.
    pub character_personality: bool,
    /// The character's depth prompt (ST extension).
    pub character_depth_prompt: bool,
    /// The scenario.
    pub scenario: bool,
    /// The creator's notes.
    pub creator_notes: bool,
}

/// Which characters an entry is for (ST `characterFilter`).
///
/// With names, the character must be among them (or, excluding, must not be);
/// with tags, it must have one of them (or, excluding, none of them); with both,
/// both checks apply, as in SillyTavern. Names match the character's name without
/// regard to case, also with a file extension left off (ST lists avatar files:
/// `Seraphina.png` is Seraphina); tags match tag names without regard to case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CharacterFilter {
    /// Leaves out what it lists (ST `isExclude`), instead of keeping only that.
    pub exclude: bool,
    /// Character names (or ST avatar file names).
    pub names: Vec<String>,
    /// Tag names.
    pub tags: Vec<String>,
}

/// One entry of a world book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// Stable number within the book (ST `uid`).
    pub uid: u32,
    /// Primary keys: plain text, or `/pattern/flags` for a JavaScript-style regex.
    pub keys: Vec<String>,
    /// Secondary keys, combined by `selective_logic` when `selective` is on.
    pub secondary_keys: Vec<String>,
    /// Whether secondary keys apply.
    pub selective: bool,
    /// How secondary keys combine.
    pub selective_logic: SelectiveLogic,
    /// Title or memo (ST `comment`).
    pub comment: String,
    /// The text injected when the entry fires.
    pub content: String,
    /// Off entries never fire (ST `disable` inverted).
    pub enabled: bool,
    /// Always fires, keys or not.
    pub constant: bool,
    /// Lower goes first in the prompt (ST `order`, default 100).
    pub insertion_order: i32,
    /// Where it goes.
    pub position: EntryPosition,
    /// Depth for `AtDepth` (messages from the end; ST default 4).
    pub depth: u32,
    /// Role for `AtDepth`.
    pub role: EntryRole,
    /// Outlet name for `Outlet`.
    pub outlet_name: String,
    /// Overrides the book's case sensitivity.
    pub case_sensitive: Option<bool>,
    /// Overrides the book's whole-word matching.
    pub match_whole_words: Option<bool>,
    /// Overrides the book's scan depth.
    pub scan_depth: Option<u32>,
    /// Overrides the book's group scoring.
    pub use_group_scoring: Option<bool>,
    /// Chance to fire when matched, 0 to 100.
    pub probability: u32,
    /// Whether `probability` is used at all.
    pub use_probability: bool,
    /// Inclusion groups (ST `group`, comma-separated there): one winner per group.
    pub groups: Vec<String>,
    /// Wins its groups outright over non-prioritised entries (ST `groupOverride`).
    pub group_prioritize: bool,
    /// Relative chance to win a group draw (ST default 100).
    pub group_weight: u32,
    /// Never activated by recursion, only by the chat.
    pub exclude_recursion: bool,
    /// Its content is not scanned for further keys.
    pub prevent_recursion: bool,
    /// Only fires from recursion level N onward; 0 means no delay.
    pub delay_until_recursion: u32,
    /// Stays active for N messages after firing; 0 means off.
    pub sticky: u32,
    /// Cannot fire again for N messages after it ends; 0 means off.
    pub cooldown: u32,
    /// Cannot fire until the chat has N messages; 0 means off.
    pub delay: u32,
    /// Fires even when the budget is spent.
    pub ignore_budget: bool,
    /// Other texts the keys are matched against.
    pub match_sources: MatchSources,
    /// ST vector-storage flag, kept.
    pub vectorized: bool,
    /// ST automation id, kept.
    pub automation_id: String,
    /// Generation types it fires for (ST `triggers`: `normal`, `continue`,
    /// `impersonate`, `swipe`, `regenerate`, `quiet`); empty means all.
    pub triggers: Vec<String>,
    /// Which characters it is for; `None` means every character.
    pub character_filter: Option<CharacterFilter>,
    /// Position in ST's editor list, kept.
    pub display_index: Option<u32>,
    /// Fields Confab does not use, kept verbatim for export.
    #[cfg_attr(feature = "specta", specta(type = BTreeMap<String, crate::card::model::JsonValue>))]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl Entry {
    /// A new entry with SillyTavern's defaults.
    pub fn new(uid: u32) -> Entry {
        Entry {
            uid,
            keys: Vec::new(),
            secondary_keys: Vec::new(),
            selective: true,
            selective_logic: SelectiveLogic::AndAny,
            comment: String::new(),
            content: String::new(),
            enabled: true,
            constant: false,
            insertion_order: 100,
            position: EntryPosition::BeforeCharacter,
            depth: 4,
            role: EntryRole::System,
            outlet_name: String::new(),
            case_sensitive: None,
            match_whole_words: None,
            scan_depth: None,
            use_group_scoring: None,
            probability: 100,
            use_probability: true,
            groups: Vec::new(),
            group_prioritize: false,
            group_weight: 100,
            exclude_recursion: false,
            prevent_recursion: false,
            delay_until_recursion: 0,
            sticky: 0,
            cooldown: 0,
            delay: 0,
            ignore_budget: false,
            match_sources: MatchSources::default(),
            vectorized: false,
            automation_id: String::new(),
            triggers: Vec::new(),
            character_filter: None,
            display_index: None,
            extensions: serde_json::Map::new(),
        }
    }
}

impl Entry {
    /// Adopts a SillyTavern character filter that an older Confab kept verbatim in
    /// `extensions` (`characterFilter` from world info, `character_filter` from a
    /// card's book, or inside its `extensions`), so stored books get it applied.
    /// The kept copies are removed either way: the typed field is the one written back.
    pub fn adopt_kept_character_filter(&mut self) {
        let mut found = None;
        for key in ["characterFilter", "character_filter"] {
            if let Some(v) = self.extensions.get(key) {
                if let Some(filter) = CharacterFilter::from_sillytavern(v) {
                    found.get_or_insert(filter);
                    self.extensions.remove(key);
                }
            }
        }
        if let Some(serde_json::Value::Object(inner)) = self.extensions.get_mut("extensions") {
            if let Some(filter) = inner
                .get("character_filter")
                .and_then(CharacterFilter::from_sillytavern)
            {
                found.get_or_insert(filter);
                inner.remove("character_filter");
            }
        }
        if self.character_filter.is_none() {
            self.character_filter = found;
        }
    }
}

impl CharacterFilter {
    /// ST's `{isExclude, names, tags}`, when `value` has that shape.
    pub fn from_sillytavern(value: &serde_json::Value) -> Option<CharacterFilter> {
        use serde_json::Value;
        let obj = value.as_object()?;
        let list = |k: &str| -> Option<Vec<String>> {
            match obj.get(k) {
                None | Some(Value::Null) => Some(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| match i {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .collect(),
                _ => None,
            }
        };
        let exclude = match obj.get("isExclude") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            _ => return None,
        };
        Some(CharacterFilter {
            exclude,
            names: list("names")?,
            tags: list("tags")?,
        })
    }
}

/// A world book with its entries, independent of storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Book {
    /// The book's name.
    pub name: String,
    /// What it is about.
    pub description: String,
    /// How it scans.
    pub settings: BookSettings,
    /// Its entries, in the book's order.
    pub entries: Vec<Entry>,
    /// Book-level fields Confab does not use, kept verbatim for export.
    #[cfg_attr(feature = "specta", specta(type = BTreeMap<String, crate::card::model::JsonValue>))]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

/// A find/replace rule of a chat dictionary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DictionaryRule {
    /// What to find: plain text, or a regex when `regex` is on.
    pub find: String,
    /// What to put instead (`$1` refers to a regex group).
    pub replace: String,
    /// `find` is a regular expression.
    pub regex: bool,
    /// Matching respects case.
    pub case_sensitive: bool,
    /// Off rules do nothing.
    pub enabled: bool,
    /// Where the rule applies.
    pub scope: DictionaryScope,
}

/// Where a chat-dictionary rule applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum DictionaryScope {
    /// To the prompt sent to the model.
    Prompt,
    /// To replies as they are shown.
    Display,
    /// Both.
    #[default]
    Both,
}
