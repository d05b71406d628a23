//! `confab chat SESSION "text"` and key management, run as a user would run them,
//! against a model server on 127.0.0.1. No session bus is handed down, so the OS
//! keyring is unreachable, as on a headless Linux box.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const KEY: &str = "sk-cli-test-0123456789abcdef";
const PASSPHRASE: &str = "correct horse battery staple, at length";

/// A fake OpenAI-compatible server: `slowly` streams 400 words 20 ms apart
/// (`forever`, 6000),
/// `refuse` is a 429 with Retry-After, anything else a short reply. It keeps
/// the Authorization header of every request.
struct Server {
    url: String,
    authorizations: Arc<Mutex<Vec<String>>>,
}

fn server() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let authorizations = Arc::new(Mutex::new(Vec::new()));
    let seen = authorizations.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut head = String::new();
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if lower.starts_with("authorization:") {
                        seen.lock()
                            .unwrap()
                            .push(line["authorization:".len()..].trim().to_owned());
                    }
                    head.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let body = String::from_utf8_lossy(&body).into_owned();
                let mut out = reader.into_inner();
                if head.starts_with("GET /v1/models") {
                    let list = r#"{"object":"list","data":[{"id":"cli-model","object":"model"}]}"#;
                    let _ = write!(
                        out,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{list}",
                        list.len()
                    );
                    return;
                }
                if body.contains("refuse") {
                    let err =
                        r#"{"error":{"message":"Rate limit reached","type":"rate_limit_error"}}"#;
                    let _ = write!(
                        out,
                        "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 9\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{err}",
                        err.len()
                    );
                    return;
                }
                let _ = out.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n",
                );
                let words: Vec<String> = if body.contains("forever") {
                    // Two minutes: until the test kills the process reading it.
                    (0..6000).map(|i| format!("w{i} ")).collect()
                } else if body.contains("slowly") {
                    (0..400).map(|i| format!("w{i} ")).collect()
                } else {
                    ["Hello ", "from ", "the ", "glade."]
                        .map(String::from)
                        .to_vec()
                };
                let pause = if body.contains("slowly") || body.contains("forever") {
                    20
                } else {
                    5
                };
                for word in words {
                    std::thread::sleep(Duration::from_millis(pause));
                    let chunk = format!(
                        "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{word}\"}}}}]}}\n\n"
                    );
                    if out.write_all(chunk.as_bytes()).is_err() {
                        return;
                    }
                }
                let _ = out.write_all(
                    b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
                );
            });
        }
    });
    Server {
        url,
        authorizations,
    }
}

fn command(data_dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_confab"));
    cmd.args(args)
        .env("CONFAB_DATA_DIR", data_dir)
        // No Secret Service: the keyring is unavailable, deterministically.
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/confab-test-bus",
        )
        .env_remove("DISPLAY")
        .env("CONFAB_ENCRYPTION_KEY", PASSPHRASE)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

fn confab(data_dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = command(data_dir, args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .spawn()
        .expect("the confab binary runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
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

/// A data folder with Seraphina, a session with her, and a provider at `url`.
fn library(dir: &Path, url: &str) -> String {
    let card = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures/cards/v2_png__st_default_Seraphina_2024.png");
    let out = confab(dir, &["import", card.to_str().unwrap(), "--json"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let character = json(&out)["characterId"].as_str().unwrap().to_owned();
    let out = confab(dir, &["session", "new", &character, "--json"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let session = json(&out)["id"].as_str().unwrap().to_owned();
    let out = confab(
        dir,
        &[
            "provider",
            "add",
            "Local",
            "--kind",
            "compatible",
            "--base-url",
            url,
            "--model",
            "cli-model",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    session
}

fn last_message(dir: &Path, session: &str) -> serde_json::Value {
    let out = confab(dir, &["messages", session, "--json"], None);
    assert!(out.status.success());
    json(&out)["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone()
}

#[test]
fn a_reply_streams_to_stdout_and_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let server = server();
    let session = library(dir.path(), &server.url);

    let out = confab(dir.path(), &["chat", &session, "Where am I?"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text(&out).trim(), "Hello from the glade.");
    let reply = last_message(dir.path(), &session);
    assert_eq!(reply["content"], "Hello from the glade.");
    assert_eq!(reply["status"], "complete");
    assert_eq!(reply["meta"]["model"], "cli-model");

    // --json: one stream event per line, started first, done last.
    let out = confab(dir.path(), &["chat", &session, "And now?", "--json"], None);
    assert!(out.status.success());
    let events: Vec<serde_json::Value> = text(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.first().unwrap()["type"], "started");
    assert_eq!(events.last().unwrap()["type"], "done");
    assert_eq!(events.last().unwrap()["text"], "Hello from the glade.");
}

#[test]
fn the_exit_code_says_which_error_ended_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = server();
    let session = library(dir.path(), &server.url);

    let out = confab(dir.path(), &["chat", &session, "please refuse"], None);
    assert_eq!(out.status.code(), Some(11), "rate_limited");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("rate_limited") && stderr.contains("9 seconds"),
        "{stderr}"
    );
    // The user message is kept.
    let out = confab(dir.path(), &["messages", &session, "--json"], None);
    let messages = json(&out)["messages"].as_array().unwrap().clone();
    assert!(messages.iter().any(|m| m["content"] == "please refuse"));

    let out = confab(dir.path(), &["chat", "no-such-session", "hi"], None);
    assert_eq!(out.status.code(), Some(3), "not_found");
    let out = confab(dir.path(), &["chat", &session], None);
    assert_eq!(out.status.code(), Some(4), "invalid_input: nothing to say");
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_reply_and_saves_what_arrived() {
    let dir = tempfile::tempdir().unwrap();
    let server = server();
    let session = library(dir.path(), &server.url);

    let child: Child = command(dir.path(), &["chat", &session, "tell me slowly"])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until some words were saved, then press Ctrl-C.
    let mut saw_words = false;
    for _ in 0..200 {
        std::thread::sleep(Duration::from_millis(50));
        let last = last_message(dir.path(), &session);
        if last["content"].as_str().is_some_and(|c| c.contains("w5 ")) {
            saw_words = true;
            break;
        }
    }
    assert!(saw_words, "the reply started");
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text(&out).starts_with("w0 w1 "));
    let reply = last_message(dir.path(), &session);
    assert_eq!(reply["status"], "cancelled");
    let content = reply["content"].as_str().unwrap();
    assert!(content.starts_with("w0 ") && !content.contains("w399"));
}

#[test]
fn keys_come_from_stdin_and_fall_back_to_encrypted_storage_without_a_keyring() {
    let dir = tempfile::tempdir().unwrap();
    let server = server();
    let _session = library(dir.path(), &server.url);

    // Never from an argument: there is no such argument.
    let out = confab(dir.path(), &["provider", "key", "set", "Local", KEY], None);
    assert_eq!(out.status.code(), Some(2), "clap refuses a key argument");

    let out = confab(dir.path(), &["provider", "key", "set", "Local"], Some(KEY));
    assert_eq!(out.status.code(), Some(20), "keyring_unavailable");
    let out = confab(
        dir.path(),
        &["provider", "key", "set", "Local", "--storage", "encrypted"],
        Some(&format!("{KEY}\n")),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text(&out).contains(KEY) && !String::from_utf8_lossy(&out.stderr).contains(KEY));

    let out = confab(dir.path(), &["provider", "list", "--json"], None);
    assert!(out.status.success());
    assert!(!text(&out).contains(KEY));
    assert_eq!(json(&out)[0]["key"]["storage"], "encrypted");

    let out = confab(dir.path(), &["provider", "key", "test", "Local"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = server.authorizations.lock().unwrap().clone();
    assert_eq!(seen.last().unwrap(), &format!("Bearer {KEY}"));

    // The database never holds the key in the clear.
    let db = std::fs::read(dir.path().join("confab.db")).unwrap();
    assert!(!db.windows(KEY.len()).any(|w| w == KEY.as_bytes()));

    let out = confab(dir.path(), &["provider", "key", "delete", "Local"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A key typed at a terminal is read without echo: it never shows on the screen.
/// `script` gives the command a pseudo-terminal and records everything it shows.
#[cfg(target_os = "linux")]
#[test]
fn a_key_typed_at_a_terminal_is_not_echoed() {
    if Command::new("script").arg("--version").output().is_err() {
        panic!("util-linux `script` is needed for this test (Debian: bsdutils)");
    }
    let dir = tempfile::tempdir().unwrap();
    let server = server();
    let _session = library(dir.path(), &server.url);
    let line = format!(
        "{} provider key set Local --storage encrypted",
        env!("CARGO_BIN_EXE_confab")
    );
    let mut child = Command::new("script")
        .args(["--quiet", "--return", "--command", &line, "/dev/null"])
        .env("CONFAB_DATA_DIR", dir.path())
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/confab-test-bus",
        )
        .env_remove("DISPLAY")
        .env("CONFAB_ENCRYPTION_KEY", PASSPHRASE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Type only once the prompt is up and echo is off.
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("API key") {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "no prompt: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{KEY}\r").as_bytes()).unwrap();
    stdin.flush().unwrap();
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    seen.extend_from_slice(&rest);
    drop(stdin);
    let status = child.wait().unwrap();
    let screen = String::from_utf8_lossy(&seen);
    assert!(status.success(), "{screen}");
    assert!(!screen.contains(&KEY[..12]), "the key was echoed: {screen}");

    let out = confab(dir.path(), &["provider", "list", "--json"], None);
    assert_eq!(json(&out)[0]["key"]["storage"], "encrypted");
    let out = confab(dir.path(), &["provider", "key", "test", "Local"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        server.authorizations.lock().unwrap().last().unwrap(),
        &format!("Bearer {KEY}")
    );
}

/// Kills (SIGKILL on Unix) the child if a test fails before it does.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `confab chat SESSION "talk forever"` and waits until some of its
/// reply is saved; every look at it is a `confab` command run beside it.
fn streaming_chat(dir: &Path, session: &str) -> KillOnDrop {
    let child = command(dir, &["chat", session, "talk forever"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let child = KillOnDrop(child);
    for _ in 0..200 {
        std::thread::sleep(Duration::from_millis(50));
        let last = last_message(dir, session);
        if last["content"].as_str().is_some_and(|c| c.contains("w5 ")) {
            assert_eq!(
                last["status"], "partial",
                "a command beside it marked it: {last}"
            );
            return child;
        }
    }
    panic!("the reply never started");
}

/// Kills the process with SIGKILL (TerminateProcess on Windows): no final save.
fn kill(mut chat: KillOnDrop) {
    chat.0.kill().unwrap();
    assert!(!chat.0.wait().unwrap().success());
}

/// A second session with the library's character.
fn another_session(dir: &Path) -> String {
    let out = confab(dir, &["characters", "--json"], None);
    let character = json(&out)[0]["id"].as_str().unwrap().to_owned();
    let out = confab(dir, &["session", "new", &character, "--json"], None);
    json(&out)["id"].as_str().unwrap().to_owned()
}

#[test]
fn a_reply_cut_by_killing_confab_chat_is_recovered_by_the_next_command() {
    let dir = tempfile::tempdir().unwrap();
    let server = server();
    let session = library(dir.path(), &server.url);
    let other = another_session(dir.path());
    let chat = streaming_chat(dir.path(), &session);

    // While it lives, other commands and another `confab chat` (which could
    // each recover a library nobody holds) leave its reply streaming.
    for args in [&["info"][..], &["sessions", "--json"], &["usage"]] {
        let out = confab(dir.path(), args, None);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = confab(dir.path(), &["chat", &other, "Hello?"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text(&out).trim(), "Hello from the glade.");
    let live = last_message(dir.path(), &session);
    assert_eq!(live["status"], "partial", "{live}");

    // Killed: the very next command, finding nobody else, recovers it.
    kill(chat);
    let reply = last_message(dir.path(), &session);
    assert_eq!(reply["status"], "interrupted", "{reply}");
    let content = reply["content"].as_str().unwrap();
    assert!(
        content.starts_with("w0 w1 ") && content.len() >= live["content"].as_str().unwrap().len()
    );
    assert_eq!(last_message(dir.path(), &other)["status"], "complete");
}

#[test]
fn a_cut_reply_is_left_to_the_app_while_the_app_holds_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let server = server();
    let session = library(dir.path(), &server.url);
    // This test process plays the running app: it holds the library shared.
    let mut app =
        confab_core::store::LibraryLock::open(&dir.path().join(confab_core::store::DATABASE_FILE))
            .unwrap();
    app.share().unwrap();

    let chat = streaming_chat(dir.path(), &session);
    kill(chat);
    // The app may be streaming replies of its own: the CLI recovers nothing.
    let out = confab(dir.path(), &["info"], None);
    assert!(out.status.success());
    assert_eq!(last_message(dir.path(), &session)["status"], "partial");

    // The app quits: the next command recovers the cut reply.
    drop(app);
    assert_eq!(last_message(dir.path(), &session)["status"], "interrupted");
}

#[test]
fn a_group_chat_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = server();
    let session = library(dir.path(), &server.url);
    for card in [
        "v2_png__st_default_CodingSensei.png",
        "v2_png__st_default_FluxTheCat.png",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../core/tests/fixtures/cards")
            .join(card);
        let out = confab(dir.path(), &["import", path.to_str().unwrap()], None);
        assert!(out.status.success());
    }

    // A 1:1 chat becomes a group: characters named by name, in any case.
    let out = confab(
        dir.path(),
        &["group", "add", &session, "coding sensei", "--json"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let state = json(&out);
    assert_eq!(state["isGroup"], true);
    let sensei = state["members"][1]["characterId"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = confab(
        dir.path(),
        &["group", "add", &session, "Flux the Cat"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = confab(dir.path(), &["group", "add", &session, "Nobody"], None);
    assert!(!out.status.success(), "an unknown name is refused");

    // The prompt a member would get, by name.
    let out = confab(
        dir.path(),
        &[
            "prompt",
            &session,
            "--message",
            "Hi all",
            "--as",
            "Coding Sensei",
            "--json",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let preview = json(&out);
    assert_eq!(preview["speakerId"], sensei.as_str());
    let last = preview["prompt"]["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last["content"],
        "[Write the next reply only as Coding Sensei.]"
    );

    // A reply as a member, then two auto turns by the others, each headed by its speaker.
    let out = confab(
        dir.path(),
        &[
            "group", "settings", &session, "--order", "list", "--auto", "2",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = confab(
        dir.path(),
        &["chat", &session, "Hi all", "--as", &sensei],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = text(&out);
    assert_eq!(
        printed.matches("Hello from the glade.").count(),
        3,
        "{printed}"
    );
    assert!(printed.starts_with("Coding Sensei: Hello"), "{printed}");
    assert!(printed.contains("\n\nFlux the Cat: Hello"), "{printed}");
    let out = confab(dir.path(), &["messages", &session, "--json"], None);
    let names: Vec<String> = json(&out)["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .take(3)
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Seraphina", "Flux the Cat", "Coding Sensei"]);

    // Mute and send out; with nobody left to speak, passing the turn is refused.
    for args in [
        ["group", "mute", &session, "Seraphina"],
        ["group", "absent", &session, "Flux the Cat"],
        ["group", "mute", &session, "Coding Sensei"],
    ] {
        let out = confab(dir.path(), &args, None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = confab(dir.path(), &["chat", &session, "--pass"], None);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = confab(dir.path(), &["group", "show", &session, "--json"], None);
    let state = json(&out);
    let changes: Vec<&str> = state["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["joined", "joined", "muted", "absent", "muted"]);
    assert_eq!(state["nextSpeaker"], serde_json::Value::Null);
}
