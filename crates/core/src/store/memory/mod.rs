//! The memory repository: summaries, passages and each chat's memory settings.

pub(crate) mod passages;
mod settings;
mod summaries;

pub(crate) use summaries::copy_summaries;
pub use summaries::{CoveredMessage, NewSummary, SummaryRow};
