//! The merge's row copying, and its report of what was skipped and which
//! items conflicted.

use sqlx::SqliteConnection;

use super::{Sql, ARC};
use crate::library::archive::{Conflict, ConflictChoice, ItemKind, SkipReason, SkippedItem};

pub(super) async fn exec(conn: &mut SqliteConnection, sql: &str) -> Sql<u32> {
    let done = sqlx::query(sql).execute(&mut *conn).await?;
    Ok(u32::try_from(done.rows_affected()).unwrap_or(u32::MAX))
}

/// For a copy into a table keyed by `id`: a row already here under the id is
/// updated in place (an overwrite; never deleted, so nothing hanging off it
/// cascades away), but for the columns in `keep`.
pub(super) struct Upsert<'a> {
    keep: &'a [&'a str],
}

impl<'a> Upsert<'a> {
    pub(super) fn all() -> Upsert<'static> {
        Upsert { keep: &[] }
    }

    pub(super) fn keeping(keep: &'a [&'a str]) -> Upsert<'a> {
        Upsert { keep }
    }
}

/// Copies the rows of `table` chosen by `filter` (over the archive's rows as
/// `s`) into this library, column by column as this library names them, with
/// `overrides` giving some columns' values; returns how many were written.
pub(super) async fn copy(
    conn: &mut SqliteConnection,
    table: &str,
    overrides: &[(&str, &str)],
    filter: &str,
    upsert: Option<Upsert<'_>>,
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
    let on_conflict = match upsert {
        None => String::new(),
        Some(Upsert { keep }) => {
            let set = columns
                .iter()
                .filter(|c| *c != "id" && !keep.contains(&c.as_str()))
                .map(|c| format!("\"{c}\" = excluded.\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ");
            format!(" ON CONFLICT (id) DO UPDATE SET {set}")
        }
    };
    exec(
        conn,
        &format!(
            "INSERT INTO main.{table} ({names}) SELECT {values} FROM {ARC}.{table} s WHERE {filter}{on_conflict}"
        ),
    )
    .await
}

fn kind_of(name: &str) -> ItemKind {
    match name {
        "character" => ItemKind::Character,
        "worldBook" => ItemKind::WorldBook,
        "persona" => ItemKind::Persona,
        "provider" => ItemKind::Provider,
        _ => ItemKind::Session,
    }
}

/// A chat's name: its title, or its character's name.
const SESSION_NAME: &str = "CASE WHEN a.title <> '' THEN a.title ELSE COALESCE(c.name, '') END";

/// What was left out, and why.
pub(super) async fn skipped(conn: &mut SqliteConnection) -> Sql<Vec<SkippedItem>> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(&format!(
        "SELECT 'character', c.src, a.name, c.status FROM merge_characters c
             JOIN arc.characters a ON a.id = c.src WHERE c.status IN {LEFT_OUT}
         UNION ALL SELECT 'worldBook', w.src, a.name, w.status FROM merge_world_books w
             JOIN arc.world_books a ON a.id = w.src WHERE w.status IN {LEFT_OUT}
         UNION ALL SELECT 'persona', p.src, a.name, p.status FROM merge_personas p
             JOIN arc.personas a ON a.id = p.src WHERE p.status IN {LEFT_OUT}
         UNION ALL SELECT 'provider', p.src, a.name, p.status FROM merge_providers p
             JOIN arc.providers a ON a.id = p.src WHERE p.status IN {LEFT_OUT}
         UNION ALL SELECT 'session', s.src, {SESSION_NAME}, s.status
             FROM merge_chat_sessions s JOIN arc.chat_sessions a ON a.id = s.src
             LEFT JOIN arc.characters c ON c.id = a.character_id WHERE s.status IN {LEFT_OUT}"
    ))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(kind, id, name, status)| {
            Some(SkippedItem {
                kind: kind_of(&kind),
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

const LEFT_OUT: &str = "('same', 'conflict', 'character')";

/// Every conflict, with the choice made for it; read before anything here
/// changes, so the library's names are those it had.
pub(super) async fn conflicts(conn: &mut SqliteConnection) -> Sql<Vec<Conflict>> {
    type Row = (String, String, String, String, String, Option<String>);
    let copy_id = "CASE WHEN m.status = 'copy' THEN m.dst END";
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT 'character', m.src, a.name, x.name, m.choice, {copy_id} FROM merge_characters m
             JOIN arc.characters a ON a.id = m.src JOIN main.characters x ON x.id = m.src
             WHERE m.choice IS NOT NULL
         UNION ALL SELECT 'worldBook', m.src, a.name, x.name, m.choice, {copy_id}
             FROM merge_world_books m
             JOIN arc.world_books a ON a.id = m.src JOIN main.world_books x ON x.id = m.src
             WHERE m.choice IS NOT NULL
         UNION ALL SELECT 'persona', m.src, a.name, x.name, m.choice, {copy_id} FROM merge_personas m
             JOIN arc.personas a ON a.id = m.src JOIN main.personas x ON x.id = m.src
             WHERE m.choice IS NOT NULL
         UNION ALL SELECT 'provider', m.src, a.name, x.name, m.choice, {copy_id} FROM merge_providers m
             JOIN arc.providers a ON a.id = m.src JOIN main.providers x ON x.id = m.src
             WHERE m.choice IS NOT NULL
         UNION ALL SELECT 'session', m.src, {SESSION_NAME},
             CASE WHEN x.title <> '' THEN x.title ELSE COALESCE(xc.name, '') END,
             m.choice, {copy_id}
             FROM merge_chat_sessions m
             JOIN arc.chat_sessions a ON a.id = m.src LEFT JOIN arc.characters c ON c.id = a.character_id
             JOIN main.chat_sessions x ON x.id = m.src
             LEFT JOIN main.characters xc ON xc.id = x.character_id
             WHERE m.choice IS NOT NULL"
    ))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, id, name, current_name, choice, copy_id)| Conflict {
            kind: kind_of(&kind),
            id,
            name,
            current_name,
            choice: ConflictChoice::parse(&choice),
            copy_id,
        })
        .collect())
}
