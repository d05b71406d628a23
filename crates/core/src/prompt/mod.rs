//! Prompt assembly: a session becomes the provider-neutral message list, explained.

pub mod model;

pub use model::*;
