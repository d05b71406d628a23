//! The character library: importing cards, listing, editing, exporting.

mod edit;
mod identity;
pub mod model;
mod thumbnail;

pub use edit::update_character;
pub use identity::content_hash;
pub use model::*;
pub use thumbnail::{make_thumbnail, THUMB_HEIGHT, THUMB_WIDTH};
