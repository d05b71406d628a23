//! SillyTavern world info JSON, both ways.
//!
//! `reading.rs` and `writing.rs` hold the two ways; `fields.rs` the entry
//! fields' SillyTavern encodings and `settings.rs` the book settings', both
//! ways, which card books (`character_book.rs`) share.

mod fields;
mod reading;
mod settings;
mod writing;

pub(crate) use fields::{
    character_filter, character_filter_json, delay_until_recursion, delay_until_recursion_json,
    keep_unread_filter, logic_code, position, position_code, position_from_code, role, role_code,
    selective_logic,
};
pub(crate) use reading::{assign_uids, read};
pub(crate) use settings::{
    confab_settings_json, read_card_style_settings, read_confab_settings,
    write_card_style_settings, SETTINGS_KEY,
};
pub use writing::to_sillytavern_json;
