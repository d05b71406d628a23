//! A reply from a text-completion backend: the turn rendered through its
//! instruct template into one prompt string, the request with the template's
//! stop strings, reasoning split out of the text, and (KoboldCpp) a generation
//! key so a stop also ends generation on the server.

use std::sync::Arc;
use std::time::Duration;

use super::Inner;
use crate::error::Result;
use crate::llm::text::tokenize::ServerProps;
use crate::llm::{build_text_request, new_genkey, HttpRequest, ProviderConfig, ProviderKind};
use crate::llm::{TextPrompt, ThinkOptions};
use crate::session::turn::{text_turn, turn_names, Turn};

/// How long a stop waits for KoboldCpp to confirm the abort.
const ABORT_TIMEOUT: Duration = Duration::from_secs(3);

/// What a stop must tell the server: KoboldCpp keeps generating after the
/// connection drops unless asked by the request's key.
pub(super) struct ServerAbort {
    config: ProviderConfig,
    genkey: String,
    key: Option<String>,
}

impl ServerAbort {
    /// Asks the server to stop, in the background (a server that ignores it changes nothing here).
    pub(super) fn send(self, http: &reqwest::Client) {
        let http = http.clone();
        tokio::spawn(async move {
            let _ = crate::llm::abort(
                &http,
                &self.config,
                &self.genkey,
                self.key.as_deref(),
                ABORT_TIMEOUT,
            )
            .await;
        });
    }
}

/// The text request for a built turn, with how to read its reasoning and how to abort it.
pub(super) struct TextRequest {
    pub(super) request: HttpRequest,
    pub(super) think: ThinkOptions,
    pub(super) abort: Option<ServerAbort>,
}

/// Renders `turn` for `config`'s backend and builds the request.
#[allow(clippy::too_many_arguments)]
pub(super) async fn text_request(
    inner: &Inner,
    session_id: &str,
    speaker: Option<&str>,
    config: &ProviderConfig,
    instruct_source: crate::connection::ChoiceSource,
    model: &str,
    key: Option<&str>,
    turn: &Turn,
    server: Option<&Arc<ServerProps>>,
) -> Result<TextRequest> {
    let store = &inner.store;
    let names = turn_names(store, session_id, speaker).await?;
    let text = text_turn(
        store,
        config,
        instruct_source,
        model,
        &turn.prompt,
        server.map(|s| s.as_ref()),
        &names,
    )
    .await?;
    let genkey = (config.kind == ProviderKind::KoboldCpp).then(new_genkey);
    let request = build_text_request(
        config,
        model,
        &TextPrompt {
            prompt: &text.text,
            stop: &text.stop,
            genkey: genkey.as_deref(),
            context_length: Some(turn.limits.context_window),
        },
        key,
    )?;
    // The server's own count of this prompt calibrates the next budget; the reply does not wait for it.
    let (caches, http, counted, token_key, prompt) = (
        inner.caches.clone(),
        inner.http.clone(),
        config.clone(),
        key.map(str::to_owned),
        text.text,
    );
    tokio::spawn(async move {
        caches
            .servers
            .count_tokens(Some(&http), &counted, token_key.as_deref(), &prompt)
            .await;
    });
    Ok(TextRequest {
        request,
        think: ThinkOptions {
            prefilled: text.think_prefilled,
            ..ThinkOptions::default()
        },
        abort: genkey.map(|genkey| ServerAbort {
            config: config.clone(),
            genkey,
            key: key.map(str::to_owned),
        }),
    })
}
