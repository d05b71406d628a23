//! Prompt assembly: a session becomes the provider-neutral message list, explained.

mod assemble;
mod explain;
mod macros;
pub mod model;
mod preferences;
mod trim;

pub use assemble::{assemble, DEFAULT_PRIMARY_CONTEXT, SECTION_SEPARATOR};
pub use explain::{explain, NOT_PLACED};
pub use macros::{substitute_macros, MacroContext};
pub use model::*;
pub use preferences::{preference_block, validate_preferences, PREFERENCES_TITLE};
