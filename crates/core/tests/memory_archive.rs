//! A chat's memory travels with it through a library archive: its summaries
//! (and which messages they cover) and its memory settings; a kept-both copy
//! of a chat gets summaries of its own messages, never pointing into the original.

mod chat_support;
mod http_support;

use confab_core::chat::Quiet;
use confab_core::library::archive::{
    export_library, import_library, ArchiveLimits, ConflictChoice, ImportChoices,
};
use confab_core::memory::settings::MemorySettings;
use confab_core::session::{MessageStatus, Role};
use confab_core::store::{NewMessage, NewSummary, Store};
use sqlx::{ConnectOptions, Connection};

const T0: i64 = 1_764_000_000_000;

async fn rows(store: &Store, sql: &str) -> Vec<String> {
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(store.path())
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let mut out: Vec<String> = sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    out.sort();
    out
}

const SUMMARIES: &str = "SELECT id || '|' || session_id || '|' || first_id || '|' || last_id || '|' || content || '|' || pinned FROM memory_summaries";
const COVERED: &str = "SELECT summary_id || '|' || message_id FROM memory_summary_messages";
const SETTINGS: &str = "SELECT session_id || '|' || settings_json FROM memory_settings";

async fn say(store: &Store, session: &str, text: &str) -> String {
    store
        .add_message(
            session,
            NewMessage {
                role: Role::User,
                name: "Traveller",
                content: text,
                status: MessageStatus::Complete,
                image_ids: &[],
                speaker: None,
            },
        )
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn summaries_and_settings_travel_with_their_chat_and_a_copy_gets_its_own() {
    let from = tempfile::tempdir().unwrap();
    let a = Store::open(from.path()).await.unwrap();
    let character = chat_support::add_character(&a).await;
    let session = a
        .create_session(&character, None, "Traveller")
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(say(&a, &session, &format!("line {i}")).await);
    }
    let summary = a
        .add_summary(&NewSummary {
            session_id: &session,
            messages: &ids[..3],
            content: "Lines 0 to 2 were said.",
            tokens: Some(7),
            author: "test",
        })
        .await
        .unwrap();
    a.pin_summary(&summary.id, true).await.unwrap();
    let settings = MemorySettings {
        summary_prompt: Some("Summarise tersely.".into()),
        ..MemorySettings::default()
    };
    a.set_memory_settings(&session, &settings).await.unwrap();
    a.add_memory_note(&session, "The traveller carries a silver locket.")
        .await
        .unwrap();
    let archive = from.path().join("library.confab");
    export_library(&a, &archive, T0).await.unwrap();

    let to = tempfile::tempdir().unwrap();
    let b = Store::open(to.path()).await.unwrap();
    let quiet = Quiet::sole(b.path()).unwrap();
    import_library(
        &b,
        &quiet,
        &archive,
        &ArchiveLimits::default(),
        &ImportChoices::default(),
        T0,
    )
    .await
    .unwrap();
    drop(quiet);
    for sql in [SUMMARIES, COVERED, SETTINGS] {
        assert_eq!(rows(&a, sql).await, rows(&b, sql).await, "{sql}");
    }
    assert_eq!(b.memory_settings(&session).await.unwrap(), settings);
    // The note comes as written, to be embedded with this library's model.
    let notes = b.memory_notes(&session, None).await.unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].text, "The traveller carries a silver locket.");
    assert!(!notes[0].embedded);

    // The chat changes here; merging the archive again and keeping both copies.
    say(&b, &session, "only here").await;
    let quiet = Quiet::sole(b.path()).unwrap();
    let choices = ImportChoices {
        default: ConflictChoice::KeepBoth,
        ..ImportChoices::default()
    };
    let report = import_library(
        &b,
        &quiet,
        &archive,
        &ArchiveLimits::default(),
        &choices,
        T0,
    )
    .await
    .unwrap();
    drop(quiet);
    assert_eq!(report.merged.added.sessions, 1, "{report:?}");
    let all = rows(&b, "SELECT id FROM chat_sessions").await;
    let copy = all.iter().find(|id| **id != session).unwrap();
    let copied = b.chat_summaries(copy).await.unwrap();
    assert_eq!(copied.len(), 1);
    assert_ne!(copied[0].id, summary.id);
    assert!(copied[0].pinned);
    // Every message it covers is the copy's.
    let outside = rows(
        &b,
        &format!(
            "SELECT c.message_id FROM memory_summary_messages c JOIN messages m ON m.id = c.message_id
             WHERE c.summary_id = '{}' AND m.session_id <> '{copy}'",
            copied[0].id
        ),
    )
    .await;
    assert!(outside.is_empty());
    let covered = rows(
        &b,
        &format!(
            "SELECT message_id FROM memory_summary_messages WHERE summary_id = '{}'",
            copied[0].id
        ),
    )
    .await;
    assert_eq!(covered.len(), 3);
    assert_eq!(b.memory_settings(copy).await.unwrap(), settings);
    assert_eq!(b.memory_notes(copy, None).await.unwrap().len(), 1);
    assert_eq!(b.memory_notes(&session, None).await.unwrap().len(), 1);
    // The original keeps its own.
    assert_eq!(b.chat_summaries(&session).await.unwrap()[0].id, summary.id);
    a.close().await;
    b.close().await;
}
