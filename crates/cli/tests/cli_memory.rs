//! The `confab memory` commands, run as a user would run them: a chat's memory
//! shown (text and JSON), settings changed option by option (providers by name,
//! `PROVIDER:MODEL`, a prompt from a file), refused values, summaries that are
//! not the chat's, notes added and deleted.

mod cli_support;

use std::path::Path;

use cli_support::{confab, json_lines, stdout_json, NOTED_CARD};

/// A library with Seraphina and a chat with her; the chat's id.
fn chat(dir: &Path) -> String {
    let card = dir.join("Seraphina.json");
    std::fs::write(&card, NOTED_CARD).unwrap();
    let data = dir.join("data");
    let imported = json_lines(&confab(
        &data,
        &["import", "--json", card.to_str().unwrap()],
    ));
    let character = imported[0]["characterId"].as_str().unwrap().to_owned();
    let session = stdout_json(&confab(&data, &["session", "new", &character, "--json"]));
    session["id"].as_str().unwrap().to_owned()
}

fn error_code(out: &std::process::Output) -> String {
    assert!(!out.status.success());
    stdout_json(out)["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn memory_show_reads_a_new_chat_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let session = chat(dir.path());
    let data = dir.path().join("data");

    let shown = stdout_json(&confab(&data, &["--json", "memory", "show", &session]));
    assert_eq!(shown["summaries"], serde_json::json!([]));
    assert_eq!(shown["settings"]["summaries"], true);
    assert_eq!(shown["settings"]["retrieval"], false);

    let text = confab(&data, &["memory", "show", &session]);
    assert!(
        text.status.success(),
        "{}",
        String::from_utf8_lossy(&text.stderr)
    );
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("summaries: on, by the chat's own connection"),
        "{text}"
    );
    assert!(text.contains("no summaries yet"), "{text}");

    // Nothing left the window: nothing to summarise.
    let written = stdout_json(&confab(
        &data,
        &["--json", "memory", "regenerate", &session],
    ));
    assert_eq!(written, serde_json::json!([]));

    let out = confab(&data, &["--json", "memory", "show", "no-such-chat"]);
    assert_eq!(error_code(&out), "not_found");
}

#[test]
fn memory_settings_change_only_what_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let session = chat(dir.path());
    let data = dir.path().join("data");
    let added = stdout_json(&confab(
        &data,
        &[
            "--json",
            "provider",
            "add",
            "Local",
            "--kind",
            "compatible",
            "--model",
            "chat-model",
        ],
    ));
    let provider = added["config"]["id"].as_str().unwrap().to_owned();
    let prompt = dir.path().join("prompt.txt");
    std::fs::write(&prompt, "Summarise like a ship's log.").unwrap();

    let saved = stdout_json(&confab(
        &data,
        &[
            "--json",
            "memory",
            "settings",
            &session,
            "--summarizer",
            "local:small-model",
            "--prompt-file",
            prompt.to_str().unwrap(),
            "--retrieval",
            "on",
            "--embeddings",
            "Local:embed:v1",
            "--count",
            "5",
            "--min-score",
            "-0.2",
        ],
    ));
    assert_eq!(
        saved["summarizer"],
        serde_json::json!({"providerId": provider, "model": "small-model"})
    );
    assert_eq!(
        saved["embeddings"],
        serde_json::json!({"providerId": provider, "model": "embed:v1"}),
        "a model name may hold a colon"
    );
    assert_eq!(saved["summaryPrompt"], "Summarise like a ship's log.");
    assert_eq!(saved["retrieval"], true);
    assert_eq!(saved["retrievalCount"], 5);
    assert_eq!(saved["retrievalDepth"], 2, "untouched");

    // Back to the chat's own connection and the default prompt; the rest stays.
    let again = stdout_json(&confab(
        &data,
        &[
            "--json",
            "memory",
            "settings",
            &session,
            "--summarizer",
            "chat",
            "--default-prompt",
        ],
    ));
    assert_eq!(again["summarizer"], serde_json::Value::Null);
    assert_eq!(again["summaryPrompt"], serde_json::Value::Null);
    assert_eq!(again["retrievalCount"], 5);
    let shown = stdout_json(&confab(&data, &["--json", "memory", "show", &session]));
    assert_eq!(shown["settings"], again);

    // Refused: out of range (the core names it), an unknown provider, not on|off.
    let out = confab(
        &data,
        &["--json", "memory", "settings", &session, "--count", "0"],
    );
    assert_eq!(error_code(&out), "invalid_input");
    let out = confab(
        &data,
        &[
            "--json",
            "memory",
            "settings",
            &session,
            "--embeddings",
            "Nowhere",
        ],
    );
    assert_eq!(error_code(&out), "not_found");
    let out = confab(
        &data,
        &["memory", "settings", &session, "--retrieval", "maybe"],
    );
    assert_eq!(out.status.code(), Some(2), "a usage error");
}

#[test]
fn summaries_must_be_the_chats_and_notes_come_and_go() {
    let dir = tempfile::tempdir().unwrap();
    let session = chat(dir.path());
    let data = dir.path().join("data");

    for args in [
        vec!["edit", session.as_str(), "nope", "new text"],
        vec!["pin", session.as_str(), "nope"],
        vec!["unpin", session.as_str(), "nope"],
        vec!["delete", session.as_str(), "nope"],
        vec!["regenerate", session.as_str(), "nope"],
    ] {
        let mut all = vec!["--json", "memory"];
        all.extend(args.iter().copied());
        assert_eq!(error_code(&confab(&data, &all)), "not_found", "{args:?}");
    }
    let out = confab(&data, &["memory", "edit", &session, "nope"]);
    assert_eq!(out.status.code(), Some(2), "the text or --file is needed");

    let note = stdout_json(&confab(
        &data,
        &[
            "--json",
            "memory",
            "note",
            "add",
            &session,
            "The amulet is under the old oak.",
        ],
    ));
    assert_eq!(note["embedded"], false);
    let id = note["id"].as_i64().unwrap().to_string();
    let text =
        String::from_utf8_lossy(&confab(&data, &["memory", "show", &session]).stdout).into_owned();
    assert!(
        text.contains(&format!(
            "{id}  The amulet is under the old oak.  (not embedded yet)"
        )),
        "{text}"
    );
    let deleted = stdout_json(&confab(
        &data,
        &["--json", "memory", "note", "delete", &session, &id],
    ));
    assert_eq!(deleted["deleted"], id.as_str());
    let out = confab(
        &data,
        &["--json", "memory", "note", "delete", &session, &id],
    );
    assert_eq!(error_code(&out), "not_found");
}
