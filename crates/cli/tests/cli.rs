//! The `confab` binary, run as a user would run it.

use std::path::Path;
use std::process::{Command, Output};

fn confab(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_confab"))
        .args(args)
        .env("CONFAB_DATA_DIR", data_dir)
        .output()
        .expect("the confab binary runs")
}

fn stdout_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn version_prints_the_workspace_version() {
    let dir = tempfile::tempdir().unwrap();
    let out = confab(dir.path(), &["--version"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("confab {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn info_json_reports_the_data_dir_schema_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = confab(&data, &["info", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info = stdout_json(&out);
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["dataDir"], data.display().to_string());
    assert_eq!(
        info["databasePath"],
        data.join("confab.db").display().to_string()
    );
    assert!(info["schemaVersion"].as_u64().unwrap() >= 1);
    assert_eq!(
        info["counts"],
        serde_json::json!({"characters": 0, "worldBooks": 0, "sessions": 0, "messages": 0, "personas": 0})
    );
}

#[test]
fn info_as_text_is_readable() {
    let dir = tempfile::tempdir().unwrap();
    let out = confab(dir.path(), &["info"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Schema version: "), "{text}");
    assert!(text.contains(&dir.path().display().to_string()), "{text}");
}

#[test]
fn a_corrupt_database_is_a_json_error_and_a_failure_exit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("confab.db");
    std::fs::write(&db, b"garbage, not sqlite").unwrap();
    let out = confab(dir.path(), &["--json", "info"]);
    assert!(!out.status.success());
    let body = stdout_json(&out);
    assert_eq!(body["error"]["code"], "database_corrupt");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("did not change it"));
    assert_eq!(std::fs::read(&db).unwrap(), b"garbage, not sqlite");
}

#[test]
fn a_corrupt_database_without_json_explains_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("confab.db"), b"garbage, not sqlite").unwrap();
    let out = confab(dir.path(), &["info"]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("damaged") && err.contains("[database_corrupt]"),
        "{err}"
    );
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures/cards")
        .join(name)
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn card_inspect_prints_normalised_v3_without_importing() {
    let dir = tempfile::tempdir().unwrap();
    let card = fixture("v2_png__st_default_Seraphina_2024.png");
    let out = confab(
        dir.path(),
        &["card", "inspect", card.to_str().unwrap(), "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v = stdout_json(&out);
    assert_eq!(v["spec"], "chara_card_v3");
    assert_eq!(v["spec_version"], "3.0");
    assert_eq!(v["data"]["name"], "Seraphina");
    assert!(
        !dir.path().join("confab.db").exists(),
        "inspect imports nothing"
    );
}

#[test]
fn card_inspect_of_a_plain_image_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    // The app's own icon: a real PNG with no card in it.
    let plain = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../icons/32x32.png");
    let out = confab(
        dir.path(),
        &["--json", "card", "inspect", plain.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert_eq!(stdout_json(&out)["error"]["code"], "no_card_data");
}

#[test]
fn import_prints_a_json_line_per_file_and_finds_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let files = [
        fixture("v1_png__st_Megumin.png"),
        fixture("v1_json_zh__mushoku_Roxy_stage1.json"),
    ];
    let broken = dir.path().join("broken.png");
    std::fs::write(&broken, b"not a card").unwrap();
    let mut args = vec!["import", "--json"];
    let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    args.extend(paths.iter().map(String::as_str));
    let broken_arg = broken.display().to_string();
    args.push(&broken_arg);

    let out = confab(&data, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["status"], "imported");
    assert_eq!(lines[0]["name"], "Megumin");
    assert_eq!(lines[1]["status"], "imported");
    assert_eq!(lines[2]["status"], "failed");
    assert!(lines[2]["error"]["code"].is_string());

    let again = json_lines(&confab(&data, &args[..3]));
    assert_eq!(again[0]["status"], "alreadyInLibrary");

    let listed = stdout_json(&confab(&data, &["characters", "--json"]));
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"Megumin"));
}

#[test]
fn export_writes_a_card_that_reads_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let card = fixture("v2_png__st_default_FluxTheCat.png");
    let lines = json_lines(&confab(
        &data,
        &["import", "--json", card.to_str().unwrap()],
    ));
    let id = lines[0]["characterId"].as_str().unwrap().to_owned();

    for format in ["png", "json", "json-v2", "charx"] {
        let target = dir.path().join(format!("flux.{format}"));
        let out = confab(
            &data,
            &[
                "export",
                &id,
                "--format",
                format,
                "-o",
                target.to_str().unwrap(),
                "--json",
            ],
        );
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let inspected = stdout_json(&confab(
            &data,
            &["card", "inspect", target.to_str().unwrap(), "--json"],
        ));
        assert_eq!(inspected["data"]["name"], "Flux the Cat", "{format}");
    }
    let missing = confab(&data, &["export", "no-such-id", "-o", "x.png", "--json"]);
    assert_eq!(stdout_json(&missing)["error"]["code"], "not_found");
}

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

fn chat_fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures/chats")
        .join(name)
}

#[test]
fn a_conversation_can_be_set_up_and_inspected_headlessly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let seraphina = fixture("v2_png__st_default_Seraphina_2024.png");
    let imported = json_lines(&confab(
        &data,
        &["import", "--json", seraphina.to_str().unwrap()],
    ));
    let character = imported[0]["characterId"].as_str().unwrap().to_owned();

    let persona = stdout_json(&confab(
        &data,
        &[
            "persona",
            "add",
            "Traveller",
            "--description",
            "A wanderer.",
            "--json",
        ],
    ));
    assert_eq!(persona["isDefault"], true);

    let prefs = dir.path().join("prefs.json");
    std::fs::write(&prefs, r#"{"relationship":"friend","customRelationship":"","speech":["be_formal","be_informal"],"behaviour":[],"summary":""}"#).unwrap();
    let refused = confab(
        &data,
        &[
            "preferences",
            "set",
            &character,
            prefs.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(stdout_json(&refused)["error"]["code"], "invalid_input");
    std::fs::write(&prefs, r#"{"relationship":"friend","customRelationship":"","speech":["talk_less"],"behaviour":["be_warm"],"summary":""}"#).unwrap();
    let saved = confab(
        &data,
        &[
            "preferences",
            "set",
            &character,
            prefs.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(
        saved.status.success(),
        "{}",
        String::from_utf8_lossy(&saved.stdout)
    );

    let session = stdout_json(&confab(&data, &["session", "new", &character, "--json"]));
    let session_id = session["id"].as_str().unwrap().to_owned();
    let said = stdout_json(&confab(
        &data,
        &[
            "session",
            "say",
            &session_id,
            "Where is the glade?",
            "--json",
        ],
    ));
    assert_eq!(said["name"], "Traveller");

    let page = stdout_json(&confab(
        &data,
        &["messages", &session_id, "--limit", "1", "--json"],
    ));
    assert_eq!(page["total"], 2);
    assert_eq!(page["messages"][0]["content"], "Where is the glade?");
    assert!(page["olderCursor"].is_string());

    let hits = stdout_json(&confab(&data, &["search", "glade", "--json"]));
    assert!(!hits.as_array().unwrap().is_empty());

    let prompt = stdout_json(&confab(
        &data,
        &["prompt", &session_id, "--message", "Hello?", "--json"],
    ));
    let messages = prompt["prompt"]["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system");
    assert!(messages[0]["content"]
        .as_str()
        .unwrap()
        .contains("USER PREFERENCE MODIFIERS"));
    assert_eq!(messages.last().unwrap()["content"], "Hello?");
    assert!(prompt["prompt"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["source"] == "preferences"));

    let chat = chat_fixture("st_chat_swipes__seraphina_backup.jsonl");
    let imported_chat = stdout_json(&confab(
        &data,
        &[
            "chat",
            "import",
            chat.to_str().unwrap(),
            "--character",
            &character,
            "--json",
        ],
    ));
    assert!(imported_chat["messageCount"].as_u64().unwrap() > 1);
    let out = dir.path().join("out.md");
    let exported = confab(
        &data,
        &[
            "chat",
            "export",
            &session_id,
            "--format",
            "markdown",
            "-o",
            out.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(exported.status.success());
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("Where is the glade?"));

    let sessions = stdout_json(&confab(&data, &["sessions", "--json"]));
    assert_eq!(sessions.as_array().unwrap().len(), 2);
    let context = stdout_json(&confab(&data, &["context", "get", "--json"]));
    assert!(
        context["text"].as_str().unwrap().contains("{{char}}"),
        "the built-in default"
    );
}

/// A V2 card as SillyTavern writes it: example dialogue and a Character's note.
const NOTED_CARD: &str = r#"{
  "spec": "chara_card_v2", "spec_version": "2.0",
  "data": {
    "name": "Seraphina", "description": "A forest guardian.", "personality": "kind",
    "scenario": "", "first_mes": "You are awake.", "creator_notes": "",
    "mes_example": "<START>\n{{user}}: Who are you?\n{{char}}: The glade's keeper.",
    "system_prompt": "", "post_history_instructions": "Stay gentle.",
    "alternate_greetings": [], "tags": ["forest"], "creator": "", "character_version": "",
    "extensions": {"depth_prompt": {"prompt": "{{char}} hides her wound.", "depth": 2, "role": "system"}}
  }
}"#;

#[test]
fn prompt_shows_everything_a_card_file_and_a_chat_file_ask_for_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let card = dir.path().join("Seraphina.json");
    std::fs::write(&card, NOTED_CARD).unwrap();
    let imported = json_lines(&confab(
        &data,
        &["import", "--json", card.to_str().unwrap()],
    ));
    let character = imported[0]["characterId"].as_str().unwrap().to_owned();

    // The fixture chat, with an Author's Note set as SillyTavern stores it.
    let text =
        std::fs::read_to_string(chat_fixture("st_chat_swipes__seraphina_backup.jsonl")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    header["chat_metadata"]["note_prompt"] = "[Night is falling.]".into();
    header["chat_metadata"]["note_depth"] = 1.into();
    lines[0] = header.to_string();
    let chat = dir.path().join("chat.jsonl");
    std::fs::write(&chat, lines.join("\n")).unwrap();
    let session = stdout_json(&confab(
        &data,
        &[
            "chat",
            "import",
            chat.to_str().unwrap(),
            "--character",
            &character,
            "--json",
        ],
    ));
    let session = session["id"].as_str().unwrap().to_owned();

    let out = confab(
        &data,
        &["prompt", &session, "--message", "Is it safe?", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let preview = stdout_json(&out);
    assert_eq!(
        preview["contextWindow"], 8192,
        "no provider: the default window"
    );
    assert_eq!(preview["contextWindowKnown"], false);
    let parts = preview["prompt"]["parts"].as_array().unwrap();
    let order: Vec<&str> = parts
        .iter()
        .map(|p| p["source"].as_str().unwrap())
        .collect();
    let first = |source: &str| {
        order
            .iter()
            .position(|s| *s == source)
            .unwrap_or_else(|| panic!("{source} in {order:?}"))
    };
    let last = |source: &str| order.iter().rposition(|s| *s == source).unwrap();
    assert!(first("characterDescription") < first("exampleDialogue"));
    assert!(last("exampleDialogue") < first("chatStart"));
    assert!(first("chatStart") < first("history"));
    assert!(first("characterNote") > first("history"));
    assert!(
        first("authorsNote") > first("characterNote"),
        "depth 1 is after depth 2"
    );
    assert!(first("postHistoryInstructions") > first("authorsNote"));
    assert_eq!(*order.last().unwrap(), "newMessage");
    let text = |source: &str| parts[first(source)]["text"].as_str().unwrap().to_owned();
    assert_eq!(text("characterNote"), "Seraphina hides her wound.");
    assert_eq!(text("authorsNote"), "[Night is falling.]");
    let messages = preview["prompt"]["messages"].as_array().unwrap();
    assert!(messages
        .iter()
        .any(|m| m["role"] == "user" && m["content"] == "Who are you?"));
    assert!(messages
        .iter()
        .any(|m| m["role"] == "assistant" && m["content"] == "The glade's keeper."));

    // The same as text, readable.
    let plain =
        String::from_utf8(confab(&data, &["prompt", &session, "--message", "Is it safe?"]).stdout)
            .unwrap();
    assert!(
        plain.contains("Character's note (at depth 2, system)"),
        "{plain}"
    );
    assert!(
        plain.contains("Author's Note (at depth 1, system)"),
        "{plain}"
    );
    assert!(plain.contains("example chat 1"), "{plain}");
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
