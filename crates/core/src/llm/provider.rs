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
use serde_json::{json, Map, Value};

use super::wire::{AnthropicStream, OpenAiStream, StreamParser};
use crate::error::Error;
use crate::prompt::PromptMessage;
use crate::session::Role;

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
}

impl ProviderKind {
    /// Whether requests use the OpenAI chat completions protocol.
    pub fn is_openai_style(self) -> bool {
        !matches!(self, ProviderKind::Anthropic)
    }

    /// Whether the provider cannot be used without an API key.
    pub fn requires_key(self) -> bool {
        !matches!(self, ProviderKind::OpenAiCompatible)
    }

    /// The base URL a new provider of this kind starts with.
    pub fn default_base_url(self) -> &'static str {
        match self {
            ProviderKind::OpenRouter => "https://openrouter.ai/api/v1",
            ProviderKind::OpenAi => "https://api.openai.com/v1",
            ProviderKind::Anthropic => "https://api.anthropic.com/v1",
            ProviderKind::OpenAiCompatible => "http://127.0.0.1:8080/v1",
        }
    }
}

/// Sampling settings sent with every request; unset values are left to the provider.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct GenerationSettings {
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    pub top_p: Option<f32>,
    /// The most tokens of the reply (Anthropic requires one: 1024 when unset).
    pub max_tokens: Option<u32>,
    /// Stop sequences.
    pub stop: Vec<String>,
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
        _ => Box::new(OpenAiStream::new()),
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

/// Builds the request for one reply.
///
/// `images` attaches images to messages of `prompt` by index (user messages
/// only). Errors are [`Error::InvalidInput`] for a bad configuration or prompt,
/// and [`Error::Unauthorized`] when a provider that needs a key has none; no
/// error mentions the key.
pub fn build_request(
    config: &ProviderConfig,
    model: &str,
    prompt: &[PromptMessage],
    images: &[(usize, ImagePart)],
    api_key: Option<&str>,
) -> Result<HttpRequest, Error> {
    let model = model.trim();
    if model.is_empty() {
        return Err(Error::InvalidInput(format!(
            "no model is chosen for {}",
            config.name
        )));
    }
    check_base_url(config)?;
    for (index, image) in images {
        let Some(message) = prompt.get(*index) else {
            return Err(Error::InvalidInput(format!(
                "an image is attached to message {index}, but the prompt has {} messages",
                prompt.len()
            )));
        };
        if message.role != Role::User {
            return Err(Error::InvalidInput(format!(
                "an image is attached to message {index}, a {} message; only user messages can carry images",
                message.role.as_str()
            )));
        }
        if !image.mime.starts_with("image/") || image.mime.contains(|c: char| c.is_whitespace()) {
            return Err(Error::InvalidInput(format!(
                "an attachment of type {:?} is not an image",
                image.mime
            )));
        }
    }
    let key = check_key(config, api_key)?;

    let path = if config.kind.is_openai_style() {
        "chat/completions"
    } else {
        "messages"
    };
    let body = request_body(config, model, prompt, images);

    let mut headers: Vec<(String, String)> = vec![
        ("Content-Type".into(), "application/json".into()),
        (
            "Accept".into(),
            if config.streaming {
                "text/event-stream".into()
            } else {
                "application/json".into()
            },
        ),
    ];
    match (config.kind, key) {
        (ProviderKind::Anthropic, k) => {
            if let Some(k) = k {
                headers.push(("x-api-key".into(), k.to_owned()));
            }
            headers.push(("anthropic-version".into(), ANTHROPIC_VERSION.into()));
        }
        (_, Some(k)) => headers.push(("Authorization".into(), format!("Bearer {k}"))),
        (_, None) => {}
    }
    append_extra_headers(&mut headers, &config.extra_headers)?;

    Ok(HttpRequest {
        method: "POST".into(),
        url: join_url(&config.base_url, path),
        headers,
        body,
    })
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

/// The JSON body a request for one reply carries: what the prompt preview
/// shows and what [`build_request`] sends (the key travels in a header, never here).
pub fn request_body(
    config: &ProviderConfig,
    model: &str,
    prompt: &[PromptMessage],
    images: &[(usize, ImagePart)],
) -> Value {
    let model = model.trim();
    if config.kind.is_openai_style() {
        openai_body(config, model, prompt, images)
    } else {
        anthropic_body(config, model, prompt, images)
    }
}

/// The images attached to message `index`, in the order given.
fn images_of(images: &[(usize, ImagePart)], index: usize) -> impl Iterator<Item = &ImagePart> {
    images
        .iter()
        .filter(move |(i, _)| *i == index)
        .map(|(_, img)| img)
}

fn openai_body(
    config: &ProviderConfig,
    model: &str,
    prompt: &[PromptMessage],
    images: &[(usize, ImagePart)],
) -> Value {
    let messages: Vec<Value> = prompt
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let imgs: Vec<&ImagePart> = images_of(images, i).collect();
            let content = if imgs.is_empty() {
                Value::String(m.content.clone())
            } else {
                let mut parts = Vec::new();
                if !m.content.is_empty() {
                    parts.push(json!({"type": "text", "text": m.content}));
                }
                for img in imgs {
                    parts.push(json!({"type": "image_url", "image_url": {"url": img.data_url()}}));
                }
                Value::Array(parts)
            };
            json!({"role": m.role.as_str(), "content": content})
        })
        .collect();
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("messages".into(), Value::Array(messages));
    body.insert("stream".into(), json!(config.streaming));
    if config.streaming {
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    let g = &config.generation;
    insert_sampling(&mut body, g);
    if let Some(max) = g.max_tokens {
        body.insert("max_tokens".into(), json!(max));
    }
    if !g.stop.is_empty() {
        body.insert("stop".into(), json!(g.stop));
    }
    Value::Object(body)
}

fn insert_sampling(body: &mut Map<String, Value>, g: &GenerationSettings) {
    // Through f64 by way of the shortest decimal, so 0.7f32 is sent as 0.7.
    let num = |x: f32| -> Value {
        x.to_string()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number)
    };
    if let Some(t) = g.temperature.filter(|t| t.is_finite()) {
        body.insert("temperature".into(), num(t));
    }
    if let Some(p) = g.top_p.filter(|p| p.is_finite()) {
        body.insert("top_p".into(), num(p));
    }
}

fn anthropic_body(
    config: &ProviderConfig,
    model: &str,
    prompt: &[PromptMessage],
    images: &[(usize, ImagePart)],
) -> Value {
    // The system messages that open the prompt become `system`; a system
    // message later on (a note at a depth, the post-history instructions)
    // keeps its place as a user turn, as SillyTavern sends it to Claude.
    let opening = prompt.iter().take_while(|m| m.role == Role::System).count();
    let system: Vec<&str> = prompt[..opening]
        .iter()
        .filter(|m| !m.content.trim().is_empty())
        .map(|m| m.content.as_str())
        .collect();

    // (role, blocks), consecutive same-role turns merged: Anthropic requires alternation.
    let mut turns: Vec<(Role, Vec<Value>)> = Vec::new();
    for (i, m) in prompt.iter().enumerate().skip(opening) {
        let role = match m.role {
            Role::System => Role::User,
            other => other,
        };
        let mut blocks: Vec<Value> = images_of(images, i)
            .map(|img| {
                json!({"type": "image", "source": {"type": "base64", "media_type": img.mime, "data": img.base64()}})
            })
            .collect();
        // Anthropic rejects empty text blocks.
        if !m.content.trim().is_empty() {
            blocks.push(json!({"type": "text", "text": m.content}));
        }
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    if turns.first().is_none_or(|(role, _)| *role != Role::User) {
        turns.insert(
            0,
            (
                Role::User,
                vec![json!({"type": "text", "text": ANTHROPIC_OPENING_USER_TEXT})],
            ),
        );
    }
    // A final assistant turn is a prefill, which may not end in whitespace.
    if let Some((Role::Assistant, blocks)) = turns.last_mut() {
        if let Some(Value::String(text)) = blocks.last_mut().and_then(|b| b.get_mut("text")) {
            let trimmed = text.trim_end().len();
            text.truncate(trimmed);
        }
    }
    let messages: Vec<Value> = turns
        .into_iter()
        .map(|(role, blocks)| {
            let content = match blocks.as_slice() {
                [only] if only["type"] == "text" => only["text"].clone(),
                _ => Value::Array(blocks),
            };
            json!({"role": role.as_str(), "content": content})
        })
        .collect();

    let g = &config.generation;
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert(
        "max_tokens".into(),
        json!(g.max_tokens.unwrap_or(ANTHROPIC_DEFAULT_MAX_TOKENS)),
    );
    if !system.is_empty() {
        body.insert("system".into(), json!(system.join("\n\n")));
    }
    body.insert("messages".into(), Value::Array(messages));
    body.insert("stream".into(), json!(config.streaming));
    insert_sampling(&mut body, g);
    if !g.stop.is_empty() {
        body.insert("stop_sequences".into(), json!(g.stop));
    }
    Value::Object(body)
}
