//! World books (lorebooks): the model, import/export, and the activation engine.

pub mod model;

pub use model::*;
