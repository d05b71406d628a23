//! Proof that a streaming reply is written transactionally: `confab chat`
//! (send, regenerate, continue) is killed with SIGKILL at random moments while
//! a model server on 127.0.0.1 streams slowly. After every kill the library is
//! sound (integrity check, the conversation's tree, the search index), every
//! message the CLI reported is there, every reply it reported done is whole,
//! and the next `confab` command turns the cut reply into `interrupted`
//! without losing a word of what was saved.
//!
//! The seed is printed; `CONFAB_KILL_SEED=<seed>` replays a failing run.
#![cfg(unix)]

mod durable_support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use durable_support::db::Db;
use durable_support::{
    chat_library, command, confab_ok, full_reply, slow_server, Rng, REPLY_WORDS,
};

/// Runs: every fifth runs to its end, the other 24 are killed.
const TRIALS: usize = 30;
/// The server's pause between words: a whole reply takes about 0.5 s.
const PAUSE: Duration = Duration::from_millis(12);

/// One message as the database holds it.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    id: String,
    parent: Option<String>,
    role: String,
    content: String,
    status: String,
    depth: i64,
    active_child: Option<String>,
    user_turns: i64,
}

#[test]
fn killing_a_streaming_reply_at_random_moments_loses_nothing_saved() {
    let (mut rng, seed) = Rng::from_env("kill_chat");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path();
    let url = slow_server(PAUSE);
    let session = chat_library(data, &url);
    let mut kinds = BTreeMap::<&str, u32>::new();
    let mut outcomes = BTreeMap::<&str, u32>::new();
    let mut kills = 0;

    for trial in 0..TRIALS {
        let context = format!("seed {seed}, trial {trial}");
        let before = messages(data, &session);
        let last_reply = before.iter().rev().find(|m| m.role == "assistant").cloned();
        let kind = match (trial, rng.below(4)) {
            (0, _) | (_, 0 | 1) => "send",
            (_, 2) => "regenerate",
            _ => "continue",
        };
        *kinds.entry(kind).or_default() += 1;
        let args: Vec<&str> = match kind {
            "send" => vec!["chat", &session, "tell me", "--json"],
            "regenerate" => vec!["chat", &session, "--regenerate", "--json"],
            _ => vec!["chat", &session, "--continue", "--json"],
        };
        // Where to kill: every fifth run is left to finish (its reply must
        // then be whole); the others are killed during start-up, while the
        // request is prepared, or after a random word of the reply.
        let moment = if trial % 5 == 4 {
            Moment::Never
        } else {
            match rng.below(6) {
                0 => Moment::AfterStart(Duration::from_micros(rng.below(200_000))),
                1 => Moment::AfterStarted(Duration::from_micros(rng.below(150_000))),
                _ => Moment::AfterWords(
                    1 + rng.below(REPLY_WORDS as u64 - 1) as usize,
                    Duration::from_micros(rng.below(15_000)),
                ),
            }
        };
        let out = run_and_kill(data, &args, moment);
        if moment != Moment::Never {
            kills += 1;
        }
        let events = out.events;
        if let Some(code) = out.exit_code {
            assert_eq!(
                code, 0,
                "{context}: {kind} ended on its own, badly: {}",
                out.stderr
            );
        }

        // Straight after the kill, before any other confab command runs.
        let mut db = Db::open(data).unwrap();
        db.assert_sound(&context);
        let rows = rows(&mut db, &session);
        check_tree(&mut db, &session, &rows, &context);
        db.close();

        // What the CLI reported is there: the messages it announced, and a
        // reply it said was done, whole.
        let by_id: BTreeMap<&str, &Row> = rows.iter().map(|r| (r.id.as_str(), r)).collect();
        let announced = events.iter().find(|e| e["type"] == "started");
        if let Some(started) = announced {
            for key in ["userMessageId", "assistantMessageId"] {
                if let Some(id) = started[key].as_str() {
                    assert!(
                        by_id.contains_key(id),
                        "{context}: reported {key} {id} is gone"
                    );
                }
            }
        }
        let reply_id = announced.and_then(|e| e["assistantMessageId"].as_str());
        let done = events.iter().find(|e| e["type"] == "done");
        let outcome = match (reply_id, done) {
            (None, _) => "killed before it reported",
            (Some(_), Some(_)) => "done",
            (Some(_), None) => "killed while streaming",
        };
        *outcomes.entry(outcome).or_default() += 1;
        if let (Some(id), Some(done)) = (reply_id, done) {
            let reply = by_id[id];
            assert_eq!(reply.status, "complete", "{context}: {reply:?}");
            assert_eq!(
                Some(reply.content.as_str()),
                done["text"].as_str(),
                "{context}"
            );
        }
        if reply_id.is_none() {
            // Killed before it reported. The save and the report are two
            // steps, so the kill may fall between them: the chat is then as
            // it was, or holds the whole exchange the command begins (never a
            // part of it), and nothing it had is gone.
            let added: Vec<&str> = rows
                .iter()
                .filter(|r| !before.iter().any(|b| b.id == r.id))
                .map(|r| r.role.as_str())
                .collect();
            let whole: &[&str] = match kind {
                "send" => &["user", "assistant"],
                "regenerate" => &["assistant"],
                _ => &[],
            };
            assert!(
                added.is_empty() || added == whole,
                "{context}: {kind} killed before it reported left a part of an exchange: {added:?}"
            );
            assert_eq!(
                rows.len() - added.len(),
                before.len(),
                "{context}: {kind} killed before it reported, yet messages are gone"
            );
        }
        // A continued reply keeps every word it had.
        if kind == "continue" {
            let was = last_reply.as_ref().unwrap();
            let now = by_id
                .get(was.id.as_str())
                .expect("the continued reply is kept");
            assert!(
                now.content.starts_with(&was.content),
                "{context}: continue lost text: {:?} -> {:?}",
                was.content,
                now.content
            );
        }

        // The next command (any command) recovers the cut reply: `interrupted`,
        // with exactly the text that was saved.
        let cut: Vec<&Row> = rows.iter().filter(|r| r.status == "partial").collect();
        assert!(
            cut.len() <= 1,
            "{context}: more than one reply streaming: {cut:?}"
        );
        confab_ok(data, &["sessions", "--json"]);
        let after = messages(data, &session);
        for row in &after {
            assert_ne!(row.status, "partial", "{context}: not recovered: {row:?}");
            let was = rows.iter().find(|r| r.id == row.id).unwrap();
            assert_eq!(
                row.content, was.content,
                "{context}: recovery changed the text"
            );
            let expected = if was.status == "partial" {
                "interrupted"
            } else {
                was.status.as_str()
            };
            assert_eq!(row.status, expected, "{context}: {row:?}");
        }
        assert_eq!(
            after.len(),
            rows.len(),
            "{context}: recovery added or removed messages"
        );
    }
    println!("kill_chat: {TRIALS} runs, {kills} killed; requests {kinds:?}; outcomes {outcomes:?}");
    assert!(kills >= 20, "seed {seed}: {kills} kills");
    assert!(
        outcomes.get("killed while streaming").copied().unwrap_or(0) >= 10,
        "seed {seed}: most kills land mid-reply: {outcomes:?}"
    );
}

/// When to kill a `confab chat`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Moment {
    /// This long after it was started.
    AfterStart(Duration),
    /// This long after it reported the saved messages (`started`).
    AfterStarted(Duration),
    /// This long after it printed this many words of the reply.
    AfterWords(usize, Duration),
    /// Not at all: it runs to its end.
    Never,
}

/// What a `confab chat --json` printed before it ended or was killed.
struct Ran {
    events: Vec<serde_json::Value>,
    /// `None` when it was killed.
    exit_code: Option<i32>,
    stderr: String,
}

/// Runs `confab` with `args` and kills it with SIGKILL at `moment` (when it
/// has not ended by then); its whole JSON lines as they were printed.
fn run_and_kill(data: &Path, args: &[&str], moment: Moment) -> Ran {
    let mut child = command(data, args).spawn().unwrap();
    let spawned = Instant::now();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<serde_json::Value>();
    let reader = std::thread::spawn(move || {
        let mut events = Vec::new();
        for line in BufReader::new(stdout).split(b'\n') {
            let Ok(line) = line else { break };
            // A line the kill cut is not a report.
            let Ok(event) = serde_json::from_slice::<serde_json::Value>(&line) else {
                continue;
            };
            events.push(event.clone());
            let _ = tx.send(event);
        }
        events
    });
    let mut words = 0;
    let wait_for = |done: &mut dyn FnMut(&serde_json::Value) -> bool| loop {
        match rx.recv() {
            Ok(event) if done(&event) => return true,
            Ok(_) => {}
            // It ended first: nothing left to kill.
            Err(_) => return false,
        }
    };
    let alive = match moment {
        Moment::AfterStart(delay) => {
            std::thread::sleep(delay.saturating_sub(spawned.elapsed()));
            true
        }
        Moment::AfterStarted(delay) => {
            let alive = wait_for(&mut |e| e["type"] == "started");
            std::thread::sleep(delay);
            alive
        }
        Moment::AfterWords(n, delay) => {
            let alive = wait_for(&mut |e| {
                words += e["text"]
                    .as_str()
                    .map_or(0, |t| t.split_whitespace().count());
                words >= n
            });
            std::thread::sleep(delay);
            alive
        }
        Moment::Never => false,
    };
    if alive {
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut err, &mut stderr);
    }
    Ran {
        events: reader.join().unwrap(),
        exit_code: status.code(),
        stderr,
    }
}

/// The session's messages, read through a fresh connection.
fn messages(data: &Path, session: &str) -> Vec<Row> {
    let mut db = Db::open(data).unwrap();
    let rows = rows(&mut db, session);
    db.close();
    rows
}

fn rows(db: &mut Db, session: &str) -> Vec<Row> {
    let field = |db: &mut Db, column: &str| {
        db.texts(&format!(
            "SELECT CAST({column} AS TEXT) FROM messages WHERE session_id = '{session}'
             ORDER BY created_at, rowid"
        ))
    };
    let ids = field(db, "id");
    let parents = field(db, "parent_id");
    let roles = field(db, "role");
    let contents = field(db, "content");
    let statuses = field(db, "status");
    let depths = field(db, "depth");
    let children = field(db, "active_child_id");
    let turns = field(db, "user_turns");
    let opt = |s: &String| (s != "NULL").then(|| s.clone());
    (0..ids.len())
        .map(|i| Row {
            id: ids[i].clone(),
            parent: opt(&parents[i]),
            role: roles[i].clone(),
            content: contents[i].clone(),
            status: statuses[i].clone(),
            depth: depths[i].parse().unwrap(),
            active_child: opt(&children[i]),
            user_turns: turns[i].parse().unwrap(),
        })
        .collect()
}

/// The conversation is a whole tree: parents, depths and counts agree, the
/// active path runs from the session's root to its leaf, every user message
/// has its reply, and every reply's text is whole words of the server's reply
/// (runs of "w0 w1 ...", a continued reply being several runs).
fn check_tree(db: &mut Db, session: &str, rows: &[Row], context: &str) {
    let by_id: BTreeMap<&str, &Row> = rows.iter().map(|r| (r.id.as_str(), r)).collect();
    for row in rows {
        match &row.parent {
            None => assert_eq!(row.depth, 0, "{context}: {row:?}"),
            Some(p) => {
                let parent = by_id.get(p.as_str()).unwrap_or_else(|| {
                    panic!("{context}: parent of {row:?} is in another session")
                });
                assert_eq!(row.depth, parent.depth + 1, "{context}: {row:?}");
                let own = i64::from(row.role == "user");
                assert_eq!(
                    row.user_turns,
                    parent.user_turns + own,
                    "{context}: {row:?}"
                );
            }
        }
        if let Some(child) = &row.active_child {
            let child = by_id
                .get(child.as_str())
                .unwrap_or_else(|| panic!("{context}: {row:?}"));
            assert_eq!(child.parent.as_ref(), Some(&row.id), "{context}: {row:?}");
        }
        if row.role == "user" {
            assert!(
                rows.iter()
                    .any(|r| r.parent.as_ref() == Some(&row.id) && r.role == "assistant"),
                "{context}: a user message without its reply: {row:?}"
            );
        }
        if row.role == "assistant" && row.parent.is_some() {
            assert!(
                well_formed(&row.content),
                "{context}: torn reply {:?}",
                row.content
            );
            if row.status == "complete" {
                assert!(row.content.ends_with(&full_reply()), "{context}: {row:?}");
            }
        }
    }
    let leaf = db.texts(&format!(
        "SELECT CAST(leaf_id AS TEXT) FROM chat_sessions WHERE id = '{session}'"
    ));
    let root = db.texts(&format!(
        "SELECT CAST(active_root_id AS TEXT) FROM chat_sessions WHERE id = '{session}'"
    ));
    // Walk the active path from the root: it ends at the session's leaf.
    let mut at = by_id
        .get(root[0].as_str())
        .unwrap_or_else(|| panic!("{context}: the active root {root:?} is missing"));
    while let Some(next) = at.active_child.as_ref().and_then(|c| by_id.get(c.as_str())) {
        at = next;
    }
    assert_eq!(
        at.id, leaf[0],
        "{context}: the active path does not end at the leaf"
    );
}

/// Whole words of the server's reply, each run starting again at w0.
fn well_formed(text: &str) -> bool {
    let mut expected = 0;
    if !(text.is_empty() || text.ends_with(' ')) {
        return false;
    }
    for word in text.split_terminator(' ') {
        let Some(n) = word.strip_prefix('w').and_then(|n| n.parse::<usize>().ok()) else {
            return false;
        };
        if n != expected && n != 0 {
            return false;
        }
        expected = n + 1;
    }
    true
}
