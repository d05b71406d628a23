//! Provider configuration and request building: pure, so every request can be
//! checked without a network.
//!
//! [`build_request`] turns a provider-neutral prompt into the HTTP request one
//! provider expects: OpenAI-style chat completions (OpenAI, OpenRouter, and the
//! compatible local servers) or Anthropic's Messages API. The API key is passed
//! in by the caller (keys live in the keyring, never in [`ProviderConfig`]) and
//! never appears in an error message or in the [`Debug`] form of a request.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::wire::{AnthropicStream, OpenAiStream, StreamParser};
use crate::error::Error;

mod chat_request;

pub use super::samplers::GenerationSettings;
pub use chat_request::{
    build_request, build_request_cached, cache_style, request_body, request_body_cached, CacheStyle,
};

/// The Anthropic API version Confab speaks.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// `max_tokens` sent to Anthropic when the settings leave it unset (it is required there).
pub const ANTHROPIC_DEFAULT_MAX_TOKENS: u32 = 1024;

/// The user turn put first when an Anthropic conversation would otherwise not
/// start with one (Anthropic requires the first message to be the user's).
pub const ANTHROPIC_OPENING_USER_TEXT: &str = "[Start a new chat]";

/// Which wire protocol and defaults a provider uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum ProviderKind {
    /// OpenRouter (OpenAI-style chat completions).
    OpenRouter,
    /// OpenAI.
    OpenAi,
    /// Anthropic's Messages API.
    Anthropic,
    /// Any OpenAI-compatible server: llama.cpp, LM Studio, KoboldCpp, Ollama's /v1, xAI.
    OpenAiCompatible,
    /// KoboldCpp's native text API (`/api/v1/generate`, `/api/extra/generate/stream`).
    KoboldCpp,
    /// llama.cpp's server, native `/completion`.
    LlamaCpp,
    /// OpenAI-style text completions (`/v1/completions`): vLLM, TabbyAPI,
    /// Aphrodite, Ollama, LM Studio.
    TextCompletions,
}

impl ProviderKind {
    /// Whether requests use the OpenAI chat completions protocol.
    pub fn is_openai_style(self) -> bool {
        matches!(
            self,
            ProviderKind::OpenRouter | ProviderKind::OpenAi | ProviderKind::OpenAiCompatible
        )
    }

    /// Whether the provider takes one rendered prompt string (text completion)
    /// rather than a list of chat messages.
    pub fn is_text_completion(self) -> bool {
        matches!(
            self,
            ProviderKind::KoboldCpp | ProviderKind::LlamaCpp | ProviderKind::TextCompletions
        )
    }

    /// Whether the server replies with the model it has loaded when a request
    /// names none (KoboldCpp and llama.cpp serve one model at a time).
    pub fn serves_loaded_model(self) -> bool {
        matches!(self, ProviderKind::KoboldCpp | ProviderKind::LlamaCpp)
    }

    /// Whether the provider cannot be used without an API key.
    pub fn requires_key(self) -> bool {
        matches!(
            self,
            ProviderKind::OpenRouter | ProviderKind::OpenAi | ProviderKind::Anthropic
        )
    }

    /// The base URL a new provider of this kind starts with.
    pub fn default_base_url(self) -> &'static str {
        match self {
            ProviderKind::OpenRouter => "https://openrouter.ai/api/v1",
            ProviderKind::OpenAi => "https://api.openai.com/v1",
            ProviderKind::Anthropic => "https://api.anthropic.com/v1",
            ProviderKind::OpenAiCompatible => "http://127.0.0.1:8080/v1",
            ProviderKind::KoboldCpp => "http://127.0.0.1:5001",
            ProviderKind::LlamaCpp => "http://127.0.0.1:8080",
            // TabbyAPI's and text-generation-webui's port; vLLM users change it to 8000.
            ProviderKind::TextCompletions => "http://127.0.0.1:5000/v1",
        }
    }
}

/// One configured provider. Holds no API key: keys live in the OS keyring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfig {
    /// Stable id.
    pub id: String,
    /// The name the user gave it.
    pub name: String,
    /// Its protocol.
    pub kind: ProviderKind,
    /// The API root, `/chat/completions` or `/messages` is appended.
    pub base_url: String,
    /// The model used unless a character or session names another.
    pub default_model: String,
    /// Headers sent with every request (after, and overriding, Confab's own).
    #[serde(default)]
    pub extra_headers: BTreeMap<String, String>,
    /// Sampling settings.
    #[serde(default)]
    pub generation: GenerationSettings,
    /// Whether to stream replies.
    #[serde(default = "yes")]
    pub streaming: bool,
    /// The user confirmed sending the key over plain `http://` to a server
    /// outside this computer and its private network.
    #[serde(default)]
    pub allow_insecure_http: bool,
    /// The instruct template a text-completion backend's prompt is rendered with.
    #[serde(default)]
    pub instruct: crate::connection::InstructChoice,
    /// The context template (story string) by name (`None`: "Default").
    #[serde(default)]
    pub context_template: Option<String>,
    /// Mark the prompt's stable prefix for the provider's prompt cache (Anthropic,
    /// and Claude and Gemini models through OpenRouter; others cache on their own or not at all).
    #[serde(default = "yes")]
    pub prompt_cache: bool,
}

fn yes() -> bool {
    true
}

impl ProviderConfig {
    /// A provider of `kind` with sensible defaults and a fresh id.
    pub fn new(kind: ProviderKind, name: &str) -> Self {
        let mut extra_headers = BTreeMap::new();
        if kind == ProviderKind::OpenRouter {
            // OpenRouter's app attribution headers.
            extra_headers.insert(
                "HTTP-Referer".to_owned(),
                "https://github.com/confab-app/confab".to_owned(),
            );
            extra_headers.insert("X-Title".to_owned(), "Confab".to_owned());
        }
        ProviderConfig {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_owned(),
            kind,
            base_url: kind.default_base_url().to_owned(),
            default_model: String::new(),
            extra_headers,
            generation: GenerationSettings::default(),
            streaming: true,
            allow_insecure_http: false,
            instruct: Default::default(),
            context_template: None,
            prompt_cache: true,
        }
    }
}

/// An image to send with a message.
#[derive(Clone, PartialEq, Eq)]
pub struct ImagePart {
    /// Its MIME type (`image/png`).
    pub mime: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for ImagePart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImagePart")
            .field("mime", &self.mime)
            .field("bytes", &format_args!("<{} bytes>", self.bytes.len()))
            .finish()
    }
}

impl ImagePart {
    /// The image as base64.
    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.bytes)
    }

    /// The image as a `data:` URL.
    pub fn data_url(&self) -> String {
        format!("data:{};base64,{}", self.mime, self.base64())
    }
}

/// A request ready to send. Its [`Debug`] form hides credentials.
#[derive(Clone, PartialEq)]
pub struct HttpRequest {
    /// `POST`.
    pub method: String,
    /// The full URL.
    pub url: String,
    /// Headers in order, names as written.
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: Value,
}

impl HttpRequest {
    /// The value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A reqwest request builder for this request on `client`.
    pub fn to_reqwest(&self, client: &reqwest::Client) -> Result<reqwest::RequestBuilder, Error> {
        let method = reqwest::Method::from_bytes(self.method.as_bytes())
            .map_err(|_| Error::Internal(format!("bad HTTP method {:?}", self.method)))?;
        let mut builder = client.request(method, &self.url);
        if !self.body.is_null() {
            let body = serde_json::to_vec(&self.body)
                .map_err(|e| Error::Internal(format!("could not encode the request: {e}")))?;
            builder = builder.body(body);
        }
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        Ok(builder)
    }
}

/// Whether a header's value is a credential, hidden from [`Debug`].
pub fn is_sensitive_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "authorization"
        || n == "proxy-authorization"
        || n == "cookie"
        || n.contains("api-key")
        || n.contains("apikey")
        || n.contains("token")
        || n.contains("secret")
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Headers<'a>(&'a [(String, String)]);
        impl std::fmt::Debug for Headers<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut list = f.debug_list();
                for (name, value) in self.0 {
                    if is_sensitive_header(name) {
                        list.entry(&(name, "[redacted]"));
                    } else {
                        list.entry(&(name, value));
                    }
                }
                list.finish()
            }
        }
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &Headers(&self.headers))
            .field("body", &self.body)
            .finish()
    }
}

/// Joins a base URL and a path with exactly one slash between them.
pub fn join_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim().trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// The wire parser for a provider's streams.
pub fn parser_for(kind: ProviderKind) -> Box<dyn StreamParser + Send> {
    match kind {
        ProviderKind::Anthropic => Box::new(AnthropicStream::new()),
        ProviderKind::OpenRouter | ProviderKind::OpenAi | ProviderKind::OpenAiCompatible => {
            Box::new(OpenAiStream::new())
        }
        ProviderKind::KoboldCpp => Box::new(super::text::KoboldStream::new()),
        ProviderKind::LlamaCpp => Box::new(super::text::LlamaCppStream::new()),
        ProviderKind::TextCompletions => Box::new(super::text::CompletionsStream::new()),
    }
}

/// A boxed parser is a parser, so [`parser_for`]'s answer drives [`super::stream_events`].
impl<P: StreamParser + ?Sized> StreamParser for Box<P> {
    fn on_event(&mut self, ev: &super::SseEvent) -> Result<Vec<super::WireEvent>, Error> {
        (**self).on_event(ev)
    }
    fn on_final_event(&mut self, ev: &super::SseEvent) -> Result<Vec<super::WireEvent>, Error> {
        (**self).on_final_event(ev)
    }
    fn on_eof(&mut self) -> Result<Vec<super::WireEvent>, Error> {
        (**self).on_eof()
    }
}

/// The trimmed key, `None` when there is none; an error when a provider that
/// needs one has none, or when it cannot go in a header. Never names the key.
pub(crate) fn check_key<'k>(
    config: &ProviderConfig,
    api_key: Option<&'k str>,
) -> Result<Option<&'k str>, Error> {
    let key = api_key.map(str::trim).filter(|k| !k.is_empty());
    match key {
        Some(k) if k.chars().any(|c| c.is_control() || !c.is_ascii()) => Err(Error::InvalidInput(
            "the API key contains characters that cannot be sent; paste it again".into(),
        )),
        None if config.kind.requires_key() => Err(Error::Unauthorized {
            detail: format!("no API key is set for {}", config.name),
        }),
        _ => Ok(key),
    }
}

/// Appends the configured headers, each replacing a header of the same name.
pub(crate) fn append_extra_headers(
    headers: &mut Vec<(String, String)>,
    extra: &BTreeMap<String, String>,
) -> Result<(), Error> {
    for (name, value) in extra {
        check_header(name, value)?;
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        headers.push((name.clone(), value.clone()));
    }
    Ok(())
}

pub(crate) fn check_base_url(config: &ProviderConfig) -> Result<(), Error> {
    let base = config.base_url.trim();
    let lower = base.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => {
            crate::providers::validate::check_transport(config)
        }
        _ => Err(Error::InvalidInput(format!(
            "the address of {} must start with http:// or https:// and name a server (it is {:?})",
            config.name, base
        ))),
    }
}

fn check_header(name: &str, value: &str) -> Result<(), Error> {
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !name_ok {
        return Err(Error::InvalidInput(format!(
            "{name:?} is not a valid header name"
        )));
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        // The value may be a credential: name the header only.
        return Err(Error::InvalidInput(format!(
            "the value of header {name} contains a line break or control character"
        )));
    }
    Ok(())
}
