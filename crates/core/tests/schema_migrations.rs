//! Every schema version Confab ever shipped upgrades to the current one without losing data.
//!
//! `tests/fixtures/schema/vN.db` is a database made by schema version N with
//! representative data (`vN.seed.sql`); make one for a new version with
//! `cargo run -p confab-core --example schema_fixture`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use confab_core::store::{latest_schema_version, Store, BACKUP_DIR, DATABASE_FILE};
use sqlx::{ConnectOptions, Connection, SqliteConnection};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema")
}

/// Every row of every table, each row rendered with SQLite's `quote()` per column.
type Dump = BTreeMap<String, (Vec<String>, Vec<Vec<String>>)>;

async fn connect(path: &Path) -> SqliteConnection {
    sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .unwrap()
}

async fn dump(conn: &mut SqliteConnection) -> Dump {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_schema WHERE type = 'table'
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let mut out = Dump::new();
    for table in tables {
        let columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                .bind(&table)
                .fetch_all(&mut *conn)
                .await
                .unwrap();
        let rows = select_quoted(conn, &table, &columns).await;
        out.insert(table, (columns, rows));
    }
    out
}

async fn select_quoted(
    conn: &mut SqliteConnection,
    table: &str,
    columns: &[String],
) -> Vec<Vec<String>> {
    let list = columns
        .iter()
        .map(|c| format!("quote(\"{c}\")"))
        .collect::<Vec<_>>()
        .join(" || char(31) || ");
    let rows: Vec<String> =
        sqlx::query_scalar(&format!("SELECT {list} AS r FROM \"{table}\" ORDER BY r"))
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    rows.into_iter()
        .map(|r| r.split('\u{1f}').map(str::to_owned).collect())
        .collect()
}

#[test]
fn every_schema_version_has_a_fixture() {
    for version in 1..=latest_schema_version() {
        let db = fixtures().join(format!("v{version}.db"));
        assert!(
            db.is_file(),
            "{} is missing: run `cargo run -p confab-core --example schema_fixture` \
             after writing v{version}.seed.sql",
            db.display()
        );
    }
}

#[tokio::test]
async fn every_earlier_schema_upgrades_and_keeps_its_data() {
    for version in 1..=latest_schema_version() {
        let fixture = fixtures().join(format!("v{version}.db"));
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(DATABASE_FILE);
        std::fs::copy(&fixture, &db).unwrap();

        let mut old = connect(&db).await;
        let before = dump(&mut old).await;
        old.close().await.unwrap();
        let rows: usize = before.values().map(|(_, rows)| rows.len()).sum();
        assert!(rows > 0, "fixture v{version} has no data to check");

        let store = Store::open(dir.path()).await.unwrap();
        assert_eq!(
            store.schema_version().await.unwrap(),
            latest_schema_version()
        );
        store.close().await;

        // Each old row is still there, column for column, in each table that still exists.
        let mut new = connect(&db).await;
        for (table, (columns, old_rows)) in &before {
            let kept: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
                .bind(table)
                .fetch_all(&mut new)
                .await
                .unwrap();
            assert!(!kept.is_empty(), "v{version}: table {table} disappeared");
            assert!(
                columns.iter().all(|c| kept.contains(c)),
                "v{version}: {table} lost a column"
            );
            let new_rows = select_quoted(&mut new, table, columns).await;
            assert_eq!(&new_rows, old_rows, "v{version}: rows of {table} changed");
        }
        new.close().await.unwrap();

        // An upgrade first copies the old file aside; opening a current file does not.
        let backups = dir.path().join(BACKUP_DIR);
        if version < latest_schema_version() {
            let copies: Vec<_> = std::fs::read_dir(&backups).unwrap().collect();
            assert_eq!(copies.len(), 1, "v{version}: one backup before migrating");
            let copy = copies[0].as_ref().unwrap().path();
            let mut conn = connect(&copy).await;
            assert_eq!(
                dump(&mut conn).await,
                before,
                "the backup holds the old data"
            );
        } else {
            assert!(!backups.exists(), "no backup when nothing is migrated");
        }
    }
}

#[tokio::test]
async fn the_v5_fixture_reads_through_the_providers_api() {
    use confab_core::providers;
    use confab_core::secrets::Keys;

    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures().join("v5.db"), dir.path().join(DATABASE_FILE)).unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let keys = Keys::in_memory(store.clone());

    let list = providers::list(&store, &keys).await.unwrap();
    let names: Vec<&str> = list.iter().map(|p| p.config.name.as_str()).collect();
    assert_eq!(names, ["OpenRouter", "Локальный llama.cpp"]);
    assert!(list[1].is_default && !list[0].is_default);
    let router = &list[0].config;
    assert_eq!(router.extra_headers["X-Title"], "Confab");
    assert_eq!(router.generation.stop, ["\nUser:"]);
    assert_eq!(router.generation.max_tokens, Some(400));

    let models = providers::models(&store, &router.id).await.unwrap();
    assert_eq!(models.favourites, ["openai/gpt-4o-mini"]);
    assert_eq!(models.models.len(), 3);
    assert_eq!(models.models[0].id, "openai/gpt-4o-mini");
    assert_eq!(models.fetched_at, Some(1763700013000.0));

    let session = providers::session_model(&store, "f0b4a5e6-7d8c-4b9a-9f2e-3d4e5f6a7b07")
        .await
        .unwrap();
    assert_eq!(session.provider_name.as_deref(), Some("OpenRouter"));
    assert_eq!(session.model, "anthropic/claude-3.5-sonnet");
    assert_eq!(session.context_length, Some(200_000));

    let usage = store.usage_report(36_500).await.unwrap();
    assert_eq!(usage.rows.len(), 4);
    assert_eq!(usage.rows[0].day, "2025-11-22");
    assert_eq!(usage.outcomes.len(), 3);
    store.close().await;
}

#[tokio::test]
async fn upgrading_counts_user_messages_down_each_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures().join("v5.db"), dir.path().join(DATABASE_FILE)).unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    // The v5 chat: a greeting, a user message, two swipes of the reply.
    let history = store
        .recent_history(
            "f0b4a5e6-7d8c-4b9a-9f2e-3d4e5f6a7b07",
            None,
            1 << 20,
            "o200k_base",
        )
        .await
        .unwrap();
    assert_eq!(history.messages.len(), 3);
    assert_eq!(history.user_turns, 1);
    assert!(
        history.messages.iter().all(|m| m.tokens.is_none()),
        "nothing counted yet"
    );
    store.close().await;
}

#[tokio::test]
async fn the_v6_fixture_reads_through_the_prompt_api() {
    use confab_core::prompt::{ExampleDialogue, NotePosition, PromptSource};
    use confab_core::session::notes;
    use confab_core::session::turn::{preview_turn, PromptCaches, TurnRequest};

    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures().join("v6.db"), dir.path().join(DATABASE_FILE)).unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let session = "f0b4a5e6-7d8c-4b9a-9f2e-3d4e5f6a7b07";
    assert_eq!(
        store.settings().await.unwrap().example_dialogue,
        ExampleDialogue::Keep
    );
    let chat_notes = notes::chat_notes(&store, session).await.unwrap();
    assert_eq!(chat_notes.chat.unwrap().interval, 3);
    let roxy = store
        .character_authors_note("0b8e77c1-54a2-4d6f-8f0e-7f3c5d2a9b02")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(roxy.position, NotePosition::AfterSystem);
    let history = store
        .recent_history(session, None, 1 << 20, "o200k_base")
        .await
        .unwrap();
    let tokens: Vec<Option<u32>> = history.messages.iter().map(|m| m.tokens).collect();
    assert_eq!(
        tokens,
        [Some(11), None, None],
        "another tokenizer's count reads as unknown"
    );
    let pending = store
        .character_detail("a3d5e2f1-9c7b-4e8a-b6d4-1f2e3c4d5e03")
        .await
        .unwrap()
        .pending_dictionary;
    assert_eq!(pending.len(), 1);

    let request = TurnRequest {
        new_message: Some("Where am I?".into()),
        ..TurnRequest::default()
    };
    let preview = preview_turn(&store, &PromptCaches::default(), session, &request, false)
        .await
        .unwrap();
    let sources: Vec<PromptSource> = preview.prompt.parts.iter().map(|p| p.source).collect();
    for wanted in [PromptSource::ExampleDialogue, PromptSource::CharacterNote] {
        assert!(sources.contains(&wanted), "{wanted:?} in {sources:?}");
    }
    // Two user messages with the new one: not a multiple of the note's interval (3).
    assert!(!sources.contains(&PromptSource::AuthorsNote));
    store.close().await;
}

#[tokio::test]
async fn the_v10_fixture_reads_through_the_connection_api() {
    use confab_core::connection::{ChoiceSource, InstructChoice};

    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures().join("v10.db"), dir.path().join(DATABASE_FILE)).unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let names: Vec<String> = store
        .profiles()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["Kobold, warm", "Cloud"]);

    // The glade chat uses "Kobold, warm": KoboldCpp with its samplers, the profile's on top.
    let glade = "f0b4a5e6-7d8c-4b9a-9f2e-3d4e5f6a7b07";
    let chosen = confab_core::providers::session_model(&store, glade)
        .await
        .unwrap();
    assert_eq!(chosen.provider_name.as_deref(), Some("KoboldCpp"));
    assert_eq!(chosen.profile_source, Some(ChoiceSource::Chat));
    let target = confab_core::session::turn::turn_target(&store, glade)
        .await
        .unwrap();
    let config = target.config.unwrap();
    assert_eq!(config.generation.temperature, Some(1.1));
    assert_eq!(config.generation.min_p, Some(0.1));
    assert_eq!(config.generation.top_k, Some(40), "the provider's own");
    assert_eq!(config.context_template.as_deref(), Some("Plain"));
    // Seraphina's own template pin wins over the profile's ChatML.
    assert_eq!(
        config.instruct,
        InstructChoice::Named {
            name: "Llama 3 Instruct".into()
        }
    );
    assert_eq!(target.instruct_source, ChoiceSource::Character);

    let saved = store.saved_template("instruct", "ChatML").await.unwrap();
    assert!(saved.unwrap().json.contains("<|im_start|>"));
    assert_eq!(store.saved_templates("context").await.unwrap().len(), 1);
    store.close().await;
}
