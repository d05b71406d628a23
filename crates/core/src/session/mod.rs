//! Chat sessions: the message tree, personas, per-character preferences, primary context.

pub mod group;
pub mod group_files;
pub mod model;
pub mod notes;
pub mod service;
pub mod transcript;
pub mod turn;

pub use model::*;
