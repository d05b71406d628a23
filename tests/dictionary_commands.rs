//! The chat dictionary's Display scope through the real app builder (mock runtime).

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

fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
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
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().expect("a JSON response"))
}

fn rule(find: &str, replace: &str, scope: &str) -> Value {
    json!({"find": find, "replace": replace, "regex": false, "caseSensitive": true,
           "enabled": true, "scope": scope})
}

#[test]
fn display_rules_reach_the_chat_view_and_caps_hold_through_ipc() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app_in(dir.path());
    // No such character, no rules: nothing changes.
    let none = invoke(
        &window,
        "display_texts",
        json!({"characterId": "nobody", "texts": ["Bob"]}),
    )
    .unwrap();
    assert_eq!(none, json!({"rules": 0, "texts": [null]}));

    let rules = json!([
        rule("Bob", "Robert", "display"),
        rule("Robert", "Rob", "prompt"),
        rule("!", "!!", "both"),
    ]);
    invoke(
        &window,
        "set_dictionary",
        json!({"characterId": null, "rules": rules}),
    )
    .unwrap();
    let shown = invoke(
        &window,
        "display_texts",
        json!({"characterId": "nobody", "texts": ["Bob!", "Hi", "Robert"]}),
    )
    .unwrap();
    assert_eq!(
        shown,
        json!({"rules": 2, "texts": ["Robert!!", null, null]})
    );
    // What is stored stays as it was.
    assert_eq!(
        invoke(&window, "get_dictionary", json!({"characterId": null})).unwrap(),
        rules
    );

    // Ten thousand and one rules are refused with a typed error; the old ones stay.
    let many: Vec<Value> = (0..10_001)
        .map(|i| rule(&format!("w{i}"), "x", "both"))
        .collect();
    let err = invoke(
        &window,
        "set_dictionary",
        json!({"characterId": null, "rules": many}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "too_large", "{err}");
    let bomb: Vec<Value> = (0..10)
        .map(|_| rule("a", "aaaaaaaaaa", "display"))
        .collect();
    invoke(
        &window,
        "set_dictionary",
        json!({"characterId": null, "rules": bomb}),
    )
    .unwrap();
    let shown = invoke(
        &window,
        "display_texts",
        json!({"characterId": "nobody", "texts": ["a".repeat(1000)]}),
    )
    .unwrap();
    assert_eq!(shown["texts"][0].as_str().unwrap().len(), 10_000);
}

#[test]
fn the_editor_checks_rules_with_the_cores_regex_syntax() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app_in(dir.path());
    let rules = json!([
        {"find": "(?i)cat(?P<tail>s?)", "replace": "dog$<tail>", "regex": true,
         "caseSensitive": false, "enabled": true, "scope": "display"},
        {"find": "(?<=a)b", "replace": "x", "regex": true,
         "caseSensitive": false, "enabled": true, "scope": "both"},
    ]);
    let problems = invoke(&window, "check_dictionary", json!({"rules": rules})).unwrap();
    assert_eq!(problems.as_array().unwrap().len(), 1, "{problems}");
    assert_eq!(problems[0]["index"], 1);
    assert!(
        problems[0]["message"]
            .as_str()
            .unwrap()
            .contains("look-around"),
        "{problems}"
    );
}
