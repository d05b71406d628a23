//! Writing summaries: in the background after a reply, or when asked.
//!
//! After a reply, when the chat's messages have left the window and no
//! summary covers them, they are summarised in chunks that free about half of
//! the history's room, so the window's start then stays put for many turns
//! (a stable prefix is what prompt caching reuses). Stale summaries that are
//! not pinned are written again. One job per chat at a time; it never holds
//! the chat's stream slot, so the user's next send is never `busy` because of it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use super::summarizer::{ask, chunk_budget, line_of, resolve_summarizer, turn_line};
use super::summary_plan::plan;
use super::Inner;
use crate::error::{AppError, Error, Result};
use crate::memory::summary::MemoryChanged;
use crate::session::turn::{build_turn, sendable, turn_target, Turn, TurnMessage, TurnRequest};
use crate::sink::Sink;
use crate::store::{NewSummary, SummaryRow};
use crate::tokens::{shared_counter, TokenCounter};

/// The most chunks one job summarises (the rest waits for the next reply).
const MAX_CHUNKS: usize = 8;
/// The most stale summaries one job writes again.
const MAX_REDOS: usize = 4;
/// The newest messages never summarised, however full the window.
const MIN_KEPT: usize = 4;

/// The engine's memory state: where notices go, the jobs running, the last errors.
#[derive(Default)]
pub(crate) struct MemoryState {
    notices: Mutex<Option<Arc<dyn Sink<MemoryChanged>>>>,
    /// Running jobs by chat: their stop, and whether a reply asked for another run meanwhile.
    jobs: Mutex<HashMap<String, (CancellationToken, bool)>>,
    errors: Mutex<HashMap<String, AppError>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every change is one insert or remove: the map stays consistent after a panic.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl MemoryState {
    pub(super) fn set_notices(&self, sink: Arc<dyn Sink<MemoryChanged>>) {
        *lock(&self.notices) = Some(sink);
    }

    pub(super) fn notify(&self, session_id: &str) {
        let sink = lock(&self.notices).clone();
        if let Some(sink) = sink {
            sink.send(MemoryChanged {
                session_id: session_id.to_owned(),
            });
        }
    }

    pub(super) fn running(&self, session_id: &str) -> bool {
        lock(&self.jobs).contains_key(session_id)
    }

    pub(super) fn last_error(&self, session_id: &str) -> Option<AppError> {
        lock(&self.errors).get(session_id).cloned()
    }

    fn set_error(&self, session_id: &str, error: Option<AppError>) {
        let mut errors = lock(&self.errors);
        match error {
            Some(e) => errors.insert(session_id.to_owned(), e),
            None => errors.remove(session_id),
        };
    }

    /// Claims the chat's job slot; `None` when a job runs (it is asked to run again if `again`).
    fn claim(&self, session_id: &str, again: bool) -> Option<CancellationToken> {
        let mut jobs = lock(&self.jobs);
        if let Some((_, rerun)) = jobs.get_mut(session_id) {
            *rerun |= again;
            return None;
        }
        let token = CancellationToken::new();
        jobs.insert(session_id.to_owned(), (token.clone(), false));
        Some(token)
    }

    /// Frees the slot; `true` when a reply asked for another run meanwhile.
    fn free(&self, session_id: &str) -> bool {
        lock(&self.jobs)
            .remove(session_id)
            .is_some_and(|(_, again)| again)
    }

    /// Stops every job (a restore, quitting): none writes after this returns
    /// unless it checked just before (its write then fails on the replaced library's keys).
    pub(super) fn cancel_all(&self) {
        for (token, _) in lock(&self.jobs).values() {
            token.cancel();
        }
    }
}

/// A claimed job slot, freed on drop.
pub(super) struct Slot {
    inner: Arc<Inner>,
    session_id: String,
    pub(super) cancel: CancellationToken,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.inner.memory.free(&self.session_id);
    }
}

impl Inner {
    /// Claims the chat's summarising slot for a caller that waits: `busy` while a job runs.
    pub(super) fn memory_slot(self: &Arc<Self>, session_id: &str) -> Result<Slot> {
        if self.registry().quiet {
            return Err(Error::Busy(
                "the library is being restored or merged; try again in a moment".into(),
            ));
        }
        let cancel = self.memory.claim(session_id, false).ok_or_else(|| {
            Error::Busy("a summary is being written for this chat; try again in a moment".into())
        })?;
        Ok(Slot {
            inner: Arc::clone(self),
            session_id: session_id.to_owned(),
            cancel,
        })
    }

    /// Starts the chat's summarising job in the background after a reply.
    pub(super) fn after_reply(self: &Arc<Self>, session_id: &str) {
        {
            let registry = self.registry();
            if registry.quiet || registry.closing {
                return;
            }
        }
        let Some(cancel) = self.memory.claim(session_id, true) else {
            return;
        };
        let (inner, session_id) = (Arc::clone(self), session_id.to_owned());
        tokio::spawn(async move {
            let mut cancel = cancel;
            loop {
                let outcome = summarize(&inner, &session_id, &cancel, false).await;
                let changed = outcome.as_ref().is_ok_and(|w| !w.is_empty());
                report(&inner, &session_id, &outcome, changed);
                if !inner.memory.free(&session_id) || cancel.is_cancelled() {
                    break;
                }
                // A reply came meanwhile: once more, for what it pushed out.
                match inner.memory.claim(&session_id, false) {
                    Some(next) => cancel = next,
                    None => break,
                }
            }
        });
    }
}

/// Keeps the job's error for the Memory panel (cleared by a success) and tells it.
pub(super) fn report<T>(inner: &Inner, session_id: &str, outcome: &Result<T>, changed: bool) {
    match outcome {
        Ok(_) => {
            let had = inner.memory.last_error(session_id).is_some();
            inner.memory.set_error(session_id, None);
            if changed || had {
                inner.memory.notify(session_id);
            }
        }
        // A stopped job (a restore, quitting) says nothing.
        Err(Error::Busy(_)) => {}
        Err(e) => {
            let error = AppError {
                code: e.code(),
                message: e.to_string(),
                path: None,
                retry_after_secs: match e {
                    Error::RateLimited {
                        retry_after_secs, ..
                    } => *retry_after_secs,
                    _ => None,
                },
            };
            inner.memory.set_error(session_id, Some(error));
            inner.memory.notify(session_id);
        }
    }
}

/// The chat's turn as a send would build it now (no new message), for the chat's own limits.
pub(super) async fn current_turn(inner: &Inner, session_id: &str) -> Result<Turn> {
    let target = turn_target(&inner.store, session_id).await?;
    let limits = match &target.config {
        Some(config) => inner.caches.servers.calibrate(config, target.limits()),
        None => target.limits(),
    };
    build_turn(
        &inner.store,
        &inner.caches,
        session_id,
        &TurnRequest::default(),
        limits,
    )
    .await
}

/// Runs one summarising pass over the chat; returns what it wrote.
/// `asked`: the user asked (summaries may be off; errors are theirs to see).
pub(super) async fn summarize(
    inner: &Inner,
    session_id: &str,
    cancel: &CancellationToken,
    asked: bool,
) -> Result<Vec<SummaryRow>> {
    let settings = inner.store.memory_settings(session_id).await?;
    if !settings.summaries {
        if asked {
            return Err(Error::InvalidInput(
                "summaries are off for this chat: switch them on in its Memory settings".into(),
            ));
        }
        return Ok(Vec::new());
    }
    let turn = current_turn(inner, session_id).await?;
    let chain = &turn.memory.chain;
    let stale: Vec<usize> = (0..chain.len())
        .filter(|&i| chain.get(i).is_some_and(|s| s.stale && !s.pinned))
        .take(MAX_REDOS)
        .collect();
    let plan = plan(inner, &turn).await?;
    if stale.is_empty() && plan.unsummarized() == 0 && !plan.crowded {
        return Ok(Vec::new());
    }
    let summarizer = resolve_summarizer(inner, session_id, &settings).await?;
    let mut written = Vec::new();
    for i in stale {
        let (Some(s), previous) = (chain.get(i), i.checked_sub(1).and_then(|p| chain.get(p)))
        else {
            continue;
        };
        let covered = inner.store.summary_messages(&s.id).await?;
        let lines = covered.iter().map(line_of).collect::<Vec<_>>();
        let text = ask(
            inner,
            session_id,
            &summarizer,
            &settings,
            previous.map(|p| p.content.as_str()),
            &lines,
            cancel,
        )
        .await?;
        still_on(inner, cancel)?;
        let tokens = shared_counter().count(&text);
        written.push(
            inner
                .store
                .set_summary_content(
                    &s.id,
                    &text,
                    Some(tokens),
                    Some(&summarizer.author),
                    Some(&s.content),
                )
                .await?,
        );
    }
    let chunk_tokens = chunk_budget(&summarizer);
    // Gaps first (oldest first), then what left the window.
    let mut work: Vec<(Option<String>, &[TurnMessage])> = plan
        .gaps
        .iter()
        .map(|(previous, missing)| (previous.clone(), missing.as_slice()))
        .collect();
    if plan.left > 0 || plan.crowded {
        let target = free_half(&plan.tail, 0, plan.left);
        let previous = chain
            .iter()
            .rev()
            .find(|s| sendable(s))
            .map(|s| s.content.clone());
        work.push((previous, plan.tail.get(..target).unwrap_or_default()));
    }
    let mut budget = MAX_CHUNKS;
    for (mut previous, messages) in work {
        for chunk in chunks(messages, chunk_tokens) {
            if budget == 0 {
                return Ok(written);
            }
            budget -= 1;
            let lines: Vec<String> = chunk.iter().map(turn_line).collect();
            let text = ask(
                inner,
                session_id,
                &summarizer,
                &settings,
                previous.as_deref(),
                &lines,
                cancel,
            )
            .await?;
            still_on(inner, cancel)?;
            let ids: Vec<String> = chunk.iter().map(|m| m.id.clone()).collect();
            let row = inner
                .store
                .add_summary(&NewSummary {
                    session_id,
                    messages: &ids,
                    content: &text,
                    tokens: Some(shared_counter().count(&text)),
                    author: &summarizer.author,
                })
                .await?;
            previous = Some(row.content.clone());
            written.push(row);
        }
    }
    Ok(written)
}

/// Writes one summary again (a regenerate asked for by the user).
pub(super) async fn redo(
    inner: &Inner,
    summary: &SummaryRow,
    cancel: &CancellationToken,
) -> Result<SummaryRow> {
    let session_id = summary.session_id.as_str();
    let settings = inner.store.memory_settings(session_id).await?;
    let summarizer = resolve_summarizer(inner, session_id, &settings).await?;
    let previous = match &summary.before_first {
        Some(parent) => {
            let mut before: Vec<SummaryRow> = inner
                .store
                .chat_summaries(session_id)
                .await?
                .into_iter()
                .filter(|s| &s.last_id == parent && sendable(s))
                .take(1)
                .collect();
            inner.store.fill_summary_texts(&mut before).await?;
            before.pop().map(|s| s.content)
        }
        None => None,
    };
    let covered = inner.store.summary_messages(&summary.id).await?;
    let lines = covered.iter().map(line_of).collect::<Vec<_>>();
    let text = ask(
        inner,
        session_id,
        &summarizer,
        &settings,
        previous.as_deref(),
        &lines,
        cancel,
    )
    .await?;
    still_on(inner, cancel)?;
    let tokens = shared_counter().count(&text);
    inner
        .store
        .set_summary_content(
            &summary.id,
            &text,
            Some(tokens),
            Some(&summarizer.author),
            None,
        )
        .await
}

/// Refuses to write once the job was stopped or the library is held quiet.
fn still_on(inner: &Inner, cancel: &CancellationToken) -> Result<()> {
    let stopped = {
        let registry = inner.registry();
        registry.quiet || registry.closing
    };
    if cancel.is_cancelled() || stopped {
        return Err(Error::Busy(
            "summarising stopped: the library is being restored, or Confab is quitting".into(),
        ));
    }
    Ok(())
}

/// Where the summarised stretch ends: past every message that left the window
/// (`end`), and on until the messages left in the window hold about half the
/// tokens they did, so the window's start then stays put for many turns; the
/// newest [`MIN_KEPT`] messages are never taken.
fn free_half(history: &[TurnMessage], start: usize, end: usize) -> usize {
    let limit = history.len().saturating_sub(MIN_KEPT).max(start);
    let mut at = end.min(limit);
    let kept: u64 = history
        .get(at..)
        .unwrap_or_default()
        .iter()
        .map(|m| u64::from(m.tokens))
        .sum();
    let mut left = kept;
    while at < limit && left > kept / 2 {
        left -= history.get(at).map_or(0, |m| u64::from(m.tokens));
        at += 1;
    }
    at
}

/// Consecutive chunks of at most `budget` tokens (a longer message alone),
/// about even in size: the stretch is cut in as few chunks as the budget
/// allows, not into full ones and a scrap.
fn chunks(messages: &[TurnMessage], budget: u64) -> Vec<&[TurnMessage]> {
    let budget = budget.max(1);
    let total: u64 = messages.iter().map(|m| u64::from(m.tokens).max(1)).sum();
    let target = total.div_ceil(total.div_ceil(budget).max(1));
    let mut out = Vec::new();
    let (mut from, mut used) = (0usize, 0u64);
    for (i, m) in messages.iter().enumerate() {
        let t = u64::from(m.tokens).max(1);
        if i > from && used + t > budget {
            out.extend(messages.get(from..i));
            (from, used) = (i, 0);
        }
        used += t;
        if used >= target {
            out.extend(messages.get(from..=i));
            (from, used) = (i + 1, 0);
        }
    }
    if from < messages.len() {
        out.extend(messages.get(from..));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Role;

    fn messages(tokens: &[u32]) -> Vec<TurnMessage> {
        tokens
            .iter()
            .enumerate()
            .map(|(i, t)| TurnMessage {
                id: i.to_string(),
                role: Role::User,
                name: "Ann".into(),
                content: String::new(),
                tokens: *t,
            })
            .collect()
    }

    #[test]
    fn a_pass_frees_about_half_of_what_stayed_in_the_window() {
        // 4 left the window; 10 of 100 tokens stayed: 5 more go, leaving 50.
        let m = messages(&[100; 14]);
        assert_eq!(free_half(&m, 0, 4), 9);
        // Never the newest few, however full.
        let m = messages(&[100; 6]);
        assert_eq!(free_half(&m, 0, 6), 2);
        // Nothing in the window: what left it, no more.
        assert_eq!(free_half(&messages(&[]), 0, 0), 0);
    }

    #[test]
    fn chunks_stay_within_the_budget_and_a_long_message_goes_alone() {
        let m = messages(&[40, 40, 40, 500, 10, 10]);
        let sizes: Vec<usize> = chunks(&m, 100).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![2, 1, 1, 2]);
        // Even rather than full ones and a scrap: 20 x 100 in a 700 budget is 3 chunks of 7, 7, 6.
        let m = messages(&[100; 20]);
        let sizes: Vec<usize> = chunks(&m, 700).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![7, 7, 6]);
        assert!(chunks(&m, 700)
            .iter()
            .all(|c| c.iter().map(|x| x.tokens).sum::<u32>() <= 700));
        assert!(chunks(&messages(&[]), 100).is_empty());
        // Zero-token messages still make progress.
        assert_eq!(chunks(&messages(&[0; 5]), 1).len(), 5);
    }
}
