//! `confab template …`, `confab profile …` and `confab prompt --raw`, run as a
//! user would run them, against a KoboldCpp on 127.0.0.1 that names its model.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use confab_core::store::Store;

/// The Llama 3 preset's system header: where its prompt starts.
const LLAMA3_START: &str = "<|start_header_id|>system<|end_header_id|>\n\n";
/// The opening of the character's reply: where its prompt ends.
const LLAMA3_END: &str = "<|start_header_id|>assistant<|end_header_id|>\n\n";

fn confab(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_confab"))
        .args(args)
        .env("CONFAB_DATA_DIR", data_dir)
        // No Secret Service: the keyring is unavailable, deterministically.
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/confab-test-bus",
        )
        .env_remove("DISPLAY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("the confab binary runs")
}

/// Runs and insists it succeeded.
fn ok(data_dir: &Path, args: &[&str]) -> Output {
    let out = confab(data_dir, args);
    assert!(
        out.status.success(),
        "{args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A KoboldCpp that says who it is and which model it runs (a Llama 3.1), on 127.0.0.1.
fn kobold() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let root = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut first = String::new();
                if reader.read_line(&mut first).unwrap_or(0) == 0 {
                    return;
                }
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let path = first.split_whitespace().nth(1).unwrap_or("/");
                let body = match path {
                    "/api/extra/version" => r#"{"result":"KoboldCpp","version":"1.82.4"}"#,
                    "/api/v1/model" => {
                        r#"{"result":"koboldcpp/Meta-Llama-3.1-8B-Instruct-Q4_K_M"}"#
                    }
                    "/api/extra/true_max_context_length" => r#"{"value":8192}"#,
                    _ => "{}",
                };
                let mut out = reader.into_inner();
                let _ = write!(
                    out,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    root
}

/// A data folder with Seraphina, a chat with her, and a KoboldCpp provider at `root`.
/// Returns (character id, session id).
fn library(dir: &Path, root: &str) -> (String, String) {
    let card = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures/cards/v2_png__st_default_Seraphina_2024.png");
    let out = ok(dir, &["import", card.to_str().unwrap(), "--json"]);
    let character = json(&out)["characterId"].as_str().unwrap().to_owned();
    let out = ok(dir, &["session", "new", &character, "--json"]);
    let session = json(&out)["id"].as_str().unwrap().to_owned();
    ok(
        dir,
        &[
            "provider",
            "add",
            "Kobold",
            "--kind",
            "koboldcpp",
            "--base-url",
            root,
        ],
    );
    (character, session)
}

const MY_INSTRUCT: &str = r#"{
  "name": "My Format",
  "input_sequence": ">>> You:", "output_sequence": ">>> Them:",
  "system_sequence": ">>> Note:", "stop_sequence": ">>>",
  "wrap": true, "names_behavior": "none", "activation_regex": ""
}"#;

const MASTER: &str = r#"{
  "instruct": {"name": "Both Instruct", "input_sequence": "[U]", "output_sequence": "[A]", "wrap": true},
  "context": {"name": "Both Context", "story_string": "{{#if system}}{{system}}\n{{/if}}", "chat_start": "--"}
}"#;

#[test]
fn templates_list_import_export_show_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let all = json(&ok(&data, &["--json", "template", "list"]));
    let all = all.as_array().unwrap();
    assert!(all.iter().any(|t| t["name"] == "Llama 3 Instruct"
        && t["kind"] == "instruct"
        && t["builtin"] == true
        && t["saved"] == false));
    let context = json(&ok(
        &data,
        &["--json", "template", "list", "--kind", "context"],
    ));
    assert!(context
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["kind"] == "context"));
    let listed = text(&ok(&data, &["template", "list", "--kind", "instruct"]));
    assert!(
        listed.lines().any(|l| l == "instruct  ChatML  [built-in]"),
        "{listed}"
    );

    // A good file, a bad one and a master export: the bad one is named and
    // fails the command (invalid_input, exit 4); the others are saved.
    let good = dir.path().join("my.json");
    let bad = dir.path().join("bad.json");
    let master = dir.path().join("master.json");
    std::fs::write(&good, MY_INSTRUCT).unwrap();
    std::fs::write(&bad, r#"{"hello": "world"}"#).unwrap();
    std::fs::write(&master, MASTER).unwrap();
    let paths = [&good, &bad, &master].map(|p| p.to_str().unwrap().to_owned());
    let out = confab(
        &data,
        &["template", "import", &paths[0], &paths[1], &paths[2]],
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let said = text(&out);
    assert!(
        said.contains("my.json: saved instruct template \"My Format\""),
        "{said}"
    );
    assert!(
        said.contains("master.json: saved instruct template \"Both Instruct\""),
        "{said}"
    );
    assert!(said.contains("saved context template \"Both Context\""));
    assert!(stderr(&out).contains("bad.json: this is not a SillyTavern"));
    assert!(stderr(&out).contains("1 of 3 template files could not be imported"));

    // With --json: one line per file, then the error.
    let out = confab(
        &data,
        &["--json", "template", "import", &paths[1], &paths[0]],
    );
    assert_eq!(out.status.code(), Some(4));
    let lines: Vec<serde_json::Value> = text(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["error"]["code"], "invalid_input");
    assert_eq!(lines[1]["saved"][0]["name"], "My Format");
    assert_eq!(lines[1]["saved"][0]["saved"], true);
    assert_eq!(lines[2]["error"]["code"], "invalid_input");

    // A file that is not there keeps its own code.
    let out = confab(
        &data,
        &["--json", "template", "import", "/nonexistent/t.json"],
    );
    assert!(!out.status.success());
    assert_ne!(out.status.code(), Some(0));

    let listed = json(&ok(&data, &["--json", "template", "list"]));
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "My Format" && t["saved"] == true && t["builtin"] == false));

    // Export: to stdout (the JSON itself, with or without --json) and to a file.
    let exported = json(&ok(&data, &["template", "export", "instruct", "My Format"]));
    assert_eq!(exported["name"], "My Format");
    assert_eq!(exported["input_sequence"], ">>> You:");
    let file = dir.path().join("out.json");
    let out = ok(
        &data,
        &[
            "template",
            "export",
            "context",
            "Default",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert!(text(&out).starts_with("wrote "));
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(written["name"], "Default");
    assert!(written["story_string"]
        .as_str()
        .unwrap()
        .contains("{{system}}"));
    let out = confab(&data, &["--json", "template", "export", "instruct", "Nope"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(json(&out)["error"]["code"], "not_found");

    // Show: the fields, and a sample rendered through the template.
    let shown = text(&ok(&data, &["template", "show", "instruct", "ChatML"]));
    assert!(shown.starts_with("instruct template \"ChatML\" (built-in)"));
    assert!(
        shown.contains(r#"  input_sequence: "<|im_start|>user""#),
        "{shown}"
    );
    assert!(
        shown.contains("<|im_start|>user\nWhere are we headed?<|im_end|>"),
        "{shown}"
    );
    assert!(shown.contains("<|im_start|>assistant\n"), "{shown}");
    let shown = json(&ok(
        &data,
        &["--json", "template", "show", "instruct", "My Format"],
    ));
    assert_eq!(shown["saved"], true);
    assert_eq!(shown["template"]["output_sequence"], ">>> Them:");
    let sample = shown["sample"].as_str().unwrap();
    assert!(
        sample.contains(">>> You:\nWhere are we headed?"),
        "{sample}"
    );
    assert!(sample.trim_end().ends_with(">>> Them:"), "{sample}");
    let shown = text(&ok(&data, &["template", "show", "context", "Both Context"]));
    assert!(shown.contains("story_string"), "{shown}");
    assert!(
        shown.contains("sample (instruct template ChatML)"),
        "{shown}"
    );

    // Delete: the saved one goes; a preset cannot be deleted.
    let out = ok(&data, &["template", "delete", "instruct", "My Format"]);
    assert_eq!(
        text(&out).trim(),
        "deleted the saved instruct template \"My Format\""
    );
    let out = confab(
        &data,
        &["--json", "template", "delete", "instruct", "My Format"],
    );
    assert_eq!(out.status.code(), Some(3));
    let out = confab(
        &data,
        &["--json", "template", "delete", "instruct", "ChatML"],
    );
    assert_eq!(json(&out)["error"]["code"], "not_found");
    let listed = json(&ok(
        &data,
        &["--json", "template", "list", "--kind", "instruct"],
    ));
    assert!(!listed
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "My Format"));

    // A bad kind is a usage error.
    assert_eq!(
        confab(&data, &["template", "list", "--kind", "story"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn profiles_are_added_used_pinned_and_removed_by_id_or_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (character, session) = library(&data, "http://127.0.0.1:9");

    let out = ok(&data, &["profile", "list"]);
    assert!(text(&out).contains("no connection profiles yet"));

    // By the provider's name in another case; samplers by flag and by JSON.
    let added = json(&ok(
        &data,
        &[
            "--json",
            "profile",
            "add",
            "Creative",
            "--provider",
            "KOBOLD",
            "--model",
            "llama-3-8b",
            "--instruct",
            "Llama 3 Instruct",
            "--context",
            "Default",
            "--temperature",
            "1.1",
            "--min-p",
            "0.05",
            "--top-k",
            "40",
            "--rep-pen",
            "1.07",
            "--samplers",
            r#"{"xtc":{"threshold":0.1,"probability":0.5},"temperature":0.2}"#,
        ],
    ));
    let id = added["id"].as_str().unwrap().to_owned();
    assert_eq!(added["name"], "Creative");
    assert_eq!(added["providerName"], "Kobold");
    assert_eq!(added["model"], "llama-3-8b");
    assert_eq!(added["instruct"]["type"], "named");
    assert_eq!(added["instruct"]["name"], "Llama 3 Instruct");
    assert_eq!(added["contextTemplate"], "Default");
    let g = &added["generation"];
    assert_eq!(
        g["temperature"].as_f64().unwrap() as f32,
        1.1,
        "the flag wins"
    );
    assert_eq!(g["minP"].as_f64().unwrap() as f32, 0.05);
    assert_eq!(g["topK"], 40);
    assert_eq!(g["repetitionPenalty"].as_f64().unwrap() as f32, 1.07);
    assert_eq!(g["xtc"]["probability"].as_f64().unwrap() as f32, 0.5);

    let out = ok(
        &data,
        &[
            "profile",
            "add",
            "Plain",
            "--provider",
            "Kobold",
            "--instruct",
            "auto",
        ],
    );
    let line = text(&out);
    assert!(line.contains("Plain  provider: Kobold"), "{line}");
    assert!(line.contains("instruct: auto"), "{line}");

    let listed = text(&ok(&data, &["profile", "list"]));
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(lines[0].starts_with(&format!("{id}  Creative  provider: Kobold  model: llama-3-8b  instruct: Llama 3 Instruct  context: Default  samplers: ")));
    assert!(lines[0].contains("minP 0.05"), "{listed}");
    assert!(lines[0].contains("temperature 1.1"), "{listed}");
    assert_eq!(
        json(&ok(&data, &["--json", "profile", "list"]))
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Refusals, each with its code.
    let code = |args: &[&str]| {
        let out = confab(&data, args);
        assert!(!out.status.success(), "{args:?}");
        (
            out.status.code(),
            json(&out)["error"]["code"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(
        code(&["--json", "profile", "add", "X", "--provider", "nope"]),
        (Some(3), "not_found".into())
    );
    assert_eq!(
        code(&[
            "--json",
            "profile",
            "add",
            "Creative",
            "--provider",
            "Kobold"
        ])
        .1,
        "invalid_input",
        "names are unique"
    );
    assert_eq!(
        code(&[
            "--json",
            "profile",
            "add",
            "Y",
            "--provider",
            "Kobold",
            "--samplers",
            r#"{"topKk":3}"#
        ]),
        (Some(4), "invalid_input".into())
    );
    assert_eq!(
        code(&[
            "--json",
            "profile",
            "add",
            "Y",
            "--provider",
            "Kobold",
            "--temperature",
            "9"
        ])
        .1,
        "invalid_input"
    );
    assert_eq!(
        code(&[
            "--json",
            "profile",
            "add",
            "Y",
            "--provider",
            "Kobold",
            "--instruct",
            "No Such"
        ]),
        (Some(3), "not_found".into())
    );
    assert_eq!(
        confab(&data, &["profile", "use", "Creative"]).status.code(),
        Some(2),
        "--session or --character is needed"
    );

    // A chat takes a profile by name, then lets it go.
    let used = json(&ok(
        &data,
        &[
            "--json",
            "profile",
            "use",
            "creative",
            "--session",
            &session,
        ],
    ));
    assert_eq!(used["profileId"], id.as_str());
    let in_db = |session: &str| {
        let data = data.clone();
        let session = session.to_owned();
        block_on(async move {
            let store = Store::open(&data).await.unwrap();
            let p = store.session_profile(&session).await.unwrap();
            store.close().await;
            p
        })
    };
    assert_eq!(in_db(&session).as_deref(), Some(id.as_str()));
    let out = ok(&data, &["profile", "use", "none", "--session", &session]);
    assert!(text(&out).contains("uses no profile now"));
    assert_eq!(in_db(&session), None);
    assert_eq!(
        code(&[
            "--json",
            "profile",
            "use",
            "Creative",
            "--session",
            "no-such-chat"
        ]),
        (Some(3), "not_found".into())
    );

    // A character is pinned by its name, to a profile by its id.
    let out = ok(&data, &["profile", "use", &id, "--character", "seraphina"]);
    assert_eq!(
        text(&out).trim(),
        format!("character {character} is pinned to profile \"Creative\"")
    );
    let pins = {
        let (data, character) = (data.clone(), character.clone());
        block_on(async move {
            let store = Store::open(&data).await.unwrap();
            let p = store.character_pins(&character).await.unwrap();
            store.close().await;
            p
        })
    };
    assert_eq!(pins.profile_id.as_deref(), Some(id.as_str()));

    // Removed by name: the pin goes with it.
    let out = ok(&data, &["profile", "remove", "Creative"]);
    assert_eq!(text(&out).trim(), format!("deleted profile {id}"));
    assert_eq!(
        code(&["--json", "profile", "remove", "Creative"]),
        (Some(3), "not_found".into())
    );
    let left = json(&ok(&data, &["--json", "profile", "list"]));
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["name"], "Plain");
}

#[test]
fn prompt_raw_prints_exactly_what_a_text_completion_backend_gets() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let root = kobold();
    let (_, session) = library(&data, &root);

    // Auto: the server names a Llama 3.1 model, so the Llama 3 preset.
    let out = ok(
        &data,
        &["prompt", &session, "--message", "Is it safe?", "--raw"],
    );
    let raw = text(&out);
    assert!(raw.starts_with(LLAMA3_START), "{raw}");
    assert!(raw.ends_with(LLAMA3_END), "{raw:?}");
    assert!(raw.contains("<|start_header_id|>user<|end_header_id|>\n\nIs it safe?<|eot_id|>"));
    assert!(raw.contains("Seraphina"), "the card is in it");
    let why = stderr(&out);
    assert!(
        why.contains("template: Llama 3 Instruct (matched by the model's name)"),
        "{why}"
    );
    assert!(why.contains("<|eot_id|>"), "the stop strings: {why}");

    // --json: the same text, its stop strings and the template.
    let turn = json(&ok(
        &data,
        &[
            "--json",
            "prompt",
            &session,
            "--message",
            "Is it safe?",
            "--raw",
        ],
    ));
    assert_eq!(turn["text"], raw.as_str());
    assert_eq!(turn["template"]["origin"], "modelName");
    assert!(turn["stop"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "<|eot_id|>"));
    // And the preview's text prompt is that very text.
    let preview = json(&ok(
        &data,
        &["--json", "prompt", &session, "--message", "Is it safe?"],
    ));
    assert_eq!(preview["textPrompt"]["text"], raw.as_str());

    // A profile naming ChatML, used in the chat: its template, and why.
    ok(
        &data,
        &[
            "profile",
            "add",
            "Chatty",
            "--provider",
            "Kobold",
            "--instruct",
            "ChatML",
        ],
    );
    ok(&data, &["profile", "use", "Chatty", "--session", &session]);
    let out = ok(
        &data,
        &["prompt", &session, "--message", "Is it safe?", "--raw"],
    );
    let raw = text(&out);
    assert!(raw.starts_with("<|im_start|>system\n"), "{raw}");
    assert!(raw.ends_with("<|im_start|>assistant\n"), "{raw:?}");
    assert!(
        stderr(&out).contains("template: ChatML (the connection profile in force names it)"),
        "{}",
        stderr(&out)
    );

    // A character's instruct pin wins over the profile's; `none` lets it go.
    let out = ok(
        &data,
        &["template", "pin", "Alpaca", "--character", "Seraphina"],
    );
    assert!(
        text(&out).contains("prompts use instruct template \"Alpaca\""),
        "{}",
        text(&out)
    );
    let out = ok(
        &data,
        &["prompt", &session, "--message", "Is it safe?", "--raw"],
    );
    let raw = text(&out);
    assert!(raw.contains("### Instruction:\nIs it safe?"), "{raw}");
    assert!(raw.trim_end().ends_with("### Response:"), "{raw:?}");
    assert!(
        stderr(&out).contains("template: Alpaca (the character is pinned to it)"),
        "{}",
        stderr(&out)
    );
    let out = confab(
        &data,
        &[
            "--json",
            "template",
            "pin",
            "Nope",
            "--character",
            "Seraphina",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let unpinned = json(&ok(
        &data,
        &[
            "--json",
            "template",
            "pin",
            "none",
            "--character",
            "Seraphina",
        ],
    ));
    assert_eq!(unpinned["instruct"], serde_json::Value::Null);
    let out = ok(
        &data,
        &["prompt", &session, "--message", "Is it safe?", "--raw"],
    );
    assert!(text(&out).starts_with("<|im_start|>system\n"));

    // --raw and --request do not go together.
    assert_eq!(
        confab(&data, &["prompt", &session, "--raw", "--request"])
            .status
            .code(),
        Some(2)
    );

    // A chat-completion provider: --raw says what it is for.
    ok(&data, &["profile", "use", "none", "--session", &session]);
    ok(
        &data,
        &[
            "provider",
            "add",
            "Chat",
            "--kind",
            "compatible",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--model",
            "m",
            "--default",
        ],
    );
    let out = confab(&data, &["prompt", &session, "--message", "Hi", "--raw"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(out.stdout.is_empty());
    let said = stderr(&out);
    assert!(
        said.contains("--raw is for text-completion providers") && said.contains("--request"),
        "{said}"
    );
}
