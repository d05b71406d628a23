//! Store tests that need the pool itself (connection pragmas, a full disk).

use super::*;
use crate::ErrorCode;

async fn fresh() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    (dir, store)
}

#[tokio::test]
async fn every_connection_uses_wal_normal_sync_foreign_keys_and_a_busy_timeout() {
    let (_dir, store) = fresh().await;
    let mut conn = store.pool().acquire().await.unwrap();
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(journal, "wal");
    assert_eq!(synchronous, 1, "NORMAL");
    assert_eq!(foreign_keys, 1);
    assert!(busy >= 1000, "busy_timeout is {busy} ms");
}

#[tokio::test]
async fn foreign_keys_cascade_from_character_to_messages() {
    let (_dir, store) = fresh().await;
    let pool = store.pool();
    sqlx::query("INSERT INTO characters (id, name, created_at, updated_at) VALUES ('c1', 'Seraphina', 0, 0)")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO chat_sessions (id, character_id, title, created_at, updated_at)
         VALUES ('s1', 'c1', '', 0, 0)",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO messages (id, session_id, parent_id, role, content, created_at)
         VALUES ('m1', 's1', NULL, 'user', 'hi', 0)",
    )
    .execute(pool)
    .await
    .unwrap();
    let orphan = sqlx::query(
        "INSERT INTO chat_sessions (id, character_id, title, created_at, updated_at)
         VALUES ('s2', 'missing', '', 0, 0)",
    )
    .execute(pool)
    .await;
    assert!(
        orphan.is_err(),
        "a session for a missing character is refused"
    );
    sqlx::query("DELETE FROM characters WHERE id = 'c1'")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(store.counts().await.unwrap(), LibraryCounts::default());
}

#[tokio::test]
async fn a_full_disk_is_a_typed_error_and_keeps_what_was_saved() {
    let (_dir, store) = fresh().await;
    let saved = crate::settings::Settings {
        language: Some(crate::settings::Language::Ru),
        theme: crate::settings::ThemePreference::Dark,
        example_dialogue: crate::prompt::ExampleDialogue::Keep,
        keyword_world_info_at_depth: true,
    };
    store.save_settings(&saved).await.unwrap();

    // One connection, capped at its current size: the next growth fails with SQLITE_FULL.
    let mut conn = store.pool().acquire().await.unwrap();
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    sqlx::query(&format!("PRAGMA max_page_count = {pages}"))
        .execute(&mut *conn)
        .await
        .unwrap();
    let big = "x".repeat(1 << 20);
    let err = sqlx::query(
        "INSERT INTO characters (id, name, created_at, updated_at) VALUES ('c1', ?, 0, 0)",
    )
    .bind(&big)
    .execute(&mut *conn)
    .await
    .map_err(|e| store.sql_error(e))
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::DiskFull, "{err}");
    drop(conn);

    assert_eq!(store.settings().await.unwrap(), saved);
    assert_eq!(store.counts().await.unwrap().characters, 0);
}
