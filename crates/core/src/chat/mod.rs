//! The chat engine: send, regenerate, continue, impersonate, stop, attach.
//!
//! It owns the registry of live streams (one per session; a second request
//! gets [`Error::Busy`]), writes the partial reply to the database as it grows,
//! and publishes [`StreamEvent`]s to any number of subscribers through
//! [`Sink`]. The shell adapts a Tauri channel to a sink; the CLI adapts stdout.
//!
//! A request runs in three steps. The caller's future registers the stream
//! (atomically with the busy check) and saves what must survive anything:
//! the user message, and an empty `partial` reply. Then a task of its own
//! (`pipeline.rs`) builds the prompt, sends the request and reads the
//! reply, and the caller gets the ids back at once. Whatever happens next
//! (done, a typed failure, stop, a deadline, quitting) ends in one final
//! save, then exactly one terminal event.

mod live;
mod pipeline;
mod recovery;
pub use recovery::{open_library, OpenLibrary, Presence};

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{AppError, Error, Result};
use crate::secrets::Keys;
use crate::session::turn::PromptCaches;
use crate::session::{Message, MessageStatus, Role};
use crate::sink::Sink;
use crate::store::{NewMessage, Store, UsageOutcome, UsageRecord};

use live::Live;
use pipeline::{resolve, Job, ReplyTarget, Resolved};

pub use crate::session::turn::impersonation_instruction;

/// What a reply request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ReplyKind {
    /// A new user message and the character's answer.
    Send,
    /// A new swipe for the last reply (same parent).
    Regenerate,
    /// Extends the last reply.
    Continue,
    /// Drafts the user's next message as the persona (not saved: it goes to the composer).
    Impersonate,
}

/// Why a stream was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum CancelReason {
    /// The user pressed stop (or Ctrl-C in the CLI).
    User,
    /// The reply ran past the maximum duration.
    MaxDuration,
    /// Confab was quitting.
    Shutdown,
}

/// Tokens and cost of one reply, as far as the provider reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ReplyUsage {
    /// Prompt tokens.
    pub prompt_tokens: Option<u32>,
    /// Completion tokens.
    pub completion_tokens: Option<u32>,
    /// US dollars, when the provider publishes the model's prices.
    pub cost_usd: Option<f64>,
}

/// The ids a reply request created, also sent as the `started` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct StreamStarted {
    /// The session.
    pub session_id: String,
    /// What the request does.
    pub kind: ReplyKind,
    /// The user message saved first (`send` only).
    pub user_message_id: Option<String>,
    /// The reply being written (`None` for impersonate, which saves nothing).
    pub assistant_message_id: Option<String>,
}

/// One event of a live stream, per the streaming contract in ARCHITECTURE.md:
/// `started`, then (on attach) `snapshot`, then `delta`s batched about every
/// 16 ms, then exactly one of `done`, `failed` or `cancelled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum StreamEvent {
    /// The request started.
    Started(StreamStarted),
    /// Everything streamed so far, sent to a subscriber that attached mid-stream.
    Snapshot {
        /// The reply so far.
        text: String,
        /// The reasoning so far.
        reasoning: String,
    },
    /// New text since the last event.
    Delta {
        /// New reply text.
        text: String,
        /// New reasoning text.
        reasoning: String,
    },
    /// The reply finished and is saved.
    Done {
        /// The saved reply (`None` for impersonate).
        message_id: Option<String>,
        /// The whole reply.
        text: String,
        /// Tokens and cost.
        usage: ReplyUsage,
        /// The provider's own word for why it stopped.
        finish_reason: Option<String>,
    },
    /// The request failed; the user message and any partial reply are kept.
    Failed {
        /// What went wrong.
        error: AppError,
        /// Whether a partial reply was saved.
        partial_saved: bool,
    },
    /// The stream was cancelled; what arrived is kept.
    Cancelled {
        /// Why.
        reason: CancelReason,
        /// Whether a partial reply was saved.
        partial_saved: bool,
    },
}

impl StreamEvent {
    /// Whether this event ends the stream.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            StreamEvent::Done { .. } | StreamEvent::Failed { .. } | StreamEvent::Cancelled { .. }
        )
    }
}

/// Which sessions are streaming changed (for "busy" badges in other windows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct LiveSessions {
    /// Sessions with a live stream.
    pub session_ids: Vec<String>,
}

/// The engine's limits and rhythms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineConfig {
    /// A stream is cancelled after this long (default 5 minutes).
    pub max_duration: Duration,
    /// A stream fails with `timeout` when no bytes arrive for this long (default 60 s).
    pub idle_timeout: Duration,
    /// The partial reply is saved at least this often (default 250 ms).
    pub checkpoint_every: Duration,
    /// Deltas are batched for this long (default 16 ms).
    pub batch_every: Duration,
    /// The largest single SSE event accepted.
    pub max_event_bytes: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_duration: Duration::from_secs(300),
            idle_timeout: Duration::from_secs(60),
            checkpoint_every: Duration::from_millis(250),
            batch_every: Duration::from_millis(16),
            max_event_bytes: crate::llm::DEFAULT_MAX_EVENT_BYTES,
        }
    }
}

/// The chat engine. Cheap to clone: clones share one registry.
#[derive(Clone)]
pub struct ChatEngine {
    inner: Arc<Inner>,
}

/// What every clone of an engine shares.
pub(crate) struct Inner {
    store: Store,
    keys: Arc<Keys>,
    caches: Arc<PromptCaches>,
    http: reqwest::Client,
    config: EngineConfig,
    notices: Arc<dyn Sink<LiveSessions>>,
    registry: Mutex<Registry>,
}

/// Live streams by session id.
#[derive(Default)]
struct Registry {
    live: HashMap<String, Arc<Live>>,
    /// Set by shutdown: no new stream may start.
    closing: bool,
}

impl std::fmt::Debug for ChatEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatEngine").finish_non_exhaustive()
    }
}

impl Inner {
    fn registry(&self) -> MutexGuard<'_, Registry> {
        // The map stays consistent even if a holder panicked: every change is one insert or remove.
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn live_sessions(&self) -> LiveSessions {
        let mut session_ids: Vec<String> = self.registry().live.keys().cloned().collect();
        session_ids.sort();
        LiveSessions { session_ids }
    }

    /// Tells `notices` which sessions are live now.
    fn announce(&self) {
        self.notices.send(self.live_sessions());
    }

    /// Removes the session's entry if it is still `live` (not a newer stream).
    fn release(&self, session_id: &str, live: &Arc<Live>) {
        let mut registry = self.registry();
        if registry
            .live
            .get(session_id)
            .is_some_and(|l| Arc::ptr_eq(l, live))
        {
            registry.live.remove(session_id);
        }
    }
}

/// A session's slot in the registry, held while a request saves its messages.
/// Dropped without [`Reservation::launch`], it frees the session again.
struct Reservation {
    inner: Arc<Inner>,
    session_id: String,
    live: Arc<Live>,
    launched: bool,
}

impl Reservation {
    /// Hands the stream to its task: `sink` gets `started`, the reply streams.
    fn launch(
        mut self,
        started: StreamStarted,
        sink: Arc<dyn Sink<StreamEvent>>,
        job: Job,
        resolved: Result<Resolved>,
    ) -> StreamStarted {
        self.launched = true;
        let earlier_reasoning = job
            .reply
            .as_ref()
            .and_then(|r| r.before.as_ref())
            .and_then(|(_, meta)| meta.reasoning.as_deref());
        self.live.begin(
            started.clone(),
            sink,
            (
                job.prefill.as_deref().unwrap_or(""),
                earlier_reasoning.unwrap_or(""),
            ),
        );
        tokio::spawn(pipeline::run(
            self.inner.clone(),
            self.live.clone(),
            job,
            resolved,
        ));
        started
    }

    /// Gives the slot back after a failure that saved nothing.
    fn abandon(mut self, error: &Error) {
        self.launched = true;
        self.free(error);
    }

    fn free(&self, error: &Error) {
        // Anyone who attached while the messages were being saved hears why it ended.
        for sink in self.live.end() {
            sink.send(StreamEvent::Failed {
                error: AppError::from(Error::Internal(error.to_string())),
                partial_saved: false,
            });
        }
        self.inner.release(&self.session_id, &self.live);
        self.inner.announce();
        self.live.finished.cancel();
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.launched {
            // The caller's future was dropped midway (a closed window): free the session.
            self.free(&Error::Internal("the request was abandoned".into()));
        }
    }
}

impl ChatEngine {
    /// An engine over `store`, sending requests with `http`; `notices` hears whenever the set of live sessions changes.
    pub fn new(
        store: Store,
        keys: Arc<Keys>,
        caches: Arc<PromptCaches>,
        http: reqwest::Client,
        config: EngineConfig,
        notices: Arc<dyn Sink<LiveSessions>>,
    ) -> ChatEngine {
        ChatEngine {
            inner: Arc::new(Inner {
                store,
                keys,
                caches,
                http,
                config,
                notices,
                registry: Mutex::new(Registry::default()),
            }),
        }
    }

    /// Claims the session for one stream: [`Error::Busy`] when it already has one.
    fn reserve(&self, session_id: &str) -> Result<Reservation> {
        let live = Arc::new(Live::new());
        {
            let mut registry = self.inner.registry();
            if registry.closing {
                return Err(Error::Busy(
                    "Confab is quitting; the request was not sent".into(),
                ));
            }
            if registry.live.contains_key(session_id) {
                return Err(Error::Busy(
                    "a reply is already streaming in this chat; stop it or wait for it to finish"
                        .into(),
                ));
            }
            registry.live.insert(session_id.to_owned(), live.clone());
        }
        self.inner.announce();
        Ok(Reservation {
            inner: self.inner.clone(),
            session_id: session_id.to_owned(),
            live,
            launched: false,
        })
    }

    /// The last message of the session's active path.
    async fn last_message(&self, session_id: &str) -> Result<Option<Message>> {
        Ok(self
            .inner
            .store
            .messages_page(session_id, None, 1)
            .await?
            .messages
            .pop())
    }

    /// Saves the user message (with images uploaded by `attach_image`), then streams the reply to `sink`.
    pub async fn send(
        &self,
        session_id: &str,
        text: &str,
        image_ids: &[String],
        sink: Arc<dyn Sink<StreamEvent>>,
    ) -> Result<StreamStarted> {
        let began = Instant::now();
        if text.trim().is_empty() && image_ids.is_empty() {
            return Err(Error::InvalidInput(
                "the message is empty: write something or attach an image".into(),
            ));
        }
        let store = &self.inner.store;
        let session = store.session_summary(session_id).await?;
        for id in image_ids {
            if store.image(id).await?.is_none() {
                return Err(Error::InvalidInput(format!(
                    "attached image {id} is no longer there; attach it again"
                )));
            }
        }
        let slot = self.reserve(session_id)?;
        let saved = async {
            let user_name =
                crate::session::service::user_name(store, session.persona_id.as_deref()).await?;
            let ids = store
                .add_exchange(
                    session_id,
                    NewMessage {
                        role: Role::User,
                        name: &user_name,
                        content: text,
                        status: MessageStatus::Complete,
                        image_ids,
                    },
                    NewMessage {
                        role: Role::Assistant,
                        name: &session.character_name,
                        content: "",
                        status: MessageStatus::Partial,
                        image_ids: &[],
                    },
                )
                .await?;
            Ok::<_, Error>(ids)
        };
        // The provider is found while the messages are saved.
        let (saved, resolved) = tokio::join!(saved, resolve(&self.inner, session_id));
        let (user_id, reply_id) = match saved {
            Ok(s) => s,
            Err(e) => {
                slot.abandon(&e);
                return Err(e);
            }
        };
        // From here the user message is saved: every failure is reported as
        // the stream's outcome (after `started`), never as an error that would hide it.
        let started = StreamStarted {
            session_id: session_id.to_owned(),
            kind: ReplyKind::Send,
            user_message_id: Some(user_id.clone()),
            assistant_message_id: Some(reply_id.clone()),
        };
        let job = Job {
            kind: ReplyKind::Send,
            session_id: session_id.to_owned(),
            reply: Some(ReplyTarget {
                id: reply_id,
                before: None,
            }),
            history_before: Some(user_id),
            new_message: Some(text.to_owned()),
            new_message_images: image_ids.to_vec(),
            prefill: None,
            began,
        };
        Ok(slot.launch(started, sink, job, resolved))
    }

    /// Streams a new swipe of the last reply.
    ///
    /// The prompt is the one the reply was written for: when it answers a user
    /// message, that message goes last as the new message. A last reply that
    /// failed, was stopped or was interrupted before any text arrived is
    /// replaced rather than kept as an empty swipe.
    pub async fn regenerate(
        &self,
        session_id: &str,
        sink: Arc<dyn Sink<StreamEvent>>,
    ) -> Result<StreamStarted> {
        let began = Instant::now();
        let store = &self.inner.store;
        let session = store.session_summary(session_id).await?;
        let slot = self.reserve(session_id)?;
        let prepared = async {
            let last = self.last_message(session_id).await?;
            let last = match last {
                Some(m) if m.role == Role::Assistant => m,
                _ => {
                    return Err(Error::InvalidInput(
                        "the last message is not a reply to regenerate; send a message instead"
                            .into(),
                    ))
                }
            };
            let parent = match &last.parent_id {
                Some(id) => Some(store.message(id).await?),
                None => None,
            };
            let reply = store
                .add_swipe(
                    &last.id,
                    NewMessage {
                        role: Role::Assistant,
                        name: &session.character_name,
                        content: "",
                        status: MessageStatus::Partial,
                        image_ids: &[],
                    },
                )
                .await?;
            let empty_failure = last.content.is_empty()
                && matches!(
                    last.status,
                    MessageStatus::Failed | MessageStatus::Cancelled | MessageStatus::Interrupted
                );
            if empty_failure {
                store.delete_message(&last.id).await?;
            }
            Ok((parent, reply))
        };
        let (prepared, resolved) = tokio::join!(prepared, resolve(&self.inner, session_id));
        let (parent, reply) = match prepared {
            Ok(p) => p,
            Err(e) => {
                slot.abandon(&e);
                return Err(e);
            }
        };
        let asked = Asked::of(parent, &reply.id);
        let started = StreamStarted {
            session_id: session_id.to_owned(),
            kind: ReplyKind::Regenerate,
            user_message_id: None,
            assistant_message_id: Some(reply.id.clone()),
        };
        let job = Job {
            kind: ReplyKind::Regenerate,
            session_id: session_id.to_owned(),
            history_before: Some(asked.history_before),
            new_message: asked.new_message,
            new_message_images: asked.images,
            reply: Some(ReplyTarget {
                id: reply.id,
                before: None,
            }),
            prefill: None,
            began,
        };
        Ok(slot.launch(started, sink, job, resolved))
    }

    /// Streams more of the last reply, appended to it.
    ///
    /// The prompt is the one the reply was written for, then the reply so far
    /// as the last (assistant) message: a prefill for Anthropic, a trailing
    /// assistant message for OpenAI-style servers. `snapshot` and `done` carry
    /// the whole message; deltas only what is new.
    pub async fn continue_reply(
        &self,
        session_id: &str,
        sink: Arc<dyn Sink<StreamEvent>>,
    ) -> Result<StreamStarted> {
        let began = Instant::now();
        let store = &self.inner.store;
        store.session_summary(session_id).await?;
        let slot = self.reserve(session_id)?;
        let prepared = async {
            let last = match self.last_message(session_id).await? {
                Some(m) if m.role == Role::Assistant => m,
                _ => {
                    return Err(Error::InvalidInput(
                        "the last message is not a reply to continue; send a message instead"
                            .into(),
                    ))
                }
            };
            let parent = match &last.parent_id {
                Some(id) => Some(store.message(id).await?),
                None => None,
            };
            Ok((last, parent))
        };
        let (prepared, resolved) = tokio::join!(prepared, resolve(&self.inner, session_id));
        let (last, parent) = match prepared {
            Ok(p) => p,
            Err(e) => {
                slot.abandon(&e);
                return Err(e);
            }
        };
        let asked = Asked::of(parent, &last.id);
        let started = StreamStarted {
            session_id: session_id.to_owned(),
            kind: ReplyKind::Continue,
            user_message_id: None,
            assistant_message_id: Some(last.id.clone()),
        };
        let job = Job {
            kind: ReplyKind::Continue,
            session_id: session_id.to_owned(),
            history_before: Some(asked.history_before),
            new_message: asked.new_message,
            new_message_images: asked.images,
            prefill: Some(last.content),
            reply: Some(ReplyTarget {
                id: last.id,
                before: Some((last.status, last.meta)),
            }),
            began,
        };
        Ok(slot.launch(started, sink, job, resolved))
    }

    /// Streams a draft of the user's next message, written as the persona; nothing is saved.
    pub async fn impersonate(
        &self,
        session_id: &str,
        sink: Arc<dyn Sink<StreamEvent>>,
    ) -> Result<StreamStarted> {
        let began = Instant::now();
        let store = &self.inner.store;
        // The session must exist before anything is reserved.
        store.session_summary(session_id).await?;
        let slot = self.reserve(session_id)?;
        let resolved = resolve(&self.inner, session_id).await;
        let started = StreamStarted {
            session_id: session_id.to_owned(),
            kind: ReplyKind::Impersonate,
            user_message_id: None,
            assistant_message_id: None,
        };
        let job = Job {
            kind: ReplyKind::Impersonate,
            session_id: session_id.to_owned(),
            reply: None,
            history_before: None,
            new_message: None,
            new_message_images: Vec::new(),
            prefill: None,
            began,
        };
        Ok(slot.launch(started, sink, job, resolved))
    }

    /// Subscribes `sink` to the session's live stream: `started`, a `snapshot`,
    /// then the deltas. `false` (and nothing sent) when nothing is streaming.
    pub fn attach(&self, session_id: &str, sink: Arc<dyn Sink<StreamEvent>>) -> bool {
        let live = self.inner.registry().live.get(session_id).cloned();
        live.is_some_and(|live| live.attach(sink))
    }

    /// Stops the session's stream: the upstream request is dropped at once and
    /// the partial reply saved as cancelled. `false` when nothing was streaming.
    pub fn stop(&self, session_id: &str) -> bool {
        let live = self.inner.registry().live.get(session_id).cloned();
        match live {
            Some(live) => {
                live.stop(CancelReason::User);
                true
            }
            None => false,
        }
    }

    /// Sessions with a live stream.
    pub fn live_sessions(&self) -> LiveSessions {
        self.inner.live_sessions()
    }

    /// Cancels every stream and waits until their partial replies are saved (on quit).
    pub async fn shutdown(&self) {
        let live: Vec<Arc<Live>> = {
            let mut registry = self.inner.registry();
            registry.closing = true;
            registry.live.values().cloned().collect()
        };
        for l in &live {
            l.stop(CancelReason::Shutdown);
        }
        for l in &live {
            l.finished.cancelled().await;
        }
    }
}

/// What a reply being rewritten or extended answers: the user message above it
/// is asked again, placed last as in the original request; without one (a
/// greeting), the history simply ends above the reply.
struct Asked {
    history_before: String,
    new_message: Option<String>,
    images: Vec<String>,
}

impl Asked {
    fn of(parent: Option<Message>, reply_id: &str) -> Asked {
        match parent.filter(|p| p.role == Role::User) {
            Some(user) => Asked {
                history_before: user.id,
                new_message: Some(user.content),
                images: user.images.into_iter().map(|i| i.id).collect(),
            },
            None => Asked {
                history_before: reply_id.to_owned(),
                new_message: None,
                images: Vec::new(),
            },
        }
    }
}

/// Marks replies left `partial` by a crash or kill as `interrupted`; returns how many.
/// Only safe while no other process streams replies: [`open_library`] runs it
/// when this process holds the library alone, before any stream starts.
pub async fn recover_interrupted(store: &Store) -> Result<u32> {
    let recovered = store.mark_partial_interrupted().await?;
    for (_, meta) in &recovered {
        // Usage is bookkeeping: a failure to record it must not keep the store from opening.
        let _ = store
            .record_usage(&UsageRecord {
                provider_id: None,
                provider_name: meta.provider.clone().unwrap_or_default(),
                model: meta.model.clone().unwrap_or_default(),
                outcome: UsageOutcome::Interrupted,
                reason: "app_stopped".into(),
                prompt_tokens: meta.prompt_tokens.unwrap_or(0),
                completion_tokens: meta.completion_tokens.unwrap_or(0),
                cost_usd: None,
            })
            .await;
    }
    Ok(u32::try_from(recovered.len()).unwrap_or(u32::MAX))
}
