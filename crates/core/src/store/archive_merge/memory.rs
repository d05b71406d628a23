//! The chats' memory in a merge: summaries (with the messages they cover),
//! memory settings and the notes attached for retrieval travel with their
//! chats; a kept-both copy gets its own ids. An overwritten chat's summaries
//! went with its messages (their keys cascade); its settings and notes are
//! replaced by the archive's. Embedded passages are not carried: their vectors
//! name a provider of the other library, and the chat's next reply embeds its
//! messages and notes again with this library's model.

use sqlx::SqliteConnection;

use super::rows::{copy, exec};
use super::{Sql, BROUGHT, NEW_ID};

pub(super) async fn memory(conn: &mut SqliteConnection) -> Sql<()> {
    exec(
        conn,
        "DELETE FROM main.memory_settings WHERE session_id IN
             (SELECT src FROM merge_chat_sessions WHERE status = 'overwrite')",
    )
    .await?;
    exec(
        conn,
        "DELETE FROM main.memory_passages WHERE source = 'note' AND session_id IN
             (SELECT src FROM merge_chat_sessions WHERE status = 'overwrite')",
    )
    .await?;
    exec(
        conn,
        "CREATE TEMP TABLE merge_summaries (src TEXT PRIMARY KEY, dst TEXT NOT NULL)",
    )
    .await?;
    exec(
        conn,
        &format!(
            "INSERT INTO merge_summaries (src, dst)
             SELECT m.id, CASE WHEN s.status = 'copy' THEN {NEW_ID} ELSE m.id END
             FROM arc.memory_summaries m JOIN merge_chat_sessions s ON s.src = m.session_id
             WHERE s.status IN {BROUGHT}"
        ),
    )
    .await?;
    let session = "(SELECT dst FROM merge_chat_sessions WHERE src = s.session_id)";
    let message = |column: &str| format!("(SELECT dst FROM merge_messages WHERE src = s.{column})");
    copy(
        conn,
        "memory_summaries",
        &[
            ("id", "(SELECT dst FROM merge_summaries WHERE src = s.id)"),
            ("session_id", session),
            ("first_id", &message("first_id")),
            ("last_id", &message("last_id")),
        ],
        "s.id IN (SELECT src FROM merge_summaries)",
        None,
    )
    .await?;
    copy(
        conn,
        "memory_summary_messages",
        &[
            (
                "summary_id",
                "(SELECT dst FROM merge_summaries WHERE src = s.summary_id)",
            ),
            ("message_id", &message("message_id")),
        ],
        "s.summary_id IN (SELECT src FROM merge_summaries)",
        None,
    )
    .await?;
    copy(
        conn,
        "memory_settings",
        &[("session_id", session)],
        &format!("s.session_id IN (SELECT src FROM merge_chat_sessions WHERE status IN {BROUGHT})"),
        None,
    )
    .await?;
    // Notes come as written, not embedded yet (a fresh id: ids are never reused here).
    copy(
        conn,
        "memory_passages",
        &[
            ("id", "NULL"),
            ("session_id", session),
            ("source_rev", "0"),
            ("source_hash", "0"),
            ("model", "''"),
            ("dims", "0"),
            ("embedding", "NULL"),
        ],
        &format!(
            "s.source = 'note' AND s.session_id IN
                 (SELECT src FROM merge_chat_sessions WHERE status IN {BROUGHT})"
        ),
        None,
    )
    .await?;
    exec(conn, "DROP TABLE temp.merge_summaries").await?;
    Ok(())
}
