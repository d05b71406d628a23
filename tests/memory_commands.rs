//! Memory commands through the real app builder and the real configuration (so
//! the ACL the shipped app enforces applies): a chat's memory as the panel reads
//! it, its settings saved and refused, summaries that are not there, notes
//! added and removed, and a search without an embeddings model.

mod support;

use serde_json::{json, Value};
use support::{invoke, real_config_app, seraphina_chat};
use tauri::test::MockRuntime;
use tauri::WebviewWindow;

/// A chat with a real card in a fresh library; its id.
fn chat(window: &WebviewWindow<MockRuntime>) -> String {
    seraphina_chat(window).1
}

fn view(window: &WebviewWindow<MockRuntime>, session: &str) -> Value {
    invoke(window, "memory_view", json!({"sessionId": session})).unwrap()
}

#[test]
fn a_new_chat_remembers_nothing_yet_with_the_default_settings() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = real_config_app(dir.path());
    let session = chat(&window);

    let memory = view(&window, &session);
    assert_eq!(memory["summaries"], json!([]));
    assert_eq!(memory["notes"], json!([]));
    assert_eq!(memory["unsummarized"], 0);
    assert_eq!(memory["summarizing"], false);
    assert_eq!(memory["lastError"], Value::Null);
    let settings = &memory["settings"];
    assert_eq!(settings["summaries"], true, "summaries are on by default");
    assert_eq!(settings["retrieval"], false, "retrieval waits for a model");
    assert_eq!(settings["summarizer"], Value::Null);
    assert_eq!(settings["embeddings"], Value::Null);

    // Nothing left the window: summarising now writes nothing.
    let written = invoke(&window, "summarize_now", json!({"sessionId": session})).unwrap();
    assert_eq!(written, json!([]));

    let err = invoke(&window, "memory_view", json!({"sessionId": "no-such-chat"})).unwrap_err();
    assert_eq!(err["code"], "not_found", "{err}");
}

#[test]
fn memory_settings_are_saved_per_chat_and_refused_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = real_config_app(dir.path());
    let session = chat(&window);
    let mut settings = view(&window, &session)["settings"].clone();

    settings["summaryPrompt"] = json!("Summarise like a ship's log.");
    settings["summarizer"] = json!({"providerId": "some-provider", "model": "small"});
    settings["retrievalCount"] = json!(5);
    settings["retrievalMinScore"] = json!(0.5);
    let saved = invoke(
        &window,
        "set_memory_settings",
        json!({"sessionId": session, "settings": settings}),
    )
    .unwrap();
    assert_eq!(saved["summaryPrompt"], "Summarise like a ship's log.");
    assert_eq!(saved["retrievalCount"], 5);
    assert_eq!(view(&window, &session)["settings"], saved);

    // The validation names what is wrong; nothing is saved.
    for (field, value) in [
        ("retrievalCount", json!(0)),
        ("retrievalDepth", json!(100_000)),
        ("retrievalMinScore", json!(2.0)),
        ("summaryPrompt", json!("x".repeat(17 * 1024))),
    ] {
        let mut wrong = saved.clone();
        wrong[field] = value;
        let err = invoke(
            &window,
            "set_memory_settings",
            json!({"sessionId": session, "settings": wrong}),
        )
        .unwrap_err();
        assert_eq!(err["code"], "invalid_input", "{field}: {err}");
    }
    assert_eq!(view(&window, &session)["settings"], saved);
}

#[test]
fn summaries_that_do_not_exist_are_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = real_config_app(dir.path());
    chat(&window);

    for (command, args) in [
        ("edit_summary", json!({"summaryId": "nope", "content": "x"})),
        ("pin_summary", json!({"summaryId": "nope", "pinned": true})),
        ("delete_summary", json!({"summaryId": "nope"})),
        ("regenerate_summary", json!({"summaryId": "nope"})),
    ] {
        let err = invoke(&window, command, args).unwrap_err();
        assert_eq!(err["code"], "not_found", "{command}: {err}");
    }
}

#[test]
fn notes_are_added_and_removed_and_search_needs_an_embeddings_model() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = real_config_app(dir.path());
    let session = chat(&window);

    let note = invoke(
        &window,
        "add_memory_note",
        json!({"sessionId": session, "text": "The amulet is hidden under the old oak."}),
    )
    .unwrap();
    assert_eq!(note["text"], "The amulet is hidden under the old oak.");
    assert_eq!(note["embedded"], false, "no embeddings model yet");
    assert!(note["id"].is_number(), "{note}");
    assert_eq!(view(&window, &session)["notes"], json!([note]));

    // Retrieval without a model cannot embed the query.
    let err = invoke(
        &window,
        "search_memory",
        json!({"sessionId": session, "text": "amulet", "limit": 5}),
    )
    .unwrap_err();
    assert!(err["code"].is_string(), "{err}");

    invoke(&window, "delete_memory_note", json!({"noteId": note["id"]})).unwrap();
    assert_eq!(view(&window, &session)["notes"], json!([]));
}
