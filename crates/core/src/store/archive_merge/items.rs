//! Bringing in each kind of item the merge chose: added, overwritten in place
//! (what hangs off it replaced by the archive's), or copied under new ids.

use sqlx::SqliteConnection;

use super::rows::{copy, exec, Upsert};
use super::{Sql, BROUGHT, NEW_ID};

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

pub(super) async fn characters(conn: &mut SqliteConnection) -> Sql<()> {
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

pub(super) async fn world_books(conn: &mut SqliteConnection) -> Sql<()> {
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

pub(super) async fn personas_and_providers(conn: &mut SqliteConnection) -> Sql<()> {
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

/// The character here that `s.character_id` in the archive became (NULL when it was not brought).
const MERGED_CHARACTER: &str = "(SELECT id FROM main.characters WHERE id =
     COALESCE((SELECT dst FROM merge_characters WHERE src = s.character_id), s.character_id))";

pub(super) async fn sessions(conn: &mut SqliteConnection) -> Sql<()> {
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
        &[
            "messages",
            "lore_timed_state",
            "session_members",
            "member_events",
        ],
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
            // The chat's profile, when it came along or is here already.
            (
                "profile_id",
                "(SELECT id FROM main.connection_profiles WHERE id = s.profile_id)",
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
            // A group reply's speaker, as the character is known here (none when it was not brought).
            ("character_id", MERGED_CHARACTER),
        ],
        "s.id IN (SELECT src FROM merge_messages) ORDER BY s.depth, s.created_at",
        None,
    )
    .await?;
    // A group's members (those whose character is here) and its recorded presence changes.
    let session = "(SELECT dst FROM merge_chat_sessions WHERE src = s.session_id)";
    let brought_session =
        format!("s.session_id IN (SELECT src FROM merge_chat_sessions WHERE status IN {BROUGHT})");
    copy(
        conn,
        "session_members",
        &[("session_id", session), ("character_id", MERGED_CHARACTER)],
        &format!("{brought_session} AND {MERGED_CHARACTER} IS NOT NULL"),
        None,
    )
    .await?;
    let copied_id = format!(
        "CASE WHEN (SELECT status FROM merge_chat_sessions WHERE src = s.session_id) = 'copy'
              THEN {NEW_ID} ELSE s.id END"
    );
    copy(
        conn,
        "member_events",
        &[
            ("id", &copied_id),
            ("session_id", session),
            (
                "character_id",
                &format!("COALESCE({MERGED_CHARACTER}, s.character_id)"),
            ),
            ("after_message_id", &message("after_message_id")),
        ],
        &brought_session,
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

/// Saved templates, connection profiles and characters' pins the library
/// lacks. Nothing here is overwritten: a template or profile of the same name
/// (or id), or a character already pinned, keeps the library's own. A profile
/// follows its provider to the id that provider has here.
pub(super) async fn connections(conn: &mut SqliteConnection) -> Sql<()> {
    exec(
        conn,
        "INSERT OR IGNORE INTO main.templates (id, kind, name, json, created_at, updated_at)
         SELECT id, kind, name, json, created_at, updated_at FROM arc.templates",
    )
    .await?;
    let provider = "(SELECT id FROM main.providers WHERE id =
        COALESCE((SELECT dst FROM merge_providers WHERE src = p.provider_id), p.provider_id))";
    exec(
        conn,
        &format!(
            "INSERT OR IGNORE INTO main.connection_profiles
                 (id, name, provider_id, model, config_json, position, created_at, updated_at)
             SELECT p.id, p.name, {provider}, p.model,
                    json_set(p.config_json, '$.providerId', {provider}),
                    (SELECT COALESCE(MAX(position), -1) + 1 FROM main.connection_profiles),
                    p.created_at, p.updated_at
             FROM arc.connection_profiles p WHERE {provider} IS NOT NULL"
        ),
    )
    .await?;
    exec(
        conn,
        "INSERT OR IGNORE INTO main.character_connection (character_id, profile_id, instruct)
         SELECT COALESCE((SELECT dst FROM merge_characters WHERE src = c.character_id), c.character_id),
                (SELECT id FROM main.connection_profiles WHERE id = c.profile_id),
                c.instruct
         FROM arc.character_connection c
         WHERE EXISTS (SELECT 1 FROM main.characters WHERE id =
             COALESCE((SELECT dst FROM merge_characters WHERE src = c.character_id), c.character_id))",
    )
    .await?;
    Ok(())
}
