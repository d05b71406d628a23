//! Reading a library's database from a test: SQLite's own checks, the
//! invariants the schema makes possible, and a dump to compare before and after.

use std::path::Path;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row, SqliteConnection};

/// An open connection to a library's `confab.db`, on a runtime of its own.
pub struct Db {
    rt: tokio::runtime::Runtime,
    conn: Option<SqliteConnection>,
}

impl Db {
    /// Opens `data_dir/confab.db`; `None` when the file was never made.
    pub fn open(data_dir: &Path) -> Option<Db> {
        let path = data_dir.join("confab.db");
        if !path.exists() {
            return None;
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let conn = rt
            .block_on(
                SqliteConnectOptions::new()
                    .filename(&path)
                    .busy_timeout(std::time::Duration::from_secs(10))
                    .connect(),
            )
            .unwrap_or_else(|e| panic!("{} does not open: {e}", path.display()));
        Some(Db {
            rt,
            conn: Some(conn),
        })
    }

    /// The first column of every row, as text (NULL as "NULL").
    pub fn texts(&mut self, sql: &str) -> Vec<String> {
        let rt = &self.rt;
        let conn = self.conn.as_mut().unwrap();
        let rows = rt
            .block_on(sqlx::query(sql).fetch_all(conn))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.iter()
            .map(|r| {
                r.try_get::<Option<String>, _>(0)
                    .or_else(|_| {
                        r.try_get::<Option<i64>, _>(0)
                            .map(|v| v.map(|v| v.to_string()))
                    })
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .unwrap_or_else(|| "NULL".into())
            })
            .collect()
    }

    /// One integer.
    pub fn int(&mut self, sql: &str) -> i64 {
        let rt = &self.rt;
        let conn = self.conn.as_mut().unwrap();
        rt.block_on(sqlx::query_scalar::<_, i64>(sql).fetch_one(conn))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Runs a statement.
    pub fn run(&mut self, sql: &str) {
        let rt = &self.rt;
        let conn = self.conn.as_mut().unwrap();
        rt.block_on(sqlx::query(sql).execute(conn))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// `PRAGMA integrity_check` says ok, no foreign key points nowhere, and the
    /// message search index matches the messages.
    pub fn assert_sound(&mut self, context: &str) {
        let integrity = self.texts("PRAGMA integrity_check");
        assert_eq!(integrity, ["ok"], "{context}: integrity_check");
        let dangling =
            self.texts("SELECT \"table\" || ' row ' || rowid FROM pragma_foreign_key_check");
        assert!(dangling.is_empty(), "{context}: foreign keys: {dangling:?}");
        // FTS5's own check of an external-content index against its table
        // (absent from a library killed before that migration committed).
        if self.int("SELECT count(*) FROM sqlite_schema WHERE name = 'messages_fts'") == 0 {
            return;
        }
        let rt = &self.rt;
        let conn = self.conn.as_mut().unwrap();
        let fts = rt.block_on(
            sqlx::query(
                "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)",
            )
            .execute(conn),
        );
        assert!(fts.is_ok(), "{context}: the message index: {fts:?}");
    }

    /// Every table's rows, sorted, as text: equal dumps are equal libraries.
    pub fn dump(&mut self) -> Vec<(String, Vec<String>)> {
        let tables = self.texts(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
             ORDER BY name",
        );
        let mut dump = Vec::new();
        for table in tables {
            let columns = self.texts(&format!(
                "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
            ));
            if columns.is_empty() {
                continue;
            }
            let row = columns
                .iter()
                .map(|c| format!("quote(\"{c}\")"))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let rows = self.texts(&format!("SELECT {row} FROM \"{table}\" ORDER BY 1"));
            dump.push((table, rows));
        }
        dump
    }

    /// Closes the connection (and with it this process's hold on the WAL).
    pub fn close(mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = self.rt.block_on(conn.close());
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = self.rt.block_on(conn.close());
        }
    }
}
