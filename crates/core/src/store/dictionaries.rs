//! Chat dictionaries as stored, for the compile cache (the rules themselves
//! are read and written in `world_books`).

use super::Store;
use crate::Result;

impl Store {
    /// A character's dictionary rules exactly as stored (JSON), or the global
    /// ones for `None`; `None` when there are none. The compile cache compares
    /// this text with what it compiled, so any change is seen, whoever wrote it.
    pub async fn dictionary_source(&self, character_id: Option<&str>) -> Result<Option<String>> {
        match character_id {
            Some(id) => {
                sqlx::query_scalar(
                    "SELECT rules_json FROM character_dictionaries WHERE character_id = ?",
                )
                .bind(id)
                .fetch_optional(self.pool())
                .await
            }
            None => {
                sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
                    .bind(super::world_books::GLOBAL_DICTIONARY)
                    .fetch_optional(self.pool())
                    .await
            }
        }
        .map_err(|e| self.sql_error(e))
    }
}
