//! `confab chat SESSION "text"`: a reply streamed to stdout, Ctrl-C to stop.
//!
//! The reply's text goes to stdout as it arrives (with `--json`, one
//! `StreamEvent` per line instead). Ctrl-C stops the stream the way the app's
//! Stop button does: the request is dropped and the partial reply saved as
//! cancelled. The exit code says how it ended (see [`crate::output::exit_code`]).

use std::io::Write;
use std::sync::Arc;

use confab_core::chat::{ChatEngine, EngineConfig, StreamEvent};
use confab_core::secrets::Keys;
use confab_core::session::turn::PromptCaches;
use confab_core::sink::{Discard, Sink};
use confab_core::store::Store;
use confab_core::{providers, AppError, Error};
use tokio::sync::mpsc;

/// What `confab chat` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Send the text, stream the reply.
    Send,
    /// A new swipe of the last reply.
    Regenerate,
    /// More of the last reply.
    Continue,
    /// A draft of the user's next message.
    Impersonate,
    /// In a group, a member speaks with no new message.
    Pass,
}

/// One `confab chat` request.
#[derive(Debug, Clone)]
pub struct Asked {
    /// What to send (for [`Request::Send`]).
    pub text: Option<String>,
    /// What to do.
    pub request: Request,
    /// In a group, the member who answers.
    pub speaker: Option<String>,
}

/// How a streamed reply ended.
#[derive(Debug)]
pub enum Ending {
    /// The reply finished.
    Done,
    /// The user pressed Ctrl-C; the partial reply is saved.
    Stopped,
    /// The provider or the connection failed; the partial reply is saved.
    Failed(AppError),
}

/// Forwards the engine's events to the printing loop.
struct Forward(mpsc::UnboundedSender<StreamEvent>);

impl Sink<StreamEvent> for Forward {
    fn send(&self, event: StreamEvent) {
        // The loop ends after the terminal event; later sends have no reader.
        let _ = self.0.send(event);
    }
}

/// Streams one reply for `session` to stdout; in a group with auto turns,
/// the members' turns that follow it too (Ctrl-C stops them all).
pub async fn run(store: &Store, session: &str, asked: Asked, json: bool) -> Result<Ending, Error> {
    let engine = ChatEngine::new(
        store.clone(),
        Arc::new(Keys::from_env(store.clone())),
        Arc::new(PromptCaches::default()),
        providers::http_client()?,
        EngineConfig::default(),
        Arc::new(Discard),
    );
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sink: Arc<dyn Sink<StreamEvent>> = Arc::new(Forward(tx));
    let speaker = asked.speaker.as_deref();
    match asked.request {
        Request::Send => {
            let text = asked.text.unwrap_or_default();
            engine.send_as(session, &text, &[], speaker, sink).await?
        }
        Request::Regenerate => engine.regenerate_as(session, speaker, sink).await?,
        Request::Continue => engine.continue_reply(session, sink).await?,
        Request::Impersonate => engine.impersonate(session, sink).await?,
        Request::Pass => engine.speak(session, speaker, sink).await?,
    };
    // A group's replies are headed by their speaker's name.
    let names: std::collections::HashMap<String, String> = store
        .group_members(session)
        .await?
        .into_iter()
        .map(|m| (m.character_id, m.name))
        .collect();

    let mut stdout = std::io::stdout().lock();
    let mut stopping = false;
    // After a reply ends, whether the group's next turn may still come.
    let mut ended: Option<Ending> = None;
    let ending = loop {
        let event = tokio::select! {
            event = rx.recv() => event,
            _ = tokio::signal::ctrl_c(), if !stopping => {
                stopping = true;
                engine.stop(session);
                continue;
            }
            _ = tokio::time::sleep(std::time::Duration::from_millis(50)), if ended.is_some() => {
                if engine.auto_turns_running(session) {
                    continue;
                }
                break ended.take().unwrap_or(Ending::Done);
            }
        };
        let Some(event) = event else {
            // A group's auto turns are over: nothing more will come.
            if let Some(ending) = ended.take() {
                break ending;
            }
            break Ending::Failed(AppError::from(Error::Internal(
                "the reply stream ended without saying how".into(),
            )));
        };
        if json {
            if let Ok(line) = serde_json::to_string(&event) {
                let _ = writeln!(stdout, "{line}");
            }
        } else {
            match &event {
                StreamEvent::Started(started) => {
                    let name = started.speaker_id.as_ref().and_then(|id| names.get(id));
                    if let Some(name) = name {
                        let gap = if ended.is_some() { "\n\n" } else { "" };
                        let _ = write!(stdout, "{gap}{name}: ");
                    }
                }
                StreamEvent::Delta { text, .. } | StreamEvent::Snapshot { text, .. } => {
                    let _ = write!(stdout, "{text}");
                }
                _ => {}
            }
        }
        let _ = stdout.flush();
        match event {
            StreamEvent::Started(_) => ended = None,
            StreamEvent::Done { .. } => ended = Some(Ending::Done),
            StreamEvent::Cancelled { .. } => break Ending::Stopped,
            StreamEvent::Failed { error, .. } => break Ending::Failed(error),
            _ => {}
        }
    };
    if !json {
        let _ = writeln!(stdout);
    }
    // Let the engine finish its last save before the store closes.
    engine.shutdown().await;
    Ok(ending)
}
