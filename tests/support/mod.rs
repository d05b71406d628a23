//! Shared by the app's command tests: the app on Tauri's mock runtime (with a
//! mock context, or the real configuration so the shipped ACL applies), invoking
//! a command as the UI does (JSON or raw bytes), and the fixtures' path.
#![allow(dead_code)] // each test binary uses its own part of this

use confab_app::{app_builder, AppState};
use serde_json::Value;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY,
};
use tauri::webview::InvokeRequest;
use tauri::{WebviewWindow, WebviewWindowBuilder};

pub fn app_with(state: AppState) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let app = app_builder(mock_builder(), state)
        .build(mock_context(noop_assets()))
        .expect("the app builds on the mock runtime");
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("a mock window");
    (app, window)
}

pub fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
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

pub fn app_in(dir: &std::path::Path) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    app_with(AppState::with_data_dir(Ok(dir.to_owned())))
}

/// The app in `dir` with its setup run: the engine's and the commands'
/// notices and the window opener are wired there, which the mock runtime
/// does only when its event loop turns.
pub fn app_set_up_in(
    dir: &std::path::Path,
) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let (mut app, window) = app_in(dir);
    #[allow(deprecated)] // one turn of the loop is all a test needs
    app.run_iteration(|_, _| {});
    (app, window)
}

/// Seraphina imported from her PNG card and a chat with her: their ids.
pub fn seraphina_chat(window: &WebviewWindow<MockRuntime>) -> (String, String) {
    let summary = invoke(
        window,
        "import_paths",
        serde_json::json!({
            "paths": [fixture("v2_png__st_default_Seraphina_2024.png").display().to_string()],
            "onEvent": "__CHANNEL__:7",
        }),
    )
    .expect("the card imports");
    let character = summary["outcomes"][0]["characterId"]
        .as_str()
        .expect("a character id")
        .to_owned();
    let session = invoke(
        window,
        "open_or_create_session",
        serde_json::json!({"characterId": character}),
    )
    .expect("a chat opens")["id"]
        .as_str()
        .expect("a session id")
        .to_owned();
    (character, session)
}

pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/core/tests/fixtures/cards")
        .join(name)
}

/// Sends raw bytes as the body, as the UI's file picker does.
pub fn invoke_raw(
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

/// The app built from the real `tauri.conf.json` and capabilities (so the ACL
/// that the shipped app enforces applies), on the mock runtime.
pub fn real_config_app(
    dir: &std::path::Path,
) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let state = AppState::with_keys(Ok(dir.to_owned()), confab_core::secrets::Keys::in_memory);
    let app = app_builder(mock_builder(), state)
        .build(tauri::generate_context!(test = true))
        .expect("the app builds from its real configuration");
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("the main window");
    (app, window)
}

/// An OpenAI-compatible server on 127.0.0.1 that streams `words` replies, one
/// word every `pause`, to every chat request; answers its base URL.
pub fn slow_provider(words: usize, pause: std::time::Duration) -> String {
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

/// An app with a provider streaming `words` words `pause` apart, and a chat
/// with a real card in it; returns the app, its window and the chat's id.
pub fn chat_with_slow_provider(
    data: &std::path::Path,
    words: usize,
    pause: std::time::Duration,
) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>, String) {
    let state = AppState::with_keys(Ok(data.to_owned()), confab_core::secrets::Keys::in_memory);
    let (app, window) = app_with(state);
    let url = slow_provider(words, pause);
    let mut config = invoke(
        &window,
        "new_provider",
        serde_json::json!({"kind": "openAiCompatible", "name": "Local"}),
    )
    .unwrap();
    config["baseUrl"] = serde_json::json!(url);
    config["defaultModel"] = serde_json::json!("local-model");
    invoke(
        &window,
        "save_provider",
        serde_json::json!({"config": config}),
    )
    .unwrap();
    let summary = invoke(
        &window,
        "import_paths",
        serde_json::json!({
            "paths": [fixture("v2_png__st_default_Seraphina_2024.png").display().to_string()],
            "onEvent": "__CHANNEL__:7",
        }),
    )
    .unwrap();
    let character = summary["outcomes"][0]["characterId"].as_str().unwrap();
    let session = invoke(
        &window,
        "open_or_create_session",
        serde_json::json!({"characterId": character}),
    )
    .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (app, window, session)
}
