//! A chat's Author's Note (with its character's default) and a character's
//! Character's note, as the UI and the CLI edit them.

use serde::{Deserialize, Serialize};

use crate::library::CharacterDetail;
use crate::prompt::{set_character_note, validate_authors_note, AuthorsNote, CharacterNote};
use crate::store::Store;
use crate::Result;

/// The Author's Notes a chat sees.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ChatNotes {
    /// The chat's own note; when absent, the character's default is used.
    pub chat: Option<AuthorsNote>,
    /// The character's default for chats without a note of their own.
    pub character_default: Option<AuthorsNote>,
}

impl ChatNotes {
    /// The note a prompt uses: the chat's own, else the character's default.
    pub fn in_force(&self) -> Option<&AuthorsNote> {
        self.chat.as_ref().or(self.character_default.as_ref())
    }
}

/// A chat's Author's Note and its character's default.
pub async fn chat_notes(store: &Store, session_id: &str) -> Result<ChatNotes> {
    let stored = store.authors_notes(session_id).await?;
    Ok(ChatNotes {
        chat: stored.chat,
        character_default: stored.character_default,
    })
}

/// Sets a chat's own Author's Note (`None`: use the character's default again).
pub async fn set_chat_note(
    store: &Store,
    session_id: &str,
    note: Option<AuthorsNote>,
) -> Result<ChatNotes> {
    if let Some(note) = &note {
        validate_authors_note(note)?;
    }
    store
        .set_session_authors_note(session_id, note.as_ref())
        .await?;
    chat_notes(store, session_id).await
}

/// Sets a character's default Author's Note for its chats that have none.
pub async fn set_default_note(
    store: &Store,
    character_id: &str,
    note: Option<AuthorsNote>,
) -> Result<()> {
    if let Some(note) = &note {
        validate_authors_note(note)?;
    }
    store
        .set_character_authors_note(character_id, note.as_ref())
        .await
}

/// Sets a character's Character's note, saved in its card (`extensions.depth_prompt`),
/// so it goes out with every export.
pub async fn set_card_note(
    store: &Store,
    character_id: &str,
    note: Option<CharacterNote>,
) -> Result<CharacterDetail> {
    let mut card = store.character_detail(character_id).await?.card;
    set_character_note(&mut card, note.as_ref())?;
    crate::library::update_character(store, character_id, card).await
}
