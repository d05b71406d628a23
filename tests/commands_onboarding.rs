//! The first-run commands through the real app builder and the shipped ACL:
//! the walk-through's status, finishing it (kept across restarts), and the
//! demo character, imported and opened in a chat as the walk-through does.

mod support;

use serde_json::json;
use support::{invoke, real_config_app};

#[test]
fn the_first_run_is_due_on_a_new_library_and_remembered_once_finished() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (_app, window) = real_config_app(dir.path());
        let status = invoke(&window, "first_run_status", json!({})).unwrap();
        assert_eq!(status, json!({"done": false, "doneAt": null}));
        let finished = invoke(&window, "finish_first_run", json!({})).unwrap();
        assert_eq!(finished["done"], true);
        assert!(finished["doneAt"].as_f64().unwrap() > 1.7e12);
    }
    // A restart of the app (the same data folder) does not walk through again.
    let (_app, window) = real_config_app(dir.path());
    let status = invoke(&window, "first_run_status", json!({})).unwrap();
    assert_eq!(status["done"], true);
}

#[test]
fn the_demo_character_imports_and_opens_in_a_chat_with_its_greeting() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, window) = real_config_app(dir.path());
    let outcome = invoke(&window, "import_demo_character", json!({})).unwrap();
    assert_eq!(outcome["status"], "imported", "{outcome}");
    assert_eq!(outcome["name"], "Mira Vell");
    assert_eq!(outcome["pendingDictionaryRules"], 3);
    assert!(outcome["worldBookId"].is_string());
    let id = outcome["characterId"].as_str().unwrap().to_owned();

    // What the walk-through's demo button does next: open a chat with her.
    let session = invoke(
        &window,
        "open_or_create_session",
        json!({"characterId": id}),
    )
    .unwrap();
    let messages = invoke(
        &window,
        "get_messages",
        json!({"sessionId": session["id"], "cursor": null, "limit": 50}),
    )
    .unwrap();
    let text = messages.to_string();
    assert!(text.contains("I'm Mira"), "{text}");

    // Her world book is listed with the other books.
    let books = invoke(&window, "list_world_books", json!({})).unwrap();
    assert!(books.to_string().contains("Lantern Archive"), "{books}");

    // Again: found, not duplicated; and a library with a character is not new.
    let again = invoke(&window, "import_demo_character", json!({})).unwrap();
    assert_eq!(again["status"], "alreadyInLibrary");
    assert_eq!(again["characterId"], json!(id));
    let status = invoke(&window, "first_run_status", json!({})).unwrap();
    assert_eq!(status["done"], true);
}
