//! The recent history a prompt is built from, and the token counts it remembers.

use crate::session::Role;
use crate::store::Store;
use crate::{Error, Result};

use super::{not_found, parse_role};

/// (id, parent, role, name, content, tokens) of a message read by depth.
type DepthRow = (String, Option<String>, String, String, String, Option<u32>);

/// Depths in the history read's first range: enough to learn the chat's message size.
const FIRST_SPAN: i64 = 64;

/// The depths the history read asks for next: enough, at the `bytes` per
/// `walked` depths seen so far, to reach `max_bytes`, with a quarter to spare
/// (branches and a size that varies); never less than [`FIRST_SPAN`].
fn next_span(walked: i64, bytes: usize, max_bytes: usize) -> i64 {
    let walked = u64::try_from(walked.max(1)).unwrap_or(1);
    let per_depth = (u64::try_from(bytes).unwrap_or(u64::MAX) / walked).max(1);
    let wanted = u64::try_from(max_bytes.saturating_sub(bytes)).unwrap_or(u64::MAX) / per_depth;
    let span = wanted.saturating_add(wanted / 4);
    i64::try_from(span).unwrap_or(i64::MAX).max(FIRST_SPAN)
}

/// A message of the history as a prompt reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// Its id.
    pub id: String,
    /// Who wrote it.
    pub role: Role,
    /// The speaker's name.
    pub name: String,
    /// The text.
    pub content: String,
    /// Its tokens, when the asked-for tokenizer counted them before.
    pub tokens: Option<u32>,
}

/// The newest messages of a path, and how many user messages the path holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecentHistory {
    /// Oldest first; empty messages left out.
    pub messages: Vec<HistoryRow>,
    /// User messages on the whole path up to its last message.
    pub user_turns: u32,
}

/// A message's token count to remember.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenCount {
    /// The message.
    pub id: String,
    /// The text that was counted.
    pub content: String,
    /// Its tokens.
    pub tokens: u32,
}

impl Store {
    /// The recent history a prompt is built from: the active path ending just
    /// above `before` (at the newest message when `None`), oldest first. Walks
    /// back from the end until the texts reach `max_bytes` (the message
    /// crossing it included); empty messages (a reply that failed before its
    /// first word) are left out. A token count made by another tokenizer than
    /// `counter` reads as unknown.
    ///
    /// This runs before every reply, so it does not walk the tree one message
    /// at a time (a recursive query costs about 2 µs a step): it reads the
    /// session's messages a range of depths at a time through an index, and
    /// follows the parent links in memory. Swipes and other branches at those
    /// depths come along and are skipped. A small first range gives the chat's
    /// bytes per message, so the next range is sized to fill the rest at once:
    /// each query costs a round trip and every row read past the window is waste.
    pub async fn recent_history(
        &self,
        session_id: &str,
        before: Option<&str>,
        max_bytes: usize,
        counter: &str,
    ) -> Result<RecentHistory> {
        let err = |e| self.sql_error(e);
        let (id, depth, turns) = match before {
            Some(id) => sqlx::query_as::<_, (Option<String>, Option<i64>, Option<i64>)>(
                "SELECT p.id, p.depth, p.user_turns FROM messages c
                 LEFT JOIN messages p ON p.id = c.parent_id WHERE c.id = ? AND c.session_id = ?",
            )
            .bind(id)
            .bind(session_id)
            .fetch_optional(self.pool())
            .await
            .map_err(err)?
            .ok_or_else(|| not_found("message", id))?,
            None => sqlx::query_as::<_, (Option<String>, Option<i64>, Option<i64>)>(
                "SELECT m.id, m.depth, m.user_turns FROM chat_sessions s
                 LEFT JOIN messages m ON m.id = s.leaf_id WHERE s.id = ?",
            )
            .bind(session_id)
            .fetch_optional(self.pool())
            .await
            .map_err(err)?
            .ok_or_else(|| not_found("chat", session_id))?,
        };
        let (Some(mut next), Some(depth), Some(user_turns)) = (id, depth, turns) else {
            return Ok(RecentHistory::default());
        };
        let mut newest_first: Vec<HistoryRow> = Vec::new();
        let mut bytes = 0usize;
        let mut hi = depth;
        let mut span: i64 = FIRST_SPAN;
        'walk: while hi >= 0 && bytes < max_bytes {
            let lo = (hi - span + 1).max(0);
            let rows = self.depth_range(session_id, lo, hi, counter).await?;
            let mut by_id: std::collections::HashMap<String, DepthRow> =
                rows.into_iter().map(|r| (r.0.clone(), r)).collect();
            // Follow the parents down to `lo`; a message not where its depth says
            // (never expected) ends the walk rather than guessing.
            loop {
                let Some((id, parent, role, name, content, tokens)) = by_id.remove(&next) else {
                    break 'walk;
                };
                bytes = bytes.saturating_add(content.len());
                if !content.is_empty() {
                    newest_first.push(HistoryRow {
                        id,
                        role: parse_role(&role),
                        name,
                        content,
                        tokens,
                    });
                }
                match parent {
                    Some(p) if bytes < max_bytes => next = p,
                    _ => break 'walk,
                }
                if !by_id.contains_key(&next) {
                    break;
                }
            }
            hi = lo - 1;
            span = next_span(depth - hi, bytes, max_bytes);
        }
        newest_first.reverse();
        Ok(RecentHistory {
            messages: newest_first,
            user_turns: u32::try_from(user_turns).unwrap_or(0),
        })
    }

    /// A session's messages with depths in `lo..=hi`, as one JSON row (a
    /// thousand rows one by one cost more in the driver than reading them).
    async fn depth_range(
        &self,
        session_id: &str,
        lo: i64,
        hi: i64,
        counter: &str,
    ) -> Result<Vec<DepthRow>> {
        let json: Option<String> = sqlx::query_scalar(
            "SELECT json_group_array(json_array(id, parent_id, role, name, content,
                        CASE WHEN tokens_by = ?4 THEN tokens END))
             FROM messages WHERE session_id = ?1 AND depth BETWEEN ?2 AND ?3",
        )
        .bind(session_id)
        .bind(lo)
        .bind(hi)
        .bind(counter)
        .fetch_one(self.pool())
        .await
        .map_err(|e| self.sql_error(e))?;
        serde_json::from_str(json.as_deref().unwrap_or("[]"))
            .map_err(|e| Error::Storage(format!("the chat's history could not be read: {e}")))
    }

    /// Remembers messages' token counts as `counter` counted them; a message
    /// whose text changed since it was read keeps no count.
    pub async fn save_token_counts(&self, counter: &str, counts: &[TokenCount]) -> Result<()> {
        if counts.is_empty() {
            return Ok(());
        }
        let err = |e| self.sql_error(e);
        let mut tx = self.write_tx().await.map_err(err)?;
        for c in counts {
            sqlx::query(
                "UPDATE messages SET tokens = ?, tokens_by = ? WHERE id = ? AND content = ?",
            )
            .bind(c.tokens)
            .bind(counter)
            .bind(&c.id)
            .bind(&c.content)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        }
        tx.commit().await.map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_range_is_sized_to_fill_the_window_at_the_size_seen() {
        // 64 depths of 300 bytes walked, 512 KB wanted: about 1,700 more, a quarter to spare.
        let span = next_span(64, 64 * 300, 512 * 1024);
        assert_eq!(span, (512 * 1024 - 64 * 300) / 300 * 5 / 4);
        // Nearly full: never a range smaller than the first.
        assert_eq!(next_span(64, 100_000, 100_010), FIRST_SPAN);
        // Only empty messages so far: a byte a depth, so everything that could fit is read.
        assert_eq!(next_span(64, 0, 1000), 1250);
        // Nothing overflows.
        assert!(next_span(i64::MAX, usize::MAX - 1, usize::MAX) >= FIRST_SPAN);
        assert!(next_span(0, 0, usize::MAX) > 0);
    }
}
