//! The `confab` binary's world-book commands, run as a user would run them:
//! import, list and export, and `lore test` on a file, the library or a real
//! session.

mod cli_support;

use std::path::Path;

use cli_support::{confab, json_lines, stdout_json, NOTED_CARD};

fn lorebook(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures/lorebooks")
        .join(name)
}

#[test]
fn lore_import_list_export_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let eldoria = lorebook("st_worldinfo_official__Eldoria.json");
    let imported = stdout_json(&confab(
        &data,
        &["lore", "import", eldoria.to_str().unwrap(), "--json"],
    ));
    assert_eq!(imported["entryCount"], 4, "{imported}");
    let id = imported["id"].as_str().unwrap().to_owned();
    let listed = stdout_json(&confab(&data, &["lore", "list", "--json"]));
    assert_eq!(listed.as_array().unwrap().len(), 1);

    let out = dir.path().join("eldoria.json");
    let exported = confab(
        &data,
        &["lore", "export", &id, "-o", out.to_str().unwrap(), "--json"],
    );
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stdout)
    );
    let again = stdout_json(&confab(
        &data,
        &["lore", "import", out.to_str().unwrap(), "--json"],
    ));
    assert_eq!(again["entryCount"], 4);

    let broken = confab(
        &data,
        &[
            "lore",
            "import",
            lorebook("novelai_truncated__Ripple.lorebook")
                .to_str()
                .unwrap(),
            "--json",
        ],
    );
    assert!(!broken.status.success());
    assert!(stdout_json(&broken)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("cut off"));
}

#[test]
fn lore_test_explains_what_fires_from_a_file_or_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let chat = dir.path().join("chat.json");
    std::fs::write(
        &chat,
        r#"[{"role":"user","name":"Traveller","content":"Where am I?"},
            {"role":"assistant","name":"Seraphina","content":"You are safe in my glade, deep in the forest."}]"#,
    )
    .unwrap();
    let eldoria = lorebook("st_worldinfo_official__Eldoria.json");
    let report = stdout_json(&confab(
        &data,
        &[
            "lore",
            "test",
            eldoria.to_str().unwrap(),
            "--chat",
            chat.to_str().unwrap(),
            "--seed",
            "7",
            "--json",
        ],
    ));
    let uids: Vec<u64> = report["activated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["uid"].as_u64().unwrap())
        .collect();
    assert_eq!(uids, [0, 2], "forest -> Eldoria, glade -> glade: {report}");
    let first = &report["activated"][0];
    assert_eq!(first["reason"]["kind"], "key");
    assert!(first["tokens"].as_u64().unwrap() > 0);
    assert!(first["position"].is_string() && first["role"].is_string());

    // Settings override: scanning only the newest message still finds both; case-sensitive keys do not.
    let settings = dir.path().join("settings.json");
    std::fs::write(&settings, r#"{"caseSensitive": true, "scanDepth": 1}"#).unwrap();
    let strict = stdout_json(&confab(
        &data,
        &[
            "lore",
            "test",
            eldoria.to_str().unwrap(),
            "--chat",
            chat.to_str().unwrap(),
            "--settings",
            settings.to_str().unwrap(),
            "--json",
        ],
    ));
    assert_eq!(
        strict["activated"].as_array().unwrap().len(),
        2,
        "lowercase keys, lowercase text"
    );
    std::fs::write(
        &chat,
        r#"[{"role":"user","name":"T","content":"The FOREST and the GLADE."}]"#,
    )
    .unwrap();
    let shouting = stdout_json(&confab(
        &data,
        &[
            "lore",
            "test",
            eldoria.to_str().unwrap(),
            "--chat",
            chat.to_str().unwrap(),
            "--settings",
            settings.to_str().unwrap(),
            "--json",
        ],
    ));
    assert!(
        shouting["activated"].as_array().unwrap().is_empty(),
        "{shouting}"
    );

    // The same book by id from the library.
    let id = stdout_json(&confab(
        &data,
        &["lore", "import", eldoria.to_str().unwrap(), "--json"],
    ))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let by_id = stdout_json(&confab(
        &data,
        &[
            "lore",
            "test",
            &id,
            "--chat",
            chat.to_str().unwrap(),
            "--json",
        ],
    ));
    assert_eq!(by_id["activated"].as_array().unwrap().len(), 2);

    let missing = confab(
        &data,
        &[
            "lore",
            "test",
            "no-such-book",
            "--chat",
            chat.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(stdout_json(&missing)["error"]["code"], "not_found");
}

#[test]
fn lore_test_scans_a_real_session_with_its_trigger() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let card = dir.path().join("Seraphina.json");
    std::fs::write(&card, NOTED_CARD).unwrap();
    let imported = json_lines(&confab(
        &data,
        &["import", "--json", card.to_str().unwrap()],
    ));
    let character = imported[0]["characterId"].as_str().unwrap().to_owned();
    let session = stdout_json(&confab(&data, &["session", "new", &character, "--json"]));
    let session = session["id"].as_str().unwrap().to_owned();
    confab(
        &data,
        &["session", "say", &session, "Tell me of the glade", "--json"],
    );

    // One entry keyed on the chat, one on the depth prompt (a match source), one only for continue.
    let book = dir.path().join("book.json");
    std::fs::write(
        &book,
        r#"{"entries": {
            "0": {"uid": 0, "key": ["glade"], "content": "The glade is warded.", "comment": "glade"},
            "1": {"uid": 1, "key": ["wound"], "content": "Her wound is old.", "comment": "wound",
                  "matchCharacterDepthPrompt": true},
            "2": {"uid": 2, "key": ["glade"], "content": "Continue only.", "comment": "cont",
                  "triggers": ["continue"]}
        }}"#,
    )
    .unwrap();
    let run = |trigger: &str| {
        stdout_json(&confab(
            &data,
            &[
                "lore",
                "test",
                book.to_str().unwrap(),
                "--session",
                &session,
                "--trigger",
                trigger,
                "--json",
            ],
        ))
    };
    let fired = |report: &serde_json::Value| -> Vec<u64> {
        report["activated"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["uid"].as_u64().unwrap())
            .collect()
    };
    let normal = run("normal");
    assert_eq!(fired(&normal), [0, 1], "{normal:#}");
    let cont = run("continue");
    assert_eq!(fired(&cont), [0, 1, 2], "{cont:#}");
    // --message scans a message as if it were being sent.
    let asked = stdout_json(&confab(
        &data,
        &[
            "lore",
            "test",
            book.to_str().unwrap(),
            "--session",
            &session,
            "--message",
            "nothing here",
            "--json",
        ],
    ));
    assert!(fired(&asked).contains(&0));
    let missing = confab(
        &data,
        &[
            "lore",
            "test",
            book.to_str().unwrap(),
            "--session",
            "no-such",
            "--json",
        ],
    );
    assert_eq!(stdout_json(&missing)["error"]["code"], "not_found");
}
