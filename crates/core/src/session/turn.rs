//! One turn's prompt, built by one function for the preview and the send, so
//! that what the user inspects is what the model gets.
//!
//! [`build_turn`] reads everything a prompt is made of (the history that can
//! fit, the card, persona, preferences, notes, world books, dictionaries and
//! settings) side by side, then scans the world books and assembles on a
//! blocking thread (CPU work stays off the async workers). The send path
//! (`chat::pipeline`) and [`preview_turn`] both call it, with the same limits
//! from [`limits_for`].

use std::borrow::Cow;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::card::CardData;
use crate::error::{Error, Result};
use crate::llm::{request_body, ImagePart, ProviderConfig};
use crate::lore::books::CompiledBooks;
use crate::lore::dictionary::{apply_all_checked, CompiledDictionaries, Dictionary};
use crate::lore::{
    scan, CompiledBook, DictionaryScope, ScanCharacter, ScanInput, ScanMessage, ScanReport,
    ScanSources, TestActivationRequest, TimedState, Trigger,
};
use crate::prompt::{
    assemble_with, character_note, AssembledPrompt, HistoryMessage, PromptEnding, PromptInput,
    Rewrite,
};
use crate::store::{Store, TokenCount};
use crate::tokens::{shared_counter, TokenCounter};

use super::service::{primary_context_text, PromptLimits, DEFAULT_USER_NAME};

/// What prompts reuse from turn to turn: world books and chat dictionaries,
/// compiled once per change. The app, the engine and the CLI each keep one.
#[derive(Debug, Default)]
pub struct PromptCaches {
    /// Compiled world books.
    pub books: CompiledBooks,
    /// Compiled chat dictionaries.
    pub dictionaries: CompiledDictionaries,
}

/// What a reply is asked to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum TurnKind {
    /// A new message and a reply to it.
    #[default]
    Send,
    /// A new swipe of the last reply.
    Regenerate,
    /// More of the last reply.
    Continue,
    /// A draft of the user's next message.
    Impersonate,
}

impl TurnKind {
    /// The generation type world-info triggers are matched against.
    pub fn trigger(self) -> Trigger {
        match self {
            TurnKind::Send => Trigger::Normal,
            TurnKind::Regenerate => Trigger::Regenerate,
            TurnKind::Continue => Trigger::Continue,
            TurnKind::Impersonate => Trigger::Impersonate,
        }
    }
}

/// What a turn's prompt is built from besides the session's stored state.
#[derive(Debug, Clone, Default)]
pub struct TurnRequest {
    /// What the reply does.
    pub kind: TurnKind,
    /// The history ends just above this message (`None`: the whole active path).
    pub history_before: Option<String>,
    /// The user message placed last.
    pub new_message: Option<String>,
    /// Images sent with the new message.
    pub image_ids: Vec<String>,
    /// For continue: the reply so far.
    pub prefill: Option<String>,
}

/// An image in a prompt: which message carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PromptImage {
    /// The index in the prompt's messages.
    pub message_index: u32,
    /// The image's id (served as `attachment://localhost/<id>`).
    pub id: String,
    /// Its MIME type.
    pub mime: String,
}

/// A turn's prompt and what went into it.
#[derive(Debug)]
pub struct Turn {
    /// The messages and their explanation.
    pub prompt: AssembledPrompt,
    /// The images, by message index, with their bytes.
    pub images: Vec<(usize, ImagePart)>,
    /// The images, by message index, without their bytes.
    pub image_refs: Vec<PromptImage>,
    /// What world info fired and what was dropped.
    pub world_info: ScanReport,
    /// The session's timed lore state as this turn's scan left it.
    pub timed: TimedState,
    /// The limits it was built for.
    pub limits: PromptLimits,
}

/// The context window assumed when the provider did not list the model's.
pub const DEFAULT_CONTEXT_WINDOW: u32 = 8192;
/// Tokens kept for the reply when the provider's settings name no maximum.
pub const DEFAULT_REPLY_RESERVE: u32 = 512;

/// The limits a prompt is built for: the model's window (when the provider
/// listed it) and the reply's maximum tokens (when the settings name one).
pub fn limits_for(config: Option<&ProviderConfig>, context_length: Option<u32>) -> PromptLimits {
    PromptLimits {
        context_window: context_length.unwrap_or(DEFAULT_CONTEXT_WINDOW),
        reply_reserve: config
            .and_then(|c| c.generation.max_tokens)
            .unwrap_or(DEFAULT_REPLY_RESERVE),
    }
}

/// The closing instruction of an impersonation prompt.
pub fn impersonation_instruction(user: &str, character: &str) -> String {
    format!(
        "[Write {user}'s next message in this chat, in the first person as {user}, \
         matching {user}'s voice and style so far. Write only what {user} says and does; \
         do not write for {character} and do not narrate {character}'s actions.]"
    )
}

/// Builds the prompt of one turn of `session_id`.
pub async fn build_turn(
    store: &Store,
    caches: &PromptCaches,
    session_id: &str,
    request: &TurnRequest,
    limits: PromptLimits,
) -> Result<Turn> {
    let counter = shared_counter();
    let counter_name = counter.name().to_owned();

    // The history is the one large read: everything else is read beside it.
    let history = async {
        // Enough recent history to fill any window: a token is at least one
        // byte, so once the loaded text exceeds the window, older messages cannot fit.
        store
            .recent_history(
                session_id,
                request.history_before.as_deref(),
                limits.context_window as usize * 4,
                &counter_name,
            )
            .await
    };
    let general = async {
        tokio::try_join!(
            store.lore_timed_state(session_id),
            primary_context_text(store),
            store.post_history(),
            store.settings(),
            store.authors_notes(session_id),
        )
    };
    let personal = async {
        let session = store.session_summary(session_id).await?;
        let character_id = session.character_id.as_str();
        let persona = async {
            let chosen = match &session.persona_id {
                Some(id) => store.persona(id).await.ok(),
                None => None,
            };
            match chosen {
                Some(p) => Ok(Some(p)),
                None => store.default_persona().await,
            }
        };
        // The character's attached books and the global ones.
        let books = async {
            let mut compiled: Vec<Arc<CompiledBook>> = Vec::new();
            for id in store.active_world_book_ids(character_id).await? {
                compiled.push(caches.books.get(store, &id).await?);
            }
            Ok::<_, Error>(compiled)
        };
        tokio::try_join!(
            async { Ok(store.character_detail(character_id).await?.card) },
            persona,
            books,
            store.preferences(character_id),
            caches.dictionaries.for_character(store, character_id),
        )
    };
    let images = async {
        let mut found = Vec::new();
        for id in &request.image_ids {
            if let Some((mime, bytes)) = store.image(id).await? {
                found.push((id.clone(), ImagePart { mime, bytes }));
            }
        }
        Ok::<_, Error>(found)
    };
    let (
        history,
        (timed, primary_context, global_post_history, settings, notes),
        (character, persona, compiled, preferences, (character_rules, global_rules)),
        images,
    ) = tokio::try_join!(history, general, personal, images)?;

    let user_name = persona
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_else(|| DEFAULT_USER_NAME.to_owned());
    let ending = match request.kind {
        TurnKind::Continue => request.prefill.clone().map(PromptEnding::Continue),
        TurnKind::Impersonate => Some(PromptEnding::Impersonate(impersonation_instruction(
            &user_name,
            character_display_name(&character),
        ))),
        TurnKind::Send | TurnKind::Regenerate => None,
    }
    .unwrap_or_default();
    let new_message = request.new_message.clone();
    let user_turns = history.user_turns + u32::from(new_message.is_some());
    let mut rows = history.messages;
    let seed = seed_for(session_id, rows.len());
    let scan_input = scan_input(
        &rows,
        new_message.as_deref(),
        &user_name,
        &character,
        persona.as_ref(),
        request.kind.trigger(),
        limits.context_window,
    );
    let rewrite = PromptDictionaries {
        character: character_rules,
        global: global_rules,
    };
    let image_count = u32::try_from(images.len()).unwrap_or(u32::MAX);
    let persona_description = persona.map(|p| p.description).unwrap_or_default();
    let now = now_rfc3339();

    // Counting, scanning and assembling are CPU work: off the async workers.
    let work = move || -> Result<(AssembledPrompt, ScanReport, TimedState, Vec<TokenCount>)> {
        // Messages counted for the first time are remembered, so the next turn does not count them again.
        let mut fresh = Vec::new();
        for row in rows.iter_mut().filter(|r| r.tokens.is_none()) {
            let tokens = counter.count(&row.content);
            row.tokens = Some(tokens);
            fresh.push(TokenCount {
                id: row.id.clone(),
                content: row.content.clone(),
                tokens,
            });
        }
        let mut timed = timed;
        let refs: Vec<&CompiledBook> = compiled.iter().map(|b| b.as_ref()).collect();
        let report = if refs.is_empty() {
            ScanReport::default()
        } else {
            scan(&refs, &scan_input, &mut timed, seed)
        };
        let input = PromptInput {
            primary_context,
            character_note: character_note(&character),
            character,
            user_name,
            persona_description,
            preferences,
            world_info: report.activated.clone(),
            example_dialogue: settings.example_dialogue,
            authors_note: notes.chat.or(notes.character_default),
            user_turns,
            history: rows
                .into_iter()
                .map(|r| HistoryMessage {
                    role: r.role,
                    name: r.name,
                    content: r.content,
                    tokens: r.tokens,
                })
                .collect(),
            global_post_history,
            new_message,
            new_message_images: image_count,
            ending,
            context_window: limits.context_window,
            reply_reserve: limits.reply_reserve,
            now,
            seed,
        };
        let prompt = assemble_with(&input, counter, &rewrite)?;
        Ok((prompt, report, timed, fresh))
    };
    let (prompt, world_info, timed, fresh) = tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(format!("building the prompt stopped unexpectedly: {e}")))??;
    if !fresh.is_empty() {
        // Bookkeeping beside the request: the first token does not wait for it, and a failure only costs a recount.
        let store = store.clone();
        tokio::spawn(async move {
            let _ = store.save_token_counts(&counter_name, &fresh).await;
        });
    }

    let at = prompt
        .parts
        .iter()
        .find(|p| p.source == crate::prompt::PromptSource::NewMessage)
        .map(|p| p.message_index);
    let (mut image_parts, mut image_refs) = (Vec::new(), Vec::new());
    if let Some(at) = at {
        for (id, image) in images {
            image_refs.push(PromptImage {
                message_index: at,
                id,
                mime: image.mime.clone(),
            });
            image_parts.push((at as usize, image));
        }
    }
    Ok(Turn {
        prompt,
        images: image_parts,
        image_refs,
        world_info,
        timed,
        limits,
    })
}

/// A session's provider, model and limits as a send would use them (no key).
#[derive(Debug, Clone)]
pub struct TurnTarget {
    /// The provider, when one is set up.
    pub config: Option<ProviderConfig>,
    /// The model.
    pub model: String,
    /// The model's context window, when the provider listed it.
    pub context_length: Option<u32>,
}

impl TurnTarget {
    /// The limits a prompt for this target is built for.
    pub fn limits(&self) -> PromptLimits {
        limits_for(self.config.as_ref(), self.context_length)
    }
}

/// The provider and model a session's next reply goes to.
pub async fn turn_target(store: &Store, session_id: &str) -> Result<TurnTarget> {
    let chosen = crate::providers::session_model(store, session_id).await?;
    let config = match &chosen.provider_id {
        Some(id) => Some(store.provider(id).await?),
        None => None,
    };
    Ok(TurnTarget {
        config,
        model: chosen.model,
        context_length: chosen.context_length,
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
    /// The request body the provider would get, when asked for and a provider is set up.
    #[cfg_attr(feature = "specta", specta(type = Option<crate::card::model::JsonValue>))]
    pub request_body: Option<serde_json::Value>,
}

/// The prompt `request` would send now, for the session's provider and model,
/// built exactly as the send builds it (same limits, same function).
pub async fn preview_turn(
    store: &Store,
    caches: &PromptCaches,
    session_id: &str,
    request: &TurnRequest,
    with_request_body: bool,
) -> Result<PromptPreview> {
    let target = turn_target(store, session_id).await?;
    let turn = build_turn(store, caches, session_id, request, target.limits()).await?;
    let request_body = match (&target.config, with_request_body) {
        (Some(config), true) => Some(request_body(
            config,
            &target.model,
            &turn.prompt.messages,
            &turn.images,
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
        prompt: turn.prompt,
        request_body,
    })
}

/// What a scan of a session's turn looks at: its chat (and the new message),
/// the texts entries may match besides it, the character for filters, the trigger.
fn scan_input(
    rows: &[crate::store::HistoryRow],
    new_message: Option<&str>,
    user_name: &str,
    character: &CardData,
    persona: Option<&super::Persona>,
    trigger: Trigger,
    context_tokens: u32,
) -> ScanInput {
    ScanInput {
        messages: rows
            .iter()
            .map(|m| ScanMessage {
                role: m.role.as_str().to_owned(),
                name: m.name.clone(),
                content: m.content.clone(),
            })
            .chain(new_message.map(|text| ScanMessage {
                role: "user".into(),
                name: user_name.to_owned(),
                content: text.to_owned(),
            }))
            .collect(),
        sources: scan_sources(character, persona),
        context_tokens,
        settings: None,
        trigger,
        character: Some(ScanCharacter {
            name: character.name.clone(),
            tags: character.tags.clone(),
        }),
    }
}

/// What a world-info scan of a real session looks at, as its next turn would
/// scan it: its chat, persona, the card's texts, the character for filters.
///
/// The world-book Test panel and `confab lore test --session` scan with this.
pub async fn session_scan_input(
    store: &Store,
    session_id: &str,
    trigger: Trigger,
    new_message: Option<String>,
) -> Result<ScanInput> {
    let target = turn_target(store, session_id).await?;
    let limits = target.limits();
    let session = store.session_summary(session_id).await?;
    let persona = match &session.persona_id {
        Some(id) => store.persona(id).await.ok(),
        None => None,
    };
    let persona = match persona {
        Some(p) => Some(p),
        None => store.default_persona().await?,
    };
    let (history, detail) = tokio::try_join!(
        store.recent_history(
            session_id,
            None,
            limits.context_window as usize * 4,
            shared_counter().name(),
        ),
        store.character_detail(&session.character_id),
    )?;
    let user_name = persona
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_else(|| DEFAULT_USER_NAME.to_owned());
    Ok(scan_input(
        &history.messages,
        new_message.as_deref(),
        &user_name,
        &detail.card,
        persona.as_ref(),
        trigger,
        limits.context_window,
    ))
}

/// The world-book Test panel's scan: of the request's own chat, or with
/// `session_id`, of a real session as its next turn would scan it (its chat,
/// persona and card texts, its character for filters, its sticky and cooldown
/// state, read but not advanced), with the request's books, settings and trigger.
pub async fn test_activation(
    store: &Store,
    caches: &PromptCaches,
    request: TestActivationRequest,
) -> Result<ScanReport> {
    let Some(session_id) = request.session_id.clone() else {
        return crate::lore::books::test_activation(store, &caches.books, request).await;
    };
    let (mut input, timed) = tokio::try_join!(
        session_scan_input(store, &session_id, request.trigger, request.message.clone()),
        store.lore_timed_state(&session_id),
    )?;
    input.settings = request.settings.clone();
    if request.context_tokens > 0 {
        input.context_tokens = request.context_tokens;
    }
    crate::lore::books::test_activation_with(store, &caches.books, &request, input, timed).await
}

/// The texts besides the chat that world-info entries may match.
fn scan_sources(character: &CardData, persona: Option<&super::Persona>) -> ScanSources {
    ScanSources {
        persona_description: persona.map(|p| p.description.clone()).unwrap_or_default(),
        character_description: character.description.clone(),
        character_personality: character.personality.clone(),
        character_depth_prompt: character_note(character)
            .map(|n| n.text)
            .unwrap_or_default(),
        scenario: character.scenario.clone(),
        creator_notes: character.creator_notes.clone(),
    }
}

/// The name `{{char}}` becomes: the nickname if set, else the name.
fn character_display_name(card: &CardData) -> &str {
    card.nickname
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(&card.name)
}

/// The chat dictionaries' prompt-scope rules: the character's first, then the
/// global ones, within the dictionaries' growth limit (a rule that would pass it is skipped).
struct PromptDictionaries {
    character: Arc<Dictionary>,
    global: Arc<Dictionary>,
}

impl Rewrite for PromptDictionaries {
    fn rewrite<'t>(&self, text: &'t str) -> Cow<'t, str> {
        apply_all_checked(&self.character, &self.global, text, DictionaryScope::Prompt).text
    }
}

/// A seed stable for a session at a given length: a preview and the send after it agree.
fn seed_for(session_id: &str, length: usize) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{session_id}:{length}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(bytes)
}

/// The current time as RFC 3339 in UTC (the machine's zone is not known without a tz database).
fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_now_is_well_formed() {
        let now = super::now_rfc3339();
        assert_eq!(now.len(), 20, "{now}");
        assert!(now.ends_with('Z') && now.as_bytes()[10] == b'T');
    }
}
