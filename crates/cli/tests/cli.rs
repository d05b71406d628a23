//! The `confab` binary, run as a user would run it.
//!
//! This file: the version, `info`, a corrupt database, and cards (inspect,
//! import, export). World books are in cli_lore.rs, sessions and prompts in
//! cli_sessions.rs.

mod cli_support;

use std::path::Path;

use cli_support::{confab, fixture, json_lines, stdout_json};

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

#[test]
fn card_inspect_prints_normalised_v3_without_importing() {
    let dir = tempfile::tempdir().unwrap();
    let card = fixture("v2_png__st_default_Seraphina_2024.png");
    let out = confab(
        dir.path(),
        &["card", "inspect", card.to_str().unwrap(), "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v = stdout_json(&out);
    assert_eq!(v["spec"], "chara_card_v3");
    assert_eq!(v["spec_version"], "3.0");
    assert_eq!(v["data"]["name"], "Seraphina");
    assert!(
        !dir.path().join("confab.db").exists(),
        "inspect imports nothing"
    );
}

#[test]
fn card_inspect_of_a_plain_image_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    // The app's own icon: a real PNG with no card in it.
    let plain = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../icons/32x32.png");
    let out = confab(
        dir.path(),
        &["--json", "card", "inspect", plain.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert_eq!(stdout_json(&out)["error"]["code"], "no_card_data");
}

#[test]
fn import_prints_a_json_line_per_file_and_finds_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let files = [
        fixture("v1_png__st_Megumin.png"),
        fixture("v1_json_zh__mushoku_Roxy_stage1.json"),
    ];
    let broken = dir.path().join("broken.png");
    std::fs::write(&broken, b"not a card").unwrap();
    let mut args = vec!["import", "--json"];
    let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    let broken_arg = broken.display().to_string();
    args.push(&broken_arg);

    let out = confab(&data, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["status"], "imported");
    assert_eq!(lines[0]["name"], "Megumin");
    assert_eq!(lines[1]["status"], "imported");
    assert_eq!(lines[2]["status"], "failed");
    assert!(lines[2]["error"]["code"].is_string());

    let again = json_lines(&confab(&data, &args[..3]));
    assert_eq!(again[0]["status"], "alreadyInLibrary");

    let listed = stdout_json(&confab(&data, &["characters", "--json"]));
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"Megumin"));
}

#[test]
fn export_writes_a_card_that_reads_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let card = fixture("v2_png__st_default_FluxTheCat.png");
    let lines = json_lines(&confab(
        &data,
        &["import", "--json", card.to_str().unwrap()],
    ));
    let id = lines[0]["characterId"].as_str().unwrap().to_owned();

    for format in ["png", "json", "json-v2", "charx"] {
        let target = dir.path().join(format!("flux.{format}"));
        let out = confab(
            &data,
            &[
                "export",
                &id,
                "--format",
                format,
                "-o",
                target.to_str().unwrap(),
                "--json",
            ],
        );
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let inspected = stdout_json(&confab(
            &data,
            &["card", "inspect", target.to_str().unwrap(), "--json"],
        ));
        assert_eq!(inspected["data"]["name"], "Flux the Cat", "{format}");
    }
    let missing = confab(&data, &["export", "no-such-id", "-o", "x.png", "--json"]);
    assert_eq!(stdout_json(&missing)["error"]["code"], "not_found");
}
