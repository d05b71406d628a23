//! Backups, restore and the library archive through the real app builder, as the Settings screen calls them.

mod support;

use serde_json::json;
use support::{app_in, invoke};

fn personas(window: &tauri::WebviewWindow<tauri::test::MockRuntime>) -> Vec<String> {
    let list = invoke(window, "list_personas", json!({})).unwrap();
    let mut names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn settings_can_back_up_list_and_restore() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app_in(dir.path());
    invoke(
        &window,
        "create_persona",
        json!({"name": "Ada", "description": ""}),
    )
    .unwrap();
    let created = invoke(&window, "create_backup", json!({})).unwrap();
    assert_eq!(created["kind"], "manual");
    invoke(
        &window,
        "create_persona",
        json!({"name": "Grace", "description": ""}),
    )
    .unwrap();

    let listed = invoke(&window, "list_backups", json!({})).unwrap();
    assert_eq!(listed[0]["name"], created["name"]);
    let restored = invoke(&window, "restore_backup", json!({"name": created["name"]})).unwrap();
    assert_eq!(restored["previous"]["kind"], "preRestore");
    // The app's own store sees the restored library at once.
    assert_eq!(personas(&window), ["Ada"]);
    assert_eq!(
        invoke(&window, "list_backups", json!({}))
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let err = invoke(&window, "restore_backup", json!({"name": "../confab.db"})).unwrap_err();
    assert_eq!(err["code"], "not_found");
}

#[test]
fn a_damaged_backup_is_refused_with_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app_in(dir.path());
    invoke(
        &window,
        "create_persona",
        json!({"name": "Ada", "description": ""}),
    )
    .unwrap();
    let backups = dir.path().join("backups");
    std::fs::create_dir_all(&backups).unwrap();
    std::fs::write(
        backups.join("confab-1700000000000-manual-v6.db"),
        b"SQLite format 3\0garbage",
    )
    .unwrap();
    let err = invoke(
        &window,
        "restore_backup",
        json!({"name": "confab-1700000000000-manual-v6.db"}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "backup_damaged");
    assert_eq!(personas(&window), ["Ada"]);
}

#[test]
fn backup_settings_round_trip_and_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app_in(dir.path());
    let defaults = invoke(&window, "get_backup_settings", json!({})).unwrap();
    assert_eq!(
        defaults,
        json!({"keep": 7, "intervalHours": 24, "keepBeforeUpgrade": 3})
    );
    let chosen = json!({"keep": 3, "intervalHours": 6, "keepBeforeUpgrade": 2});
    assert_eq!(
        invoke(&window, "set_backup_settings", json!({"settings": chosen})).unwrap(),
        chosen
    );
    let err = invoke(
        &window,
        "set_backup_settings",
        json!({"settings": {"keep": 0, "intervalHours": 6, "keepBeforeUpgrade": 2}}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "invalid_input");
    assert_eq!(
        invoke(&window, "get_backup_settings", json!({})).unwrap(),
        chosen
    );
}

#[test]
fn the_library_moves_between_apps_through_an_archive() {
    let from = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let (_a, window) = app_in(from.path());
    invoke(
        &window,
        "create_persona",
        json!({"name": "Ada", "description": ""}),
    )
    .unwrap();
    let exported = invoke(
        &window,
        "export_library",
        json!({"folder": out.path().to_str().unwrap()}),
    )
    .unwrap();
    let path = exported["path"].as_str().unwrap().to_owned();
    assert!(path.ends_with(".confab") && std::path::Path::new(&path).is_file());
    assert!(
        std::path::Path::new(&path).starts_with(out.path()),
        "{path}"
    );

    let to = tempfile::tempdir().unwrap();
    let (_b, other) = app_in(to.path());
    let report = invoke(&other, "import_library", json!({"path": path})).unwrap();
    assert_eq!(report["added"]["personas"], 1);
    assert_eq!(report["previous"]["kind"], "preImport");
    assert_eq!(personas(&other), ["Ada"]);
    let again = invoke(&other, "import_library", json!({"path": path})).unwrap();
    assert_eq!(again["skipped"][0]["reason"], "alreadyInLibrary");

    let garbage = out.path().join("garbage.confab");
    std::fs::write(&garbage, b"nothing").unwrap();
    let err = invoke(&other, "import_library", json!({"path": garbage})).unwrap_err();
    assert_eq!(err["code"], "backup_damaged");
}
