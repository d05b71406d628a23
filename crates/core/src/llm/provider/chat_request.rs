//! Chat requests: the provider-neutral prompt as OpenAI-style chat
//! completions (OpenAI, OpenRouter, the compatible servers) or Anthropic's
//! Messages API.

use serde_json::{json, Map, Value};

use super::{
    append_extra_headers, check_base_url, check_key, join_url, GenerationSettings, HttpRequest,
    ImagePart, ProviderConfig, ProviderKind, ANTHROPIC_DEFAULT_MAX_TOKENS,
    ANTHROPIC_OPENING_USER_TEXT, ANTHROPIC_VERSION,
};
use crate::error::Error;
use crate::llm::samplers::{supports, Body, Sampler};
use crate::prompt::{PromptMessage, MAX_CACHE_BREAKPOINTS};
use crate::session::Role;

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
    build_request_cached(config, model, prompt, images, &[], api_key)
}

/// [`build_request`], with the prompt cache's breakpoints: the indexes of the
/// messages of `prompt` whose end is marked (see
/// [`crate::prompt::cache_breakpoints`]), when the provider and model take
/// marks ([`cache_style`]) and the provider's `prompt_cache` is on.
pub fn build_request_cached(
    config: &ProviderConfig,
    model: &str,
    prompt: &[PromptMessage],
    images: &[(usize, ImagePart)],
    breakpoints: &[usize],
    api_key: Option<&str>,
) -> Result<HttpRequest, Error> {
    if config.kind.is_text_completion() {
        return Err(Error::InvalidInput(format!(
            "{} is a text-completion server: its requests are built from a rendered prompt",
            config.name
        )));
    }
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
    let body = request_body_cached(config, model, prompt, images, breakpoints);

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

/// The JSON body a request for one reply carries: what the prompt preview
/// shows and what [`build_request`] sends (the key travels in a header, never here).
pub fn request_body(
    config: &ProviderConfig,
    model: &str,
    prompt: &[PromptMessage],
    images: &[(usize, ImagePart)],
) -> Value {
    request_body_cached(config, model, prompt, images, &[])
}

/// [`request_body`] with the prompt cache's breakpoints (see [`build_request_cached`]).
pub fn request_body_cached(
    config: &ProviderConfig,
    model: &str,
    prompt: &[PromptMessage],
    images: &[(usize, ImagePart)],
    breakpoints: &[usize],
) -> Value {
    let model = model.trim();
    let marks = match cache_style(config, model) {
        CacheStyle::None => Vec::new(),
        CacheStyle::EveryMark => breakpoints
            .iter()
            .copied()
            .take(MAX_CACHE_BREAKPOINTS)
            .collect(),
        CacheStyle::OneMark => breakpoints.iter().copied().take(1).collect(),
    };
    // Text-completion kinds are sent a rendered prompt (`text::text_request_body`);
    // until the engine renders one, their preview shows the chat form.
    if config.kind == ProviderKind::Anthropic {
        anthropic_body(config, model, prompt, images, &marks)
    } else {
        openai_body(config, model, prompt, images, &marks)
    }
}

/// How a provider and model take prompt-cache marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStyle {
    /// None: caching is off, or automatic (OpenAI, which only needs a stable prefix), or unknown.
    None,
    /// `cache_control` on every breakpoint (Anthropic, and Claude through OpenRouter).
    EveryMark,
    /// `cache_control` on the first, most durable breakpoint only: OpenRouter
    /// uses only the last mark it is given for Gemini, and Gemini also caches
    /// on its own, so the mark goes where the prefix lasts longest.
    OneMark,
}

/// Whether and how requests for `model` on `config` carry prompt-cache marks.
pub fn cache_style(config: &ProviderConfig, model: &str) -> CacheStyle {
    if !config.prompt_cache {
        return CacheStyle::None;
    }
    let model = model.trim().to_ascii_lowercase();
    match config.kind {
        ProviderKind::Anthropic => CacheStyle::EveryMark,
        ProviderKind::OpenRouter if model.starts_with("anthropic/") => CacheStyle::EveryMark,
        ProviderKind::OpenRouter if model.starts_with("google/gemini") => CacheStyle::OneMark,
        _ => CacheStyle::None,
    }
}

fn ephemeral() -> Value {
    json!({"type": "ephemeral"})
}

/// Marks a content block as the end of a cached prefix.
fn mark(block: &mut Value) {
    if let Some(obj) = block.as_object_mut() {
        obj.insert("cache_control".into(), ephemeral());
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
    marks: &[usize],
) -> Value {
    let messages: Vec<Value> = prompt
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let imgs: Vec<&ImagePart> = images_of(images, i).collect();
            let marked = marks.contains(&i);
            let content = if imgs.is_empty() && !marked {
                Value::String(m.content.clone())
            } else if imgs.is_empty() {
                // A marked message is sent as content parts, the mark on its text (OpenRouter's form).
                json!([{"type": "text", "text": m.content, "cache_control": ephemeral()}])
            } else {
                let mut parts = Vec::new();
                if !m.content.is_empty() {
                    parts.push(json!({"type": "text", "text": m.content}));
                }
                for img in imgs {
                    parts.push(json!({"type": "image_url", "image_url": {"url": img.data_url()}}));
                }
                if marked {
                    if let Some(last) = parts.last_mut() {
                        mark(last);
                    }
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
    insert_sampling(&mut body, config.kind, g);
    if let Some(max) = g.max_tokens {
        body.insert("max_tokens".into(), json!(max));
    }
    if !g.stop.is_empty() {
        body.insert("stop".into(), json!(g.stop));
    }
    Value::Object(body)
}

/// Temperature and top_p for every kind, then the extra samplers the kind
/// accepts (none unless set, so an unchanged configuration sends what it always did).
fn insert_sampling(body: &mut Map<String, Value>, kind: ProviderKind, g: &GenerationSettings) {
    let mut b = Body(body);
    b.float("temperature", g.temperature);
    b.float("top_p", g.top_p);
    if supports(kind, Sampler::TopK) {
        b.int("top_k", g.top_k);
    }
    if supports(kind, Sampler::MinP) {
        b.float("min_p", g.min_p);
    }
    if supports(kind, Sampler::RepetitionPenalty) {
        b.float("repetition_penalty", g.repetition_penalty);
    }
    if supports(kind, Sampler::PresencePenalty) {
        b.float("presence_penalty", g.presence_penalty);
    }
    if supports(kind, Sampler::FrequencyPenalty) {
        b.float("frequency_penalty", g.frequency_penalty);
    }
    if supports(kind, Sampler::Seed) {
        b.int("seed", g.seed);
    }
}

fn anthropic_body(
    config: &ProviderConfig,
    model: &str,
    prompt: &[PromptMessage],
    images: &[(usize, ImagePart)],
    marks: &[usize],
) -> Value {
    // The system messages that open the prompt become `system`; a system
    // message later on (a note at a depth, the post-history instructions)
    // keeps its place as a user turn, as SillyTavern sends it to Claude.
    let opening = prompt.iter().take_while(|m| m.role == Role::System).count();
    let system: Vec<(usize, &str)> = prompt[..opening]
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.content.trim().is_empty())
        .map(|(i, m)| (i, m.content.as_str()))
        .collect();
    let system_marked = marks.iter().any(|&i| i < opening);

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
        if marks.contains(&i) {
            // An empty message marks the block before it.
            let last = match blocks.last_mut() {
                Some(b) => Some(b),
                None => turns.last_mut().and_then(|(_, b)| b.last_mut()),
            };
            if let Some(b) = last {
                mark(b);
            }
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
                [only] if only["type"] == "text" && only.get("cache_control").is_none() => {
                    only["text"].clone()
                }
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
    if system_marked {
        // Marked: one text block per system message, so a mark ends exactly where its
        // message does. Later blocks open with the separator the joined form had, so
        // the text reads the same and a block never changes with what follows it.
        let blocks: Vec<Value> = system
            .iter()
            .enumerate()
            .map(|(k, (i, text))| {
                let text = if k == 0 {
                    (*text).to_owned()
                } else {
                    format!("\n\n{text}")
                };
                let mut block = json!({"type": "text", "text": text});
                if marks.contains(i) {
                    mark(&mut block);
                }
                block
            })
            .collect();
        body.insert("system".into(), Value::Array(blocks));
    } else if !system.is_empty() {
        let texts: Vec<&str> = system.iter().map(|(_, t)| *t).collect();
        body.insert("system".into(), json!(texts.join("\n\n")));
    }
    body.insert("messages".into(), Value::Array(messages));
    body.insert("stream".into(), json!(config.streaming));
    insert_sampling(&mut body, config.kind, g);
    if !g.stop.is_empty() {
        body.insert("stop_sequences".into(), json!(g.stop));
    }
    Value::Object(body)
}
