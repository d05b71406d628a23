//! Editing a character's card.

use crate::card::CardData;
use crate::library::{content_hash, CharacterDetail};
use crate::store::Store;
use crate::{Error, Result};

/// Saves every field of an edited card and returns the character as stored.
pub async fn update_character(
    store: &Store,
    id: &str,
    mut card: CardData,
) -> Result<CharacterDetail> {
    card.name = card.name.trim().to_owned();
    if card.name.is_empty() {
        return Err(Error::InvalidInput("a character needs a name".into()));
    }
    card.tags.retain(|t| !t.trim().is_empty());
    // V3: modification_date is the last edit, in Unix seconds.
    card.modification_date = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_secs()).ok());
    let hash = content_hash(&card);
    store.update_character_card(id, &card, &hash).await?;
    store.character_detail(id).await
}
