//! The registry of live streams: one per session, claimed atomically with the
//! busy check and held by a [`Reservation`] while a request saves its messages.

use std::collections::HashMap;
use std::sync::{Arc, MutexGuard};

use super::live::{Follower, Live};
use super::pipeline::{self, Job};
use super::prepare::Resolving;
use super::{ChatEngine, Inner, LiveSessions, StreamEvent, StreamStarted};
use crate::error::{AppError, Error, Result};
use crate::sink::Sink;

/// Live streams by session id.
#[derive(Default)]
pub(super) struct Registry {
    pub(super) live: HashMap<String, Arc<Live>>,
    /// Set by shutdown: no new stream may start.
    pub(super) closing: bool,
    /// Set while a [`super::Quiet`] is held: no new stream may start.
    pub(super) quiet: bool,
    /// Group chats' running auto turns by session id.
    pub(super) autos: HashMap<String, AutoChain>,
    /// The number the next auto chain gets.
    pub(super) next_chain: u64,
}

/// A group chat's running auto turns.
pub(super) struct AutoChain {
    /// Tells this chain from a newer one of the same session.
    pub(super) number: u64,
    /// Ends the chain (the current reply is stopped separately).
    pub(super) stop: tokio_util::sync::CancellationToken,
    /// Windows that attached while it ran: each later turn streams to them too.
    pub(super) followers: Vec<Follower>,
}

impl AutoChain {
    /// Adds a follower; one with the key of an earlier one replaces it.
    pub(super) fn follow(&mut self, follower: Follower) {
        if follower.key.is_some() {
            self.followers.retain(|f| f.key != follower.key);
        }
        self.followers.push(follower);
    }
}

impl Inner {
    pub(super) fn registry(&self) -> MutexGuard<'_, Registry> {
        // The map stays consistent even if a holder panicked: every change is one insert or remove.
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn live_sessions(&self) -> LiveSessions {
        let mut session_ids: Vec<String> = self.registry().live.keys().cloned().collect();
        session_ids.sort();
        LiveSessions { session_ids }
    }

    /// Tells `notices` which sessions are live now.
    pub(super) fn announce(&self) {
        self.notices.send(self.live_sessions());
    }

    /// Removes the session's entry if it is still `live` (not a newer stream).
    pub(super) fn release(&self, session_id: &str, live: &Arc<Live>) {
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
pub(super) struct Reservation {
    inner: Arc<Inner>,
    session_id: String,
    live: Arc<Live>,
    launched: bool,
}

impl Reservation {
    /// Hands the stream to its task: `sink` gets `started`, the reply streams.
    pub(super) fn launch(
        mut self,
        started: StreamStarted,
        sink: Arc<dyn Sink<StreamEvent>>,
        job: Job,
        resolving: Resolving,
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
            resolving,
        ));
        started
    }

    /// The slot with `result`'s value; on failure the slot is given back and
    /// the error returned.
    pub(super) fn keep_if<T>(self, result: Result<T>) -> Result<(Self, T)> {
        match result {
            Ok(value) => Ok((self, value)),
            Err(e) => {
                self.abandon(&e);
                Err(e)
            }
        }
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
    /// Claims the session for one stream: [`Error::Busy`] when it already has one.
    pub(super) fn reserve(&self, session_id: &str) -> Result<Reservation> {
        self.reserve_turn(session_id, None)
    }

    /// [`ChatEngine::reserve`]; for a turn of auto chain `chain`, the windows
    /// following the chain follow the new stream from its start. Read under
    /// the registry's lock, as attach adds them, so none is missed.
    pub(super) fn reserve_turn(&self, session_id: &str, chain: Option<u64>) -> Result<Reservation> {
        let live = {
            let mut registry = self.inner.registry();
            let followers = chain
                .and_then(|n| registry.autos.get(session_id).filter(|c| c.number == n))
                .map(|c| c.followers.clone())
                .unwrap_or_default();
            let live = Arc::new(Live::followed_by(followers));
            if registry.closing {
                return Err(Error::Busy(
                    "Confab is quitting; the request was not sent".into(),
                ));
            }
            if registry.quiet {
                return Err(Error::Busy(
                    "the library is being restored or merged; send again once it is done".into(),
                ));
            }
            if registry.live.contains_key(session_id) {
                return Err(Error::Busy(
                    "a reply is already streaming in this chat; stop it or wait for it to finish"
                        .into(),
                ));
            }
            registry.live.insert(session_id.to_owned(), live.clone());
            live
        };
        self.inner.announce();
        Ok(Reservation {
            inner: self.inner.clone(),
            session_id: session_id.to_owned(),
            live,
            launched: false,
        })
    }
}
