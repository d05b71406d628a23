//! The prompt preview: what a send would go out with now, for the session's provider.

use serde::{Deserialize, Serialize};

use super::{build_turn, limits_for, PromptCaches, PromptImage, TurnRequest};
use crate::error::Result;
use crate::llm::{request_body_cached, text_request_body, ProviderConfig, TextPrompt};
use crate::lore::ScanReport;
use crate::prompt::AssembledPrompt;
use crate::session::service::PromptLimits;
use crate::store::Store;

/// A session's provider, model and limits as a send would use them (no key).
#[derive(Debug, Clone)]
pub struct TurnTarget {
    /// The provider, when one is set up.
    pub config: Option<ProviderConfig>,
    /// The model.
    pub model: String,
    /// The model's context window, when the provider listed it.
    pub context_length: Option<u32>,
    /// Who chose the instruct template in `config` (text-completion backends use it).
    pub instruct_source: crate::connection::ChoiceSource,
}

impl TurnTarget {
    /// The limits a prompt for this target is built for.
    pub fn limits(&self) -> PromptLimits {
        limits_for(self.config.as_ref(), self.context_length)
    }
}

/// The provider and model a session's next reply goes to, with the
/// connection profile and pins in force applied to the provider's settings.
pub async fn turn_target(store: &Store, session_id: &str) -> Result<TurnTarget> {
    let resolved = crate::providers::resolve_session(store, session_id).await?;
    let (config, instruct_source) = match resolved.provider {
        Some(config) => {
            let profile = resolved.in_force.profile.as_ref().map(|(p, _)| p);
            let (config, source) =
                crate::connection::apply(config, profile, &resolved.in_force.pins);
            (Some(config), source)
        }
        None => (None, crate::connection::ChoiceSource::Default),
    };
    Ok(TurnTarget {
        config,
        model: resolved.model.model,
        context_length: resolved.model.context_length,
        instruct_source,
    })
}

/// Who a preview's prompt goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PreviewTarget {
    /// The provider's id.
    pub provider_id: String,
    /// The provider's name.
    pub provider_name: String,
    /// The model.
    pub model: String,
}

/// The prompt a send would make now, with everything the preview shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PromptPreview {
    /// The messages and their explanation.
    pub prompt: AssembledPrompt,
    /// The images the new message carries.
    pub images: Vec<PromptImage>,
    /// What world info fired, and what matched but was dropped, and why.
    pub world_info: ScanReport,
    /// The provider and model, when one is set up.
    pub target: Option<PreviewTarget>,
    /// The context window it was built for.
    pub context_window: u32,
    /// Whether the window is the model's own (false: the default was assumed).
    pub context_window_known: bool,
    /// Tokens kept for the reply.
    pub reply_reserve: u32,
    /// In a group chat, the member the prompt is for (the one who would speak next, or the one asked for).
    pub speaker_id: Option<String>,
    /// For a text-completion backend: the exact text it would get, its stop
    /// strings, and the instruct template used (and why).
    pub text_prompt: Option<super::TextTurn>,
    /// What retrieval placed in the prompt (passages, scores, why), or why it placed nothing.
    pub retrieval: crate::memory::retrieval::RetrievalReport,
    /// The request body the provider would get, when asked for and a provider is set up.
    #[cfg_attr(feature = "specta", specta(type = Option<crate::card::model::JsonValue>))]
    pub request_body: Option<serde_json::Value>,
}

/// The prompt `request` would send now, for the session's provider and model,
/// built exactly as the send builds it (same limits, same function). In a
/// group without a speaker asked for, it is the prompt of the member the turn
/// order would pick for this very request.
pub async fn preview_turn(
    store: &Store,
    caches: &PromptCaches,
    session_id: &str,
    request: &TurnRequest,
    with_request_body: bool,
) -> Result<PromptPreview> {
    let speaker = crate::session::group::speaker_for(
        store,
        session_id,
        request.speaker.as_deref(),
        request.new_message.as_deref(),
    )
    .await?
    .map(|m| m.character_id);
    let request = &TurnRequest {
        speaker: speaker.clone(),
        ..request.clone()
    };
    let mut target = turn_target(store, session_id).await?;
    // A local server's own chat template and window, as the send will use them.
    let server = match &target.config {
        Some(config) => caches.servers.props(None, config, None).await,
        None => None,
    };
    target.context_length = target
        .context_length
        .or(server.as_ref().and_then(|s| s.context_length));
    let limits = match &target.config {
        Some(config) => caches.servers.calibrate(config, target.limits()),
        None => target.limits(),
    };
    let turn = build_turn(store, caches, session_id, request, limits).await?;
    let text_prompt = match &target.config {
        Some(config) if config.kind.is_text_completion() => {
            let names = super::turn_names(store, session_id, speaker.as_deref()).await?;
            let mut text = super::text_turn(
                store,
                config,
                target.instruct_source,
                &target.model,
                &turn.prompt,
                server.as_deref(),
                &names,
            )
            .await?;
            // The server's own count when it has a tokenizer; the estimate otherwise, said so.
            match caches
                .servers
                .count_tokens(None, config, None, &text.text)
                .await
            {
                Some(n) => (text.tokens, text.tokens_by_server) = (n, true),
                None => {
                    text.tokens = crate::tokens::TokenCounter::count(
                        crate::tokens::shared_counter(),
                        &text.text,
                    )
                }
            }
            Some(text)
        }
        _ => None,
    };
    let request_body = match (&target.config, with_request_body, &text_prompt) {
        (Some(config), true, Some(text)) => Some(text_request_body(
            config,
            &target.model,
            &TextPrompt {
                prompt: &text.text,
                stop: &text.stop,
                genkey: None,
                context_length: Some(turn.limits.context_window),
            },
        )?),
        (Some(config), true, None) => Some(request_body_cached(
            config,
            &target.model,
            &turn.prompt.messages,
            &turn.images,
            &crate::prompt::cache_breakpoints(&turn.prompt),
        )),
        _ => None,
    };
    Ok(PromptPreview {
        target: target.config.as_ref().map(|c| PreviewTarget {
            provider_id: c.id.clone(),
            provider_name: c.name.clone(),
            model: target.model.clone(),
        }),
        context_window: turn.limits.context_window,
        context_window_known: target.context_length.is_some(),
        reply_reserve: turn.limits.reply_reserve,
        images: turn.image_refs,
        world_info: turn.world_info,
        retrieval: turn.retrieval,
        prompt: turn.prompt,
        speaker_id: speaker,
        text_prompt,
        request_body,
    })
}
