//! confab-core: everything in Confab that is not the window.
//!
//! Storage, and (in later modules) cards, world books, prompt assembly,
//! providers, the chat engine and secrets. This crate must never depend on
//! Tauri: the desktop shell and the `confab` CLI are both thin clients of it.

#![warn(missing_docs)]

pub mod backup;
pub mod card;
pub mod chat;
pub mod connection;
pub mod error;
pub mod files;
pub mod info;
pub mod library;
pub mod llm;
pub mod lore;
pub mod memory;
pub mod offload;
pub mod onboarding;
pub mod paths;
pub mod prompt;
pub mod providers;
mod rng;
pub mod secrets;
pub mod session;
pub mod settings;
pub mod sink;
pub mod store;
pub mod template;
pub mod tokens;

pub use error::{AppError, Error, ErrorCode, Result};

/// How a never-NaN `f64` (a timestamp) is typed for TypeScript: specta types
/// `f64` as `number | null` because serde writes NaN as null.
#[cfg(feature = "specta")]
pub(crate) type TsNumber = u32;

/// Confab's version, shared by the app, the CLI and this crate.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
