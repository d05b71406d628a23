//! The summarizer: who writes a chat's summaries, and one request to it.
//! The request is prepared as a reply's is (chat completions, or a
//! text-completion backend's instruct template), so keys, templates and
//! errors work the same; its reply is capped in size and its usage recorded.

use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use super::prepare::Resolved;
use super::Inner;
use crate::error::{Error, Result};
use crate::llm::{build_request, hide_key, start_reply_with, WireEvent};
use crate::memory::settings::MemorySettings;
use crate::prompt::{AssembledPrompt, PromptMessage};
use crate::session::turn::{limits_for, Turn, TurnMemory, TurnMessage};
use crate::session::Role;
use crate::store::{CoveredMessage, UsageOutcome, UsageRecord};

/// The longest summary accepted, in bytes.
pub const MAX_SUMMARY_BYTES: usize = 8 * 1024;
/// The most tokens of messages in one summarizer request.
const MAX_CHUNK_TOKENS: u64 = 12_000;

/// Tokens of messages per request: what the summarizer's window leaves after its reply and the prompt.
pub(super) fn chunk_budget(summarizer: &Summarizer) -> u64 {
    let limits = limits_for(
        Some(&summarizer.resolved.config),
        summarizer.resolved.context_length,
    );
    let room = u64::from(limits.context_window.saturating_sub(limits.reply_reserve));
    // The summary prompt, the previous summary (up to 8 KB) and framing.
    (room.saturating_sub(3_000) * 3 / 4).clamp(256, MAX_CHUNK_TOKENS)
}

pub(super) fn line_of(m: &CoveredMessage) -> String {
    format!("{}: {}", speaker(&m.name, &m.role), m.content.trim())
}

pub(super) fn turn_line(m: &TurnMessage) -> String {
    format!(
        "{}: {}",
        speaker(&m.name, m.role.as_str()),
        m.content.trim()
    )
}

fn speaker<'a>(name: &'a str, role: &'a str) -> &'a str {
    let name = name.trim();
    if name.is_empty() {
        role
    } else {
        name
    }
}

/// Who writes the summaries: the chosen provider and model, or the chat's own.
pub(super) struct Summarizer {
    resolved: Resolved,
    pub(super) author: String,
}

pub(super) async fn resolve_summarizer(
    inner: &Inner,
    session_id: &str,
    settings: &MemorySettings,
) -> Result<Summarizer> {
    let resolved = match &settings.summarizer {
        None => super::prepare::resolve(inner, session_id).await?,
        Some(choice) => {
            let config = inner.store.provider(&choice.provider_id).await?;
            let model = choice
                .model
                .clone()
                .filter(|m| !m.trim().is_empty())
                .unwrap_or_else(|| config.default_model.clone());
            let context_length = inner
                .store
                .cached_models(&config.id)
                .await?
                .and_then(|(models, _)| models.into_iter().find(|m| m.id == model))
                .and_then(|m| m.context_length);
            let key = inner.keys.get(&config.id).await?;
            Resolved {
                config,
                model,
                context_length,
                key,
                instruct_source: crate::connection::ChoiceSource::Default,
            }
        }
    };
    let author = format!("{} / {}", resolved.config.name, resolved.model);
    Ok(Summarizer { resolved, author })
}

/// The summarizer's request: the summary prompt, the previous summary, the messages.
fn summary_messages(
    settings: &MemorySettings,
    previous: Option<&str>,
    lines: &[String],
) -> Vec<PromptMessage> {
    let mut user = String::new();
    if let Some(previous) = previous.filter(|p| !p.trim().is_empty()) {
        user.push_str("The summary so far, for context (do not repeat it):\n");
        user.push_str(previous.trim());
        user.push_str("\n\n");
    }
    user.push_str("The messages to summarise:\n");
    user.push_str(&lines.join("\n"));
    vec![
        PromptMessage {
            role: Role::System,
            content: settings.summary_prompt().to_owned(),
        },
        PromptMessage {
            role: Role::User,
            content: user,
        },
    ]
}

/// Asks the summarizer; the summary's text, trimmed, or a typed error (none
/// written, too long); usage is recorded like a reply's.
pub(super) async fn ask(
    inner: &Inner,
    session_id: &str,
    summarizer: &Summarizer,
    settings: &MemorySettings,
    previous: Option<&str>,
    lines: &[String],
    cancel: &CancellationToken,
) -> Result<String> {
    let Resolved {
        config,
        model,
        key,
        context_length,
        instruct_source,
    } = &summarizer.resolved;
    let messages = summary_messages(settings, previous, lines);
    let (request, think) = if config.kind.is_text_completion() {
        // Rendered through the backend's instruct template, as a reply is.
        let server = inner
            .caches
            .servers
            .props(Some(&inner.http), config, key.as_deref())
            .await;
        let limits = limits_for(
            Some(config),
            context_length.or(server.as_ref().and_then(|s| s.context_length)),
        );
        let turn = Turn {
            prompt: AssembledPrompt {
                messages,
                ..AssembledPrompt::default()
            },
            images: Vec::new(),
            image_refs: Vec::new(),
            world_info: Default::default(),
            timed: Default::default(),
            limits,
            memory: TurnMemory::default(),
            retrieval: Default::default(),
        };
        let text = super::text::text_request(
            inner,
            session_id,
            None,
            config,
            *instruct_source,
            model,
            key.as_deref(),
            &turn,
            server.as_ref(),
        )
        .await?;
        (text.request, Some(text.think))
    } else {
        let request = build_request(config, model, &messages, &[], key.as_deref())?;
        (request, None)
    };
    let deadline = inner.config.max_duration;
    let mut usage = (None::<u32>, None::<u32>);
    let read = async {
        let mut stream = start_reply_with(
            &inner.http,
            config,
            &request,
            think.as_ref(),
            inner.config.idle_timeout,
            inner.config.max_event_bytes,
        )
        .await?;
        let mut text = String::new();
        while let Some(event) = stream.next().await {
            match event? {
                WireEvent::Text(t) => {
                    text.push_str(&t);
                    if text.len() > MAX_SUMMARY_BYTES {
                        return Err(Error::TooLarge {
                            what: "the summary the summarizer wrote".into(),
                            limit: format!("{} KB", MAX_SUMMARY_BYTES / 1024),
                        });
                    }
                }
                WireEvent::Usage(u) => {
                    usage.0 = u.prompt_tokens.or(usage.0);
                    usage.1 = u.completion_tokens.or(usage.1);
                }
                _ => {}
            }
        }
        Ok(text)
    };
    let outcome = tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(Error::Busy("summarising stopped".into())),
        _ = tokio::time::sleep(deadline) => Err(Error::Timeout(format!(
            "the summarizer did not finish within {} s", deadline.as_secs()
        ))),
        text = read => text,
    };
    let outcome = outcome.map_err(|e| hide_key(e, key.as_deref()));
    record(inner, summarizer, &outcome, usage).await;
    let text = outcome?;
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Upstream {
            status: None,
            detail: "the summarizer wrote an empty summary".into(),
        });
    }
    Ok(text.to_owned())
}

/// Records a summarizer request's usage (bookkeeping: its failure changes nothing).
async fn record(
    inner: &Inner,
    summarizer: &Summarizer,
    outcome: &Result<String>,
    (prompt, completion): (Option<u32>, Option<u32>),
) {
    let config = &summarizer.resolved.config;
    let model = &summarizer.resolved.model;
    let (word, reason) = match outcome {
        Ok(_) => (UsageOutcome::Done, String::new()),
        Err(Error::Busy(_)) => (UsageOutcome::Cancelled, "user".to_owned()),
        Err(e) => (UsageOutcome::Failed, e.code().as_str().to_owned()),
    };
    let info = crate::providers::model_info(&inner.store, &config.id, model)
        .await
        .ok()
        .flatten();
    let cost =
        crate::providers::cost_usd(info.as_ref(), prompt.unwrap_or(0), completion.unwrap_or(0));
    let _ = inner
        .store
        .record_usage(&UsageRecord {
            provider_id: Some(config.id.clone()),
            provider_name: config.name.clone(),
            model: model.clone(),
            outcome: word,
            reason,
            prompt_tokens: prompt.unwrap_or(0),
            completion_tokens: completion.unwrap_or(0),
            cost_usd: cost,
            // A summary's prompt is new text each time: no cache marks are sent for it.
            cache_write_tokens: 0,
            cache_read_tokens: 0,
            cache_saved_usd: None,
        })
        .await;
}
