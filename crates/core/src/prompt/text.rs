//! Turning a raw prompt text into what the model reads, and the pieces messages are made of.

use std::borrow::Cow;

use super::macros::{expand, MacroContext, Used};
use super::model::PromptSource;

/// Rewrites the text the model reads: the chat dictionaries' prompt-scope rules.
pub trait Rewrite: Sync {
    /// `text` as the model should read it.
    fn rewrite<'t>(&self, text: &'t str) -> Cow<'t, str>;
}

/// Leaves every text as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRewrite;

impl Rewrite for NoRewrite {
    fn rewrite<'t>(&self, text: &'t str) -> Cow<'t, str> {
        Cow::Borrowed(text)
    }
}

/// Macros, then (for prompt texts) trimming, then the dictionary: one place, so
/// every part of a prompt is read the same way.
pub(crate) struct Prep<'a> {
    pub ctx: &'a MacroContext,
    pub rewrite: &'a dyn Rewrite,
}

impl Prep<'_> {
    /// A prompt text (card field, note, world info): macros, trimmed, rewritten.
    pub fn text(&self, raw: &str) -> (String, Used) {
        self.text_in(raw, self.ctx)
    }

    /// [`Prep::text`] with another macro context (one that sets `{{original}}`).
    pub fn text_in(&self, raw: &str, ctx: &MacroContext) -> (String, Used) {
        let (expanded, used) = expand(raw, ctx);
        let rewritten = self.rewrite.rewrite(expanded.trim());
        (rewritten.trim().to_owned(), used)
    }

    /// A chat message's text: macros and the dictionary, not trimmed. Borrowed
    /// when nothing changed, so a stored token count still holds.
    pub fn message<'t>(&self, raw: &'t str) -> (Cow<'t, str>, Used) {
        let (expanded, used) = expand(raw, self.ctx);
        let text = match expanded {
            Cow::Borrowed(t) => self.rewrite.rewrite(t),
            Cow::Owned(t) => Cow::Owned(self.rewrite.rewrite(&t).into_owned()),
        };
        (text, used)
    }
}

/// A piece of a message before it is counted.
pub(crate) struct Piece {
    pub source: PromptSource,
    pub label: String,
    pub text: String,
    /// The outlets its text pulled in.
    pub outlets: Vec<String>,
}

impl Piece {
    pub fn new(source: PromptSource, label: impl Into<String>, text: String) -> Piece {
        Piece {
            source,
            label: label.into(),
            text,
            outlets: Vec::new(),
        }
    }

    /// The same piece, remembering the outlets its text used.
    pub fn using(mut self, used: Used) -> Piece {
        self.outlets = used.outlets;
        self
    }
}

/// The texts of `pieces` joined by `separator`.
pub(crate) fn join(pieces: &[Piece], separator: &str) -> String {
    let texts: Vec<&str> = pieces.iter().map(|p| p.text.as_str()).collect();
    texts.join(separator)
}
