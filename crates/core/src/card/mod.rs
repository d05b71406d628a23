//! Character cards: reading every format people bring, writing files every tool reads.
//!
//! Everything normalises into [`CardData`] (the Character Card V3 superset); the
//! original JSON travels beside it so that fields Confab does not know survive a
//! round trip.

pub mod model;
mod parsed;

pub use model::{AssetRef, CardData, CardFormat, CardSpec};
pub use parsed::{EmbeddedAsset, Image, Limits, ParsedCard};
