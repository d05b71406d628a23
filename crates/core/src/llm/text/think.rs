//! Splitting a model's `<think>…</think>` block out of a text stream.
//!
//! Chat APIs hand reasoning over in a field of its own; a text-completion
//! server sends it inline, between tags. [`ThinkSplitter`] turns the text into
//! [`WireEvent::Reasoning`] and [`WireEvent::Text`] as it streams, whatever the
//! chunking: a tag cut by a chunk boundary is held back (never more than one
//! tag's length) until it is complete or proven not to be one.
//!
//! Only a block that opens the reply counts (after whitespace): a `<think>` in
//! the middle of a story is the story's. A template that puts the opening tag
//! in the prompt itself ([`ThinkOptions::prefilled`]) starts inside the block.

use crate::error::Error;
use crate::llm::sse::SseEvent;
use crate::llm::wire::{StreamParser, WireEvent};

/// The most whitespace held back before the reply's first word, waiting to see
/// whether a `<think>` follows; past it the whitespace is reply text.
const MAX_LEADING: usize = 4096;

/// How reasoning is marked in a text stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThinkOptions {
    /// The opening tag (`<think>`).
    pub open: String,
    /// The closing tag (`</think>`).
    pub close: String,
    /// The prompt ended with the opening tag: the stream starts inside the block.
    pub prefilled: bool,
}

impl Default for ThinkOptions {
    fn default() -> Self {
        ThinkOptions {
            open: "<think>".into(),
            close: "</think>".into(),
            prefilled: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Nothing but whitespace yet: a block may still open.
    Start,
    /// Inside the block: text is reasoning until the closing tag.
    Inside,
    /// Just after the block: whitespace before the reply is dropped.
    After,
    /// The reply: everything is text.
    Reply,
}

/// A push splitter: feed text with [`ThinkSplitter::push`], end with [`ThinkSplitter::finish`].
#[derive(Debug, Clone)]
pub struct ThinkSplitter {
    opts: ThinkOptions,
    phase: Phase,
    pending: String,
}

impl ThinkSplitter {
    /// A splitter at the start of a reply.
    pub fn new(opts: ThinkOptions) -> Self {
        let phase = if opts.open.is_empty() || opts.close.is_empty() {
            Phase::Reply // no tags, nothing to split
        } else if opts.prefilled {
            Phase::Inside
        } else {
            Phase::Start
        };
        ThinkSplitter {
            opts,
            phase,
            pending: String::new(),
        }
    }

    /// Whether the reply is past the block (or never had one): all further text is reply.
    pub fn in_reply(&self) -> bool {
        self.phase == Phase::Reply
    }

    /// Splits the next piece of text; returns what can be told apart so far.
    pub fn push(&mut self, text: &str) -> Vec<WireEvent> {
        let mut out = Vec::new();
        if self.phase == Phase::Reply && self.pending.is_empty() {
            emit(&mut out, WireEvent::Text, text);
            return out;
        }
        self.pending.push_str(text);
        loop {
            match self.phase {
                Phase::Start => {
                    let lead = self.pending.len() - self.pending.trim_start().len();
                    let rest = &self.pending[lead..];
                    if let Some(after) = rest.strip_prefix(self.opts.open.as_str()) {
                        self.pending = after.to_owned();
                        self.phase = Phase::Inside;
                    } else if self.opts.open.starts_with(rest) && self.pending.len() <= MAX_LEADING
                    {
                        return out; // only whitespace or a piece of the tag so far
                    } else {
                        self.phase = Phase::Reply;
                        let all = std::mem::take(&mut self.pending);
                        emit(&mut out, WireEvent::Text, &all);
                        return out;
                    }
                }
                Phase::Inside => match self.pending.find(self.opts.close.as_str()) {
                    Some(at) => {
                        emit(&mut out, WireEvent::Reasoning, &self.pending[..at]);
                        self.pending = self.pending[at + self.opts.close.len()..].to_owned();
                        self.phase = Phase::After;
                    }
                    None => {
                        let keep = partial_suffix(&self.pending, &self.opts.close);
                        let cut = self.pending.len() - keep;
                        emit(&mut out, WireEvent::Reasoning, &self.pending[..cut]);
                        self.pending.drain(..cut);
                        return out;
                    }
                },
                Phase::After => {
                    let rest = self.pending.trim_start();
                    if rest.is_empty() {
                        self.pending.clear();
                        return out;
                    }
                    self.phase = Phase::Reply;
                    let rest = rest.to_owned();
                    self.pending.clear();
                    emit(&mut out, WireEvent::Text, &rest);
                    return out;
                }
                Phase::Reply => {
                    let all = std::mem::take(&mut self.pending);
                    emit(&mut out, WireEvent::Text, &all);
                    return out;
                }
            }
        }
    }

    /// Ends the reply: what was held back goes out. An unterminated block stays
    /// reasoning (the model never said it was done thinking); text held while
    /// waiting for a tag that never came is reply.
    pub fn finish(&mut self) -> Vec<WireEvent> {
        let mut out = Vec::new();
        let rest = std::mem::take(&mut self.pending);
        match self.phase {
            Phase::Inside => emit(&mut out, WireEvent::Reasoning, &rest),
            Phase::Start | Phase::Reply => emit(&mut out, WireEvent::Text, &rest),
            Phase::After => {}
        }
        self.phase = Phase::Reply;
        out
    }
}

fn emit(out: &mut Vec<WireEvent>, make: fn(String) -> WireEvent, text: &str) {
    if !text.is_empty() {
        out.push(make(text.to_owned()));
    }
}

/// The length of the longest end of `text` that is a proper start of `tag`.
fn partial_suffix(text: &str, tag: &str) -> usize {
    let most = text.len().min(tag.len().saturating_sub(1));
    (1..=most)
        .rev()
        .find(|&k| {
            text.is_char_boundary(text.len() - k)
                && tag.is_char_boundary(k)
                && text.ends_with(&tag[..k])
        })
        .unwrap_or(0)
}

/// Splits reasoning out of a finished reply's events (a non-streamed answer).
pub fn split_events(events: Vec<WireEvent>, opts: &ThinkOptions) -> Vec<WireEvent> {
    let mut splitter = ThinkSplitter::new(opts.clone());
    let mut out = Vec::with_capacity(events.len() + 1);
    let mut flushed = false;
    for ev in events {
        match ev {
            WireEvent::Text(t) => out.extend(splitter.push(&t)),
            WireEvent::Finish { .. } if !flushed => {
                flushed = true;
                out.extend(splitter.finish());
                out.push(ev);
            }
            other => out.push(other),
        }
    }
    if !flushed {
        out.extend(splitter.finish());
    }
    out
}

/// Any stream parser with its text run through a [`ThinkSplitter`]. What the
/// splitter holds back (at most a tag's length, or leading whitespace) comes out
/// before the finish; a stream that fails instead loses only that.
#[derive(Debug)]
pub struct ThinkParser<P> {
    inner: P,
    splitter: ThinkSplitter,
    flushed: bool,
}

impl<P: StreamParser> ThinkParser<P> {
    /// Wraps `inner`.
    pub fn new(inner: P, opts: ThinkOptions) -> Self {
        ThinkParser {
            inner,
            splitter: ThinkSplitter::new(opts),
            flushed: false,
        }
    }

    fn split(&mut self, events: Vec<WireEvent>) -> Vec<WireEvent> {
        let mut out = Vec::with_capacity(events.len());
        for ev in events {
            match ev {
                WireEvent::Text(t) if !self.flushed => out.extend(self.splitter.push(&t)),
                WireEvent::Finish { .. } if !self.flushed => {
                    // What was held back belongs before the finish.
                    self.flushed = true;
                    out.extend(self.splitter.finish());
                    out.push(ev);
                }
                other => out.push(other),
            }
        }
        out
    }
}

impl<P: StreamParser> StreamParser for ThinkParser<P> {
    fn on_event(&mut self, ev: &SseEvent) -> Result<Vec<WireEvent>, Error> {
        let events = self.inner.on_event(ev)?;
        Ok(self.split(events))
    }

    fn on_final_event(&mut self, ev: &SseEvent) -> Result<Vec<WireEvent>, Error> {
        let events = self.inner.on_final_event(ev)?;
        Ok(self.split(events))
    }

    fn on_eof(&mut self) -> Result<Vec<WireEvent>, Error> {
        let events = self.inner.on_eof()?;
        let mut out = self.split(events);
        if !self.flushed {
            self.flushed = true;
            let mut rest = self.splitter.finish();
            rest.append(&mut out);
            out = rest;
        }
        Ok(out)
    }
}
