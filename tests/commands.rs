//! The IPC commands on Tauri's mock runtime: what the UI receives, byte for byte.
//!
//! This file: the app itself (info, settings, a corrupt database, no data
//! folder, holding the library), and every command the UI can call routed and
//! allowed. The library's commands are in commands_library.rs, providers and
//! keys in commands_providers.rs, chats in commands_chat.rs.

mod support;

use confab_app::AppState;
use confab_core::store::DATABASE_FILE;
use serde_json::{json, Value};
use support::{app_in, app_with, fixture, invoke, real_config_app};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindow;

#[test]
fn app_info_reports_version_paths_schema_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app_in(dir.path());
    let info = invoke(&window, "app_info", json!({})).unwrap();
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["dataDir"], dir.path().display().to_string());
    assert_eq!(
        info["databasePath"],
        dir.path().join(DATABASE_FILE).display().to_string()
    );
    assert!(info["schemaVersion"].as_u64().unwrap() >= 1);
    assert_eq!(info["counts"]["characters"], 0);
    assert_eq!(info["counts"]["worldBooks"], 0);
}

#[test]
fn settings_round_trip_and_persist_across_app_restarts() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (_app, window) = app_in(dir.path());
        assert_eq!(
            invoke(&window, "get_settings", json!({})).unwrap(),
            json!({"language": null, "theme": "system", "exampleDialogue": "gradual", "keywordWorldInfoAtDepth": false})
        );
        let saved = invoke(
            &window,
            "set_settings",
            json!({"settings": {"language": "ru", "theme": "dark", "exampleDialogue": "keep", "keywordWorldInfoAtDepth": true}}),
        )
        .unwrap();
        assert_eq!(
            saved,
            json!({"language": "ru", "theme": "dark", "exampleDialogue": "keep", "keywordWorldInfoAtDepth": true})
        );
    }
    let (_app, window) = app_in(dir.path());
    assert_eq!(
        invoke(&window, "get_settings", json!({})).unwrap(),
        json!({"language": "ru", "theme": "dark", "exampleDialogue": "keep", "keywordWorldInfoAtDepth": true})
    );
}

#[test]
fn a_corrupt_database_reaches_the_ui_as_a_typed_error_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DATABASE_FILE);
    std::fs::write(&db, b"not a database").unwrap();
    let (_app, window) = app_in(dir.path());

    let err = invoke(&window, "app_info", json!({})).unwrap_err();
    assert_eq!(err["code"], "database_corrupt");
    assert_eq!(err["path"], db.display().to_string());
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("did not change it"));
    assert_eq!(std::fs::read(&db).unwrap(), b"not a database");

    // Once the user moves the file away, Retry works without a restart.
    std::fs::rename(&db, dir.path().join("confab.db.damaged")).unwrap();
    let info = invoke(&window, "app_info", json!({})).unwrap();
    assert!(info["schemaVersion"].as_u64().unwrap() >= 1);
}

#[test]
fn a_bad_settings_value_is_rejected_before_it_reaches_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app_in(dir.path());
    let err = invoke(
        &window,
        "set_settings",
        json!({"settings": {"language": "xx", "theme": "dark"}}),
    )
    .unwrap_err();
    // Tauri rejects undeserialisable arguments itself, before the command runs.
    assert!(
        err.as_str().unwrap_or_default().contains("`settings`"),
        "{err}"
    );
    assert_eq!(
        invoke(&window, "get_settings", json!({})).unwrap(),
        json!({"language": null, "theme": "system", "exampleDialogue": "gradual", "keywordWorldInfoAtDepth": false})
    );
}

#[test]
fn no_data_folder_is_a_typed_error() {
    let state = AppState::with_data_dir(Err(confab_core::AppError {
        retry_after_secs: None,
        code: confab_core::ErrorCode::Internal,
        message: "this system has no app-data folder; set CONFAB_DATA_DIR to choose one".into(),
        path: None,
    }));
    let (_app, window) = app_with(state);
    let err = invoke(&window, "app_info", json!({})).unwrap_err();
    assert_eq!(err["code"], "internal");
    assert!(err["message"].as_str().unwrap().contains("CONFAB_DATA_DIR"));
}

/// Sends `body` (JSON or raw bytes) to `cmd` from the main window.
fn invoke_body(
    window: &WebviewWindow<MockRuntime>,
    cmd: &str,
    body: InvokeBody,
) -> Result<Value, Value> {
    get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: if cfg!(windows) {
                "http://tauri.localhost"
            } else {
                "tauri://localhost"
            }
            .parse()
            .unwrap(),
            body,
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().expect("a JSON response"))
}

fn camel_case(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Command names a file invokes by string literal: `NAME("x"` or `NAME<T>("x"`.
fn invoked_names(source: &str, function: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    let mut rest = source;
    while let Some(at) = rest.find(function) {
        rest = &rest[at + function.len()..];
        let mut tail = rest;
        if let Some(generic) = tail.strip_prefix('<') {
            // Skip a type argument (which may itself be generic).
            let mut depth = 1;
            let end = generic.char_indices().find(|&(_, c)| {
                depth += match c {
                    '<' => 1,
                    '>' => -1,
                    _ => 0,
                };
                depth == 0
            });
            let Some((end, _)) = end else { continue };
            tail = &generic[end + 1..];
        }
        let Some(quoted) = tail.strip_prefix("(\"") else {
            continue;
        };
        if let Some(end) = quoted.find('"') {
            names.insert(quoted[..end].to_owned());
        }
    }
    names
}

#[test]
fn every_command_the_ui_can_call_is_routed_and_allowed() {
    use std::collections::BTreeSet;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let registered = confab_app::registered_commands();
    let names: BTreeSet<String> = registered.iter().map(|c| c.name.clone()).collect();
    assert_eq!(
        names.len(),
        registered.len(),
        "a command is registered twice"
    );

    // The generated bindings call exactly the typed commands...
    let bindings = std::fs::read_to_string(root.join(confab_app::BINDINGS_PATH)).unwrap();
    let typed: BTreeSet<String> = registered
        .iter()
        .filter(|c| !c.raw)
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(invoked_names(&bindings, "__TAURI_INVOKE"), typed);
    // ...and every raw command the UI wraps by hand is registered too.
    let api = std::fs::read_to_string(root.join("ui/src/lib/api.ts")).unwrap();
    let by_hand: BTreeSet<String> = invoked_names(&api, "invoke")
        .union(&invoked_names(&api, "rawCall"))
        .cloned()
        .collect();
    assert!(!by_hand.is_empty(), "api.ts invokes raw commands by name");
    let unrouted: Vec<_> = by_hand.difference(&names).collect();
    assert!(
        unrouted.is_empty(),
        "api.ts calls unregistered {unrouted:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = real_config_app(dir.path());
    let mut failures = Vec::new();
    for command in &registered {
        let name = command.name.as_str();
        if command.raw {
            // JSON where the file's bytes belong: refused by the command itself.
            let answer = invoke_body(&window, name, InvokeBody::Json(json!({"bytes": [1]})));
            if answer.as_ref().err().map(|e| &e["code"]) != Some(&json!("invalid_input")) {
                failures.push(format!("{name}: {answer:?}"));
            }
            continue;
        }
        // Every argument of a type no parameter accepts.
        let bad = json!([[[-1.5]]]);
        let args: serde_json::Map<String, Value> = command
            .args
            .iter()
            .map(|a| (camel_case(a), bad.clone()))
            .collect();
        let answer = invoke_body(&window, name, InvokeBody::Json(Value::Object(args)));
        let ok = match &answer {
            // Tauri refuses the arguments before the command runs.
            Err(Value::String(e)) => {
                !command.args.is_empty()
                    && e.starts_with("invalid args")
                    && e.contains(&format!("command `{name}`"))
            }
            // No arguments to get wrong: the command ran.
            Ok(_) | Err(Value::Object(_)) => command.args.is_empty(),
            Err(_) => false,
        };
        if !ok {
            failures.push(format!("{name}: {answer:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "commands answering other than a typed refusal:\n{}",
        failures.join("\n")
    );
}

/// A library whose only session ends in a reply cut while it streamed.
fn library_with_a_cut_reply(dir: &std::path::Path) -> (String, String) {
    use confab_core::session::{MessageStatus, Role};
    use confab_core::store::{NewMessage, Store};
    tauri::async_runtime::block_on(async {
        let store = Store::open(dir).await.unwrap();
        let bytes = std::fs::read(fixture("v2_png__st_default_Seraphina_2024.png")).unwrap();
        let outcome = confab_core::library::import_bytes(
            &store,
            "Seraphina.png",
            bytes,
            &confab_core::card::Limits::default(),
        )
        .await;
        let character = outcome.character_id.expect("imported");
        let session = store
            .create_session(&character, None, "Traveller")
            .await
            .unwrap();
        let reply = store
            .add_message(
                &session,
                NewMessage {
                    role: Role::Assistant,
                    name: "Seraphina",
                    content: "The forest is",
                    status: MessageStatus::Partial,
                    image_ids: &[],
                    speaker: None,
                },
            )
            .await
            .unwrap();
        store.close().await;
        (session, reply.id)
    })
}

fn last_status(window: &WebviewWindow<MockRuntime>, session: &str) -> Value {
    let page = invoke(
        window,
        "get_messages",
        json!({"sessionId": session, "cursor": null, "limit": 10}),
    )
    .unwrap();
    page["messages"].as_array().unwrap().last().unwrap()["status"].clone()
}

#[test]
fn the_app_holds_its_library_and_recovers_cut_replies_only_alone() {
    use confab_core::store::{LibraryLock, DATABASE_FILE};
    let dir = tempfile::tempdir().unwrap();
    let (session, _) = library_with_a_cut_reply(dir.path());
    // Another process (a `confab chat`, or another app) is streaming.
    let mut other = LibraryLock::open(&dir.path().join(DATABASE_FILE)).unwrap();
    other.share().unwrap();

    let state = AppState::with_data_dir(Ok(dir.path().to_owned()));
    let (_app, window) = app_with(state.clone());
    assert_eq!(
        last_status(&window, &session),
        "partial",
        "another process may be streaming it"
    );
    other.release();
    // The app itself now holds the library: no CLI command can recover beside it.
    assert!(!other.try_sole(), "the app holds its library while it runs");
    tauri::async_runtime::block_on(state.close());
    assert!(other.try_sole(), "and lets go when it closes");
    other.release();

    // The next start finds nobody else: the cut reply is marked interrupted.
    let (_app, window) = app_in(dir.path());
    assert_eq!(last_status(&window, &session), "interrupted");
}
