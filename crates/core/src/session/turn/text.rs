//! The prompt as a text-completion backend gets it: one string, rendered from
//! the turn's assembled messages through the instruct template in force, with
//! the stop strings that keep the model to its own turn.
//!
//! The template comes from, in order: the character's pin, the connection
//! profile, the provider's setting, and otherwise ("Auto") the model's own chat
//! template when its server reports one (rendered with minijinja, as the
//! server's own chat endpoint would), the preset that matches the model's
//! name, and ChatML as the last resort. The preview shows which and why.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::connection::{ChoiceSource, InstructChoice};
use crate::error::{Error, Result};
use crate::llm::text::tokenize::{fetch_props, ServerProps};
use crate::llm::{ProviderConfig, ProviderKind};
use crate::prompt::{AssembledPrompt, PromptMessage, PromptSource};
use crate::session::service::PromptLimits;
use crate::session::Role;
use crate::store::Store;
use crate::template::{
    context_preset, instruct_preset, jinja_stop_strings, render_chat_template_with,
    render_text_prompt, template_for_model, ChatTemplateOptions, ContextTemplate, InstructTemplate,
    TextPromptInput,
};

/// The instruct template used when nothing else says which.
pub const FALLBACK_INSTRUCT: &str = "ChatML";
/// The context template used when the connection names none: "Plain", the
/// story string without SillyTavern's `***` chat-start and example lines (an
/// instruct template's turn markers already separate them; a bare `***`
/// after the system turn's end token is off the model's format).
pub const DEFAULT_CONTEXT: &str = "Plain";

/// How long a server's reported chat template is trusted (a model can be swapped).
const PROPS_FRESH: Duration = Duration::from_secs(60);
/// How long a server that did not answer is left alone.
const PROPS_RETRY: Duration = Duration::from_secs(10);
/// The longest wait for a server's properties: a send waits on it.
const PROPS_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a text prompt was rendered with the template it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum TemplateOrigin {
    /// The model's own chat template, as its server reported it.
    ModelsOwn,
    /// The chat's character is pinned to it.
    Character,
    /// The connection profile in force names it.
    Profile,
    /// The provider's settings name it.
    Provider,
    /// The preset that matches the model's name.
    ModelName,
    /// Nothing told: ChatML.
    Fallback,
}

/// The instruct template a text prompt was rendered with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TemplateUsed {
    /// Its name (for the model's own template: the preset it matches, if any).
    pub name: String,
    /// Why it was used.
    pub origin: TemplateOrigin,
}

/// A text-completion prompt, ready to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TextTurn {
    /// The exact text the backend gets.
    pub text: String,
    /// Stop strings from the template and the names (the provider's own are added on sending).
    pub stop: Vec<String>,
    /// The template, and why.
    pub template: TemplateUsed,
    /// The prompt ends inside an opened `<think>` block: the reply starts as reasoning.
    pub think_prefilled: bool,
    /// Its length in tokens (filled in by the preview; 0 until counted).
    pub tokens: u32,
    /// Whether the server's own tokenizer counted them (false: Confab's estimate).
    pub tokens_by_server: bool,
}

/// The names a text prompt is written with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TurnNames {
    /// Who writes the reply (in a group, the speaker).
    pub char_name: String,
    /// The user's persona.
    pub user_name: String,
    /// A group's other present members (empty for a 1:1 chat).
    pub others: Vec<String>,
}

/// The names for a turn of `session_id` written by `speaker` (a group member's id).
pub async fn turn_names(
    store: &Store,
    session_id: &str,
    speaker: Option<&str>,
) -> Result<TurnNames> {
    let cast = store.session_cast(session_id).await?;
    let user_name = crate::session::service::user_name(store, cast.persona_id.as_deref()).await?;
    let members = store.group_members(session_id).await?;
    let speaker_id = speaker.unwrap_or(&cast.character_id);
    let char_name = members
        .iter()
        .find(|m| m.character_id == speaker_id)
        .map(|m| m.name.clone())
        .unwrap_or(cast.character_name);
    let others = members
        .into_iter()
        .filter(|m| {
            m.character_id != speaker_id && m.presence != crate::session::group::Presence::Absent
        })
        .map(|m| m.name)
        .collect();
    Ok(TurnNames {
        char_name,
        user_name,
        others,
    })
}

/// Renders the turn's assembled prompt for a text-completion backend.
/// `config.instruct` is the choice in force (see [`crate::connection::apply`]),
/// `source` who made it; `server` is what the backend reported of itself.
pub async fn text_turn(
    store: &Store,
    config: &ProviderConfig,
    source: ChoiceSource,
    model: &str,
    prompt: &AssembledPrompt,
    server: Option<&ServerProps>,
    names: &TurnNames,
) -> Result<TextTurn> {
    let chosen = match &config.instruct {
        InstructChoice::Named { name } => Some((named_instruct(store, name).await?, source)),
        InstructChoice::Auto => None,
    };
    if chosen.is_none() {
        if let Some(source) = server.and_then(|s| s.chat_template.as_deref()) {
            return jinja_turn(source, server, prompt, names).await;
        }
    }
    let (instruct, template) = match chosen {
        Some((t, source)) => {
            let origin = match source {
                ChoiceSource::Character => TemplateOrigin::Character,
                ChoiceSource::Profile => TemplateOrigin::Profile,
                _ => TemplateOrigin::Provider,
            };
            let name = t.name.clone();
            (t, TemplateUsed { name, origin })
        }
        None => auto_instruct(store, model, server).await?,
    };
    let context = named_context(store, config.context_template.as_deref()).await?;
    let input =
        TextPromptInput::from_assembled(prompt, &names.char_name, &names.user_name, &names.others);
    let rendered = render_text_prompt(&instruct, &context, &input)?;
    Ok(TextTurn {
        think_prefilled: ends_in_think(&rendered.text),
        text: rendered.text,
        stop: rendered.stop,
        template,
        tokens: 0,
        tokens_by_server: false,
    })
}

/// A saved instruct template of that name, else the built-in preset.
async fn named_instruct(store: &Store, name: &str) -> Result<InstructTemplate> {
    if let Some(saved) = store.saved_template("instruct", name).await? {
        return InstructTemplate::from_st_json(&saved.json);
    }
    instruct_preset(name).cloned().ok_or_else(|| {
        Error::InvalidInput(format!(
            "no instruct template is called \"{name}\": pick another in the connection's settings"
        ))
    })
}

/// A saved context template of that name, else the built-in one ([`DEFAULT_CONTEXT`] when none is named).
async fn named_context(store: &Store, name: Option<&str>) -> Result<ContextTemplate> {
    let name = name.unwrap_or(DEFAULT_CONTEXT);
    if let Some(saved) = store.saved_template("context", name).await? {
        return ContextTemplate::from_st_json(&saved.json);
    }
    context_preset(name).cloned().ok_or_else(|| {
        Error::InvalidInput(format!(
            "no context template is called \"{name}\": pick another in the connection's settings"
        ))
    })
}

/// The user's own templates (by their activation pattern), then the presets,
/// matched by the model's name (or the name its server reports); else ChatML.
async fn auto_instruct(
    store: &Store,
    model: &str,
    server: Option<&ServerProps>,
) -> Result<(InstructTemplate, TemplateUsed)> {
    let own: Vec<InstructTemplate> = store
        .saved_templates("instruct")
        .await?
        .iter()
        .filter_map(|t| InstructTemplate::from_st_json(&t.json).ok())
        .collect();
    let names = [Some(model), server.and_then(|s| s.model.as_deref())];
    for name in names.into_iter().flatten().filter(|n| !n.trim().is_empty()) {
        if let Some(t) = template_for_model(&own, name) {
            let used = TemplateUsed {
                name: t.name.clone(),
                origin: TemplateOrigin::ModelName,
            };
            return Ok((t.clone(), used));
        }
    }
    let fallback = instruct_preset(FALLBACK_INSTRUCT)
        .cloned()
        .ok_or_else(|| Error::Internal("the ChatML preset is missing".into()))?;
    Ok((
        fallback,
        TemplateUsed {
            name: FALLBACK_INSTRUCT.into(),
            origin: TemplateOrigin::Fallback,
        },
    ))
}

/// The turn through the model's own Jinja template, as the server's chat
/// endpoint would render it; a continued reply is appended after the opening
/// of the assistant's turn rather than closed by the template.
async fn jinja_turn(
    source: &str,
    server: Option<&ServerProps>,
    prompt: &AssembledPrompt,
    names: &TurnNames,
) -> Result<TextTurn> {
    let mut messages: Vec<PromptMessage> = prompt.messages.clone();
    let last = messages.len().checked_sub(1);
    let is_prefill = prompt.parts.iter().any(|p| {
        p.source == PromptSource::ContinuePrefill && Some(p.message_index as usize) == last
    });
    let continued = match messages.last() {
        Some(m) if is_prefill && m.role == Role::Assistant => messages.pop().map(|m| m.content),
        _ => None,
    };
    let eos = server.and_then(|s| s.eos_token.clone()).unwrap_or_default();
    let options = ChatTemplateOptions {
        // The server adds BOS itself when it tokenizes a raw prompt.
        bos_token: String::new(),
        eos_token: eos.clone(),
        add_generation_prompt: true,
        today: Some(today()),
    };
    // Off the async threads: in the app a render waits on the template worker,
    // and a runaway template takes seconds to reach the worker's memory limit.
    let owned = source.to_owned();
    let mut text =
        tokio::task::spawn_blocking(move || render_chat_template_with(&owned, &messages, &options))
            .await
            .map_err(|e| Error::Internal(format!("the chat template's render stopped: {e}")))??;
    if let Some(c) = continued {
        text.push_str(&c);
    }
    let mut stop = jinja_stop_strings(source, &eos);
    for name in std::iter::once(&names.user_name).chain(&names.others) {
        let s = format!("\n{name}:");
        if !name.trim().is_empty() && !stop.contains(&s) {
            stop.push(s);
        }
    }
    let name = crate::template::detect_preset(source)
        .map(|t| t.name.clone())
        .unwrap_or_default();
    Ok(TextTurn {
        think_prefilled: ends_in_think(&text),
        text,
        stop,
        template: TemplateUsed {
            name,
            origin: TemplateOrigin::ModelsOwn,
        },
        tokens: 0,
        tokens_by_server: false,
    })
}

/// A server's key in the caches: the provider and where it points.
fn server_key(config: &ProviderConfig) -> String {
    format!("{}\n{}", config.id, config.base_url)
}

/// Whether the prompt leaves the model inside an opened reasoning block.
fn ends_in_think(text: &str) -> bool {
    let tail = text.trim_end();
    tail.ends_with("<think>") || tail.ends_with("<thinking>")
}

/// Today's date (UTC) as a Jinja template's `strftime_now` sees it.
fn today() -> (i32, u32, u32) {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0);
    civil_from_days(i64::try_from(days).unwrap_or(0))
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        i32::try_from(y).unwrap_or(1970),
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// A server's answer by provider, with when it was asked (`None`: it did not answer).
type PropsByServer = HashMap<String, (Instant, Option<Arc<ServerProps>>)>;

/// Token counts kept per server and text (a hash of both): at most this many.
const MAX_COUNTS: usize = 512;

/// What servers' tokenizers said: counts by text, and each server's ratio of
/// its count to Confab's estimate (the budget scales the window by it).
#[derive(Default)]
struct Counted {
    counts: HashMap<u64, u32>,
    ratios: HashMap<String, f64>,
}

/// What local servers reported of themselves (chat template, special tokens,
/// context window, model), asked at most once a minute per server.
#[derive(Default)]
pub struct ServerInfo {
    http: OnceLock<reqwest::Client>,
    entries: Mutex<PropsByServer>,
    counted: Mutex<Counted>,
}

impl std::fmt::Debug for ServerInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerInfo").finish_non_exhaustive()
    }
}

impl ServerInfo {
    /// What the provider's server says of itself: llama.cpp and KoboldCpp
    /// only; `None` when it did not answer (the prompt then goes without).
    /// Asked with `http` (the engine's client), or Confab's usual client.
    pub async fn props(
        &self,
        http: Option<&reqwest::Client>,
        config: &ProviderConfig,
        key: Option<&str>,
    ) -> Option<Arc<ServerProps>> {
        if !matches!(
            config.kind,
            ProviderKind::LlamaCpp | ProviderKind::KoboldCpp
        ) {
            return None;
        }
        let cache_key = server_key(config);
        if let Some((at, props)) = self.lock().get(&cache_key) {
            let fresh = if props.is_some() {
                PROPS_FRESH
            } else {
                PROPS_RETRY
            };
            if at.elapsed() < fresh {
                return props.clone();
            }
        }
        let http = self.client(http);
        let props = fetch_props(http, config, key, PROPS_TIMEOUT)
            .await
            .ok()
            .map(Arc::new);
        self.lock()
            .insert(cache_key, (Instant::now(), props.clone()));
        props
    }

    /// Counts `text` with the server's own tokenizer (llama.cpp `/tokenize`,
    /// KoboldCpp's token count), cached per server and text; `None` for other
    /// backends or a server that did not answer. Each count also calibrates
    /// the budget for that server (see [`ServerInfo::calibrate`]).
    pub async fn count_tokens(
        &self,
        http: Option<&reqwest::Client>,
        config: &ProviderConfig,
        key: Option<&str>,
        text: &str,
    ) -> Option<u32> {
        if !matches!(
            config.kind,
            ProviderKind::LlamaCpp | ProviderKind::KoboldCpp
        ) {
            return None;
        }
        let server = server_key(config);
        let hash = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (&server, text).hash(&mut h);
            h.finish()
        };
        if let Some(n) = self.counted().counts.get(&hash) {
            return Some(*n);
        }
        let http = self.client(http);
        let n = crate::llm::text::tokenize::count_tokens(http, config, text, key, PROPS_TIMEOUT)
            .await
            .ok()?;
        let estimate = crate::tokens::TokenCounter::count(crate::tokens::shared_counter(), text);
        let mut counted = self.counted();
        if counted.counts.len() >= MAX_COUNTS {
            counted.counts.clear();
        }
        counted.counts.insert(hash, n);
        if estimate >= 64 {
            let ratio = (f64::from(n) / f64::from(estimate)).clamp(0.25, 4.0);
            counted.ratios.insert(server, ratio);
        }
        Some(n)
    }

    /// `limits` as the server's tokenizer sees them: the window scaled by how
    /// its counts compared with Confab's estimate last time, so a budget made
    /// of estimates fits the real window. Unchanged until the server counted once.
    pub fn calibrate(&self, config: &ProviderConfig, limits: PromptLimits) -> PromptLimits {
        let Some(ratio) = self.counted().ratios.get(&server_key(config)).copied() else {
            return limits;
        };
        let scaled = (f64::from(limits.context_window) / ratio).floor();
        PromptLimits {
            context_window: (scaled as u32).max(limits.reply_reserve.saturating_add(256)),
            ..limits
        }
    }

    /// Forgets everything servers said.
    pub fn clear(&self) {
        self.lock().clear();
        *self.counted() = Counted::default();
    }

    fn client<'a>(&'a self, http: Option<&'a reqwest::Client>) -> &'a reqwest::Client {
        match http {
            Some(http) => http,
            None => self.http.get_or_init(|| {
                crate::providers::http::http_client().unwrap_or_else(|_| reqwest::Client::new())
            }),
        }
    }

    fn counted(&self) -> std::sync::MutexGuard<'_, Counted> {
        self.counted.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PropsByServer> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_from_day_counts() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_793), (2026, 12, 6));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn a_prompt_that_opens_a_think_block_is_seen() {
        assert!(ends_in_think("<|im_start|>assistant\n<think>\n"));
        assert!(!ends_in_think("<think>done</think>\nHi"));
    }
}
