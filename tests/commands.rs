//! The IPC commands on Tauri's mock runtime: what the UI receives, byte for byte.

use confab_app::{app_builder, AppState};
use confab_core::store::DATABASE_FILE;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY,
};
use tauri::webview::InvokeRequest;
use tauri::{WebviewWindow, WebviewWindowBuilder};

fn app_with(state: AppState) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let app = app_builder(mock_builder(), state)
        .build(mock_context(noop_assets()))
        .expect("the app builds on the mock runtime");
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("a mock window");
    (app, window)
}

fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            // The origin the app's own pages have on this platform.
            url: if cfg!(windows) {
                "http://tauri.localhost"
            } else {
                "tauri://localhost"
            }
            .parse()
            .unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().expect("a JSON response"))
}

fn app_in(dir: &std::path::Path) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    app_with(AppState::with_data_dir(Ok(dir.to_owned())))
}

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
            json!({"language": null, "theme": "system", "exampleDialogue": "gradual"})
        );
        let saved = invoke(
            &window,
            "set_settings",
            json!({"settings": {"language": "ru", "theme": "dark", "exampleDialogue": "keep"}}),
        )
        .unwrap();
        assert_eq!(
            saved,
            json!({"language": "ru", "theme": "dark", "exampleDialogue": "keep"})
        );
    }
    let (_app, window) = app_in(dir.path());
    assert_eq!(
        invoke(&window, "get_settings", json!({})).unwrap(),
        json!({"language": "ru", "theme": "dark", "exampleDialogue": "keep"})
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
        json!({"language": null, "theme": "system", "exampleDialogue": "gradual"})
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

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/core/tests/fixtures/cards")
        .join(name)
}

/// Sends raw bytes as the body, as the UI's file picker does.
fn invoke_raw(
    window: &WebviewWindow<MockRuntime>,
    cmd: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<Value, Value> {
    let mut headers = tauri::http::HeaderMap::new();
    headers.insert(
        "x-file-name",
        tauri::http::HeaderValue::from_str(file_name).unwrap(),
    );
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
            body: InvokeBody::Raw(bytes),
            headers,
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().expect("a JSON response"))
}

#[test]
fn the_file_picker_imports_raw_bytes_and_the_library_commands_follow() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app_in(dir.path());
    let bytes = std::fs::read(fixture("v1_png__st_Megumin.png")).unwrap();
    // The UI percent-encodes the name: non-ASCII names survive the header.
    let outcome = invoke_raw(&window, "import_file", "Megumin%20%F0%9F%92%A5.png", bytes).unwrap();
    assert_eq!(outcome["status"], "imported", "{outcome}");
    assert_eq!(outcome["file"], "Megumin 💥.png");
    let id = outcome["characterId"].as_str().unwrap().to_owned();

    let list = invoke(
        &window,
        "list_characters",
        json!({"query": {"search": "megu", "tag": null, "collection": null, "sort": "name"}}),
    )
    .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "Megumin");
    assert!(list[0]["avatarKey"].is_string());

    let mut detail = invoke(&window, "get_character", json!({"id": id})).unwrap();
    assert_eq!(detail["sourceFile"], "Megumin 💥.png");
    detail["card"]["tags"] = json!(["mage", "explosion"]);
    let saved = invoke(
        &window,
        "update_character",
        json!({"id": id, "card": detail["card"]}),
    )
    .unwrap();
    assert_eq!(saved["summary"]["tags"], json!(["mage", "explosion"]));
    let facets = invoke(&window, "library_facets", json!({})).unwrap();
    assert_eq!(facets["tags"].as_array().unwrap().len(), 2);

    let not_a_card = invoke_raw(&window, "import_file", "notes.txt", Vec::new()).unwrap();
    assert_eq!(not_a_card["status"], "failed");
    assert!(not_a_card["error"]["message"]
        .as_str()
        .unwrap()
        .contains("notes.txt"));

    invoke(&window, "delete_character", json!({"id": id})).unwrap();
    let err = invoke(&window, "get_character", json!({"id": id})).unwrap_err();
    assert_eq!(err["code"], "not_found");
}

#[test]
fn a_json_body_to_import_file_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app_in(dir.path());
    let err = invoke(&window, "import_file", json!({"bytes": [1, 2, 3]})).unwrap_err();
    assert_eq!(err["code"], "invalid_input");
}

#[test]
fn dropped_paths_import_with_progress_and_replace_keeps_the_older_id() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app_in(&dir.path().join("data"));
    let paths = [
        fixture("v2_png__st_default_Seraphina_2024.png"),
        fixture("ccv3_plus_chara__st_default_Seraphina.png"),
    ];
    let summary = invoke(
        &window,
        "import_paths",
        json!({
            "paths": paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "onEvent": "__CHANNEL__:7",
        }),
    )
    .unwrap();
    assert_eq!(summary["imported"], 2, "{summary}");
    let older = summary["outcomes"][0]["characterId"]
        .as_str()
        .unwrap()
        .to_owned();
    let newer = &summary["outcomes"][1];
    assert_eq!(newer["sameNameAs"], older.as_str());

    let replaced = invoke(
        &window,
        "replace_character",
        json!({"targetId": older, "sourceId": newer["characterId"]}),
    )
    .unwrap();
    assert_eq!(replaced["summary"]["id"], older.as_str());
    let all = invoke(
        &window,
        "list_characters",
        json!({"query": {"search": "", "tag": null, "collection": null, "sort": "recentlyAdded"}}),
    )
    .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1);
}

#[test]
fn world_books_import_edit_test_and_dictionaries_through_ipc() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app_in(dir.path());
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("crates/core/tests/fixtures/lorebooks/st_worldinfo_official__Eldoria.json"),
    )
    .unwrap();
    let summary = invoke_raw(&window, "import_world_book", "Eldoria.json", bytes).unwrap();
    assert_eq!(summary["entryCount"], 4, "{summary}");
    let id = summary["id"].as_str().unwrap().to_owned();

    // An entry gets a key no regex engine accepts: the book reports it, the rest still works.
    let mut detail = invoke(&window, "get_world_book", json!({"id": id})).unwrap();
    assert_eq!(detail["keyErrors"], json!([]));
    let mut entry = detail["entries"][1].clone();
    entry["keys"] = json!(["/(unclosed/"]);
    detail = invoke(
        &window,
        "save_entries",
        json!({"bookId": id, "entries": [entry]}),
    )
    .unwrap();
    assert_eq!(detail["keyErrors"][0]["uid"], 1, "{}", detail["keyErrors"]);

    let report = invoke(
        &window,
        "test_activation",
        json!({"request": {
            "bookIds": [id],
            "messages": [{"role": "user", "name": "T", "content": "A glade in the forest."}],
            "settings": null, "seed": 1, "contextTokens": 8192
        }}),
    )
    .unwrap();
    let uids: Vec<u64> = report["activated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["uid"].as_u64().unwrap())
        .collect();
    assert_eq!(uids, [0, 2], "{report}");
    assert_eq!(
        report["activated"][0]["reason"]["matchedIn"]["kind"],
        "message"
    );

    let rules = json!([{"find": "(", "replace": "", "regex": true, "caseSensitive": false,
                        "enabled": true, "scope": "both"}]);
    let err = invoke(
        &window,
        "set_dictionary",
        json!({"characterId": null, "rules": rules}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "invalid_input");
    assert!(err["message"].as_str().unwrap().contains("rule 1"), "{err}");
    let good = json!([{"find": "colour", "replace": "color", "regex": false, "caseSensitive": false,
                       "enabled": true, "scope": "both"}]);
    invoke(
        &window,
        "set_dictionary",
        json!({"characterId": null, "rules": good}),
    )
    .unwrap();
    assert_eq!(
        invoke(&window, "get_dictionary", json!({"characterId": null})).unwrap(),
        good
    );
}

/// A keyring that never answers, as on a Linux box without a Secret Service.
#[derive(Debug)]
struct NoKeyring;

impl confab_core::secrets::SecretStore for NoKeyring {
    fn get(&self, _: &str) -> confab_core::Result<Option<String>> {
        Err(confab_core::Error::KeyringUnavailable(
            "no Secret Service".into(),
        ))
    }
    fn set(&self, _: &str, _: &str) -> confab_core::Result<()> {
        Err(confab_core::Error::KeyringUnavailable(
            "no Secret Service".into(),
        ))
    }
    fn delete(&self, _: &str) -> confab_core::Result<()> {
        Err(confab_core::Error::KeyringUnavailable(
            "no Secret Service".into(),
        ))
    }
}

const IPC_KEY: &str = "sk-ipc-secret-0123456789abcdef";

#[test]
fn providers_and_keys_through_ipc_never_carry_the_key_back() {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::with_keys(
        Ok(dir.path().to_owned()),
        confab_core::secrets::Keys::in_memory,
    );
    let (_app, window) = app_with(state);

    let config = invoke(
        &window,
        "new_provider",
        json!({"kind": "openRouter", "name": "OpenRouter"}),
    )
    .unwrap();
    assert_eq!(
        config["extraHeaders"]["X-Title"], "Confab",
        "OpenRouter's attribution headers"
    );
    let saved = invoke(&window, "save_provider", json!({"config": config})).unwrap();
    let id = saved["config"]["id"].as_str().unwrap().to_owned();
    assert_eq!(saved["key"], json!({"set": false, "storage": null}));
    assert_eq!(
        saved["isDefault"], true,
        "the first provider is the default"
    );

    let status = invoke(
        &window,
        "set_api_key",
        json!({"providerId": id, "key": IPC_KEY, "storage": "keyring"}),
    )
    .unwrap();
    assert_eq!(status, json!({"set": true, "storage": "keyring"}));
    let list = invoke(&window, "list_providers", json!({})).unwrap();
    assert_eq!(list[0]["key"], json!({"set": true, "storage": "keyring"}));
    for response in [&status, &list] {
        assert!(!response.to_string().contains("0123456789abcdef"));
    }

    let status = invoke(&window, "delete_api_key", json!({"providerId": id})).unwrap();
    assert_eq!(status, json!({"set": false, "storage": null}));
    // No key: testing it asks nobody and says what is wrong.
    let err = invoke(&window, "test_api_key", json!({"providerId": id})).unwrap_err();
    assert_eq!(err["code"], "unauthorized");
}

#[test]
fn without_a_keyring_the_user_chooses_a_visible_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::with_keys(Ok(dir.path().to_owned()), |store| {
        confab_core::secrets::Keys::new(std::sync::Arc::new(NoKeyring), store, None)
    });
    let (_app, window) = app_with(state);
    let config = invoke(
        &window,
        "new_provider",
        json!({"kind": "openAi", "name": "OpenAI"}),
    )
    .unwrap();
    let id = invoke(&window, "save_provider", json!({"config": config})).unwrap()["config"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let options = invoke(&window, "key_storage_options", json!({})).unwrap();
    assert_eq!(options, json!({"keyring": false, "encrypted": false}));
    let err = invoke(
        &window,
        "set_api_key",
        json!({"providerId": id, "key": IPC_KEY, "storage": "keyring"}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "keyring_unavailable");
    assert!(!err.to_string().contains("0123456789abcdef"));
    // Nothing was kept anywhere.
    let list = invoke(&window, "list_providers", json!({})).unwrap();
    assert_eq!(list[0]["key"]["set"], false);

    let err = invoke(
        &window,
        "set_api_key",
        json!({"providerId": id, "key": IPC_KEY, "storage": "encrypted"}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "invalid_input");
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("CONFAB_ENCRYPTION_KEY"));

    let status = invoke(
        &window,
        "set_api_key",
        json!({"providerId": id, "key": IPC_KEY, "storage": "session"}),
    )
    .unwrap();
    assert_eq!(status, json!({"set": true, "storage": "session"}));
}

/// An OpenAI-compatible server on 127.0.0.1 that streams `words` replies, one
/// word every `pause`, to every chat request; answers its base URL.
fn slow_provider(words: usize, pause: std::time::Duration) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let mut out = reader.into_inner();
                let _ = out.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n",
                );
                for i in 0..words {
                    std::thread::sleep(pause);
                    let chunk = format!(
                        "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"w{i} \"}}}}]}}\n\n"
                    );
                    if out.write_all(chunk.as_bytes()).is_err() {
                        return; // the app dropped the request: stop generating
                    }
                }
                let _ = out.write_all(
                    b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
                );
            });
        }
    });
    url
}

/// Waits until the last message of a session satisfies `done`, returning it.
fn wait_for_last(
    window: &WebviewWindow<MockRuntime>,
    session: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..300 {
        let page = invoke(
            window,
            "get_messages",
            json!({"sessionId": session, "cursor": null, "limit": 10}),
        )
        .unwrap();
        let last = page["messages"]
            .as_array()
            .unwrap()
            .last()
            .cloned()
            .unwrap();
        if done(&last) {
            return last;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the last message never got there");
}

#[test]
fn a_reply_streams_through_the_commands_busy_stop_and_all() {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::with_keys(
        Ok(dir.path().join("data")),
        confab_core::secrets::Keys::in_memory,
    );
    let (_app, window) = app_with(state);
    let url = slow_provider(40, std::time::Duration::from_millis(10));
    let mut config = invoke(
        &window,
        "new_provider",
        json!({"kind": "openAiCompatible", "name": "Local"}),
    )
    .unwrap();
    config["baseUrl"] = json!(url);
    config["defaultModel"] = json!("local-model");
    invoke(&window, "save_provider", json!({"config": config})).unwrap();
    let summary = invoke(
        &window,
        "import_paths",
        json!({
            "paths": [fixture("v2_png__st_default_Seraphina_2024.png").display().to_string()],
            "onEvent": "__CHANNEL__:7",
        }),
    )
    .unwrap();
    let character = summary["outcomes"][0]["characterId"].as_str().unwrap();
    let session = invoke(
        &window,
        "open_or_create_session",
        json!({"characterId": character}),
    )
    .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let started = invoke(
        &window,
        "send_message",
        json!({"sessionId": session, "text": "Hello there", "imageIds": [], "onEvent": "__CHANNEL__:8"}),
    )
    .unwrap();
    assert_eq!(started["kind"], "send");
    let reply_id = started["assistantMessageId"].as_str().unwrap().to_owned();
    assert!(started["userMessageId"].is_string());
    // While it streams: the session is live, and a second send is busy.
    let live = invoke(&window, "live_sessions", json!({})).unwrap();
    assert_eq!(live["sessionIds"], json!([session]));
    let err = invoke(
        &window,
        "send_message",
        json!({"sessionId": session, "text": "again", "imageIds": [], "onEvent": "__CHANNEL__:9"}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "busy");

    let reply = wait_for_last(&window, &session, |m| m["status"] == "complete");
    assert_eq!(reply["id"], reply_id.as_str());
    assert!(reply["content"].as_str().unwrap().starts_with("w0 w1 "));
    assert_eq!(reply["meta"]["model"], "local-model");
    assert_eq!(reply["meta"]["finishReason"], "stop");

    // A slow one, stopped: the partial reply is kept as cancelled.
    let started = invoke(
        &window,
        "regenerate_reply",
        json!({"sessionId": session, "onEvent": "__CHANNEL__:10"}),
    )
    .unwrap();
    assert_eq!(started["kind"], "regenerate");
    wait_for_last(&window, &session, |m| {
        m["content"].as_str().is_some_and(|c| c.contains("w2 "))
    });
    assert_eq!(
        invoke(&window, "stop_stream", json!({"sessionId": session})).unwrap(),
        true
    );
    let stopped = wait_for_last(&window, &session, |m| m["status"] == "cancelled");
    assert_eq!(stopped["swipeCount"], 2, "regenerate made a swipe");
    assert!(!stopped["content"].as_str().unwrap().contains("w39"));
    // The session is freed just after the final save.
    let mut free = false;
    for _ in 0..100 {
        let live = invoke(&window, "live_sessions", json!({})).unwrap();
        if live["sessionIds"] == json!([]) {
            free = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(free, "the session is free again");
    assert_eq!(
        invoke(&window, "stop_stream", json!({"sessionId": session})).unwrap(),
        false
    );
}

#[test]
fn a_chat_opens_in_a_window_of_its_own_once() {
    use tauri::Manager;
    let dir = tempfile::tempdir().unwrap();
    let (mut app, window) = app_in(&dir.path().join("data"));
    // The window opener is set in the app's setup, which runs with the event loop.
    #[allow(deprecated)]
    app.run_iteration(|_, _| {});
    let summary = invoke(
        &window,
        "import_paths",
        json!({
            "paths": [fixture("v2_png__st_default_Seraphina_2024.png").display().to_string()],
            "onEvent": "__CHANNEL__:7",
        }),
    )
    .unwrap();
    let character = summary["outcomes"][0]["characterId"].as_str().unwrap();
    let session = invoke(
        &window,
        "open_or_create_session",
        json!({"characterId": character}),
    )
    .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    invoke(&window, "open_chat_window", json!({"sessionId": session})).unwrap();
    let label = format!("chat-{session}");
    assert!(app.get_webview_window(&label).is_some());
    // Asking again brings the same window forward.
    invoke(&window, "open_chat_window", json!({"sessionId": session})).unwrap();
    assert_eq!(app.webview_windows().len(), 2);

    let err = invoke(&window, "open_chat_window", json!({"sessionId": "nope"})).unwrap_err();
    assert_eq!(err["code"], "not_found");
}

/// The app built from the real `tauri.conf.json` and capabilities (so the ACL
/// that the shipped app enforces applies), on the mock runtime.
fn real_config_app(dir: &std::path::Path) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let state = AppState::with_keys(Ok(dir.to_owned()), confab_core::secrets::Keys::in_memory);
    let app = app_builder(mock_builder(), state)
        .build(tauri::generate_context!(test = true))
        .expect("the app builds from its real configuration");
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("the main window");
    (app, window)
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

/// Sends a file's bytes to a raw command with `headers`, as ui/src/lib/api.ts does.
fn invoke_file(
    window: &WebviewWindow<MockRuntime>,
    cmd: &str,
    headers: &[(&'static str, &str)],
    bytes: Vec<u8>,
) -> Result<Value, Value> {
    let mut map = tauri::http::HeaderMap::new();
    for (name, value) in headers {
        map.insert(*name, tauri::http::HeaderValue::from_str(value).unwrap());
    }
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
            body: InvokeBody::Raw(bytes),
            headers: map,
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().expect("a JSON response"))
}

#[test]
fn a_chat_an_attached_image_and_a_persona_avatar_arrive_as_raw_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = real_config_app(dir.path());
    let card = std::fs::read(fixture("v2_png__st_default_Seraphina_2024.png")).unwrap();
    let outcome = invoke_file(
        &window,
        "import_file",
        &[("x-file-name", "Seraphina.png")],
        card.clone(),
    )
    .unwrap();
    let character = outcome["characterId"].as_str().unwrap().to_owned();

    // A SillyTavern chat with swipes, for that character.
    let chat = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("crates/core/tests/fixtures/chats/st_chat_swipes__seraphina_backup.jsonl"),
    )
    .unwrap();
    let headers = [
        ("x-file-name", "seraphina%20backup.jsonl"),
        ("x-character-id", character.as_str()),
    ];
    let session = invoke_file(&window, "import_chat", &headers, chat.clone()).unwrap();
    assert_eq!(session["characterId"], character.as_str(), "{session}");
    let page = invoke(
        &window,
        "get_messages",
        json!({"sessionId": session["id"], "cursor": null, "limit": 50}),
    )
    .unwrap();
    assert!(page["messages"].as_array().unwrap().len() > 1, "{page}");
    // Without the character it says what is missing.
    let err = invoke_file(&window, "import_chat", &[("x-file-name", "a.jsonl")], chat).unwrap_err();
    assert_eq!(err["code"], "invalid_input");
    assert!(err["message"].as_str().unwrap().contains("x-character-id"));

    // An image for the next message: a real PNG is kept, bytes that are no image are refused.
    let image = invoke_file(
        &window,
        "attach_image",
        &[("x-file-name", "glade.png")],
        card.clone(),
    )
    .unwrap();
    assert!(image["id"].is_string(), "{image}");
    let err = invoke_file(
        &window,
        "attach_image",
        &[("x-file-name", "notes.png")],
        b"not an image".to_vec(),
    )
    .unwrap_err();
    assert!(err["code"].is_string(), "{err}");

    // A persona's avatar.
    let persona = invoke(
        &window,
        "create_persona",
        json!({"name": "Traveller", "description": "Lost in the forest."}),
    )
    .unwrap();
    let id = persona["id"].as_str().unwrap();
    let updated =
        invoke_file(&window, "set_persona_avatar", &[("x-persona-id", id)], card).unwrap();
    assert_eq!(updated["id"], id);
    assert_ne!(updated["avatarKey"], persona["avatarKey"], "{updated}");
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
