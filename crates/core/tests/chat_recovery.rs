//! A process killed with SIGKILL mid-stream loses no word that reached the
//! database: the next start finds the partial reply `interrupted`, the user
//! message intact, and the session free.
//!
//! The test binary plays both parts: the parent test re-runs this binary with
//! [`CHILD_VAR`] set, and the child test (a no-op otherwise) streams a reply
//! from the parent's server until the parent kills it.

mod chat_support;
mod http_support;

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chat_support::*;
use confab_core::chat::{recover_interrupted, ChatEngine, EngineConfig, StreamEvent};
use confab_core::secrets::Keys;
use confab_core::session::turn::PromptCaches;
use confab_core::session::MessageStatus;
use confab_core::sink::Discard;
use confab_core::store::Store;

/// Set in the child: `<data dir>|<session id>`.
const CHILD_VAR: &str = "CONFAB_CHAT_KILL_CHILD";

/// The child's part: stream until killed. Passes at once when not run as the child.
#[tokio::test]
async fn child_streams_until_killed() {
    let Ok(spec) = std::env::var(CHILD_VAR) else {
        return;
    };
    let (dir, session) = spec.split_once('|').expect("dir|session");
    let store = Store::open(std::path::Path::new(dir)).await.unwrap();
    let engine = ChatEngine::new(
        store.clone(),
        Arc::new(Keys::in_memory(store.clone())),
        Arc::new(PromptCaches::default()),
        http(),
        EngineConfig {
            checkpoint_every: Duration::from_millis(30),
            ..EngineConfig::default()
        },
        Arc::new(Discard),
    );
    let sink = Recorder::new();
    let started = engine
        .send(session, "Are you still there?", &[], sink.clone())
        .await
        .unwrap();
    println!(
        "CHILD_STARTED {} {}",
        started.user_message_id.unwrap(),
        started.assistant_message_id.unwrap()
    );
    // Wait to be killed (bounded, in case the parent is gone).
    tokio::time::sleep(Duration::from_secs(60)).await;
    panic!("the child was not killed");
}

/// Kills the child if the test fails before it does.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_kill_9_mid_stream_leaves_an_interrupted_reply_and_a_free_session() {
    let server = Server::start(vec![
        sse_head(),
        bytes(chunk("Before ") + &chunk("the crash")),
        Step::Hold,
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let character = add_character(&store).await;
    let session = store
        .create_session(&character, None, "Traveller")
        .await
        .unwrap();
    store
        .save_provider(&local_provider(&server.base_url()))
        .await
        .unwrap();

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_streams_until_killed",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_VAR, format!("{}|{}", dir.path().display(), session))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut child = KillOnDrop(child);
    let ids = tokio::task::spawn_blocking(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.ok()?;
            // libtest may print the test's name on the same line first.
            if let Some((_, rest)) = line.split_once("CHILD_STARTED ") {
                let (user, reply) = rest.split_once(' ')?;
                return Some((user.to_owned(), reply.to_owned()));
            }
        }
        None
    });
    let (user_id, reply_id) = tokio::time::timeout(Duration::from_secs(30), ids)
        .await
        .expect("the child started in time")
        .unwrap()
        .expect("the child printed its ids");

    // Wait for a checkpoint with all that arrived (the server is holding).
    let mut checkpointed = false;
    for _ in 0..1000 {
        let m = store.message(&reply_id).await.unwrap();
        if m.content == "Before the crash" {
            assert_eq!(m.status, MessageStatus::Partial);
            checkpointed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(checkpointed, "the partial reply reached the database");

    // SIGKILL (what std's kill sends on Unix): no destructor, no final save.
    child.0.kill().unwrap();
    let status = child.0.wait().unwrap();
    assert!(!status.success());
    assert!(
        server.wait_closed(1, Duration::from_secs(10)).await,
        "the killed process's connection closed"
    );
    store.clone().close().await;

    // The next start.
    let store = Store::open(dir.path()).await.unwrap();
    assert_eq!(recover_interrupted(&store).await.unwrap(), 1);
    let reply = store.message(&reply_id).await.unwrap();
    assert_eq!(reply.content, "Before the crash");
    assert_eq!(reply.status, MessageStatus::Interrupted);
    assert_eq!(reply.meta.model.as_deref(), Some("test-model"));
    let user = store.message(&user_id).await.unwrap();
    assert_eq!(
        (user.content.as_str(), user.status),
        ("Are you still there?", MessageStatus::Complete)
    );
    let rows = usage_rows(&store).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, "interrupted");

    // A fresh engine: the session is not busy, and a retry streams.
    server.set_default(reply_script(&["Yes, I am."]));
    let engine = ChatEngine::new(
        store.clone(),
        Arc::new(Keys::in_memory(store.clone())),
        Arc::new(PromptCaches::default()),
        http(),
        EngineConfig::default(),
        Arc::new(Discard),
    );
    assert!(engine.live_sessions().session_ids.is_empty());
    let sink = Recorder::new();
    engine.regenerate(&session, sink.clone()).await.unwrap();
    let StreamEvent::Done { text, .. } = sink.terminal().await else {
        panic!("{:?}", sink.events())
    };
    assert_eq!(text, "Yes, I am.");
    let reply2 = store.messages_page(&session, None, 10).await.unwrap();
    let last = reply2.messages.last().unwrap();
    assert_eq!(
        last.swipe_count, 2,
        "the interrupted reply is kept as a swipe"
    );
}
