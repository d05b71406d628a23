//! World books (lorebooks): the model, import/export, and the activation engine.

pub mod engine;
pub mod model;
pub mod report;

pub use engine::*;
pub use model::*;
pub use report::*;
