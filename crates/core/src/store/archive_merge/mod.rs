//! Merging another library (a database file at this build's schema, from an
//! archive) into this one, in one transaction, overwriting nothing.
//!
//! Characters are matched by content (the card's content hash): one already
//! here is not added again, and the archive's chats with it join the one
//! here. Everything else is matched by id: world books, personas, providers,
//! sessions (with their messages, versions, attachments). Whatever exists here
//! under the same id stays as it is and is reported as skipped: as already in
//! the library when it is the same revision, as a conflict when it differs.
//! Settings the library lacks are added; its own are kept.

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};

use super::Store;
use crate::library::archive::{ItemKind, MergeReport, SkipReason, SkippedItem};
use crate::{Error, Result};

/// The archive's database, attached to the merging connection.
const ARC: &str = "arc";

impl Store {
    /// Merges the library in the database file `other` (checked, at this
    /// build's schema) into this one; see the module's notes.
    pub async fn merge_library(&self, other: &Path) -> Result<MergeReport> {
        let other_text = other.to_str().ok_or_else(|| {
            Error::InvalidInput(format!("{} is not valid UTF-8", other.display()))
        })?;
        let err = |e| self.sql_error(e);
        let mut conn = SqliteConnectOptions::new()
            .filename(self.path())
            .create_if_missing(false)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .connect()
            .await
            .map_err(err)?;
        let result = async {
            sqlx::query("ATTACH DATABASE ? AS arc")
                .bind(other_text)
                .execute(&mut conn)
                .await?;
            sqlx::query("BEGIN IMMEDIATE").execute(&mut conn).await?;
            match merge(&mut conn).await {
                Ok(report) => {
                    sqlx::query("COMMIT").execute(&mut conn).await?;
                    Ok(report)
                }
                Err(e) => {
                    let _ = sqlx::query("ROLLBACK").execute(&mut conn).await;
                    Err(e)
                }
            }
        }
        .await;
        let _ = sqlx::query("DETACH DATABASE arc").execute(&mut conn).await;
        let _ = conn.close().await;
        result.map_err(err)
    }
}

type Sql<T> = std::result::Result<T, sqlx::Error>;

async fn merge(conn: &mut SqliteConnection) -> Sql<MergeReport> {
    sqlx::query("PRAGMA defer_foreign_keys = ON")
        .execute(&mut *conn)
        .await?;
    let mut report = MergeReport::default();

    // What happens to each archive item: 'add', 'same' (here already) or 'conflict'.
    exec(
        conn,
        "CREATE TEMP TABLE merge_characters (src TEXT PRIMARY KEY, dst TEXT, status TEXT NOT NULL)",
    )
    .await?;
    exec(
        conn,
        "INSERT INTO merge_characters (src, dst, status)
         SELECT id,
                CASE WHEN same IS NOT NULL THEN same WHEN clash THEN NULL ELSE id END,
                CASE WHEN same IS NOT NULL THEN 'same' WHEN clash THEN 'conflict' ELSE 'add' END
         FROM (SELECT a.id AS id,
                      COALESCE(
                          (SELECT y.id FROM main.characters y
                           WHERE y.id = a.id AND y.content_hash = a.content_hash),
                          (SELECT y.id FROM main.characters y
                           WHERE a.content_hash IS NOT NULL AND y.content_hash = a.content_hash
                           ORDER BY y.created_at LIMIT 1)) AS same,
                      EXISTS (SELECT 1 FROM main.characters x WHERE x.id = a.id) AS clash
               FROM arc.characters a)",
    )
    .await?;
    for (table, same) in [
        (
            "world_books",
            "m.revision IS a.revision AND m.updated_at IS a.updated_at",
        ),
        (
            "personas",
            "m.updated_at IS a.updated_at AND m.name IS a.name AND m.description IS a.description",
        ),
        (
            "providers",
            "m.updated_at IS a.updated_at AND m.name IS a.name AND m.config_json IS a.config_json",
        ),
        // Not every change to a chat touches updated_at (a rename does not).
        (
            "chat_sessions",
            "m.updated_at IS a.updated_at AND m.title IS a.title AND m.leaf_id IS a.leaf_id
             AND m.archived IS a.archived",
        ),
    ] {
        exec(
            conn,
            &format!(
                "CREATE TEMP TABLE merge_{table} (src TEXT PRIMARY KEY, status TEXT NOT NULL)"
            ),
        )
        .await?;
        exec(
            conn,
            &format!(
                "INSERT INTO merge_{table} (src, status)
                 SELECT a.id,
                        CASE WHEN m.id IS NULL THEN 'add' WHEN {same} THEN 'same'
                             ELSE 'conflict' END
                 FROM {ARC}.{table} a LEFT JOIN main.{table} m ON m.id = a.id"
            ),
        )
        .await?;
    }
    // A chat with a character that was not brought in stays out too.
    exec(
        conn,
        "UPDATE merge_chat_sessions SET status = 'character'
         WHERE status = 'add' AND src IN (
             SELECT s.id FROM arc.chat_sessions s
             JOIN merge_characters c ON c.src = s.character_id WHERE c.dst IS NULL)",
    )
    .await?;

    let added_characters = "(SELECT src FROM merge_characters WHERE status = 'add')";
    report.added.characters = copy(
        conn,
        "characters",
        &[],
        &format!("s.id IN {added_characters}"),
    )
    .await?;
    for table in [
        "character_avatars",
        "character_assets",
        "character_tags",
        "character_preferences",
        "character_dictionaries",
        "card_dictionaries_pending",
    ] {
        copy(
            conn,
            table,
            &[],
            &format!("s.character_id IN {added_characters}"),
        )
        .await?;
    }
    exec(
        conn,
        &format!(
            "INSERT OR IGNORE INTO main.collections (id, name)
             SELECT id, name FROM arc.collections WHERE id IN (
                 SELECT collection_id FROM arc.character_collections
                 WHERE character_id IN {added_characters})"
        ),
    )
    .await?;
    copy(
        conn,
        "character_collections",
        &[],
        &format!(
            "s.character_id IN {added_characters}
             AND s.collection_id IN (SELECT id FROM main.collections)"
        ),
    )
    .await?;

    report.added.world_books = copy(
        conn,
        "world_books",
        &[(
            "source_character_id",
            "(SELECT dst FROM merge_characters WHERE src = s.source_character_id)",
        )],
        "s.id IN (SELECT src FROM merge_world_books WHERE status = 'add')",
    )
    .await?;
    copy(
        conn,
        "world_book_entries",
        &[],
        "s.book_id IN (SELECT src FROM merge_world_books WHERE status = 'add')",
    )
    .await?;
    copy(
        conn,
        "character_world_books",
        &[],
        &format!(
            "s.character_id IN {added_characters}
             AND s.book_id IN (SELECT id FROM main.world_books)"
        ),
    )
    .await?;

    report.added.personas = copy(
        conn,
        "personas",
        &[(
            "is_default",
            "CASE WHEN EXISTS (SELECT 1 FROM main.personas WHERE is_default = 1) THEN 0 ELSE s.is_default END",
        )],
        "s.id IN (SELECT src FROM merge_personas WHERE status = 'add')",
    )
    .await?;
    copy(
        conn,
        "persona_avatars",
        &[],
        "s.persona_id IN (SELECT src FROM merge_personas WHERE status = 'add')",
    )
    .await?;

    report.added.providers = copy(
        conn,
        "providers",
        &[],
        "s.id IN (SELECT src FROM merge_providers WHERE status = 'add')",
    )
    .await?;
    for table in ["provider_models", "favourite_models"] {
        copy(
            conn,
            table,
            &[],
            "s.provider_id IN (SELECT src FROM merge_providers WHERE status = 'add')",
        )
        .await?;
    }

    let added_sessions = "(SELECT src FROM merge_chat_sessions WHERE status = 'add')";
    report.added.sessions = copy(
        conn,
        "chat_sessions",
        &[
            (
                "character_id",
                "(SELECT dst FROM merge_characters WHERE src = s.character_id)",
            ),
            (
                "persona_id",
                "(SELECT id FROM main.personas WHERE id = s.persona_id)",
            ),
            (
                "provider_id",
                "(SELECT id FROM main.providers WHERE id = s.provider_id)",
            ),
        ],
        &format!("s.id IN {added_sessions}"),
    )
    .await?;
    // Parents before children: the user-turn count of a message is taken from its parent's.
    report.added.messages = copy(
        conn,
        "messages",
        &[],
        &format!("s.session_id IN {added_sessions} ORDER BY s.depth, s.created_at"),
    )
    .await?;
    let added_messages =
        format!("(SELECT id FROM arc.messages WHERE session_id IN {added_sessions})");
    copy(
        conn,
        "message_versions",
        &[],
        &format!("s.message_id IN {added_messages}"),
    )
    .await?;
    copy(
        conn,
        "message_images",
        &[],
        &format!("s.message_id IN {added_messages}"),
    )
    .await?;
    copy(
        conn,
        "lore_timed_state",
        &[],
        &format!("s.session_id IN {added_sessions}"),
    )
    .await?;

    report.added.settings = exec(
        conn,
        "INSERT OR IGNORE INTO main.settings (key, value, updated_at)
         SELECT key, value, updated_at FROM arc.settings",
    )
    .await?;
    exec(
        conn,
        "INSERT OR IGNORE INTO main.primary_context_versions (id, text, created_at)
         SELECT id, text, created_at FROM arc.primary_context_versions",
    )
    .await?;
    // Usage history only into a library that has none: merging it twice would count twice.
    exec(
        conn,
        "INSERT INTO main.usage_events (day, provider_id, provider_name, model, outcome, reason,
             prompt_tokens, completion_tokens, cost_usd, created_at)
         SELECT day, provider_id, provider_name, model, outcome, reason,
             prompt_tokens, completion_tokens, cost_usd, created_at
         FROM arc.usage_events WHERE NOT EXISTS (SELECT 1 FROM main.usage_events)",
    )
    .await?;

    report.skipped = skipped(conn).await?;
    for table in [
        "characters",
        "world_books",
        "personas",
        "providers",
        "chat_sessions",
    ] {
        exec(conn, &format!("DROP TABLE temp.merge_{table}")).await?;
    }
    Ok(report)
}

/// What was left out, and why.
async fn skipped(conn: &mut SqliteConnection) -> Sql<Vec<SkippedItem>> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT 'character', c.src, a.name, c.status FROM merge_characters c
             JOIN arc.characters a ON a.id = c.src WHERE c.status <> 'add'
         UNION ALL SELECT 'worldBook', w.src, a.name, w.status FROM merge_world_books w
             JOIN arc.world_books a ON a.id = w.src WHERE w.status <> 'add'
         UNION ALL SELECT 'persona', p.src, a.name, p.status FROM merge_personas p
             JOIN arc.personas a ON a.id = p.src WHERE p.status <> 'add'
         UNION ALL SELECT 'provider', p.src, a.name, p.status FROM merge_providers p
             JOIN arc.providers a ON a.id = p.src WHERE p.status <> 'add'
         UNION ALL SELECT 'session', s.src,
             CASE WHEN a.title <> '' THEN a.title ELSE COALESCE(c.name, '') END, s.status
             FROM merge_chat_sessions s JOIN arc.chat_sessions a ON a.id = s.src
             LEFT JOIN arc.characters c ON c.id = a.character_id WHERE s.status <> 'add'",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(kind, id, name, status)| {
            Some(SkippedItem {
                kind: match kind.as_str() {
                    "character" => ItemKind::Character,
                    "worldBook" => ItemKind::WorldBook,
                    "persona" => ItemKind::Persona,
                    "provider" => ItemKind::Provider,
                    _ => ItemKind::Session,
                },
                id,
                name,
                reason: match status.as_str() {
                    "same" => SkipReason::AlreadyInLibrary,
                    "conflict" => SkipReason::Conflict,
                    "character" => SkipReason::CharacterSkipped,
                    _ => return None,
                },
            })
        })
        .collect())
}

async fn exec(conn: &mut SqliteConnection, sql: &str) -> Sql<u32> {
    let done = sqlx::query(sql).execute(&mut *conn).await?;
    Ok(u32::try_from(done.rows_affected()).unwrap_or(u32::MAX))
}

/// Copies the rows of `table` chosen by `filter` (over the archive's rows as
/// `s`) into this library, column by column as this library names them, with
/// `overrides` giving some columns' values; returns how many were added.
async fn copy(
    conn: &mut SqliteConnection,
    table: &str,
    overrides: &[(&str, &str)],
    filter: &str,
) -> Sql<u32> {
    let columns: Vec<String> =
        sqlx::query_scalar("SELECT name FROM pragma_table_info(?, 'main') ORDER BY cid")
            .bind(table)
            .fetch_all(&mut *conn)
            .await?;
    let names = columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let values = columns
        .iter()
        .map(|c| {
            overrides
                .iter()
                .find(|(name, _)| name == c)
                .map(|(_, expr)| (*expr).to_owned())
                .unwrap_or_else(|| format!("s.\"{c}\""))
        })
        .collect::<Vec<_>>()
        .join(", ");
    exec(
        conn,
        &format!(
            "INSERT INTO main.{table} ({names}) SELECT {values} FROM {ARC}.{table} s WHERE {filter}"
        ),
    )
    .await
}
