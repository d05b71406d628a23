//! World-book commands on Tauri's mock runtime through the real app builder: a book
//! with a regex key too large to compile still opens and tests; triggers, character
//! filters and decorators reach the UI with their reasons.

use confab_app::{app_builder, AppState};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY,
};
use tauri::webview::InvokeRequest;
use tauri::{WebviewWindow, WebviewWindowBuilder};

fn app_in(dir: &std::path::Path) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let app = app_builder(mock_builder(), AppState::with_data_dir(Ok(dir.to_owned())))
        .build(mock_context(noop_assets()))
        .expect("the app builds on the mock runtime");
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("a mock window");
    (app, window)
}

fn call(
    window: &WebviewWindow<MockRuntime>,
    cmd: &str,
    body: InvokeBody,
    headers: tauri::http::HeaderMap,
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
            headers,
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().expect("a JSON response"))
}

fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    call(window, cmd, InvokeBody::Json(args), Default::default())
}

fn import(window: &WebviewWindow<MockRuntime>, name: &str, book: &Value) -> Value {
    let mut headers = tauri::http::HeaderMap::new();
    headers.insert(
        "x-file-name",
        tauri::http::HeaderValue::from_str(name).unwrap(),
    );
    let bytes = serde_json::to_vec(book).unwrap();
    call(window, "import_world_book", InvokeBody::Raw(bytes), headers).unwrap()
}

fn uids(list: &Value) -> Vec<u64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["uid"].as_u64().unwrap())
        .collect()
}

/// A SillyTavern world-info file as ST writes it.
fn st_book() -> Value {
    json!({"entries": {
        "0": {"uid": 0, "key": ["/\\w{100}/", "wyrm"], "content": "Wyrms sleep."},
        "1": {"uid": 1, "key": ["dragon"], "content": "Dragons fly."},
        "2": {"uid": 2, "key": ["dragon"], "content": "Only on continue.", "triggers": ["continue"]},
        "3": {"uid": 3, "key": ["dragon"], "content": "Not for Seraphina.",
              "characterFilter": {"isExclude": true, "names": ["Seraphina.png"], "tags": []}},
        "4": {"uid": 4, "key": [], "content": "@@activate\nThe moon is red."},
        "5": {"uid": 5, "key": ["dragon"], "content": "@@dont_activate\nHidden."}
    }})
}

#[test]
fn a_book_with_a_huge_regex_key_opens_reports_the_key_and_tests() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app_in(dir.path());
    let summary = import(&window, "Dragons.json", &st_book());
    let id = summary["id"].as_str().unwrap().to_owned();

    // The editor opens: the key's own error, named by entry and key, with its kind.
    let detail = invoke(&window, "get_world_book", json!({"id": id})).unwrap();
    assert_eq!(detail["entries"].as_array().unwrap().len(), 6);
    let errors = detail["keyErrors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["uid"], 0);
    assert_eq!(errors[0]["key"], "/\\w{100}/");
    assert_eq!(errors[0]["kind"], "tooLarge");
    assert!(errors[0]["error"].as_str().unwrap().contains("MiB"));
    // The filter is a typed field the editor shows and saves.
    assert_eq!(
        detail["entries"][3]["characterFilter"],
        json!({"exclude": true, "names": ["Seraphina.png"], "tags": []})
    );

    let test = |trigger: &str, character: Value| {
        invoke(
            &window,
            "test_activation",
            json!({"request": {
                "bookIds": [id],
                "messages": [{"role": "user", "name": "Ann", "content": "A dragon and a wyrm."}],
                "settings": null, "seed": 1, "contextTokens": 8192,
                "trigger": trigger, "character": character
            }}),
        )
        .unwrap()
    };
    let report = test("normal", json!({"name": "Seraphina", "tags": ["fantasy"]}));
    assert_eq!(uids(&report["activated"]), [0, 1, 4], "{report}");
    assert_eq!(report["activated"][2]["reason"]["kind"], "decorator");
    assert_eq!(report["activated"][2]["content"], "The moon is red.");
    let dropped: Vec<(u64, String)> = report["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["uid"].as_u64().unwrap(),
                d["reason"]["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(dropped.contains(&(2, "trigger".into())), "{dropped:?}");
    assert!(
        dropped.contains(&(3, "characterFilter".into())),
        "{dropped:?}"
    );
    assert!(dropped.contains(&(5, "dontActivate".into())), "{dropped:?}");

    let report = test("continue", json!({"name": "Ann", "tags": []}));
    assert_eq!(uids(&report["activated"]), [0, 1, 2, 3, 4], "{report}");

    // Without the new fields (an older UI), a normal scan with no filters.
    let report = invoke(
        &window,
        "test_activation",
        json!({"request": {
            "bookIds": [id],
            "messages": [{"role": "user", "name": "Ann", "content": "A dragon."}],
            "settings": null, "seed": 1, "contextTokens": 8192
        }}),
    )
    .unwrap();
    assert_eq!(uids(&report["activated"]), [1, 3, 4], "{report}");
}

#[test]
fn a_character_filter_saved_in_the_editor_is_kept_and_applied() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app_in(dir.path());
    let summary = import(&window, "Dragons.json", &st_book());
    let id = summary["id"].as_str().unwrap().to_owned();
    let detail = invoke(&window, "get_world_book", json!({"id": id})).unwrap();
    let mut entry = detail["entries"][1].clone();
    entry["characterFilter"] = json!({"exclude": false, "names": [], "tags": ["Fantasy"]});
    let saved = invoke(
        &window,
        "save_entries",
        json!({"bookId": id, "entries": [entry]}),
    )
    .unwrap();
    assert_eq!(
        saved["entries"][1]["characterFilter"],
        json!({"exclude": false, "names": [], "tags": ["Fantasy"]})
    );
    let run = |tags: Value| {
        invoke(
            &window,
            "test_activation",
            json!({"request": {
                "bookIds": [id],
                "messages": [{"role": "user", "name": "Ann", "content": "A dragon."}],
                "settings": null, "seed": 1, "contextTokens": 8192,
                "character": {"name": "Mira", "tags": tags}
            }}),
        )
        .unwrap()
    };
    assert!(uids(&run(json!(["fantasy"]))["activated"]).contains(&1));
    assert!(!uids(&run(json!(["sci-fi"]))["activated"]).contains(&1));
}
