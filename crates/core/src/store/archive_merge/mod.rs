//! Merging another library (a database file at this build's schema, from an
//! archive) into this one, in one transaction.
//!
//! Characters are matched by content (the card's content hash): one already
//! here is not added again, and the archive's chats with it join the one
//! here. Everything else is matched by id: world books, personas, providers,
//! sessions (with their messages, versions, attachments). An item here under
//! the same id is skipped as already in the library when it is the same
//! revision; when it differs it is a conflict, settled as the user chose
//! ([`ImportChoices`]): skipped (the default: nothing here is overwritten
//! without asking), overwritten by the archive's, or kept beside a copy of the
//! archive's with new ids and "(imported)" after its name. Settings the
//! library lacks are added; its own are kept. A dry run does it all and rolls
//! back, so its report is exactly what the import would do.

mod rows;

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};

use super::Store;
use crate::library::archive::{ImportChoices, ItemKind, MergeReport};
use crate::{Error, Result};
use rows::{copy, exec, Upsert};

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
    sessions(conn).await?;

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

/// What a kept-both copy's name gets after it.
const SUFFIX: &str = "(SELECT text FROM merge_copy_suffix)";

/// The copy's name: "(imported)" (or the label chosen) after the archive's.
fn copy_name(table: &str, column: &str) -> String {
    format!(
        "CASE WHEN (SELECT status FROM merge_{table} WHERE src = s.id) = 'copy'
              THEN s.{column} || {SUFFIX} ELSE s.{column} END"
    )
}

/// Removes the rows of `tables` that belong (by `column`) to items here that
/// are being overwritten, so the archive's take their place.
async fn clear_overwritten(
    conn: &mut SqliteConnection,
    merge_table: &str,
    tables: &[&str],
    column: &str,
) -> Sql<()> {
    for table in tables {
        exec(
            conn,
            &format!(
                "DELETE FROM main.{table} WHERE {column} IN
                     (SELECT src FROM merge_{merge_table} WHERE status = 'overwrite')"
            ),
        )
        .await?;
    }
    Ok(())
}

const CHARACTER_PARTS: [&str; 6] = [
    "character_avatars",
    "character_assets",
    "character_tags",
    "character_preferences",
    "character_dictionaries",
    "card_dictionaries_pending",
];

async fn characters(conn: &mut SqliteConnection) -> Sql<()> {
    let brought = format!("(SELECT src FROM merge_characters WHERE status IN {BROUGHT})");
    let dst = "(SELECT dst FROM merge_characters WHERE src = s.character_id)";
    copy(
        conn,
        "characters",
        &[
            ("id", "(SELECT dst FROM merge_characters WHERE src = s.id)"),
            ("name", &copy_name("characters", "name")),
            // The card says the copy's name too: its page and its exports show it.
            (
                "card_json",
                &format!(
                    "CASE WHEN json_valid(s.card_json)
                          AND (SELECT status FROM merge_characters WHERE src = s.id) = 'copy'
                          THEN json_set(s.card_json, '$.name', s.name || {SUFFIX})
                          ELSE s.card_json END"
                ),
            ),
        ],
        &format!("s.id IN {brought}"),
        Some(Upsert::all()),
    )
    .await?;
    let mut parts = CHARACTER_PARTS.to_vec();
    parts.extend(["character_collections", "character_world_books"]);
    clear_overwritten(conn, "characters", &parts, "character_id").await?;
    for table in CHARACTER_PARTS {
        let asset_id = format!(
            "CASE WHEN (SELECT status FROM merge_characters WHERE src = s.character_id) = 'copy'
                  THEN {NEW_ID} ELSE s.id END"
        );
        let mut overrides = vec![("character_id", dst)];
        if table == "character_assets" {
            overrides.push(("id", &asset_id));
        }
        copy(
            conn,
            table,
            &overrides,
            &format!("s.character_id IN {brought}"),
            None,
        )
        .await?;
    }
    exec(
        conn,
        &format!(
            "INSERT OR IGNORE INTO main.collections (id, name)
             SELECT id, name FROM arc.collections WHERE id IN (
                 SELECT collection_id FROM arc.character_collections
                 WHERE character_id IN {brought})"
        ),
    )
    .await?;
    copy(
        conn,
        "character_collections",
        &[("character_id", dst)],
        &format!(
            "s.character_id IN {brought}
             AND s.collection_id IN (SELECT id FROM main.collections)"
        ),
        None,
    )
    .await?;
    Ok(())
}

async fn world_books(conn: &mut SqliteConnection) -> Sql<()> {
    let brought = format!("(SELECT src FROM merge_world_books WHERE status IN {BROUGHT})");
    copy(
        conn,
        "world_books",
        &[
            ("id", "(SELECT dst FROM merge_world_books WHERE src = s.id)"),
            ("name", &copy_name("world_books", "name")),
            (
                "source_character_id",
                "(SELECT dst FROM merge_characters WHERE src = s.source_character_id)",
            ),
        ],
        &format!("s.id IN {brought}"),
        Some(Upsert::all()),
    )
    .await?;
    clear_overwritten(conn, "world_books", &["world_book_entries"], "book_id").await?;
    copy(
        conn,
        "world_book_entries",
        &[(
            "book_id",
            "(SELECT dst FROM merge_world_books WHERE src = s.book_id)",
        )],
        &format!("s.book_id IN {brought}"),
        None,
    )
    .await?;
    // The books of the characters brought in, as they are named here now.
    let book = "COALESCE((SELECT dst FROM merge_world_books WHERE src = s.book_id), s.book_id)";
    copy(
        conn,
        "character_world_books",
        &[
            (
                "character_id",
                "(SELECT dst FROM merge_characters WHERE src = s.character_id)",
            ),
            ("book_id", book),
        ],
        &format!(
            "s.character_id IN (SELECT src FROM merge_characters WHERE status IN {BROUGHT})
             AND {book} IN (SELECT id FROM main.world_books)"
        ),
        None,
    )
    .await?;
    Ok(())
}

async fn personas_and_providers(conn: &mut SqliteConnection) -> Sql<()> {
    let brought = format!("(SELECT src FROM merge_personas WHERE status IN {BROUGHT})");
    copy(
        conn,
        "personas",
        &[
            ("id", "(SELECT dst FROM merge_personas WHERE src = s.id)"),
            ("name", &copy_name("personas", "name")),
            (
                "is_default",
                "CASE WHEN (SELECT status FROM merge_personas WHERE src = s.id) = 'copy' THEN 0
                      WHEN EXISTS (SELECT 1 FROM main.personas WHERE is_default = 1) THEN 0
                      ELSE s.is_default END",
            ),
        ],
        &format!("s.id IN {brought}"),
        // Which persona is the default stays the library's choice.
        Some(Upsert::keeping(&["is_default"])),
    )
    .await?;
    clear_overwritten(conn, "personas", &["persona_avatars"], "persona_id").await?;
    copy(
        conn,
        "persona_avatars",
        &[(
            "persona_id",
            "(SELECT dst FROM merge_personas WHERE src = s.persona_id)",
        )],
        &format!("s.persona_id IN {brought}"),
        None,
    )
    .await?;

    let brought = format!("(SELECT src FROM merge_providers WHERE status IN {BROUGHT})");
    copy(
        conn,
        "providers",
        &[
            ("id", "(SELECT dst FROM merge_providers WHERE src = s.id)"),
            ("name", &copy_name("providers", "name")),
        ],
        &format!("s.id IN {brought}"),
        Some(Upsert::all()),
    )
    .await?;
    let parts = ["provider_models", "favourite_models"];
    clear_overwritten(conn, "providers", &parts, "provider_id").await?;
    for table in parts {
        copy(
            conn,
            table,
            &[(
                "provider_id",
                "(SELECT dst FROM merge_providers WHERE src = s.provider_id)",
            )],
            &format!("s.provider_id IN {brought}"),
            None,
        )
        .await?;
    }
    Ok(())
}

async fn sessions(conn: &mut SqliteConnection) -> Sql<()> {
    // Messages keep their ids, except in a kept-both copy of a chat.
    exec(
        conn,
        "CREATE TEMP TABLE merge_messages (src TEXT PRIMARY KEY, dst TEXT NOT NULL)",
    )
    .await?;
    exec(
        conn,
        &format!(
            "INSERT INTO merge_messages (src, dst)
             SELECT m.id, CASE WHEN s.status = 'copy' THEN {NEW_ID} ELSE m.id END
             FROM arc.messages m JOIN merge_chat_sessions s ON s.src = m.session_id
             WHERE s.status IN {BROUGHT}"
        ),
    )
    .await?;
    // An overwritten chat loses its messages here (their versions and images go with them).
    clear_overwritten(
        conn,
        "chat_sessions",
        &["messages", "lore_timed_state"],
        "session_id",
    )
    .await?;
    let message = |column: &str| format!("(SELECT dst FROM merge_messages WHERE src = s.{column})");
    let title = "CASE WHEN (SELECT status FROM merge_chat_sessions WHERE src = s.id) = 'copy'
        THEN (CASE WHEN s.title <> '' THEN s.title
                   ELSE COALESCE((SELECT name FROM arc.characters WHERE id = s.character_id), '')
              END) || (SELECT text FROM merge_copy_suffix)
        ELSE s.title END";
    copy(
        conn,
        "chat_sessions",
        &[
            ("id", "(SELECT dst FROM merge_chat_sessions WHERE src = s.id)"),
            ("title", title),
            // A chat overwritten or copied whose character was skipped stays with the one here.
            (
                "character_id",
                "COALESCE((SELECT dst FROM merge_characters WHERE src = s.character_id),
                          (SELECT id FROM main.characters WHERE id = s.character_id),
                          (SELECT character_id FROM main.chat_sessions WHERE id = s.id))",
            ),
            (
                "persona_id",
                "(SELECT id FROM main.personas WHERE id =
                     COALESCE((SELECT dst FROM merge_personas WHERE src = s.persona_id), s.persona_id))",
            ),
            (
                "provider_id",
                "(SELECT id FROM main.providers WHERE id =
                     COALESCE((SELECT dst FROM merge_providers WHERE src = s.provider_id), s.provider_id))",
            ),
            ("leaf_id", &message("leaf_id")),
            ("active_root_id", &message("active_root_id")),
        ],
        &format!("s.id IN (SELECT src FROM merge_chat_sessions WHERE status IN {BROUGHT})"),
        Some(Upsert::all()),
    )
    .await?;
    // Parents before children: the user-turn count of a message is taken from its parent's.
    copy(
        conn,
        "messages",
        &[
            ("id", &message("id")),
            (
                "session_id",
                "(SELECT dst FROM merge_chat_sessions WHERE src = s.session_id)",
            ),
            ("parent_id", &message("parent_id")),
            ("active_child_id", &message("active_child_id")),
        ],
        "s.id IN (SELECT src FROM merge_messages) ORDER BY s.depth, s.created_at",
        None,
    )
    .await?;
    for table in ["message_versions", "message_images"] {
        let id =
            "CASE WHEN (SELECT dst FROM merge_messages WHERE src = s.message_id) <> s.message_id
                  THEN NEW ELSE s.id END"
                .replace("NEW", NEW_ID);
        copy(
            conn,
            table,
            &[("id", &id), ("message_id", &message("message_id"))],
            "s.message_id IN (SELECT src FROM merge_messages)",
            None,
        )
        .await?;
    }
    copy(
        conn,
        "lore_timed_state",
        &[(
            "session_id",
            "(SELECT dst FROM merge_chat_sessions WHERE src = s.session_id)",
        )],
        &format!("s.session_id IN (SELECT src FROM merge_chat_sessions WHERE status IN {BROUGHT})"),
        None,
    )
    .await?;
    Ok(())
}
