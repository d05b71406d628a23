//! The chat engine: send, regenerate, continue, impersonate, stop, attach.
//!
//! It owns the registry of live streams (one per session; a second request
//! gets [`Error::Busy`](crate::error::Error::Busy)), writes the partial reply
//! to the database as it grows, and publishes [`StreamEvent`]s to any number
//! of subscribers through [`Sink`]. The shell adapts a Tauri channel to a
//! sink; the CLI adapts stdout.
//!
//! A request runs in three steps. The caller's future (`requests.rs`)
//! registers the stream (atomically with the busy check, `registry.rs`) and
//! saves what must survive anything: the user message, and an empty `partial`
//! reply. Then a task of its own (`pipeline.rs`) builds the prompt, sends the
//! request and reads the reply, and the caller gets the ids back at once.
//! Whatever happens next (done, a typed failure, stop, a deadline, quitting)
//! ends in one final save, then exactly one terminal event. This file holds
//! the engine itself, its limits, and attach, stop and shutdown.

mod auto;
mod events;
mod live;
mod memory;
mod pipeline;
mod prepare;
mod quiet;
mod recovery;
mod registry;
mod requests;
mod retrieval;
mod summarize;
mod summarizer;
mod summary_plan;
mod text;
pub use events::{CancelReason, LiveSessions, ReplyKind, ReplyUsage, StreamEvent, StreamStarted};
pub use quiet::Quiet;
pub use recovery::{open_library, recover_interrupted, OpenLibrary, Presence};
pub use summarizer::MAX_SUMMARY_BYTES;
pub use summary_plan::crowded as summary_due_ahead;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::secrets::Keys;
use crate::session::turn::PromptCaches;
use crate::sink::Sink;
use crate::store::Store;

use live::Live;
use registry::Registry;

pub use crate::session::turn::impersonation_instruction;

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
    /// Summaries: notices, the jobs running, their last errors.
    memory: summarize::MemoryState,
}

impl std::fmt::Debug for ChatEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatEngine").finish_non_exhaustive()
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
        caches.retrieval.connect(Arc::clone(&keys), http.clone());
        ChatEngine {
            inner: Arc::new(Inner {
                store,
                keys,
                caches,
                http,
                config,
                notices,
                registry: Mutex::new(Registry::default()),
                memory: summarize::MemoryState::default(),
            }),
        }
    }

    /// Subscribes `sink` to the session's live stream: `started`, a `snapshot`,
    /// then the deltas. `false` (and nothing sent) when nothing is streaming.
    pub fn attach(&self, session_id: &str, sink: Arc<dyn Sink<StreamEvent>>) -> bool {
        self.attach_as(session_id, None, sink)
    }

    /// [`ChatEngine::attach`] for the window `window` (its label): attaching
    /// again from the same window replaces its earlier sink, so it hears each
    /// event once. While a group's auto turns run, the sink follows every
    /// later turn too (its `started` first); `true` only when a stream is live now.
    pub fn attach_as(
        &self,
        session_id: &str,
        window: Option<&str>,
        sink: Arc<dyn Sink<StreamEvent>>,
    ) -> bool {
        let follower = live::Follower {
            key: window.map(str::to_owned),
            sink,
        };
        // Under the registry's lock, so a chain starting or a turn beginning
        // meanwhile sees this follower or is seen by it: never neither.
        let mut registry = self.inner.registry();
        if let Some(chain) = registry.autos.get_mut(session_id) {
            chain.follow(follower.clone());
        }
        registry
            .live
            .get(session_id)
            .is_some_and(|live| live.attach(follower))
    }

    /// Stops the session's stream: the upstream request is dropped at once and
    /// the partial reply saved as cancelled; a group's auto turns end too.
    /// `false` when nothing was streaming or waiting to.
    pub fn stop(&self, session_id: &str) -> bool {
        let chain = self.stop_auto(session_id);
        let live = self.inner.registry().live.get(session_id).cloned();
        match live {
            Some(live) => {
                live.stop(CancelReason::User);
                true
            }
            None => chain,
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
            self.inner.memory.cancel_all();
            for (_, chain) in registry.autos.drain() {
                chain.stop.cancel();
            }
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
