//! Before a stream starts: which provider, model and key the session replies
//! with ([`resolve`], run beside saving the messages), then the turn's prompt
//! and the request for that provider ([`prepare`]): chat completions, or a
//! text-completion backend's rendered prompt (see `text.rs`).

use std::sync::Arc;

use super::pipeline::{Job, Progress, Target};
use super::{ChatEngine, Inner, ReplyKind};
use crate::error::{Error, Result};
use crate::llm::{build_request_cached, HttpRequest, ProviderConfig};
use crate::session::turn::{build_turn, limits_for, TurnKind, TurnRequest};

/// The provider, model and key a request goes to (holds the key: no `Debug`).
pub(crate) struct Resolved {
    pub(super) config: ProviderConfig,
    pub(super) model: String,
    pub(super) context_length: Option<u32>,
    pub(super) key: Option<String>,
    pub(super) instruct_source: crate::connection::ChoiceSource,
}

/// A [`resolve`] running on its own: the request's messages are saved and
/// `started` sent without waiting for it (a process killed in between leaves
/// the least unreported); the stream's task waits for it.
pub(crate) type Resolving = tokio::task::JoinHandle<Result<Resolved>>;

impl ChatEngine {
    /// Starts resolving the session's provider, model and key.
    pub(super) fn resolving(&self, session_id: &str) -> Resolving {
        let (inner, session_id) = (Arc::clone(&self.inner), session_id.to_owned());
        tokio::spawn(async move { resolve(&inner, &session_id).await })
    }
}

/// What [`Resolving`] found; a panic in it is an internal error.
pub(super) async fn resolved(resolving: Resolving) -> Result<Resolved> {
    resolving
        .await
        .unwrap_or_else(|e| Err(Error::Internal(format!("finding the provider failed: {e}"))))
}

/// Finds the session's provider, model and key. Requests run this beside
/// saving their messages, so the first token does not wait for it.
pub(crate) async fn resolve(inner: &Inner, session_id: &str) -> Result<Resolved> {
    let store = &inner.store;
    let target = crate::session::turn::turn_target(store, session_id).await?;
    let config = target.config.ok_or_else(|| {
        Error::InvalidInput(
            "no provider is set up yet: add one in Settings, under Providers, then try again"
                .into(),
        )
    })?;
    // The key comes from the keyring (a blocking call on its own thread).
    let key = inner.keys.get(&config.id).await?;
    Ok(Resolved {
        config,
        model: target.model,
        context_length: target.context_length,
        key,
        instruct_source: target.instruct_source,
    })
}

/// A request ready to go: where, what, how to read its reasoning, how to abort it on the server.
pub(super) struct Prepared {
    pub(super) config: ProviderConfig,
    pub(super) request: HttpRequest,
    pub(super) think: Option<crate::llm::ThinkOptions>,
    pub(super) abort: Option<super::text::ServerAbort>,
}

/// Builds the turn's prompt (the same function the preview uses) and the request for the resolved provider.
pub(super) async fn prepare(
    inner: &Inner,
    job: &Job,
    resolved: Result<Resolved>,
    progress: &mut Progress,
) -> Result<Prepared> {
    let store = &inner.store;
    let Resolved {
        config,
        model,
        context_length,
        key,
        instruct_source,
    } = resolved?;
    progress.target = Some(Target {
        provider_id: config.id.clone(),
        provider_name: config.name.clone(),
        model: model.clone(),
    });
    let request = TurnRequest {
        kind: match job.kind {
            ReplyKind::Send | ReplyKind::Speak => TurnKind::Send,
            ReplyKind::Regenerate => TurnKind::Regenerate,
            ReplyKind::Continue => TurnKind::Continue,
            ReplyKind::Impersonate => TurnKind::Impersonate,
        },
        history_before: job.history_before.clone(),
        new_message: job.new_message.clone(),
        image_ids: job.new_message_images.clone(),
        prefill: job.prefill.clone(),
        speaker: job.speaker.clone(),
    };
    // A local server's own word on its chat template and window (asked once a minute).
    let server = inner
        .caches
        .servers
        .props(Some(&inner.http), &config, key.as_deref())
        .await;
    let context_length = context_length.or(server.as_ref().and_then(|s| s.context_length));
    // Scaled by how the server's tokenizer counted earlier prompts, for text backends.
    let limits = inner
        .caches
        .servers
        .calibrate(&config, limits_for(Some(&config), context_length));
    let turn = build_turn(store, &inner.caches, &job.session_id, &request, limits).await?;
    if matches!(
        job.kind,
        ReplyKind::Send | ReplyKind::Regenerate | ReplyKind::Speak
    ) {
        // A new turn advances sticky, cooldown and delay; continue and impersonate
        // do not. Saved beside the request, so the first token does not wait for it.
        let (store, session, timed) = (store.clone(), job.session_id.clone(), turn.timed.clone());
        progress.lore_saved = Some(tokio::spawn(async move {
            store.save_lore_timed_state(&session, &timed).await
        }));
    }
    if config.kind.is_text_completion() {
        let text = super::text::text_request(
            inner,
            &job.session_id,
            job.speaker.as_deref(),
            &config,
            instruct_source,
            &model,
            key.as_deref(),
            &turn,
            server.as_ref(),
        )
        .await?;
        return Ok(Prepared {
            config,
            request: text.request,
            think: Some(text.think),
            abort: text.abort,
        });
    }
    let request = build_request_cached(
        &config,
        &model,
        &turn.prompt.messages,
        &turn.images,
        &crate::prompt::cache_breakpoints(&turn.prompt),
        key.as_deref(),
    )?;
    Ok(Prepared {
        config,
        request,
        think: None,
        abort: None,
    })
}
