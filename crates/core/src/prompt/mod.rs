//! Prompt assembly: a session becomes the provider-neutral message list, explained.

mod assemble;
mod cache;
mod examples;
mod explain;
mod inject;
mod macros;
mod memory;
pub mod model;
mod notes;
mod preferences;
mod retrieved;
mod system;
mod text;
mod trim;

pub use assemble::{assemble, assemble_with, DEFAULT_PRIMARY_CONTEXT, GROUP_NUDGE};
pub use cache::{
    cache_breakpoints, relocate_keyword_world_info, MAX_CACHE_BREAKPOINTS, MIN_CACHEABLE_TOKENS,
    MOVED_WORLD_INFO_DEPTH,
};
pub use examples::{CHAT_START_LINE, EXAMPLE_CHAT_LINE};
pub use explain::{explain, NOT_PLACED};
pub use macros::{substitute_macros, MacroContext};
pub use model::*;
pub use notes::{
    authors_note_from_metadata, authors_note_into_metadata, character_note, set_character_note,
    validate_authors_note, MAX_NOTE_BYTES, MAX_NOTE_DEPTH, MAX_NOTE_INTERVAL,
};
pub use preferences::{preference_block, validate_preferences, PREFERENCES_TITLE};
pub use system::{display_name, SECTION_SEPARATOR};
pub use text::{NoRewrite, Rewrite};
