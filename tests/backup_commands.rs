//! Backups, restore and the library archive through the real app builder, as the Settings screen calls them.

mod support;

use serde_json::json;
use support::{app_in, chat_with_slow_provider, invoke};

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
    let report = invoke(
        &other,
        "import_library",
        json!({"path": path, "choices": {}}),
    )
    .unwrap();
    assert_eq!(report["added"]["personas"], 1);
    assert_eq!(report["previous"]["kind"], "preImport");
    assert_eq!(personas(&other), ["Ada"]);
    let again = invoke(
        &other,
        "import_library",
        json!({"path": path, "choices": {}}),
    )
    .unwrap();
    assert_eq!(again["skipped"][0]["reason"], "alreadyInLibrary");

    let garbage = out.path().join("garbage.confab");
    std::fs::write(&garbage, b"nothing").unwrap();
    let err = invoke(
        &other,
        "import_library",
        json!({"path": garbage, "choices": {}}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "backup_damaged");
}

#[test]
fn restoring_or_importing_is_refused_while_a_reply_streams_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A reply of 600 words, one every 20 ms: it streams for as long as the test needs.
    let (_app, window, session) = chat_with_slow_provider(
        &dir.path().join("data"),
        600,
        std::time::Duration::from_millis(20),
    );
    let saved = invoke(&window, "create_backup", json!({})).unwrap();
    let out = tempfile::tempdir().unwrap();
    let exported = invoke(
        &window,
        "export_library",
        json!({"folder": out.path().to_str().unwrap()}),
    )
    .unwrap();
    invoke(
        &window,
        "create_persona",
        json!({"name": "Ada", "description": ""}),
    )
    .unwrap();

    invoke(
        &window,
        "send_message",
        json!({"sessionId": session, "text": "Hello there", "imageIds": [], "onEvent": "__CHANNEL__:8"}),
    )
    .unwrap();
    let err = invoke(&window, "restore_backup", json!({"name": saved["name"]})).unwrap_err();
    assert_eq!(err["code"], "reply_streaming", "{err}");
    let err = invoke(
        &window,
        "import_library",
        json!({"path": exported["path"], "choices": {"default": "overwrite"}}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "reply_streaming", "{err}");
    // Nothing changed: no safety backup taken, the persona added since is still here.
    let listed = invoke(&window, "list_backups", json!({})).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(personas(&window), ["Ada"]);

    // Stopped, the restore goes through.
    assert_eq!(
        invoke(&window, "stop_stream", json!({"sessionId": session})).unwrap(),
        true
    );
    let mut restored = None;
    for _ in 0..200 {
        match invoke(&window, "restore_backup", json!({"name": saved["name"]})) {
            Ok(outcome) => {
                restored = Some(outcome);
                break;
            }
            // The stream is freed just after its final save.
            Err(e) if e["code"] == "reply_streaming" => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(
        restored.expect("restored once stopped")["previous"]["kind"],
        "preRestore"
    );
    assert!(personas(&window).is_empty());
}

#[test]
fn an_import_lists_its_conflicts_then_settles_each_as_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let (_app, window) = app_in(dir.path());
    let ada = invoke(
        &window,
        "create_persona",
        json!({"name": "Ada", "description": "First"}),
    )
    .unwrap();
    let grace = invoke(
        &window,
        "create_persona",
        json!({"name": "Grace", "description": "First"}),
    )
    .unwrap();
    let exported = invoke(
        &window,
        "export_library",
        json!({"folder": out.path().to_str().unwrap()}),
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    for p in [&ada, &grace] {
        invoke(
            &window,
            "update_persona",
            json!({"id": p["id"], "name": p["name"], "description": "Edited here"}),
        )
        .unwrap();
    }

    let preview = invoke(
        &window,
        "preview_library_import",
        json!({"path": exported["path"], "choices": {}}),
    )
    .unwrap();
    let conflicts = preview["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 2, "{preview}");
    assert!(conflicts
        .iter()
        .all(|c| c["kind"] == "persona" && c["choice"] == "skip"));
    assert_eq!(
        personas(&window),
        ["Ada", "Grace"],
        "a dry run changes nothing"
    );

    let report = invoke(
        &window,
        "import_library",
        json!({"path": exported["path"], "choices": {
            "default": "skip",
            "items": [{"kind": "persona", "id": ada["id"], "choice": "keepBoth"}],
            "copyLabel": "импортировано",
        }}),
    )
    .unwrap();
    assert_eq!(report["added"]["personas"], 1, "{report}");
    // The copy is named in the user's language.
    assert_eq!(personas(&window), ["Ada", "Ada (импортировано)", "Grace"]);
    let skipped = report["skipped"].as_array().unwrap();
    assert!(skipped
        .iter()
        .any(|s| s["id"] == grace["id"] && s["reason"] == "conflict"));
}

#[test]
fn the_native_open_dialog_is_allowed_and_nothing_more_of_the_dialog_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = support::real_config_app(dir.path());
    // Arguments no dialog accepts: refused by the plugin after the ACL let it
    // through, so no dialog opens in the test.
    let bad = json!({"options": [[[-1.5]]]});
    let open = invoke(&window, "plugin:dialog|open", bad.clone()).unwrap_err();
    assert!(
        open.as_str().is_some_and(|e| e.starts_with("invalid args")),
        "{open}"
    );
    for denied in [
        "plugin:dialog|save",
        "plugin:dialog|message",
        "plugin:dialog|ask",
    ] {
        let err = invoke(&window, denied, bad.clone()).unwrap_err();
        let text = err.as_str().unwrap_or_default();
        assert!(
            text.contains("not allowed"),
            "{denied} must be denied by the ACL: {err}"
        );
    }
}
