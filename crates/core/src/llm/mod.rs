//! Talking to language-model providers.
//!
//! [`sse`] turns bytes into SSE events, [`wire`] turns those into
//! provider-neutral [`WireEvent`]s, and [`http_error`] maps error responses to
//! typed [`crate::Error`]s; [`stream`] drives them over a reqwest response.
//! [`provider`] holds provider configuration and builds requests, [`models`]
//! reads model lists, and [`discover`] finds local servers. [`text`] speaks to
//! text-completion servers (KoboldCpp, llama.cpp, `/v1/completions`) and
//! [`samplers`] says which settings each kind accepts. [`embeddings`] asks for
//! the vectors retrieval searches by.

pub mod client;
pub mod discover;
pub mod embeddings;
pub mod http_error;
pub mod models;
pub mod provider;
pub mod samplers;
pub mod sse;
pub mod stream;
pub mod text;
pub mod wire;

pub use client::{start_reply, start_reply_with, ReplyStream};
pub use discover::{find_local_servers, LocalServer, LOCAL_PORTS};
pub use http_error::{error_from_response, hide_key, parse_retry_after};
pub use models::{models_request, models_url, parse_models, ModelInfo};
pub use provider::{
    build_request, build_request_cached, cache_style, is_sensitive_header, join_url, parser_for,
    request_body, request_body_cached, CacheStyle, GenerationSettings, HttpRequest, ImagePart,
    ProviderConfig, ProviderKind, ANTHROPIC_DEFAULT_MAX_TOKENS, ANTHROPIC_VERSION,
};
pub use samplers::{supported_samplers, DrySettings, MirostatSettings, Sampler, XtcSettings};
pub use sse::{SseDecoder, SseEvent, DEFAULT_MAX_EVENT_BYTES};
pub use stream::{error_from_reqwest, stream_events};
pub use text::{
    abort, abort_request, build_text_request, new_genkey, parse_text_reply, text_request_body,
    CompletionsStream, KoboldStream, LlamaCppStream, TextPrompt, ThinkOptions, ThinkParser,
    ThinkSplitter,
};
pub use wire::{AnthropicStream, OpenAiStream, StreamParser, Usage, WireEvent};
