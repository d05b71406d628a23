//! The recent history a prompt is built from, and the token counts it remembers.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

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

/// Rows read as one JSON array.
fn parse_rows(json: Option<&str>) -> Result<Vec<DepthRow>> {
    serde_json::from_str(json.unwrap_or("[]"))
        .map_err(|e| Error::Storage(format!("the chat's history could not be read: {e}")))
}

/// Changed messages brought into a kept history at most: past this (an import or
/// an archive overwriting a chat since the last read), the kept copy is dropped
/// and the history read afresh, so the catch-up never reads more than a window would.
const MAX_CHANGED: usize = 1024;

/// Chats whose recent history is kept between turns (the most recently prompted).
const KEPT_CHATS: usize = 4;

/// The recent history of the last few chats prompted, each as the rows of its
/// path by id, with the clock tick it was read at and the tokenizer its counts are for.
#[derive(Debug, Default)]
pub(crate) struct HistoryCache {
    chats: Mutex<VecDeque<KeptHistory>>,
}

#[derive(Debug)]
struct KeptHistory {
    session_id: String,
    counter: String,
    tick: i64,
    rows: HashMap<String, DepthRow>,
}

impl HistoryCache {
    /// Takes what is kept of `session_id` for `counter`, as (tick, rows).
    fn take(&self, session_id: &str, counter: &str) -> Option<(i64, HashMap<String, DepthRow>)> {
        let mut chats = self.chats.lock().ok()?;
        let at = chats.iter().position(|k| k.session_id == session_id)?;
        let kept = chats.remove(at)?;
        (kept.counter == counter).then_some((kept.tick, kept.rows))
    }

    /// Keeps `rows` of `session_id`, read at `tick`, as the most recent.
    fn put(&self, session_id: &str, counter: &str, tick: i64, rows: HashMap<String, DepthRow>) {
        if let Ok(mut chats) = self.chats.lock() {
            chats.retain(|k| k.session_id != session_id);
            if chats.len() >= KEPT_CHATS {
                chats.pop_front();
            }
            chats.push_back(KeptHistory {
                session_id: session_id.to_owned(),
                counter: counter.to_owned(),
                tick,
                rows,
            });
        }
    }

    fn clear(&self) {
        if let Ok(mut chats) = self.chats.lock() {
            chats.clear();
        }
    }
}

/// The first query of a history read: see [`Store::recent_history`].
#[derive(sqlx::FromRow)]
struct HistoryStart {
    id: Option<String>,
    depth: Option<i64>,
    user_turns: Option<i64>,
    tick: i64,
    changed: Option<String>,
}

/// The `count` rows of the path from `from` down its parent links, and the
/// `changed` ones, out of `rows`.
fn keep_path(
    mut rows: HashMap<String, DepthRow>,
    from: &str,
    count: usize,
    changed: &[String],
) -> HashMap<String, DepthRow> {
    let mut kept = HashMap::with_capacity(count + changed.len());
    for id in changed {
        if let Some(row) = rows.remove(id) {
            kept.insert(id.clone(), row);
        }
    }
    let mut next = Some(from.to_owned());
    let mut walked = 0;
    while let Some(id) = next.take() {
        if walked >= count {
            break;
        }
        walked += 1;
        if let Some(row) = rows.remove(&id) {
            next = row.1.clone();
            kept.insert(id, row);
        } else if let Some(row) = kept.get(&id) {
            // A changed row on the path, already kept.
            next = row.1.clone();
        }
    }
    kept
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
        // What the last read of this chat kept, brought up to date in the same
        // query that finds where the path ends: every message written since
        // carries a later tick. The clock is read in that query too, so a write
        // racing this read is fetched again next time.
        let kept = self.history.take(session_id, counter);
        let since = kept.as_ref().map_or(i64::MAX, |(tick, _)| *tick);
        let start = self
            .history_start(session_id, before, since, counter)
            .await?;
        let (Some(mut next), Some(depth), Some(user_turns)) =
            (start.id, start.depth, start.user_turns)
        else {
            return Ok(RecentHistory::default());
        };
        let mut changed = parse_rows(start.changed.as_deref())?;
        let mut known = match kept {
            // A clock behind the kept tick: the database went back (a restore).
            Some((tick, rows)) if tick <= start.tick && changed.len() <= MAX_CHANGED => rows,
            _ => {
                changed.clear();
                HashMap::new()
            }
        };
        let changed_ids: Vec<String> = changed.iter().map(|r| r.0.clone()).collect();
        for row in changed {
            known.insert(row.0.clone(), row);
        }

        let mut newest_first: Vec<HistoryRow> = Vec::new();
        let mut bytes = 0usize;
        let mut at = depth;
        let from = next.clone();
        while bytes < max_bytes {
            if !known.contains_key(&next) {
                // Not read yet: a range of depths from here down, sized by what
                // the walk has seen; a message not where its depth says (never
                // expected) ends the walk rather than guessing.
                let span = match depth - at {
                    0 => FIRST_SPAN,
                    seen => next_span(seen, bytes, max_bytes),
                };
                let lo = (at - span + 1).max(0);
                for row in self.depth_range(session_id, lo, at, counter).await? {
                    known.insert(row.0.clone(), row);
                }
            }
            let Some((id, parent, role, name, content, tokens)) = known.get(&next) else {
                break;
            };
            bytes = bytes.saturating_add(content.len());
            if !content.is_empty() {
                newest_first.push(HistoryRow {
                    id: id.clone(),
                    role: parse_role(role),
                    name: name.clone(),
                    content: content.clone(),
                    tokens: *tokens,
                });
            }
            match parent {
                Some(p) if at > 0 => {
                    next = p.clone();
                    at -= 1;
                }
                _ => break,
            }
        }
        // Kept: the path, and what changed since the last read (a message sent
        // below this read's end is on the next one's path). Swipes and branches
        // read along the way, and rows no longer on the path, are dropped, so
        // about one window of text is kept; in a chat that only grew, nothing is.
        let walked = usize::try_from(depth - at + 1).unwrap_or(usize::MAX);
        if known.len() > walked.saturating_add(changed_ids.len()) {
            known = keep_path(known, &from, walked, &changed_ids);
        }
        self.history.put(session_id, counter, start.tick, known);
        newest_first.reverse();
        Ok(RecentHistory {
            messages: newest_first,
            user_turns: u32::try_from(user_turns).unwrap_or(0),
        })
    }

    /// Where the history ends (the message above `before`, or the chat's newest),
    /// its depth and user turns, the clock, and the chat's messages written after
    /// tick `since`, in one query (each query costs a round trip before every reply).
    async fn history_start(
        &self,
        session_id: &str,
        before: Option<&str>,
        since: i64,
        counter: &str,
    ) -> Result<HistoryStart> {
        // One row past the most that is caught up on tells "too many".
        let changed = format!(
            "(SELECT json_group_array(json_array(id, parent_id, role, name, content, tokens))
              FROM (SELECT id, parent_id, role, name, content,
                           CASE WHEN tokens_by = ?4 THEN tokens END AS tokens
                    FROM messages INDEXED BY messages_by_rev
                    WHERE rev > ?3 AND session_id = ?1 LIMIT {})) AS changed",
            MAX_CHANGED + 1
        );
        let clock = "(SELECT tick FROM history_clock WHERE id = 0) AS tick";
        let sql = match before {
            Some(_) => format!(
                "SELECT p.id, p.depth, p.user_turns, {clock}, {changed}
                 FROM messages c LEFT JOIN messages p ON p.id = c.parent_id
                 WHERE c.id = ?2 AND c.session_id = ?1"
            ),
            None => format!(
                "SELECT m.id, m.depth, m.user_turns, {clock}, {changed}
                 FROM chat_sessions s LEFT JOIN messages m ON m.id = s.leaf_id WHERE s.id = ?1"
            ),
        };
        sqlx::query_as::<_, HistoryStart>(&sql)
            .bind(session_id)
            .bind(before)
            .bind(since)
            .bind(counter)
            .fetch_optional(self.pool())
            .await
            .map_err(|e| self.sql_error(e))?
            .ok_or_else(|| match before {
                Some(id) => not_found("message", id),
                None => not_found("chat", session_id),
            })
    }

    /// Forgets every kept history: after a restore, ticks may repeat with other content.
    pub(crate) fn forget_histories(&self) {
        self.history.clear();
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
        parse_rows(json.as_deref())
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
