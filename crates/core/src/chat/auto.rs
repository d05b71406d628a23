//! Auto turns: in a group chat, after a reply, members answer each other up to
//! the group's auto turns, one stream at a time, each to the requester and to
//! every window that attached since the chain began.
//!
//! The chain lives in memory only: a stop (the user's, or quitting) ends it,
//! and after a restart nothing resumes, so it survives a restart as stopped;
//! a reply cut off by the restart is recovered as `interrupted` like any other.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::registry::AutoChain;
use super::{ChatEngine, StreamEvent};
use crate::session::MessageStatus;
use crate::sink::Sink;

impl ChatEngine {
    /// After `reply_id` (a group reply) is written, lets members take up to
    /// `turns` turns on their own; each waits for the one before to end
    /// complete. Nothing happens for `turns` 0.
    pub(super) fn follow_with_auto_turns(
        &self,
        session_id: &str,
        reply_id: &str,
        turns: u32,
        sink: Arc<dyn Sink<StreamEvent>>,
    ) {
        if turns == 0 {
            return;
        }
        let stop = CancellationToken::new();
        let chain = {
            let mut registry = self.inner.registry();
            registry.next_chain += 1;
            let number = registry.next_chain;
            // Windows that attached to the first reply before the chain existed follow it too.
            let followers = registry
                .live
                .get(session_id)
                .map(|live| live.followers())
                .unwrap_or_default();
            let chain = AutoChain {
                number,
                stop: stop.clone(),
                followers,
            };
            // A newer chain replaces an older one (which can no longer start turns: the session is busy).
            if let Some(older) = registry.autos.insert(session_id.to_owned(), chain) {
                older.stop.cancel();
            }
            number
        };
        let engine = self.clone();
        let (session_id, mut reply_id) = (session_id.to_owned(), reply_id.to_owned());
        tokio::spawn(async move {
            for _ in 0..turns {
                if !engine.wait_complete(&session_id, &reply_id, &stop).await {
                    break;
                }
                match engine
                    .speak_once(&session_id, None, Some(chain), sink.clone())
                    .await
                {
                    Ok((_, next, _)) => reply_id = next,
                    // Busy (another window sent), nobody may speak, the library closing: the chain ends.
                    Err(_) => break,
                }
            }
            engine.end_auto(&session_id, chain);
        });
    }

    /// Waits until the session's stream ends; whether `reply_id` ended complete and no stop came.
    async fn wait_complete(
        &self,
        session_id: &str,
        reply_id: &str,
        stop: &CancellationToken,
    ) -> bool {
        let live = self.inner.registry().live.get(session_id).cloned();
        if let Some(live) = live {
            tokio::select! {
                _ = live.finished.cancelled() => {}
                _ = stop.cancelled() => return false,
            }
        }
        if stop.is_cancelled() {
            return false;
        }
        matches!(
            self.inner.store.message(reply_id).await.map(|m| m.status),
            Ok(MessageStatus::Complete)
        )
    }

    /// Forgets the session's chain if it is still `chain` (not a newer one).
    fn end_auto(&self, session_id: &str, chain: u64) {
        let mut registry = self.inner.registry();
        if registry
            .autos
            .get(session_id)
            .is_some_and(|c| c.number == chain)
        {
            registry.autos.remove(session_id);
        }
    }

    /// Whether the session's auto turns may still start another reply.
    pub fn auto_turns_running(&self, session_id: &str) -> bool {
        self.inner.registry().autos.contains_key(session_id)
    }

    /// Ends the session's auto turns (the current reply is stopped separately); whether a chain was running.
    pub(super) fn stop_auto(&self, session_id: &str) -> bool {
        match self.inner.registry().autos.remove(session_id) {
            Some(chain) => {
                chain.stop.cancel();
                true
            }
            None => false,
        }
    }
}
