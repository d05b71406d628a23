//! Full-text search over messages.

use super::SearchHit;
use crate::store::Store;
use crate::Result;

impl Store {
    /// Full-text search over every message, or one session's, newest first.
    ///
    /// Newest first rather than by relevance: FTS5 then walks its index in
    /// order and stops at `limit`, where ranking would score every match (a
    /// common word in a million messages took seconds).
    pub async fn search_messages(
        &self,
        query: &str,
        session_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<SearchHit>> {
        let Some(fts) = fts_query(query) else {
            return Ok(Vec::new());
        };
        let rows: Vec<(String, String, String, String, String, i64)> = sqlx::query_as(
            "SELECT m.session_id, m.id, s.title, c.name,
                    snippet(messages_fts, 0, char(2), char(3), '…', 16), m.created_at
             FROM messages_fts
             JOIN messages m ON m.rowid = messages_fts.rowid
             JOIN chat_sessions s ON s.id = m.session_id
             JOIN characters c ON c.id = s.character_id
             WHERE messages_fts MATCH ?1 AND (?2 IS NULL OR m.session_id = ?2)
             ORDER BY messages_fts.rowid DESC LIMIT ?3",
        )
        .bind(&fts)
        .bind(session_id)
        .bind(i64::from(limit.clamp(1, 500)))
        .fetch_all(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        Ok(rows
            .into_iter()
            .map(
                |(session_id, message_id, session_title, character_name, snippet, created)| {
                    SearchHit {
                        session_id,
                        message_id,
                        session_title,
                        character_name,
                        snippet,
                        created_at: created as f64,
                    }
                },
            )
            .collect())
    }
}

/// The user's words as an FTS5 query: each word quoted (no operators, no
/// syntax errors), all required, the last one as a prefix.
fn fts_query(input: &str) -> Option<String> {
    let words: Vec<String> = input
        .split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    let (last, rest) = words.split_last()?;
    let mut query = rest.join(" ");
    if !query.is_empty() {
        query.push(' ');
    }
    query.push_str(last);
    query.push('*');
    Some(query)
}
