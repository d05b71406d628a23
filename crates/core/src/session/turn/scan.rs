//! World-info scans of a real session: the turn's own, and the Test panel's.

use super::{turn_target, PromptCaches};
use crate::card::CardData;
use crate::error::Result;
use crate::lore::{
    ScanCharacter, ScanInput, ScanMessage, ScanReport, ScanSources, TestActivationRequest, Trigger,
};
use crate::prompt::character_note;
use crate::session::service::DEFAULT_USER_NAME;
use crate::session::Persona;
use crate::store::{HistoryRow, Store};
use crate::tokens::{shared_counter, TokenCounter};

/// What a scan of a session's turn looks at: its chat (and the new message),
/// the texts entries may match besides it, the character for filters, the trigger.
pub(super) fn scan_input(
    rows: &[HistoryRow],
    new_message: Option<&str>,
    user_name: &str,
    character: &CardData,
    persona: Option<&Persona>,
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
fn scan_sources(character: &CardData, persona: Option<&Persona>) -> ScanSources {
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
