//! One live stream as its subscribers see it: the text so far, who listens,
//! and the batches sent to them.
//!
//! Every event to a subscriber is sent while the stream's lock is held, the
//! same lock under which text is appended and subscribers attach. So a
//! subscriber that attaches gets a snapshot of exactly what was already sent
//! to the others, then every later delta: no gap, no duplicate. Sinks must
//! therefore be quick and must not call back into the engine (the shell's
//! channel and the CLI's stdout only queue or write).

use std::sync::{Arc, Mutex, MutexGuard};

use tokio_util::sync::CancellationToken;

use super::{CancelReason, StreamEvent, StreamStarted};
use crate::sink::Sink;

/// One who follows a session's replies without having asked for them: a
/// window that attached, known by its key (a window's label) when it has one.
#[derive(Clone)]
pub(crate) struct Follower {
    /// Who it is: a second attach with the same key replaces the first.
    pub(crate) key: Option<String>,
    /// Where its events go.
    pub(crate) sink: Arc<dyn Sink<StreamEvent>>,
}

/// A subscriber and whether it has had its `started` event yet.
struct Subscriber {
    sink: Arc<dyn Sink<StreamEvent>>,
    /// `None` for the requester; the follower's key otherwise.
    follower: Option<Option<String>>,
    /// `false` for a subscriber that attached before the ids were known.
    introduced: bool,
}

#[derive(Default)]
struct State {
    /// The ids, once the messages are saved.
    started: Option<StreamStarted>,
    /// The reply so far (for continue: the message's earlier text included).
    text: String,
    /// The reasoning so far.
    reasoning: String,
    /// How much of `text` the subscribers have (bytes).
    sent_text: usize,
    /// How much of `reasoning` the subscribers have (bytes).
    sent_reasoning: usize,
    subscribers: Vec<Subscriber>,
    /// The terminal event is being sent: no one may attach any more.
    ended: bool,
}

/// A session's live stream.
pub(crate) struct Live {
    /// Stops the stream's task (stop, max duration, shutdown).
    pub(crate) cancel: CancellationToken,
    /// Fires once the final state is saved and the terminal event sent.
    pub(crate) finished: CancellationToken,
    /// Why it was cancelled: the first reason given wins.
    reason: Mutex<Option<CancelReason>>,
    state: Mutex<State>,
}

impl Live {
    /// A stream whose ids are not known yet.
    #[cfg(test)]
    pub(crate) fn new() -> Live {
        Live::followed_by(Vec::new())
    }

    /// A stream whose ids are not known yet, already followed by `followers`
    /// (a group's auto turn: the windows that followed the turns before it).
    pub(crate) fn followed_by(followers: Vec<Follower>) -> Live {
        let subscribers = followers
            .into_iter()
            .map(|f| Subscriber {
                sink: f.sink,
                follower: Some(f.key),
                introduced: false,
            })
            .collect();
        Live {
            cancel: CancellationToken::new(),
            finished: CancellationToken::new(),
            reason: Mutex::new(None),
            state: Mutex::new(State {
                subscribers,
                ..State::default()
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A poisoned lock means a sink panicked mid-send; the text is still whole.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks the stream to stop for `reason` (only the first reason counts).
    pub(crate) fn stop(&self, reason: CancelReason) {
        let mut r = self.reason.lock().unwrap_or_else(|p| p.into_inner());
        r.get_or_insert(reason);
        drop(r);
        self.cancel.cancel();
    }

    /// Why the stream was asked to stop.
    pub(crate) fn reason(&self) -> CancelReason {
        self.reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or(CancelReason::User)
    }

    /// The ids are known: `first` (the requester) gets `started`, and anyone who
    /// attached meanwhile gets `started` and a snapshot. `initial` is the text
    /// and reasoning the reply already holds (a continued message), counted as
    /// already seen.
    pub(crate) fn begin(
        &self,
        started: StreamStarted,
        first: Arc<dyn Sink<StreamEvent>>,
        initial: (&str, &str),
    ) {
        let mut st = self.state();
        st.text.push_str(initial.0);
        st.sent_text = st.text.len();
        st.reasoning.push_str(initial.1);
        st.sent_reasoning = st.reasoning.len();
        first.send(StreamEvent::Started(started.clone()));
        let snapshot = StreamEvent::Snapshot {
            text: st.text.clone(),
            reasoning: st.reasoning.clone(),
        };
        for sub in st.subscribers.iter_mut().filter(|s| !s.introduced) {
            sub.sink.send(StreamEvent::Started(started.clone()));
            sub.sink.send(snapshot.clone());
            sub.introduced = true;
        }
        st.subscribers.insert(
            0,
            Subscriber {
                sink: first,
                follower: None,
                introduced: true,
            },
        );
        st.started = Some(started);
    }

    /// Adds a subscriber: `started` and a snapshot now (or as soon as the ids
    /// are known), then every later delta. A follower with the key of an
    /// earlier one replaces it (a window that attached again hears each event
    /// once). `false` once the stream is ending.
    pub(crate) fn attach(&self, follower: Follower) -> bool {
        let mut st = self.state();
        if st.ended {
            return false;
        }
        let Follower { key, sink } = follower;
        if key.is_some() {
            st.subscribers
                .retain(|s| s.follower.as_ref().is_none_or(|k| *k != key));
        }
        let introduced = match &st.started {
            Some(started) => {
                sink.send(StreamEvent::Started(started.clone()));
                sink.send(StreamEvent::Snapshot {
                    text: st.text[..st.sent_text].to_owned(),
                    reasoning: st.reasoning[..st.sent_reasoning].to_owned(),
                });
                true
            }
            None => false,
        };
        st.subscribers.push(Subscriber {
            sink,
            follower: Some(key),
            introduced,
        });
        true
    }

    /// Everyone following the stream but its requester.
    pub(crate) fn followers(&self) -> Vec<Follower> {
        self.state()
            .subscribers
            .iter()
            .filter_map(|s| {
                s.follower.clone().map(|key| Follower {
                    key,
                    sink: s.sink.clone(),
                })
            })
            .collect()
    }

    /// Appends reply text (not yet sent to anyone).
    pub(crate) fn push_text(&self, text: &str) {
        self.state().text.push_str(text);
    }

    /// Appends reasoning (not yet sent to anyone).
    pub(crate) fn push_reasoning(&self, text: &str) {
        self.state().reasoning.push_str(text);
    }

    /// Sends what arrived since the last batch to every subscriber, as one delta.
    pub(crate) fn flush(&self) {
        let mut st = self.state();
        flush_locked(&mut st);
    }

    /// The reply and the reasoning so far.
    pub(crate) fn texts(&self) -> (String, String) {
        let st = self.state();
        (st.text.clone(), st.reasoning.clone())
    }

    /// Sends the last batch, closes the stream to new subscribers, and hands
    /// back everyone who must get the terminal event.
    pub(crate) fn end(&self) -> Vec<Arc<dyn Sink<StreamEvent>>> {
        let mut st = self.state();
        flush_locked(&mut st);
        st.ended = true;
        std::mem::take(&mut st.subscribers)
            .into_iter()
            .map(|s| s.sink)
            .collect()
    }
}

fn flush_locked(st: &mut State) {
    if st.sent_text == st.text.len() && st.sent_reasoning == st.reasoning.len() {
        return;
    }
    let text = st.text[st.sent_text..].to_owned();
    let reasoning = st.reasoning[st.sent_reasoning..].to_owned();
    st.sent_text = st.text.len();
    st.sent_reasoning = st.reasoning.len();
    for sub in st.subscribers.iter().filter(|s| s.introduced) {
        sub.sink.send(StreamEvent::Delta {
            text: text.clone(),
            reasoning: reasoning.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::ReplyKind;
    use crate::sink::Collect;

    fn started() -> StreamStarted {
        StreamStarted {
            session_id: "s".into(),
            kind: ReplyKind::Send,
            user_message_id: Some("u".into()),
            assistant_message_id: Some("a".into()),
            speaker_id: None,
        }
    }

    fn follower(key: Option<&str>, sink: Arc<Collect<StreamEvent>>) -> Follower {
        Follower {
            key: key.map(str::to_owned),
            sink,
        }
    }

    fn joined(events: &[StreamEvent]) -> String {
        events
            .iter()
            .map(|e| match e {
                StreamEvent::Snapshot { text, .. } | StreamEvent::Delta { text, .. } => {
                    text.as_str()
                }
                _ => "",
            })
            .collect()
    }

    #[test]
    fn a_late_subscriber_gets_the_snapshot_then_every_delta_once() {
        let live = Live::new();
        let first = Arc::new(Collect::default());
        live.begin(started(), first.clone(), ("", ""));
        live.push_text("Hel");
        live.flush();
        live.push_text("lo");
        let late = Arc::new(Collect::default());
        assert!(live.attach(follower(None, late.clone())));
        live.push_text(", you");
        live.flush();
        let rest = live.end();
        assert_eq!(rest.len(), 2);
        assert_eq!(joined(&first.events()), "Hello, you");
        let late = late.events();
        assert!(matches!(late[0], StreamEvent::Started(_)));
        assert_eq!(
            late[1],
            StreamEvent::Snapshot {
                text: "Hel".into(),
                reasoning: String::new()
            }
        );
        assert_eq!(joined(&late), "Hello, you");
        assert!(
            !live.attach(follower(None, Arc::new(Collect::default()))),
            "ended"
        );
    }

    #[test]
    fn a_subscriber_before_the_ids_waits_for_them() {
        let live = Live::new();
        let early = Arc::new(Collect::default());
        assert!(live.attach(follower(None, early.clone())));
        assert!(early.events().is_empty());
        live.begin(started(), Arc::new(Collect::default()), ("Once", ""));
        live.push_text(" more");
        live.end();
        let events = early.events();
        assert!(matches!(events[0], StreamEvent::Started(_)));
        assert_eq!(joined(&events), "Once more");
    }

    #[test]
    fn a_window_that_attaches_again_hears_each_event_once_on_its_newest_sink() {
        let live = Live::new();
        live.begin(started(), Arc::new(Collect::default()), ("", ""));
        let (old, new, other) = (
            Arc::new(Collect::default()),
            Arc::new(Collect::default()),
            Arc::new(Collect::default()),
        );
        assert!(live.attach(follower(Some("chat-1"), old.clone())));
        assert!(live.attach(follower(Some("main"), other.clone())));
        live.push_text("Hi");
        live.flush();
        assert!(live.attach(follower(Some("chat-1"), new.clone())));
        live.push_text(" there");
        live.flush();
        assert_eq!(live.followers().len(), 2, "the requester is not a follower");
        assert_eq!(
            joined(&old.events()),
            "Hi",
            "the replaced sink hears no more"
        );
        assert_eq!(joined(&new.events()), "Hi there");
        assert_eq!(joined(&other.events()), "Hi there");
        assert_eq!(live.end().len(), 3);
    }

    #[test]
    fn followers_given_at_the_start_hear_the_stream_from_its_ids_on() {
        let early = Arc::new(Collect::default());
        let live = Live::followed_by(vec![follower(Some("chat-1"), early.clone())]);
        live.begin(started(), Arc::new(Collect::default()), ("", ""));
        live.push_text("Next turn");
        live.end();
        let events = early.events();
        assert!(matches!(events[0], StreamEvent::Started(_)));
        assert_eq!(joined(&events), "Next turn");
    }

    #[test]
    fn the_first_stop_reason_wins() {
        let live = Live::new();
        live.stop(CancelReason::MaxDuration);
        live.stop(CancelReason::User);
        assert_eq!(live.reason(), CancelReason::MaxDuration);
        assert!(live.cancel.is_cancelled());
    }
}
