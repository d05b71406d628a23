//! The library's IPC commands on Tauri's mock runtime: importing from the file
//! picker (raw bytes) and dropped paths, replacing a character, world books and
//! dictionaries.

mod support;

use serde_json::json;
use support::{app_in, fixture, invoke, invoke_raw};

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
