//! The `confab` binary, run as a user would run it.

use std::path::Path;
use std::process::{Command, Output};

fn confab(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_confab"))
        .args(args)
        .env("CONFAB_DATA_DIR", data_dir)
        .output()
        .expect("the confab binary runs")
}

fn stdout_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn version_prints_the_workspace_version() {
    let dir = tempfile::tempdir().unwrap();
    let out = confab(dir.path(), &["--version"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("confab {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn info_json_reports_the_data_dir_schema_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = confab(&data, &["info", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info = stdout_json(&out);
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["dataDir"], data.display().to_string());
    assert_eq!(
        info["databasePath"],
        data.join("confab.db").display().to_string()
    );
    assert!(info["schemaVersion"].as_u64().unwrap() >= 1);
    assert_eq!(
        info["counts"],
        serde_json::json!({"characters": 0, "worldBooks": 0, "sessions": 0, "messages": 0, "personas": 0})
    );
}

#[test]
fn info_as_text_is_readable() {
    let dir = tempfile::tempdir().unwrap();
    let out = confab(dir.path(), &["info"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Schema version: "), "{text}");
    assert!(text.contains(&dir.path().display().to_string()), "{text}");
}

#[test]
fn a_corrupt_database_is_a_json_error_and_a_failure_exit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("confab.db");
    std::fs::write(&db, b"garbage, not sqlite").unwrap();
    let out = confab(dir.path(), &["--json", "info"]);
    assert!(!out.status.success());
    let body = stdout_json(&out);
    assert_eq!(body["error"]["code"], "database_corrupt");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("did not change it"));
    assert_eq!(std::fs::read(&db).unwrap(), b"garbage, not sqlite");
}

#[test]
fn a_corrupt_database_without_json_explains_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("confab.db"), b"garbage, not sqlite").unwrap();
    let out = confab(dir.path(), &["info"]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("damaged") && err.contains("[database_corrupt]"),
        "{err}"
    );
}
