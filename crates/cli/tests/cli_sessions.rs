//! The `confab` binary's sessions, run as a user would run it: a conversation
//! set up and inspected headlessly, and `prompt` showing everything a card file
//! and a chat file ask for, in order.

mod cli_support;

use std::path::Path;

use cli_support::{confab, fixture, json_lines, stdout_json, NOTED_CARD};

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
fn a_sillytavern_group_comes_in_and_goes_out() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for card in [
        "v2_png__st_default_Seraphina_2024.png",
        "v2_png__st_default_CodingSensei.png",
    ] {
        let out = confab(&data, &["import", fixture(card).to_str().unwrap()]);
        assert!(out.status.success());
    }
    // A definition as SillyTavern writes it: members by their card files.
    let definition = dir.path().join("Study group.json");
    std::fs::write(
        &definition,
        r#"{"id":"1","name":"Study group","members":["v2_png__st_default_Seraphina_2024.png","v2_png__st_default_CodingSensei.png"],
            "disabled_members":["v2_png__st_default_CodingSensei.png"],"activation_strategy":2,"generation_mode":1,
            "chat_id":"c","chats":["c"],"allow_self_responses":false,"auto_mode_delay":5,"fav":false,"avatar_url":""}"#,
    )
    .unwrap();
    let made = stdout_json(&confab(
        &data,
        &["group", "import", definition.to_str().unwrap(), "--json"],
    ));
    let session = made[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(made[0]["title"], "Study group");
    let state = stdout_json(&confab(&data, &["group", "show", &session, "--json"]));
    assert_eq!(state["settings"]["turnOrder"], "manual");
    assert_eq!(state["settings"]["cardMode"], "join");
    assert_eq!(state["members"][1]["presence"], "muted");

    let out_file = dir.path().join("out.json");
    let out = confab(
        &data,
        &[
            "group",
            "export",
            &session,
            "-o",
            out_file.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    assert_eq!(
        written["members"][0],
        "v2_png__st_default_Seraphina_2024.png"
    );
    assert_eq!(
        written["disabled_members"][0],
        "v2_png__st_default_CodingSensei.png"
    );
    assert_eq!(written["activation_strategy"], 2);
    // An existing file is never overwritten.
    let again = confab(
        &data,
        &[
            "group",
            "export",
            &session,
            "-o",
            out_file.to_str().unwrap(),
        ],
    );
    assert!(!again.status.success());
    // A member the library lacks: refused, nothing made.
    std::fs::write(
        &definition,
        r#"{"members":["Nobody.png","v2_png__st_default_CodingSensei.png"],"activation_strategy":0}"#,
    )
    .unwrap();
    let out = confab(&data, &["group", "import", definition.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Nobody.png"));
}
