//! The memory repository: summaries, passages and each chat's memory settings.

mod passages;
mod settings;
mod summaries;

pub use summaries::{CoveredMessage, NewSummary, SummaryRow};
