//! The engine's reply requests: send, regenerate, continue and impersonate.
//! Each claims the session, saves what must survive anything, and hands the
//! stream to its task.

use std::sync::Arc;
use std::time::Instant;

use super::pipeline::{resolve, Job, ReplyTarget};
use super::{ChatEngine, ReplyKind, StreamEvent, StreamStarted};
use crate::error::{Error, Result};
use crate::session::{Message, MessageStatus, Role};
use crate::sink::Sink;
use crate::store::NewMessage;

impl ChatEngine {
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
        let session = store.session_cast(session_id).await?;
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
        let (slot, (user_id, reply_id)) = slot.keep_if(saved)?;
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
        let (slot, (parent, reply)) = slot.keep_if(prepared)?;
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
        let (slot, (last, parent)) = slot.keep_if(prepared)?;
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
