//! How much the library holds.

use serde::{Deserialize, Serialize};

use super::Store;
use crate::Result;

/// Row counts of the main aggregates, for the About box and `confab info`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct LibraryCounts {
    /// Characters in the library.
    pub characters: u32,
    /// World books (lorebooks).
    pub world_books: u32,
    /// Chat sessions, archived ones included.
    pub sessions: u32,
    /// Messages in all sessions.
    pub messages: u32,
    /// The user's personas.
    pub personas: u32,
}

impl Store {
    /// Counts the main aggregates in one read transaction.
    pub async fn counts(&self) -> Result<LibraryCounts> {
        let (characters, world_books, sessions, messages, personas): (i64, i64, i64, i64, i64) =
            sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM characters),
                        (SELECT COUNT(*) FROM world_books),
                        (SELECT COUNT(*) FROM chat_sessions),
                        (SELECT COUNT(*) FROM messages),
                        (SELECT COUNT(*) FROM personas)",
            )
            .fetch_one(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?;
        // Counts beyond u32 cannot happen in a desktop library; saturate rather than wrap.
        let clamp = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(LibraryCounts {
            characters: clamp(characters),
            world_books: clamp(world_books),
            sessions: clamp(sessions),
            messages: clamp(messages),
            personas: clamp(personas),
        })
    }
}
