//! World books (lorebooks): the model, import/export, and the activation engine.

pub mod books;
pub mod dictionary;
pub mod engine;
pub mod formats;
pub mod library;
pub mod model;
pub mod report;

pub use engine::*;
pub use library::*;
pub use model::*;
pub use report::*;
