//! A chat's memory settings: summaries (on by default) and retrieval (off until an embeddings model is chosen).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The summary prompt used when the chat names none.
pub const DEFAULT_SUMMARY_PROMPT: &str = "You keep the memory of a long role-play chat. \
Write a concise summary of the messages below, in the past tense and the third person: the events in the order they happened, \
what each character learned, decided, promised or felt, and every name, place, object and fact that may matter later. \
Leave out greetings and small talk. Write only the summary, without a title or comments.";

/// The longest summary prompt accepted, in bytes.
pub const MAX_SUMMARY_PROMPT_BYTES: usize = 16 * 1024;
/// The most passages retrieval may insert in one prompt.
pub const MAX_RETRIEVAL_COUNT: u32 = 20;
/// The deepest retrieval may place its passages.
pub const MAX_RETRIEVAL_DEPTH: u32 = 1000;

/// A provider and model chosen for a memory task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ModelChoice {
    /// The provider's id.
    pub provider_id: String,
    /// The model; `None` is the provider's default model.
    #[serde(default)]
    pub model: Option<String>,
}

/// How a chat remembers what left the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct MemorySettings {
    /// Summarise messages that leave the window, in the background after a reply.
    pub summaries: bool,
    /// Who writes the summaries; `None` is the chat's own connection.
    pub summarizer: Option<ModelChoice>,
    /// The summary prompt; `None` is [`DEFAULT_SUMMARY_PROMPT`].
    pub summary_prompt: Option<String>,
    /// Retrieve earlier passages relevant to each turn.
    pub retrieval: bool,
    /// The embeddings model (an OpenAI-style `/v1/embeddings`); retrieval is off without one.
    pub embeddings: Option<ModelChoice>,
    /// How many chat messages come after the retrieved passages.
    pub retrieval_depth: u32,
    /// The most passages inserted.
    pub retrieval_count: u32,
    /// Passages scoring below this (cosine similarity) are left out.
    pub retrieval_min_score: f32,
}

impl Default for MemorySettings {
    fn default() -> Self {
        MemorySettings {
            summaries: true,
            summarizer: None,
            summary_prompt: None,
            retrieval: false,
            embeddings: None,
            retrieval_depth: 2,
            retrieval_count: 3,
            retrieval_min_score: 0.3,
        }
    }
}

impl MemorySettings {
    /// The summary prompt in force.
    pub fn summary_prompt(&self) -> &str {
        self.summary_prompt
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .unwrap_or(DEFAULT_SUMMARY_PROMPT)
    }

    /// Whether retrieval can run: switched on and a model chosen.
    pub fn retrieval_ready(&self) -> bool {
        self.retrieval && self.embeddings.is_some()
    }

    /// Refuses settings out of range, naming the field.
    pub fn validate(&self) -> Result<()> {
        if self
            .summary_prompt
            .as_ref()
            .is_some_and(|p| p.len() > MAX_SUMMARY_PROMPT_BYTES)
        {
            return Err(Error::InvalidInput(format!(
                "the summary prompt is longer than {} KB",
                MAX_SUMMARY_PROMPT_BYTES / 1024
            )));
        }
        if self.retrieval_count == 0 || self.retrieval_count > MAX_RETRIEVAL_COUNT {
            return Err(Error::InvalidInput(format!(
                "retrieval inserts 1 to {MAX_RETRIEVAL_COUNT} passages"
            )));
        }
        if self.retrieval_depth > MAX_RETRIEVAL_DEPTH {
            return Err(Error::InvalidInput(format!(
                "retrieved passages go at most {MAX_RETRIEVAL_DEPTH} messages deep"
            )));
        }
        if !(-1.0..=1.0).contains(&self.retrieval_min_score) {
            return Err(Error::InvalidInput(
                "the lowest score is a similarity between -1 and 1".into(),
            ));
        }
        for choice in [&self.summarizer, &self.embeddings].into_iter().flatten() {
            if choice.provider_id.trim().is_empty() {
                return Err(Error::InvalidInput("choose a provider".into()));
            }
        }
        Ok(())
    }
}
