//! Makes `tests/fixtures/schema/vN.db` for the current schema version N from `vN.seed.sql`.
//!
//! Run once per new schema version: `cargo run -p confab-core --example schema_fixture`.
//! The file is kept forever, so later versions prove they upgrade it without loss.

use std::path::Path;

use confab_core::store::{latest_schema_version, Store, DATABASE_FILE};
use sqlx::{ConnectOptions, Connection};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let version = latest_schema_version();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema");
    let seed = std::fs::read_to_string(fixtures.join(format!("v{version}.seed.sql")))?;
    let target = fixtures.join(format!("v{version}.db"));
    if target.exists() {
        return Err(format!("{} exists; fixtures are never remade", target.display()).into());
    }

    let dir = tempfile::tempdir()?;
    Store::open(dir.path()).await?.close().await;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join(DATABASE_FILE))
        .connect()
        .await?;
    sqlx::raw_sql(&seed).execute(&mut conn).await?;
    // One self-contained file: no WAL beside it.
    sqlx::raw_sql("PRAGMA journal_mode = DELETE; VACUUM")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    std::fs::copy(dir.path().join(DATABASE_FILE), &target)?;
    println!("wrote {}", target.display());
    Ok(())
}
