//! Prompt commands through the real app builder and the real configuration (so
//! the ACL the shipped app enforces applies): the preview for the chat's own
//! provider and window, the Author's Note and a character's default, the
//! example-dialogue setting, and the Test panel scanning a real chat.

mod support;

use serde_json::{json, Value};
use support::{invoke, real_config_app as app_in};
use tauri::test::MockRuntime;
use tauri::WebviewWindow;

/// A V2 card as SillyTavern writes it, with example dialogue and a Character's note.
const CARD: &str = r#"{
  "spec": "chara_card_v2", "spec_version": "2.0",
  "data": {
    "name": "Mira", "description": "A navigator.", "personality": "", "scenario": "",
    "first_mes": "Ahoy.", "creator_notes": "", "system_prompt": "",
    "mes_example": "<START>\n{{user}}: Lost?\n{{char}}: Never.",
    "post_history_instructions": "", "alternate_greetings": [], "tags": [], "creator": "",
    "character_version": "",
    "extensions": {"depth_prompt": {"prompt": "{{char}} hums.", "depth": 1, "role": "system"}}
  }
}"#;

/// A library with Mira imported from a file and a chat with her.
fn library(window: &WebviewWindow<MockRuntime>, dir: &std::path::Path) -> (String, String) {
    let file = dir.join("Mira.json");
    std::fs::write(&file, CARD).unwrap();
    let summary = invoke(
        window,
        "import_paths",
        json!({"paths": [file], "onEvent": "__CHANNEL__:7"}),
    )
    .unwrap();
    let character = summary["outcomes"][0]["characterId"]
        .as_str()
        .unwrap()
        .to_owned();
    let session = invoke(window, "create_session", json!({"characterId": character})).unwrap()
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (character, session)
}

fn sources(preview: &Value) -> Vec<String> {
    preview["prompt"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["source"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_preview_notes_and_the_example_setting_reach_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app_in(dir.path());
    let (character, session) = library(&window, dir.path());

    let preview = invoke(
        &window,
        "preview_prompt",
        json!({"sessionId": session, "message": "Where to?", "imageIds": [], "withRequestBody": true}),
    )
    .unwrap();
    assert_eq!(preview["target"], Value::Null, "no provider yet");
    assert_eq!(preview["contextWindow"], 8192);
    assert_eq!(preview["contextWindowKnown"], false);
    assert_eq!(preview["requestBody"], Value::Null, "no provider, no body");
    let found = sources(&preview);
    for wanted in [
        "exampleDialogue",
        "chatStart",
        "characterNote",
        "newMessage",
    ] {
        assert!(found.iter().any(|s| s == wanted), "{wanted} in {found:?}");
    }

    // A character's default note applies; the chat's own note wins.
    invoke(
        &window,
        "set_default_authors_note",
        json!({"characterId": character, "note": {
            "text": "[Default]", "position": "afterSystem", "depth": 4, "role": "system", "interval": 1
        }}),
    )
    .unwrap();
    let notes = invoke(&window, "get_authors_note", json!({"sessionId": session})).unwrap();
    assert_eq!(notes["chat"], Value::Null);
    assert_eq!(notes["characterDefault"]["text"], "[Default]");
    let notes = invoke(
        &window,
        "set_authors_note",
        json!({"sessionId": session, "note": {
            "text": "[Storm]", "position": "inChat", "depth": 0, "role": "user", "interval": 1
        }}),
    )
    .unwrap();
    assert_eq!(notes["chat"]["text"], "[Storm]");
    let preview = invoke(
        &window,
        "preview_prompt",
        json!({"sessionId": session, "message": "Where to?", "imageIds": [], "withRequestBody": false}),
    )
    .unwrap();
    let messages = preview["prompt"]["messages"].as_array().unwrap();
    assert_eq!(
        messages.last().unwrap(),
        &json!({"role": "user", "content": "[Storm]"}),
        "depth 0: after the new message"
    );
    let bad = invoke(
        &window,
        "set_authors_note",
        json!({"sessionId": session, "note": {
            "text": "x", "position": "inChat", "depth": 99999999, "role": "user", "interval": 1
        }}),
    )
    .unwrap_err();
    assert_eq!(bad["code"], "invalid_input");

    // Never send example dialogue: gone from the preview.
    invoke(
        &window,
        "set_settings",
        json!({"settings": {"language": null, "theme": "system", "exampleDialogue": "never"}}),
    )
    .unwrap();
    let preview = invoke(
        &window,
        "preview_prompt",
        json!({"sessionId": session, "message": null, "imageIds": [], "withRequestBody": false}),
    )
    .unwrap();
    assert!(!sources(&preview).iter().any(|s| s == "exampleDialogue"));
}

#[test]
fn the_test_panel_scans_a_real_chat_through_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = app_in(dir.path());
    let (_, session) = library(&window, dir.path());
    let book = invoke(&window, "create_world_book", json!({"name": "Sea"})).unwrap();
    let book_id = book["summary"]["id"].as_str().unwrap().to_owned();
    // The book goes to every chat.
    invoke(
        &window,
        "set_world_book_global",
        json!({"id": book_id, "global": true}),
    )
    .unwrap();
    let mut entry = invoke(&window, "add_entry", json!({"bookId": book_id})).unwrap();
    // Keyed on the greeting ("Ahoy."), only for continue.
    entry["keys"] = json!(["ahoy"]);
    entry["content"] = json!("Sailors greet loudly.");
    entry["triggers"] = json!(["continue"]);
    invoke(
        &window,
        "save_entries",
        json!({"bookId": book_id, "entries": [entry]}),
    )
    .unwrap();
    let scan = |trigger: &str| {
        invoke(
            &window,
            "test_activation",
            json!({"request": {
                "bookIds": [book_id], "messages": [], "settings": null, "seed": 1,
                "contextTokens": 0, "trigger": trigger, "character": null,
                "sessionId": session, "message": null
            }}),
        )
        .unwrap()
    };
    assert_eq!(scan("normal")["activated"].as_array().unwrap().len(), 0);
    assert_eq!(scan("normal")["dropped"][0]["reason"]["kind"], "trigger");
    assert_eq!(scan("continue")["activated"].as_array().unwrap().len(), 1);
}
