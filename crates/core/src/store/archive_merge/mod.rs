//! Merging another library (a database file at this build's schema, from an
//! archive) into this one, in one transaction.
//!
//! Characters are matched by content (the card's content hash): one already
//! here is not added again, and the archive's chats with it join the one
//! here. Everything else is matched by id: world books, personas, providers,
//! connection profiles and saved templates (added when missing, never
//! overwritten), sessions (with their messages, versions, attachments). An item here under
//! the same id is skipped as already in the library when it is the same
//! revision; when it differs it is a conflict, settled as the user chose
//! ([`ImportChoices`]): skipped (the default: nothing here is overwritten
//! without asking), overwritten by the archive's, or kept beside a copy of the
//! archive's with new ids and "(imported)" after its name. Settings the
//! library lacks are added; its own are kept. A dry run does it all and rolls
//! back, so its report is exactly what the import would do.

mod items;
mod memory;
mod rows;

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};

use super::Store;
use crate::library::archive::{ImportChoices, ItemKind, MergeReport};
use crate::{Error, Result};
use items::{characters, connections, personas_and_providers, sessions, world_books};
use rows::exec;

/// The archive's database, attached to the merging connection.
const ARC: &str = "arc";

/// A fresh UUID v4 in SQL, evaluated per row: the ids of kept-both copies.
const NEW_ID: &str = "(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' \
    || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) \
    || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))))";

/// The merge table of each kind of item the user may choose for.
const KINDS: [(ItemKind, &str); 5] = [
    (ItemKind::Character, "characters"),
    (ItemKind::WorldBook, "world_books"),
    (ItemKind::Persona, "personas"),
    (ItemKind::Provider, "providers"),
    (ItemKind::Session, "chat_sessions"),
];

impl Store {
    /// Merges the library in the database file `other` (checked, at this
    /// build's schema) into this one, settling conflicts as `choices` say;
    /// with `dry_run`, reports what it would do and changes nothing. See the
    /// module's notes.
    pub async fn merge_library(
        &self,
        other: &Path,
        choices: &ImportChoices,
        dry_run: bool,
    ) -> Result<MergeReport> {
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
            match merge(&mut conn, choices).await {
                Ok(report) if !dry_run => {
                    sqlx::query("COMMIT").execute(&mut conn).await?;
                    Ok(report)
                }
                Ok(report) => {
                    sqlx::query("ROLLBACK").execute(&mut conn).await?;
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

/// Statuses of the archive's items in the merge tables: 'add' (new here),
/// 'same' (here already), 'conflict' (differs; skipped), 'overwrite', 'copy'
/// (kept both), 'character' (a chat whose character was skipped).
const BROUGHT: &str = "('add', 'copy', 'overwrite')";

async fn merge(conn: &mut SqliteConnection, choices: &ImportChoices) -> Sql<MergeReport> {
    sqlx::query("PRAGMA defer_foreign_keys = ON")
        .execute(&mut *conn)
        .await?;
    let mut report = MergeReport::default();
    classify(conn).await?;
    choose(conn, choices).await?;
    report.conflicts = rows::conflicts(conn).await?;

    characters(conn).await?;
    world_books(conn).await?;
    personas_and_providers(conn).await?;
    connections(conn).await?;
    sessions(conn).await?;
    memory::memory(conn).await?;

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
             prompt_tokens, completion_tokens, cost_usd, cache_write_tokens, cache_read_tokens,
             cache_saved_usd, created_at)
         SELECT day, provider_id, provider_name, model, outcome, reason,
             prompt_tokens, completion_tokens, cost_usd, cache_write_tokens, cache_read_tokens,
             cache_saved_usd, created_at
         FROM arc.usage_events WHERE NOT EXISTS (SELECT 1 FROM main.usage_events)",
    )
    .await?;

    let added =
        |table: &str| format!("SELECT COUNT(*) FROM merge_{table} WHERE status IN ('add', 'copy')");
    for (field, table) in [
        (&mut report.added.characters, "characters"),
        (&mut report.added.world_books, "world_books"),
        (&mut report.added.personas, "personas"),
        (&mut report.added.providers, "providers"),
        (&mut report.added.sessions, "chat_sessions"),
    ] {
        let n: i64 = sqlx::query_scalar(&added(table))
            .fetch_one(&mut *conn)
            .await?;
        *field = u32::try_from(n).unwrap_or(u32::MAX);
    }
    let messages: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM merge_messages m JOIN arc.messages a ON a.id = m.src
         JOIN merge_chat_sessions s ON s.src = a.session_id WHERE s.status IN ('add', 'copy')",
    )
    .fetch_one(&mut *conn)
    .await?;
    report.added.messages = u32::try_from(messages).unwrap_or(u32::MAX);

    report.skipped = rows::skipped(conn).await?;
    for (_, table) in KINDS {
        exec(conn, &format!("DROP TABLE temp.merge_{table}")).await?;
    }
    exec(conn, "DROP TABLE temp.merge_messages").await?;
    exec(conn, "DROP TABLE temp.merge_choices").await?;
    exec(conn, "DROP TABLE temp.merge_copy_suffix").await?;
    Ok(report)
}

/// Fills the merge tables: each archive item's status, and its id here (`dst`).
async fn classify(conn: &mut SqliteConnection) -> Sql<()> {
    exec(
        conn,
        "CREATE TEMP TABLE merge_characters (src TEXT PRIMARY KEY, dst TEXT, status TEXT NOT NULL,
             choice TEXT)",
    )
    .await?;
    // A conflicting character has no id here (dst NULL) unless the user chooses otherwise.
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
                "CREATE TEMP TABLE merge_{table} (src TEXT PRIMARY KEY, dst TEXT, status TEXT NOT NULL,
                     choice TEXT)"
            ),
        )
        .await?;
        exec(
            conn,
            &format!(
                "INSERT INTO merge_{table} (src, dst, status)
                 SELECT a.id, a.id,
                        CASE WHEN m.id IS NULL THEN 'add' WHEN {same} THEN 'same'
                             ELSE 'conflict' END
                 FROM {ARC}.{table} a LEFT JOIN main.{table} m ON m.id = a.id"
            ),
        )
        .await?;
    }
    Ok(())
}

/// Settles each conflict as chosen: skipped stays 'conflict'; overwritten
/// keeps its id; kept both gets a new one.
async fn choose(conn: &mut SqliteConnection, choices: &ImportChoices) -> Sql<()> {
    exec(
        conn,
        "CREATE TEMP TABLE merge_choices (kind TEXT NOT NULL, src TEXT NOT NULL,
             choice TEXT NOT NULL, PRIMARY KEY (kind, src))",
    )
    .await?;
    exec(
        conn,
        "CREATE TEMP TABLE merge_copy_suffix (text TEXT NOT NULL)",
    )
    .await?;
    sqlx::query("INSERT INTO merge_copy_suffix (text) VALUES (?)")
        .bind(choices.copy_suffix())
        .execute(&mut *conn)
        .await?;
    for item in &choices.items {
        sqlx::query("INSERT OR REPLACE INTO merge_choices (kind, src, choice) VALUES (?, ?, ?)")
            .bind(kind_name(item.kind))
            .bind(&item.id)
            .bind(item.choice.as_str())
            .execute(&mut *conn)
            .await?;
    }
    for (kind, table) in KINDS {
        sqlx::query(&format!(
            "UPDATE merge_{table} SET choice = COALESCE(
                 (SELECT c.choice FROM merge_choices c WHERE c.kind = ? AND c.src = merge_{table}.src), ?)
             WHERE status = 'conflict'"
        ))
        .bind(kind_name(kind))
        .bind(choices.default.as_str())
        .execute(&mut *conn)
        .await?;
        exec(
            conn,
            &format!(
                "UPDATE merge_{table}
                 SET status = CASE choice WHEN 'overwrite' THEN 'overwrite'
                                  WHEN 'keepBoth' THEN 'copy' ELSE 'conflict' END,
                     dst = CASE choice WHEN 'overwrite' THEN src WHEN 'keepBoth' THEN {NEW_ID}
                               ELSE dst END
                 WHERE status = 'conflict'"
            ),
        )
        .await?;
    }
    // A new chat with a character that was not brought in stays out too.
    exec(
        conn,
        "UPDATE merge_chat_sessions SET status = 'character'
         WHERE status = 'add' AND src IN (
             SELECT s.id FROM arc.chat_sessions s
             JOIN merge_characters c ON c.src = s.character_id WHERE c.dst IS NULL)",
    )
    .await?;
    Ok(())
}

/// How the merge tables name a kind.
pub(super) fn kind_name(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Character => "character",
        ItemKind::WorldBook => "worldBook",
        ItemKind::Persona => "persona",
        ItemKind::Provider => "provider",
        ItemKind::Session => "session",
    }
}
