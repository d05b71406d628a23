//! The engine's reply requests: send, regenerate, continue and impersonate.
//! Each claims the session, saves what must survive anything, and hands the
//! stream to its task.

use std::sync::Arc;
use std::time::Instant;

use super::pipeline::{Job, ReplyTarget};

use super::{ChatEngine, ReplyKind, StreamEvent, StreamStarted};
use crate::error::{Error, Result};
use crate::session::group::{speaker_for, GroupMember};
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
        self.send_as(session_id, text, image_ids, None, sink).await
    }

    /// [`ChatEngine::send`], with the reply written by `speaker` in a group chat
    /// (`None`: the member the group's turn order picks). In a group with auto
    /// turns, members then answer each other (see [`ChatEngine::speak`]).
    pub async fn send_as(
        &self,
        session_id: &str,
        text: &str,
        image_ids: &[String],
        speaker: Option<&str>,
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
        let speaker = Speaker::of(
            store,
            session_id,
            &session.character_name,
            speaker_for(store, session_id, speaker, Some(text)).await?,
        )
        .await?;
        for id in image_ids {
            if store.image(id).await?.is_none() {
                return Err(Error::InvalidInput(format!(
                    "attached image {id} is no longer there; attach it again"
                )));
            }
        }
        let slot = self.reserve(session_id)?;
        // The provider is found while the messages are saved; the stream waits for it, `started` does not.
        let resolved = self.resolving(session_id);
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
                        speaker: None,
                    },
                    speaker.reply(),
                )
                .await?;
            Ok::<_, Error>(ids)
        };
        let saved = saved.await;
        let (slot, (user_id, reply_id)) = slot.keep_if(saved)?;
        // From here the user message is saved: every failure is reported as
        // the stream's outcome (after `started`), never as an error that would hide it.
        let started = StreamStarted {
            session_id: session_id.to_owned(),
            kind: ReplyKind::Send,
            user_message_id: Some(user_id.clone()),
            assistant_message_id: Some(reply_id.clone()),
            speaker_id: speaker.id.clone(),
        };
        let job = Job {
            kind: ReplyKind::Send,
            session_id: session_id.to_owned(),
            reply: Some(ReplyTarget {
                id: reply_id.clone(),
                before: None,
            }),
            history_before: Some(user_id),
            new_message: Some(text.to_owned()),
            new_message_images: image_ids.to_vec(),
            prefill: None,
            speaker: speaker.id.clone(),
            began,
        };
        let started = slot.launch(started, sink.clone(), job, resolved);
        self.follow_with_auto_turns(session_id, &reply_id, speaker.auto_turns, sink);
        Ok(started)
    }

    /// In a group chat, a member speaks without a new user message: `speaker`,
    /// or the member the turn order picks (the user passes their turn). Auto
    /// turns follow as after a send.
    pub async fn speak(
        &self,
        session_id: &str,
        speaker: Option<&str>,
        sink: Arc<dyn Sink<StreamEvent>>,
    ) -> Result<StreamStarted> {
        let (started, reply_id, auto_turns) = self
            .speak_once(session_id, speaker, None, sink.clone())
            .await?;
        self.follow_with_auto_turns(session_id, &reply_id, auto_turns, sink);
        Ok(started)
    }

    /// One member's turn without a new user message (a turn of auto chain
    /// `chain`, if given); returns the reply's id and the group's auto turns.
    pub(super) async fn speak_once(
        &self,
        session_id: &str,
        speaker: Option<&str>,
        chain: Option<u64>,
        sink: Arc<dyn Sink<StreamEvent>>,
    ) -> Result<(StreamStarted, String, u32)> {
        let began = Instant::now();
        let store = &self.inner.store;
        let session = store.session_cast(session_id).await?;
        if store.group_members(session_id).await?.is_empty() {
            return Err(Error::InvalidInput(
                "only a group chat's members take turns on their own; send a message instead"
                    .into(),
            ));
        }
        let speaker = Speaker::of(
            store,
            session_id,
            &session.character_name,
            speaker_for(store, session_id, speaker, None).await?,
        )
        .await?;
        let slot = self.reserve_turn(session_id, chain)?;
        // The provider is found while the messages are saved; the stream waits for it, `started` does not.
        let resolved = self.resolving(session_id);
        let saved = async { store.add_message(session_id, speaker.reply()).await };
        let saved = saved.await;
        let (slot, reply) = slot.keep_if(saved)?;
        let started = StreamStarted {
            session_id: session_id.to_owned(),
            kind: ReplyKind::Speak,
            user_message_id: None,
            assistant_message_id: Some(reply.id.clone()),
            speaker_id: speaker.id.clone(),
        };
        let job = Job {
            kind: ReplyKind::Speak,
            session_id: session_id.to_owned(),
            reply: Some(ReplyTarget {
                id: reply.id.clone(),
                before: None,
            }),
            history_before: Some(reply.id.clone()),
            new_message: None,
            new_message_images: Vec::new(),
            prefill: None,
            speaker: speaker.id.clone(),
            began,
        };
        Ok((
            slot.launch(started, sink, job, resolved),
            reply.id,
            speaker.auto_turns,
        ))
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
        self.regenerate_as(session_id, None, sink).await
    }

    /// [`ChatEngine::regenerate`]; in a group chat the new swipe is written by
    /// `speaker` (`None`: the member who wrote the last reply).
    pub async fn regenerate_as(
        &self,
        session_id: &str,
        speaker: Option<&str>,
        sink: Arc<dyn Sink<StreamEvent>>,
    ) -> Result<StreamStarted> {
        let began = Instant::now();
        let store = &self.inner.store;
        let session = store.session_cast(session_id).await?;
        let last = self.last_message(session_id).await?;
        let forced = speaker.or(last
            .as_ref()
            .filter(|m| m.role == Role::Assistant)
            .and_then(|m| m.speaker_id.as_deref()));
        let speaker = Speaker::of(
            store,
            session_id,
            &session.character_name,
            speaker_for(store, session_id, forced, None).await?,
        )
        .await?;
        let slot = self.reserve(session_id)?;
        // The provider is found while the messages are saved; the stream waits for it, `started` does not.
        let resolved = self.resolving(session_id);
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
            let reply = store.add_swipe(&last.id, speaker.reply()).await?;
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
        let prepared = prepared.await;
        let (slot, (parent, reply)) = slot.keep_if(prepared)?;
        let asked = Asked::of(parent, &reply.id);
        let started = StreamStarted {
            session_id: session_id.to_owned(),
            kind: ReplyKind::Regenerate,
            user_message_id: None,
            assistant_message_id: Some(reply.id.clone()),
            speaker_id: speaker.id.clone(),
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
            speaker: speaker.id.clone(),
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
        // The provider is found while the messages are saved; the stream waits for it, `started` does not.
        let resolved = self.resolving(session_id);
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
        let prepared = prepared.await;
        let (slot, (last, parent)) = slot.keep_if(prepared)?;
        let asked = Asked::of(parent, &last.id);
        let started = StreamStarted {
            session_id: session_id.to_owned(),
            kind: ReplyKind::Continue,
            user_message_id: None,
            assistant_message_id: Some(last.id.clone()),
            speaker_id: last.speaker_id.clone(),
        };
        let job = Job {
            kind: ReplyKind::Continue,
            session_id: session_id.to_owned(),
            history_before: Some(asked.history_before),
            new_message: asked.new_message,
            new_message_images: asked.images,
            prefill: Some(last.content),
            speaker: last.speaker_id.clone(),
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
        // The session must exist before anything is reserved. In a group, the
        // prompt is the one the next speaker would get.
        let next = speaker_for(store, session_id, None, None).await?;
        let slot = self.reserve(session_id)?;
        let resolved = self.resolving(session_id);
        let speaker = next.map(|m| m.character_id);
        let started = StreamStarted {
            session_id: session_id.to_owned(),
            kind: ReplyKind::Impersonate,
            user_message_id: None,
            assistant_message_id: None,
            speaker_id: speaker.clone(),
        };
        let job = Job {
            kind: ReplyKind::Impersonate,
            session_id: session_id.to_owned(),
            reply: None,
            history_before: None,
            new_message: None,
            new_message_images: Vec::new(),
            prefill: None,
            speaker,
            began,
        };
        Ok(slot.launch(started, sink, job, resolved))
    }
}

/// Who writes a reply: a group member, or the chat's one character.
struct Speaker {
    /// The member (`None` in a 1:1 chat).
    id: Option<String>,
    /// The name the reply is saved under.
    name: String,
    /// The group's auto turns (0 in a 1:1 chat).
    auto_turns: u32,
}

impl Speaker {
    /// The speaker of a reply: `member` in a group, else the chat's character.
    /// A group where no member may speak is an error (nothing is saved).
    async fn of(
        store: &crate::store::Store,
        session_id: &str,
        character_name: &str,
        member: Option<GroupMember>,
    ) -> Result<Speaker> {
        match member {
            Some(m) => Ok(Speaker {
                id: Some(m.character_id),
                name: m.name,
                auto_turns: store.group_settings(session_id).await?.auto_turns,
            }),
            None if !store.group_members(session_id).await?.is_empty() => Err(Error::InvalidInput(
                "no member of this group may speak: unmute one or bring one back into the scene"
                    .into(),
            )),
            None => Ok(Speaker {
                id: None,
                name: character_name.to_owned(),
                auto_turns: 0,
            }),
        }
    }

    /// The empty, streaming reply it writes.
    fn reply(&self) -> NewMessage<'_> {
        NewMessage {
            role: Role::Assistant,
            name: &self.name,
            content: "",
            status: MessageStatus::Partial,
            image_ids: &[],
            speaker: self.id.as_deref(),
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
