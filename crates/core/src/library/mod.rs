//! The character library: importing cards, listing, editing, exporting.

pub mod model;

pub use model::*;
