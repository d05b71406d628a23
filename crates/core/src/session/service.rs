//! Session operations that combine several repositories.

use crate::session::SessionSummary;
use crate::store::Store;
use crate::Result;

/// The name `{{user}}` becomes when no persona exists.
pub const DEFAULT_USER_NAME: &str = "User";

/// The persona name for a session: its own persona, else the default one, else "User".
pub async fn user_name(store: &Store, persona_id: Option<&str>) -> Result<String> {
    if let Some(id) = persona_id {
        if let Ok(persona) = store.persona(id).await {
            return Ok(persona.name);
        }
    }
    Ok(store
        .default_persona()
        .await?
        .map(|p| p.name)
        .unwrap_or_else(|| DEFAULT_USER_NAME.to_owned()))
}

/// Starts a session with the character's greeting, as the default persona.
pub async fn create_session(store: &Store, character_id: &str) -> Result<SessionSummary> {
    let name = user_name(store, None).await?;
    let id = store.create_session(character_id, None, &name).await?;
    store.session_summary(&id).await
}

/// The character's most recent session, or a new one.
pub async fn open_or_create_session(store: &Store, character_id: &str) -> Result<SessionSummary> {
    match store.latest_session(character_id).await? {
        Some(id) => store.session_summary(&id).await,
        None => create_session(store, character_id).await,
    }
}
