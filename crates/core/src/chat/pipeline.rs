//! One stream's task: build the prompt and the request, read the provider's
//! events, batch them to subscribers, checkpoint the reply, and end it with
//! exactly one terminal event after the final save.
//!
//! The outcome is decided in one place, the loop in [`stream_loop`]: whichever of
//! stop, the deadline, an error or the end of the stream it sees first wins,
//! and everything after (save, usage, terminal event) follows from that one
//! value. A stop that arrives after the decision changes nothing.

use std::pin::{pin, Pin};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{FutureExt, StreamExt};
use tokio::sync::watch;

use super::live::Live;
use super::prepare::{prepare, resolved, Prepared, Resolving};
use super::{CancelReason, Inner, ReplyKind, ReplyUsage, StreamEvent};
use crate::error::{AppError, Error, Result};
use crate::llm::{hide_key, start_reply_with, WireEvent};
use crate::session::{MessageMeta, MessageStatus};
use crate::store::{UsageOutcome, UsageRecord};

/// The reply message a stream writes.
pub(crate) struct ReplyTarget {
    /// Its id.
    pub id: String,
    /// For continue: the status and details it had, restored when nothing new arrives.
    pub before: Option<(MessageStatus, MessageMeta)>,
}

/// What a stream's task needs: decided and saved by the request before the task starts.
pub(crate) struct Job {
    /// What the request does.
    pub kind: ReplyKind,
    /// The session.
    pub session_id: String,
    /// The message being written (`None` for impersonate).
    pub reply: Option<ReplyTarget>,
    /// The history ends just above this message (`None`: the whole active path).
    pub history_before: Option<String>,
    /// The user message placed last, after the post-history instructions.
    pub new_message: Option<String>,
    /// Ids of the images sent with `new_message`.
    pub new_message_images: Vec<String>,
    /// For continue: the reply's text so far, sent as the last assistant message.
    pub prefill: Option<String>,
    /// In a group chat, the member writing the reply.
    pub speaker: Option<String>,
    /// When the request began (time to first token and duration count from here).
    pub began: Instant,
}

/// How a stream ended.
enum Outcome {
    Done,
    Failed(Error),
    Cancelled(CancelReason),
}

/// The provider and model a request went to.
pub(super) struct Target {
    pub(super) provider_id: String,
    pub(super) provider_name: String,
    pub(super) model: String,
}

/// What the stream reported besides text.
#[derive(Default)]
pub(super) struct Progress {
    pub(super) target: Option<Target>,
    /// Whether the HTTP request was made (only then is usage recorded).
    pub(super) requested: bool,
    pub(super) prompt_tokens: Option<u32>,
    pub(super) completion_tokens: Option<u32>,
    pub(super) cache_write_tokens: Option<u32>,
    pub(super) cache_read_tokens: Option<u32>,
    /// The cost the provider reported (OpenRouter), if it did.
    pub(super) reported_cost_usd: Option<f64>,
    pub(super) finish_reason: Option<String>,
    pub(super) first_token: Option<Duration>,
    /// Whether any text or reasoning arrived.
    pub(super) grew: bool,
    /// The request's API key, kept only to scrub it from a failure.
    pub(super) key: Option<String>,
    /// The save of the session's timed lore state, running beside the request.
    pub(super) lore_saved: Option<tokio::task::JoinHandle<Result<()>>>,
}

impl Progress {
    fn meta(&self, job: &Job, reasoning: String) -> MessageMeta {
        let ms = |d: Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX);
        MessageMeta {
            model: self.target.as_ref().map(|t| t.model.clone()),
            provider: self.target.as_ref().map(|t| t.provider_name.clone()),
            prompt_tokens: self.prompt_tokens,
            completion_tokens: self.completion_tokens,
            finish_reason: self.finish_reason.clone(),
            time_to_first_token_ms: self.first_token.map(ms),
            duration_ms: Some(ms(job.began.elapsed())),
            reasoning: (!reasoning.is_empty()).then_some(reasoning),
        }
    }
}

/// A partial reply waiting to be written.
struct Checkpoint {
    text: String,
    meta: MessageMeta,
}

/// Runs one stream to its end; the session is free when this returns.
pub(crate) async fn run(inner: Arc<Inner>, live: Arc<Live>, job: Job, resolving: Resolving) {
    let mut progress = Progress::default();
    let outcome = drive(&inner, &live, &job, resolving, &mut progress).await;
    // A server may echo the key in an error body or an SSE error event: the
    // failure is scrubbed of that exact key (not only of key-like patterns)
    // before it reaches the terminal event, the UI, the CLI or a log.
    let key = progress.key.take();
    let outcome = match outcome {
        Outcome::Failed(e) => Outcome::Failed(hide_key(e, key.as_deref())),
        other => other,
    };
    drop(key);
    let done = matches!(outcome, Outcome::Done);
    finish(&inner, &live, &job, progress, outcome).await;
    // After the terminal event: summarising what the reply pushed out of the window never delays it.
    if done && !matches!(job.kind, ReplyKind::Impersonate) {
        inner.after_reply(&job.session_id);
    }
}

async fn drive(
    inner: &Inner,
    live: &Live,
    job: &Job,
    resolving: Resolving,
    progress: &mut Progress,
) -> Outcome {
    let deadline = tokio::time::Instant::from_std(job.began + inner.config.max_duration);
    let mut cancelled = pin!(live.cancel.cancelled());
    let mut expired = pin!(tokio::time::sleep_until(deadline));

    let prepared = tokio::select! {
        biased;
        _ = &mut cancelled => return Outcome::Cancelled(live.reason()),
        _ = &mut expired => return Outcome::Cancelled(CancelReason::MaxDuration),
        prepared = async {
            let resolved = resolved(resolving).await;
            progress.key = resolved.as_ref().ok().and_then(|r| r.key.clone());
            prepare(inner, job, resolved, progress).await
        } => prepared,
    };
    let Prepared {
        config,
        request,
        think,
        abort,
    } = match prepared {
        Ok(p) => p,
        Err(e) => return Outcome::Failed(e),
    };

    // The checkpoint writer: a task of its own, so the network read never
    // waits for the disk; a watch channel keeps only the newest text, so
    // writes never pile up behind a slow disk.
    let (tx, rx) = watch::channel::<Option<Arc<Checkpoint>>>(None);
    let writer = job
        .reply
        .as_ref()
        .map(|reply| tokio::spawn(write_checkpoints(inner.store.clone(), reply.id.clone(), rx)));
    if writer.is_some() {
        // The request's model and provider go on the reply at once, so a crash
        // before the first token still says who was asked.
        let (text, reasoning) = live.texts();
        tx.send_replace(Some(Arc::new(Checkpoint {
            text,
            meta: progress.meta(job, reasoning),
        })));
    }

    progress.requested = true;
    let outcome = tokio::select! {
        biased;
        _ = &mut cancelled => Outcome::Cancelled(live.reason()),
        _ = &mut expired => Outcome::Cancelled(CancelReason::MaxDuration),
        started = start_reply_with(
            &inner.http,
            &config,
            &request,
            think.as_ref(),
            inner.config.idle_timeout,
            inner.config.max_event_bytes,
        ) => match started {
            Ok(stream) => {
                let checkpoints = writer.is_some().then_some(&tx);
                let timers = (cancelled.as_mut(), expired.as_mut());
                stream_loop(inner, live, job, progress, stream, checkpoints, timers).await
            }
            Err(e) => Outcome::Failed(e),
        },
    };
    if let (Outcome::Cancelled(_), Some(abort)) = (&outcome, abort) {
        abort.send(&inner.http);
    }
    // Close the writer and wait for its last write, so the final save is the last word.
    drop(tx);
    if let Some(writer) = writer {
        let _ = writer.await;
    }
    outcome
}

/// The stream's stop signal and deadline, shared by every phase of the request.
type Timers<'a, 'b> = (
    Pin<&'a mut tokio_util::sync::WaitForCancellationFuture<'b>>,
    Pin<&'a mut tokio::time::Sleep>,
);

/// Reads the provider's events until the outcome is decided; the stream (and
/// its connection) is dropped on return, so a stop ends the upstream request at once.
async fn stream_loop(
    inner: &Inner,
    live: &Live,
    job: &Job,
    progress: &mut Progress,
    mut stream: crate::llm::ReplyStream,
    checkpoints: Option<&watch::Sender<Option<Arc<Checkpoint>>>>,
    (mut cancelled, mut expired): Timers<'_, '_>,
) -> Outcome {
    let batch_every = inner.config.batch_every;
    let checkpoint_every = inner.config.checkpoint_every;
    let far = tokio::time::Instant::now() + Duration::from_secs(86_400);
    let mut flush_timer = pin!(tokio::time::sleep_until(far));
    let mut flush_armed = false;
    let mut checkpoint_timer = pin!(tokio::time::sleep_until(far));
    let mut checkpoint_armed = false;
    let mut last_flush: Option<Instant> = None;
    let mut last_checkpoint = Instant::now();

    loop {
        tokio::select! {
            biased;
            _ = &mut cancelled => return Outcome::Cancelled(live.reason()),
            _ = &mut expired => return Outcome::Cancelled(CancelReason::MaxDuration),
            _ = &mut flush_timer, if flush_armed => {
                flush_armed = false;
                live.flush();
                last_flush = Some(Instant::now());
            }
            _ = &mut checkpoint_timer, if checkpoint_armed => {
                checkpoint_armed = false;
                if let Some(tx) = checkpoints {
                    let (text, reasoning) = live.texts();
                    tx.send_replace(Some(Arc::new(Checkpoint {
                        text,
                        meta: progress.meta(job, reasoning),
                    })));
                }
                last_checkpoint = Instant::now();
            }
            item = stream.next() => {
                // Take everything that already arrived before deciding on a
                // batch: one read's worth of events (or a non-streamed reply's
                // reasoning and text) becomes one delta, not several.
                let mut grew = false;
                let mut item = Some(item);
                let mut drained = 0;
                while let Some(next) = item.take() {
                    match take_event(next, live, progress) {
                        Step::End(outcome) => {
                            if grew {
                                note_growth(job, progress);
                            }
                            return outcome;
                        }
                        Step::Grew => grew = true,
                        Step::Quiet => {}
                    }
                    drained += 1;
                    if drained < MAX_DRAIN {
                        item = stream.next().now_or_never();
                    }
                }
                if !grew {
                    continue;
                }
                let now = note_growth(job, progress);
                // The first batch goes at once; later ones at most every `batch_every`.
                match last_flush {
                    Some(at) if now.duration_since(at) < batch_every => {
                        if !flush_armed {
                            flush_timer
                                .as_mut()
                                .reset(tokio::time::Instant::from_std(at + batch_every));
                            flush_armed = true;
                        }
                    }
                    _ => {
                        live.flush();
                        last_flush = Some(now);
                    }
                }
                if checkpoints.is_some() && !checkpoint_armed {
                    checkpoint_timer
                        .as_mut()
                        .reset(tokio::time::Instant::from_std(last_checkpoint + checkpoint_every));
                    checkpoint_armed = true;
                }
            }
        }
    }
}

/// The most events taken in one go before the loop looks at stop and the timers again.
const MAX_DRAIN: usize = 256;

/// What one provider event did.
enum Step {
    /// The stream is over.
    End(Outcome),
    /// Text or reasoning arrived.
    Grew,
    /// Usage, a finish reason or a keep-alive.
    Quiet,
}

fn take_event(item: Option<Result<WireEvent>>, live: &Live, progress: &mut Progress) -> Step {
    match item {
        None => Step::End(Outcome::Done),
        Some(Err(e)) => Step::End(Outcome::Failed(e)),
        Some(Ok(WireEvent::Text(t))) if !t.is_empty() => {
            live.push_text(&t);
            Step::Grew
        }
        Some(Ok(WireEvent::Reasoning(r))) if !r.is_empty() => {
            live.push_reasoning(&r);
            Step::Grew
        }
        Some(Ok(WireEvent::Usage(u))) => {
            progress.prompt_tokens = u.prompt_tokens.or(progress.prompt_tokens);
            progress.completion_tokens = u.completion_tokens.or(progress.completion_tokens);
            progress.cache_write_tokens = u.cache_write_tokens.or(progress.cache_write_tokens);
            progress.cache_read_tokens = u.cache_read_tokens.or(progress.cache_read_tokens);
            progress.reported_cost_usd = u.cost_usd.or(progress.reported_cost_usd);
            Step::Quiet
        }
        Some(Ok(WireEvent::Finish { reason })) => {
            progress.finish_reason = Some(reason);
            Step::Quiet
        }
        Some(Ok(_)) => Step::Quiet,
    }
}

/// Notes that the reply grew (the first time: the time to first token); returns now.
fn note_growth(job: &Job, progress: &mut Progress) -> Instant {
    let now = Instant::now();
    if !progress.grew {
        progress.grew = true;
        progress.first_token = Some(now.duration_since(job.began));
    }
    now
}

/// Writes each checkpoint it is handed, the newest only, until the channel closes.
async fn write_checkpoints(
    store: crate::store::Store,
    id: String,
    mut rx: watch::Receiver<Option<Arc<Checkpoint>>>,
) {
    while rx.changed().await.is_ok() {
        let latest = rx.borrow_and_update().clone();
        if let Some(cp) = latest {
            // A failed checkpoint is not fatal: the next one, or the final save, carries the text.
            let _ = store
                .update_reply(&id, &cp.text, MessageStatus::Partial, Some(&cp.meta))
                .await;
        }
    }
}

/// Saves the final state, records usage, frees the session, then sends the terminal event.
async fn finish(
    inner: &Inner,
    live: &Arc<Live>,
    job: &Job,
    mut progress: Progress,
    outcome: Outcome,
) {
    if let Some(lore) = progress.lore_saved.take() {
        // Bookkeeping for sticky and cooldown entries: its failure does not fail the reply.
        let _ = lore.await;
    }
    let (text, reasoning) = live.texts();
    let mut saved = Ok(());
    if let Some(reply) = &job.reply {
        let status = match &outcome {
            Outcome::Done => MessageStatus::Complete,
            Outcome::Failed(_) => MessageStatus::Failed,
            Outcome::Cancelled(_) => MessageStatus::Cancelled,
        };
        let meta = progress.meta(job, reasoning.clone());
        let (status, meta) = match (&reply.before, &outcome) {
            // A continue that added nothing leaves the message as it was.
            (Some((status, meta)), Outcome::Failed(_) | Outcome::Cancelled(_))
                if !progress.grew =>
            {
                (*status, meta.clone())
            }
            _ => (status, meta),
        };
        saved = inner
            .store
            .update_reply(&reply.id, &text, status, Some(&meta))
            .await;
    }
    let partial_saved = job.reply.is_some() && saved.is_ok() && progress.grew;

    let mut usage = ReplyUsage {
        prompt_tokens: progress.prompt_tokens,
        completion_tokens: progress.completion_tokens,
        cost_usd: None,
        cache_write_tokens: progress.cache_write_tokens,
        cache_read_tokens: progress.cache_read_tokens,
        cache_saved_usd: None,
    };
    if let (true, Some(target)) = (progress.requested, &progress.target) {
        let priced = cost(inner, target, &usage, progress.reported_cost_usd).await;
        usage.cost_usd = priced.cost_usd;
        usage.cache_saved_usd = priced.cache_saved_usd;
        let (outcome_word, reason) = match &outcome {
            Outcome::Done => (UsageOutcome::Done, String::new()),
            Outcome::Failed(e) => (UsageOutcome::Failed, e.code().as_str().to_owned()),
            Outcome::Cancelled(r) => (UsageOutcome::Cancelled, cancel_word(*r).to_owned()),
        };
        // Usage is bookkeeping: failing to record it must not fail the reply.
        let _ = inner
            .store
            .record_usage(&UsageRecord {
                provider_id: Some(target.provider_id.clone()),
                provider_name: target.provider_name.clone(),
                model: target.model.clone(),
                outcome: outcome_word,
                reason,
                prompt_tokens: usage.prompt_tokens.unwrap_or(0),
                completion_tokens: usage.completion_tokens.unwrap_or(0),
                cost_usd: usage.cost_usd,
                cache_write_tokens: usage.cache_write_tokens.unwrap_or(0),
                cache_read_tokens: usage.cache_read_tokens.unwrap_or(0),
                cache_saved_usd: usage.cache_saved_usd,
            })
            .await;
    }

    let replied = matches!((&outcome, &saved), (Outcome::Done, Ok(())));
    let event = match (outcome, saved) {
        (Outcome::Done, Ok(())) => StreamEvent::Done {
            message_id: job.reply.as_ref().map(|r| r.id.clone()),
            text,
            usage,
            finish_reason: progress.finish_reason,
        },
        (Outcome::Done, Err(e)) => StreamEvent::Failed {
            error: AppError::from(e),
            partial_saved: false,
        },
        (Outcome::Failed(e), _) => StreamEvent::Failed {
            error: AppError::from(e),
            partial_saved,
        },
        (Outcome::Cancelled(reason), _) => StreamEvent::Cancelled {
            reason,
            partial_saved,
        },
    };
    // Free the session before anyone hears the end, so a send right after `done` is not busy.
    let subscribers = live.end();
    inner.release(&job.session_id, live);
    for sink in subscribers {
        sink.send(event.clone());
    }
    inner.announce();
    live.finished.cancel();
    if replied {
        super::retrieval::after_reply(inner, &job.session_id);
    }
}

/// The stored word for a cancel reason.
pub(crate) fn cancel_word(reason: CancelReason) -> &'static str {
    match reason {
        CancelReason::User => "user",
        CancelReason::MaxDuration => "max_duration",
        CancelReason::Shutdown => "shutdown",
    }
}

/// The request's cost and the cache's saving, from the provider's published prices per million tokens.
async fn cost(
    inner: &Inner,
    target: &Target,
    usage: &ReplyUsage,
    reported: Option<f64>,
) -> crate::providers::RequestCost {
    let model = crate::providers::model_info(&inner.store, &target.provider_id, &target.model)
        .await
        .ok()
        .flatten();
    crate::providers::request_cost(
        model.as_ref(),
        &crate::llm::Usage {
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            cache_write_tokens: usage.cache_write_tokens,
            cache_read_tokens: usage.cache_read_tokens,
            cost_usd: reported,
        },
    )
}
