//! The chat engine end to end: real SQLite files in temp dirs, a real HTTP
//! server on 127.0.0.1 writing raw SSE bytes with controlled pacing.
//! Every wait is bounded; no test asserts a wall-clock time.

mod chat_support;

use std::sync::Arc;
use std::time::Duration;

use chat_support::*;
use confab_core::chat::{
    recover_interrupted, CancelReason, EngineConfig, ReplyKind, StreamEvent, StreamStarted,
};
use confab_core::llm::{ProviderConfig, ProviderKind};
use confab_core::secrets::KeyStorage;
use confab_core::session::{MessageStatus, Role};
use confab_core::sink::Sink;
use confab_core::store::NewMessage;
use confab_core::ErrorCode;
use tokio::sync::Notify;

const OPENAI_RAW: &[u8] = include_bytes!("fixtures/streams/openai_stream.raw");
const ANTHROPIC_RAW: &[u8] = include_bytes!("fixtures/streams/anthropic_stream.raw");
const SECOND: Duration = Duration::from_secs(1);

/// The body of a capture (after its head), to serve behind our own head.
fn body_of(raw: &[u8]) -> Vec<u8> {
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    raw[at + 4..].to_vec()
}

fn quick() -> EngineConfig {
    EngineConfig {
        idle_timeout: Duration::from_secs(10),
        ..EngineConfig::default()
    }
}

fn started_of(events: &[StreamEvent]) -> StreamStarted {
    match &events[0] {
        StreamEvent::Started(s) => s.clone(),
        other => panic!("the first event is {other:?}"),
    }
}

fn error_of(event: &StreamEvent) -> (ErrorCode, Option<u32>, bool) {
    match event {
        StreamEvent::Failed {
            error,
            partial_saved,
        } => (error.code, error.retry_after_secs, *partial_saved),
        other => panic!("expected failed, got {other:?}"),
    }
}

/// Waits until nothing streams in the fixture's session.
async fn wait_free(f: &Fixture) {
    for _ in 0..400 {
        if f.engine.live_sessions().session_ids.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the session stayed busy");
}

#[tokio::test]
async fn send_streams_saves_and_records_usage() {
    let server = Server::start(vec![sse_head(), Step::Bytes(body_of(OPENAI_RAW))]).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let sink = Recorder::new();
    let started = f
        .engine
        .send(&f.session, "Hi there", &[], sink.clone())
        .await
        .unwrap();
    assert_eq!(started.kind, ReplyKind::Send);
    let done = sink.terminal().await;
    let events = sink.events();
    assert_eq!(started_of(&events), started, "started comes first");
    assert!(
        events[1..events.len() - 1]
            .iter()
            .all(|e| matches!(e, StreamEvent::Delta { .. })),
        "{events:?}"
    );
    assert_eq!(sink.terminal_count(), 1);
    let StreamEvent::Done {
        message_id,
        text,
        usage,
        finish_reason,
    } = done
    else {
        panic!("{done:?}")
    };
    assert_eq!(text, "Mock response from gpt-4o-mini.");
    assert_eq!(sink.text(), text, "the deltas add up to the reply");
    assert_eq!(message_id, started.assistant_message_id);
    assert_eq!(finish_reason.as_deref(), Some("stop"));
    assert!(usage.prompt_tokens.is_some() && usage.completion_tokens.is_some());

    let messages = f.messages().await;
    assert_eq!(messages.len(), 3, "greeting, user, reply");
    let (user, reply) = (&messages[1], &messages[2]);
    assert_eq!(Some(&user.id), started.user_message_id.as_ref());
    assert_eq!(
        (user.role, user.content.as_str(), user.status),
        (Role::User, "Hi there", MessageStatus::Complete)
    );
    assert_eq!(user.name, "User", "the default persona's name");
    assert_eq!(reply.role, Role::Assistant);
    assert_eq!(reply.name, "Seraphina");
    assert_eq!(reply.content, text);
    assert_eq!(reply.status, MessageStatus::Complete);
    assert_eq!(reply.edit_count, 0, "streaming is not editing");
    let meta = &reply.meta;
    assert_eq!(meta.model.as_deref(), Some("test-model"));
    assert_eq!(meta.provider.as_deref(), Some("Local"));
    assert_eq!(meta.finish_reason.as_deref(), Some("stop"));
    assert_eq!(meta.prompt_tokens, usage.prompt_tokens);
    assert_eq!(meta.completion_tokens, usage.completion_tokens);
    assert!(meta.time_to_first_token_ms.is_some() && meta.duration_ms.is_some());
    assert!(meta.time_to_first_token_ms <= meta.duration_ms);
    assert_eq!(meta.reasoning, None);

    // The request: the user message once, last, after the post-history instructions.
    let body = server.last_body();
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], true);
    let sent = body["messages"].as_array().unwrap();
    let last = sent.last().unwrap();
    assert_eq!(
        (last["role"].as_str(), last["content"].as_str()),
        (Some("user"), Some("Hi there"))
    );
    let before = &sent[sent.len() - 2];
    assert_eq!(before["role"], "system");
    assert!(before["content"]
        .as_str()
        .unwrap()
        .contains("Stay in character."));
    assert_eq!(
        sent.iter().filter(|m| m["content"] == "Hi there").count(),
        1,
        "the saved user message is not in the history twice"
    );
    assert!(sent.iter().any(|m| m["content"] == "Hello, traveller."));

    let rows = f.usage_rows().await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].0.as_str(), rows[0].1.as_str()), ("done", ""));

    // The session was announced live, then free.
    wait_free(&f).await;
    let notices = f.notices.events();
    assert!(notices
        .iter()
        .any(|n| n.session_ids == vec![f.session.clone()]));
    assert!(notices.last().unwrap().session_ids.is_empty());
}

#[tokio::test]
async fn the_prompt_matches_the_preview() {
    let server = Server::start(reply_script(&["Fine."])).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let request = confab_core::session::turn::TurnRequest {
        new_message: Some("What now?".into()),
        ..Default::default()
    };
    let preview =
        confab_core::session::turn::preview_turn(&f.store, &f.caches, &f.session, &request, false)
            .await
            .unwrap()
            .prompt;
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "What now?", &[], sink.clone())
        .await
        .unwrap();
    sink.terminal().await;
    let sent = server.last_body()["messages"].clone();
    let expected: Vec<serde_json::Value> = preview
        .messages
        .iter()
        .map(|m| serde_json::json!({"role": m.role.as_str(), "content": m.content}))
        .collect();
    assert_eq!(sent, serde_json::Value::Array(expected));
}

#[tokio::test]
async fn a_second_request_in_the_session_is_busy() {
    let gate = Arc::new(Notify::new());
    let server = Server::start(vec![
        sse_head(),
        bytes(chunk("Wait")),
        Step::Wait(gate.clone()),
        bytes(finish(1, 1)),
    ])
    .await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "One", &[], sink.clone())
        .await
        .unwrap();
    let before = f.messages().await.len();
    for attempt in [
        f.engine.send(&f.session, "Two", &[], Recorder::new()).await,
        f.engine.regenerate(&f.session, Recorder::new()).await,
        f.engine.continue_reply(&f.session, Recorder::new()).await,
        f.engine.impersonate(&f.session, Recorder::new()).await,
    ] {
        let err = attempt.unwrap_err();
        assert_eq!(err.code(), ErrorCode::Busy, "{err}");
    }
    assert_eq!(
        f.messages().await.len(),
        before,
        "a busy send saves nothing"
    );
    assert_eq!(
        f.engine.live_sessions().session_ids,
        vec![f.session.clone()]
    );
    server.set_default(reply_script(&["Free."]));
    gate.notify_one();
    assert!(matches!(sink.terminal().await, StreamEvent::Done { .. }));
    // Free again as soon as `done` is heard.
    let again = Recorder::new();
    f.engine
        .send(&f.session, "Three", &[], again.clone())
        .await
        .unwrap();
    assert!(matches!(again.terminal().await, StreamEvent::Done { .. }));
}

#[tokio::test]
async fn an_empty_message_or_a_missing_session_is_refused() {
    let server = Server::start(reply_script(&["x"])).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let err = f
        .engine
        .send(&f.session, "  \n", &[], Recorder::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    let err = f
        .engine
        .send("no-such-session", "Hi", &[], Recorder::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    let err = f
        .engine
        .send(&f.session, "Hi", &["nope".into()], Recorder::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert_eq!(f.messages().await.len(), 1, "nothing saved");
    assert!(f.engine.live_sessions().session_ids.is_empty());
    assert!(!f.engine.attach(&f.session, Recorder::new()));
    assert!(!f.engine.stop(&f.session));
}

#[tokio::test]
async fn attaching_mid_stream_gets_a_snapshot_then_every_delta() {
    let gate = Arc::new(Notify::new());
    let server = Server::start(vec![
        sse_head(),
        bytes(chunk("The ") + &chunk("glade ")),
        Step::Wait(gate.clone()),
        bytes(chunk("is ") + &chunk("quiet.") + &finish(3, 4)),
    ])
    .await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let sink = Recorder::new();
    let started = f
        .engine
        .send(&f.session, "Hi", &[], sink.clone())
        .await
        .unwrap();
    assert!(
        sink.wait_for(10 * SECOND, |_| sink.text() == "The glade ")
            .await,
        "{:?}",
        sink.events()
    );
    let late = Recorder::new();
    assert!(f.engine.attach(&f.session, late.clone()));
    let events = late.events();
    assert_eq!(events[0], StreamEvent::Started(started));
    assert_eq!(
        events[1],
        StreamEvent::Snapshot {
            text: "The glade ".into(),
            reasoning: String::new()
        }
    );
    gate.notify_one();
    let done = late.terminal().await;
    let StreamEvent::Done { text, .. } = &done else {
        panic!("{done:?}")
    };
    assert_eq!(text, "The glade is quiet.");
    assert_eq!(&late.text(), text, "snapshot + deltas == the final text");
    assert_eq!(sink.terminal().await, done, "both hear the same end");
    assert_eq!(late.terminal_count(), 1);
    assert!(
        !f.engine.attach(&f.session, Recorder::new()),
        "nothing live now"
    );
}

/// A subscriber whose receiver went away (a closed window).
struct Gone(std::sync::Mutex<Option<std::sync::mpsc::Sender<StreamEvent>>>);

impl Sink<StreamEvent> for Gone {
    fn send(&self, event: StreamEvent) {
        if let Some(tx) = self.0.lock().unwrap().as_ref() {
            let _ = tx.send(event); // the receiver is gone: ignored, as a closed channel would
        }
    }
}

#[tokio::test]
async fn a_subscriber_going_away_never_stops_the_stream() {
    let gate = Arc::new(Notify::new());
    let server = Server::start(vec![
        sse_head(),
        bytes(chunk("Still ")),
        Step::Wait(gate.clone()),
        bytes(chunk("here.") + &finish(1, 2)),
    ])
    .await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let (tx, rx) = std::sync::mpsc::channel();
    let window = Arc::new(Gone(std::sync::Mutex::new(Some(tx))));
    f.engine
        .send(&f.session, "Hi", &[], window.clone())
        .await
        .unwrap();
    let watcher = Recorder::new();
    // Attach a second view, then close the first one's receiver and drop our handle.
    for _ in 0..200 {
        if f.engine.attach(&f.session, watcher.clone()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(rx);
    drop(window);
    gate.notify_one();
    assert!(matches!(watcher.terminal().await, StreamEvent::Done { .. }));
    let reply = f.messages().await.pop().unwrap();
    assert_eq!(reply.content, "Still here.");
    assert_eq!(reply.status, MessageStatus::Complete);
}

#[tokio::test]
async fn the_partial_reply_is_checkpointed_while_it_streams() {
    let gate = Arc::new(Notify::new());
    let server = Server::start(vec![
        sse_head(),
        bytes(chunk("Half ") + &chunk("a reply")),
        Step::Wait(gate.clone()),
        bytes(chunk(", then the rest.") + &finish(1, 3)),
    ])
    .await;
    let config = EngineConfig {
        checkpoint_every: Duration::from_millis(40),
        ..quick()
    };
    let f = Fixture::new(&server.base_url(), config).await;
    let sink = Recorder::new();
    let started = f
        .engine
        .send(&f.session, "Hi", &[], sink.clone())
        .await
        .unwrap();
    let reply_id = started.assistant_message_id.unwrap();
    // The server is paused: the database must catch up with what arrived.
    let mut saved = None;
    for _ in 0..500 {
        let m = f.store.message(&reply_id).await.unwrap();
        if m.content == "Half a reply" {
            saved = Some(m);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let saved = saved.expect("the partial reply reached the database");
    assert_eq!(saved.status, MessageStatus::Partial);
    assert_eq!(saved.meta.model.as_deref(), Some("test-model"));
    gate.notify_one();
    sink.terminal().await;
    let m = f.store.message(&reply_id).await.unwrap();
    assert_eq!(m.content, "Half a reply, then the rest.");
    assert_eq!(m.status, MessageStatus::Complete);
    assert_eq!(m.edit_count, 0);
}

#[tokio::test]
async fn stop_drops_the_connection_and_keeps_the_partial_reply() {
    let server = Server::start(vec![sse_head(), bytes(chunk("Once upon")), Step::Hold]).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let sink = Recorder::new();
    let started = f
        .engine
        .send(&f.session, "Tell me a story", &[], sink.clone())
        .await
        .unwrap();
    sink.first_delta().await;
    assert!(f.engine.stop(&f.session));
    assert!(
        server.wait_closed(1, 5 * SECOND).await,
        "the server saw the connection close"
    );
    assert_eq!(
        sink.terminal().await,
        StreamEvent::Cancelled {
            reason: CancelReason::User,
            partial_saved: true
        }
    );
    let reply = f
        .store
        .message(started.assistant_message_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(reply.content, "Once upon");
    assert_eq!(reply.status, MessageStatus::Cancelled);
    let user = f
        .store
        .message(started.user_message_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(user.content, "Tell me a story");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(sink.terminal_count(), 1, "exactly one terminal event");
    assert!(f.engine.live_sessions().session_ids.is_empty());
    assert!(!f.engine.stop(&f.session), "nothing to stop now");
    let rows = f.usage_rows().await;
    assert_eq!(
        (rows[0].0.as_str(), rows[0].1.as_str()),
        ("cancelled", "user")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_racing_the_end_gives_one_terminal_event_and_a_consistent_reply() {
    let full = "A quick reply.";
    let server = Server::start(reply_script(&["A ", "quick ", "reply."])).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let (mut done, mut cancelled) = (0, 0);
    for i in 0..150u32 {
        let sink = Recorder::new();
        let requests_before = server.bodies().len();
        // Stop at a different moment each time, from another thread: just as
        // the request reaches the server, or as the first words are shown,
        // each after a little jitter, so stop lands before, during and after the end.
        let engine = f.engine.clone();
        let session = f.session.clone();
        let seen = server.seen.clone();
        let watcher = sink.clone();
        let stopper = tokio::spawn(async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while std::time::Instant::now() < deadline {
                let arrived = if i % 2 == 0 {
                    seen.bodies.lock().unwrap().len() > requests_before
                } else {
                    watcher
                        .events()
                        .iter()
                        .any(|e| matches!(e, StreamEvent::Delta { .. } | StreamEvent::Done { .. }))
                };
                if arrived {
                    break;
                }
                tokio::task::yield_now().await;
            }
            let spin = std::time::Instant::now() + Duration::from_micros(u64::from(i % 10) * 50);
            while std::time::Instant::now() < spin {
                std::hint::spin_loop();
            }
            engine.stop(&session)
        });
        let started = f
            .engine
            .send(&f.session, "Go", &[], sink.clone())
            .await
            .unwrap();
        let end = sink.terminal().await;
        stopper.await.unwrap();
        tokio::time::sleep(Duration::from_millis(2)).await;
        assert_eq!(sink.terminal_count(), 1, "run {i}: {:?}", sink.events());
        assert!(
            !f.engine.live_sessions().session_ids.contains(&f.session),
            "run {i}: the session is free once the end is heard"
        );
        let reply = f
            .store
            .message(started.assistant_message_id.as_deref().unwrap())
            .await
            .unwrap();
        match end {
            StreamEvent::Done { text, .. } => {
                done += 1;
                assert_eq!(text, full);
                assert_eq!(
                    (reply.content.as_str(), reply.status),
                    (full, MessageStatus::Complete)
                );
            }
            StreamEvent::Cancelled {
                reason,
                partial_saved,
            } => {
                cancelled += 1;
                assert_eq!(reason, CancelReason::User);
                assert_eq!(reply.status, MessageStatus::Cancelled, "run {i}");
                assert!(
                    full.starts_with(&reply.content),
                    "run {i}: {:?}",
                    reply.content
                );
                assert_eq!(partial_saved, !reply.content.is_empty(), "run {i}");
                assert_eq!(
                    sink.text(),
                    reply.content,
                    "run {i}: what was shown is what was saved"
                );
            }
            other => panic!("run {i}: {other:?}"),
        }
    }
    eprintln!("stop racing the end: {done} done, {cancelled} cancelled");
    assert_eq!(done + cancelled, 150);
}

#[tokio::test]
async fn silence_past_the_idle_timeout_fails_with_timeout() {
    let server = Server::start(vec![sse_head(), bytes(chunk("Hm")), Step::Hold]).await;
    let config = EngineConfig {
        idle_timeout: Duration::from_millis(300),
        ..EngineConfig::default()
    };
    let f = Fixture::new(&server.base_url(), config).await;
    let sink = Recorder::new();
    let started = f
        .engine
        .send(&f.session, "Hi", &[], sink.clone())
        .await
        .unwrap();
    let end = sink.terminal().await;
    assert_eq!(error_of(&end), (ErrorCode::Timeout, None, true));
    let reply = f
        .store
        .message(started.assistant_message_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(
        (reply.content.as_str(), reply.status),
        ("Hm", MessageStatus::Failed)
    );
    assert!(server.wait_closed(1, 5 * SECOND).await);
    wait_free(&f).await;
}

#[tokio::test]
async fn a_reply_past_the_maximum_duration_is_cancelled() {
    let server = Server::start(vec![
        sse_head(),
        Step::Trickle(chunk("la ").into_bytes(), Duration::from_millis(20)),
    ])
    .await;
    let config = EngineConfig {
        max_duration: Duration::from_millis(400),
        ..quick()
    };
    let f = Fixture::new(&server.base_url(), config).await;
    let sink = Recorder::new();
    let started = f
        .engine
        .send(&f.session, "Sing", &[], sink.clone())
        .await
        .unwrap();
    assert_eq!(
        sink.terminal().await,
        StreamEvent::Cancelled {
            reason: CancelReason::MaxDuration,
            partial_saved: true
        },
        "{:?}",
        sink.events()
    );
    let reply = f
        .store
        .message(started.assistant_message_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(reply.status, MessageStatus::Cancelled);
    assert!(reply.content.starts_with("la "));
    assert_eq!(reply.content, sink.text());
    assert!(server.wait_closed(1, 5 * SECOND).await);
    let rows = f.usage_rows().await;
    assert_eq!(rows[0].1, "max_duration");
}

#[tokio::test]
async fn http_errors_become_typed_failures_and_free_the_session() {
    let json = "application/json";
    let cases: Vec<(Script, ErrorCode, Option<u32>)> = vec![
        (
            vec![
                Step::Bytes(head(401, json, &[])),
                bytes(
                    r#"{"error":{"message":"Incorrect API key provided: sk-abcdefgh12345","type":"invalid_request_error","code":"invalid_api_key"}}"#,
                ),
            ],
            ErrorCode::Unauthorized,
            None,
        ),
        (
            vec![
                Step::Bytes(head(429, json, &[("retry-after", "7")])),
                bytes(r#"{"error":{"message":"slow down","type":"rate_limit_error"}}"#),
            ],
            ErrorCode::RateLimited,
            Some(7),
        ),
        (
            vec![
                Step::Bytes(head(529, json, &[])),
                bytes(
                    r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
                ),
            ],
            ErrorCode::Overloaded,
            None,
        ),
        (
            vec![
                Step::Bytes(head(400, json, &[])),
                bytes(
                    r#"{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}"#,
                ),
            ],
            ErrorCode::ContextTooLong,
            None,
        ),
        (
            vec![
                Step::Bytes(head(400, json, &[])),
                bytes(r#"{"error":{"message":"unknown field","type":"invalid_request_error"}}"#),
            ],
            ErrorCode::BadRequest,
            None,
        ),
        (
            vec![
                Step::Bytes(head(500, "text/html", &[])),
                bytes("<html>oops</html>"),
            ],
            ErrorCode::Upstream,
            None,
        ),
        (
            vec![sse_head(), bytes(chunk("Cut "))],
            ErrorCode::Truncated,
            None,
        ),
        (
            vec![sse_head(), bytes("data: {not json\n\n")],
            ErrorCode::Protocol,
            None,
        ),
    ];
    let server = Server::start(Vec::new()).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    for (i, (script, code, retry)) in cases.into_iter().enumerate() {
        server.push(script);
        let sink = Recorder::new();
        let text = format!("message {i}");
        let started = f
            .engine
            .send(&f.session, &text, &[], sink.clone())
            .await
            .unwrap();
        let end = sink.terminal().await;
        let (got, retry_after, partial) = error_of(&end);
        assert_eq!((got, retry_after), (code, retry), "case {i}: {end:?}");
        let StreamEvent::Failed { error, .. } = &end else {
            unreachable!()
        };
        assert!(
            !error.message.contains("abcdefgh12345"),
            "no key in {}",
            error.message
        );
        assert!(!error.message.is_empty());
        let user = f
            .store
            .message(started.user_message_id.as_deref().unwrap())
            .await
            .unwrap();
        assert_eq!(user.content, text, "case {i}: the user message is kept");
        let reply = f
            .store
            .message(started.assistant_message_id.as_deref().unwrap())
            .await
            .unwrap();
        assert_eq!(reply.status, MessageStatus::Failed, "case {i}");
        assert_eq!(partial, !reply.content.is_empty(), "case {i}");
        assert!(
            f.engine.live_sessions().session_ids.is_empty(),
            "case {i}: free"
        );
    }
    let rows = f.usage_rows().await;
    let reasons: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "unauthorized",
            "rate_limited",
            "overloaded",
            "context_too_long",
            "bad_request",
            "upstream",
            "truncated",
            "protocol"
        ]
    );
    assert!(rows.iter().all(|r| r.0 == "failed"));
}

#[tokio::test]
async fn an_unreachable_provider_is_a_network_failure() {
    // A port that was just free: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let f = Fixture::new(&format!("http://127.0.0.1:{port}/v1"), quick()).await;
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "Hello?", &[], sink.clone())
        .await
        .unwrap();
    let (code, _, partial) = error_of(&sink.terminal().await);
    assert_eq!((code, partial), (ErrorCode::Network, false));
    assert_eq!(f.messages().await[1].content, "Hello?");
    wait_free(&f).await;
}

#[tokio::test]
async fn without_a_provider_or_a_key_the_message_is_kept_and_the_failure_explained() {
    let server = Server::start(reply_script(&["x"])).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    f.store.delete_provider(&f.provider.id).await.unwrap();
    let sink = Recorder::new();
    let started = f
        .engine
        .send(&f.session, "Anyone?", &[], sink.clone())
        .await
        .unwrap();
    let end = sink.terminal().await;
    let StreamEvent::Failed {
        error,
        partial_saved,
    } = &end
    else {
        panic!("{end:?}")
    };
    assert_eq!(error.code, ErrorCode::InvalidInput);
    assert!(error.message.contains("provider"), "{}", error.message);
    assert!(!partial_saved);
    assert_eq!(started_of(&sink.events()), started);
    assert_eq!(sink.events().len(), 2, "started, then failed");
    let user = f
        .store
        .message(started.user_message_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(user.content, "Anyone?");
    wait_free(&f).await;
    assert!(f.usage_rows().await.is_empty(), "no request was made");

    // Anthropic without a key: unauthorized, before any byte goes out.
    let mut claude = ProviderConfig::new(ProviderKind::Anthropic, "Claude");
    claude.base_url = server.base_url();
    claude.default_model = "claude-test".into();
    f.store.save_provider(&claude).await.unwrap();
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "Still there?", &[], sink.clone())
        .await
        .unwrap();
    let (code, _, _) = error_of(&sink.terminal().await);
    assert_eq!(code, ErrorCode::Unauthorized);
    assert!(server.bodies().is_empty(), "nothing was sent");
    wait_free(&f).await;

    // With a key it goes through (the Anthropic capture).
    server.set_default(vec![sse_head(), Step::Bytes(ANTHROPIC_RAW.to_vec())]);
    f.keys
        .set(&claude.id, "sk-ant-test-0123456789", KeyStorage::Session)
        .await
        .unwrap();
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "Now?", &[], sink.clone())
        .await
        .unwrap();
    let StreamEvent::Done { text, .. } = sink.terminal().await else {
        panic!("{:?}", sink.events())
    };
    assert_eq!(text, "Mock response from claude-sonnet-4-6.");
    let head = server
        .seen
        .heads
        .lock()
        .unwrap()
        .last()
        .unwrap()
        .to_ascii_lowercase();
    assert!(head.contains("x-api-key: sk-ant-test-0123456789"));
}

#[tokio::test]
async fn a_non_streaming_provider_sends_the_same_events() {
    let body = r#"{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"All at once.","reasoning_content":"Short."},"finish_reason":"stop"}],"usage":{"prompt_tokens":30,"completion_tokens":4}}"#;
    let server = Server::start(vec![
        Step::Bytes(head(200, "application/json", &[])),
        bytes(body),
    ])
    .await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let mut p = f.provider.clone();
    p.streaming = false;
    f.store.save_provider(&p).await.unwrap();
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "Hi", &[], sink.clone())
        .await
        .unwrap();
    let end = sink.terminal().await;
    let events = sink.events();
    assert_eq!(events.len(), 3, "started, one delta, done: {events:?}");
    assert_eq!(
        events[1],
        StreamEvent::Delta {
            text: "All at once.".into(),
            reasoning: "Short.".into()
        }
    );
    let StreamEvent::Done {
        text,
        usage,
        finish_reason,
        ..
    } = end
    else {
        panic!("{end:?}")
    };
    assert_eq!(text, "All at once.");
    assert_eq!(
        (usage.prompt_tokens, usage.completion_tokens),
        (Some(30), Some(4))
    );
    assert_eq!(finish_reason.as_deref(), Some("stop"));
    assert_eq!(server.last_body()["stream"], false);
    let reply = f.messages().await.pop().unwrap();
    assert_eq!(reply.meta.reasoning.as_deref(), Some("Short."));

    // A non-streaming error is typed just the same.
    server.push(vec![
        Step::Bytes(head(429, "application/json", &[("retry-after", "3")])),
        bytes(r#"{"error":{"message":"later","type":"rate_limit_error"}}"#),
    ]);
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "Again", &[], sink.clone())
        .await
        .unwrap();
    assert_eq!(
        error_of(&sink.terminal().await),
        (ErrorCode::RateLimited, Some(3), false)
    );
}

#[tokio::test]
async fn a_non_streaming_provider_may_think_longer_than_the_idle_timeout() {
    let body = r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"Slow but whole."},"finish_reason":"stop"}]}"#;
    let server = Server::start(vec![
        Step::Sleep(Duration::from_millis(600)),
        Step::Bytes(head(200, "application/json", &[])),
        bytes(body),
    ])
    .await;
    let config = EngineConfig {
        idle_timeout: Duration::from_millis(200),
        ..quick()
    };
    let f = Fixture::new(&server.base_url(), config).await;
    let mut p = f.provider.clone();
    p.streaming = false;
    f.store.save_provider(&p).await.unwrap();
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "Take your time", &[], sink.clone())
        .await
        .unwrap();
    let StreamEvent::Done { text, .. } = sink.terminal().await else {
        panic!("{:?}", sink.events())
    };
    assert_eq!(text, "Slow but whole.");
}

#[tokio::test]
async fn reasoning_is_kept_apart_from_the_reply() {
    let server = Server::start(vec![
        sse_head(),
        bytes(
            reasoning_chunk("Let me ")
                + &reasoning_chunk("think.")
                + &chunk("Answer.")
                + &finish(5, 6),
        ),
    ])
    .await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "Why?", &[], sink.clone())
        .await
        .unwrap();
    let StreamEvent::Done { text, .. } = sink.terminal().await else {
        panic!()
    };
    assert_eq!(text, "Answer.");
    let reasoning: String = sink
        .events()
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Delta { reasoning, .. } => Some(reasoning.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(reasoning, "Let me think.");
    let reply = f.messages().await.pop().unwrap();
    assert_eq!(reply.content, "Answer.");
    assert_eq!(reply.meta.reasoning.as_deref(), Some("Let me think."));
}

#[tokio::test]
async fn regenerate_writes_a_new_swipe_for_the_same_message() {
    let server = Server::start(reply_script(&["First."])).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let sink = Recorder::new();
    let first = f
        .engine
        .send(&f.session, "Hi", &[], sink.clone())
        .await
        .unwrap();
    sink.terminal().await;
    let first_body = server.last_body();

    server.set_default(reply_script(&["Second."]));
    let sink = Recorder::new();
    let again = f.engine.regenerate(&f.session, sink.clone()).await.unwrap();
    assert_eq!(again.kind, ReplyKind::Regenerate);
    assert_eq!(again.user_message_id, None);
    let StreamEvent::Done { text, .. } = sink.terminal().await else {
        panic!()
    };
    assert_eq!(text, "Second.");
    let messages = f.messages().await;
    let reply = messages.last().unwrap();
    assert_eq!(Some(&reply.id), again.assistant_message_id.as_ref());
    assert_eq!(reply.content, "Second.");
    assert_eq!(reply.parent_id, first.user_message_id, "same parent");
    assert_eq!((reply.swipe_index, reply.swipe_count), (1, 2));
    let old = f
        .store
        .message(first.assistant_message_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(old.content, "First.", "the first swipe is kept");
    assert_eq!(
        server.last_body()["messages"],
        first_body["messages"],
        "the same prompt as the first reply"
    );

    // A failed empty reply is replaced, not kept as an empty swipe.
    server.push(vec![
        Step::Bytes(head(500, "application/json", &[])),
        bytes(r#"{"error":"boom"}"#),
    ]);
    let sink = Recorder::new();
    let failed = f.engine.regenerate(&f.session, sink.clone()).await.unwrap();
    assert_eq!(error_of(&sink.terminal().await).0, ErrorCode::Upstream);
    server.set_default(reply_script(&["Third."]));
    let sink = Recorder::new();
    f.engine.regenerate(&f.session, sink.clone()).await.unwrap();
    sink.terminal().await;
    let reply = f.messages().await.pop().unwrap();
    assert_eq!((reply.content.as_str(), reply.swipe_count), ("Third.", 3));
    assert!(f
        .store
        .message(failed.assistant_message_id.as_deref().unwrap())
        .await
        .is_err());

    // After the user's own message there is nothing to regenerate.
    f.store
        .add_message(
            &f.session,
            NewMessage {
                role: Role::User,
                name: "User",
                content: "Unanswered",
                status: MessageStatus::Complete,
                image_ids: &[],
            },
        )
        .await
        .unwrap();
    let err = f
        .engine
        .regenerate(&f.session, Recorder::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    let err = f
        .engine
        .continue_reply(&f.session, Recorder::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(f.engine.live_sessions().session_ids.is_empty());
}

#[tokio::test]
async fn continue_appends_to_the_last_reply() {
    let server = Server::start(vec![
        sse_head(),
        bytes(
            reasoning_chunk("Set the scene.")
                + &chunk("The night")
                + &chunk(" was")
                + &finish(3, 2),
        ),
    ])
    .await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let sink = Recorder::new();
    let first = f
        .engine
        .send(&f.session, "Go on", &[], sink.clone())
        .await
        .unwrap();
    sink.terminal().await;

    server.set_default(reply_script(&[" dark", " and cold."]));
    let sink = Recorder::new();
    let more = f
        .engine
        .continue_reply(&f.session, sink.clone())
        .await
        .unwrap();
    assert_eq!(more.kind, ReplyKind::Continue);
    assert_eq!(more.assistant_message_id, first.assistant_message_id);
    let StreamEvent::Done { text, .. } = sink.terminal().await else {
        panic!("{:?}", sink.events())
    };
    assert_eq!(
        text, "The night was dark and cold.",
        "done carries the whole message"
    );
    let deltas: String = sink
        .events()
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Delta { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(deltas, " dark and cold.", "deltas carry only what is new");
    let messages = f.messages().await;
    assert_eq!(messages.len(), 3, "no new message");
    let reply = messages.last().unwrap();
    assert_eq!(reply.content, "The night was dark and cold.");
    assert_eq!(reply.status, MessageStatus::Complete);
    assert_eq!(reply.swipe_count, 1);
    assert_eq!(
        reply.meta.reasoning.as_deref(),
        Some("Set the scene."),
        "the earlier reasoning is kept"
    );
    let sent = server.last_body()["messages"].as_array().unwrap().clone();
    let last = sent.last().unwrap();
    assert_eq!(last["role"], "assistant");
    assert_eq!(last["content"], "The night was");
    assert_eq!(sent[sent.len() - 2]["content"], "Go on");

    // A continue that fails before adding anything leaves the reply as it was.
    server.push(vec![
        Step::Bytes(head(503, "application/json", &[])),
        bytes(r#"{"error":"busy"}"#),
    ]);
    let sink = Recorder::new();
    f.engine
        .continue_reply(&f.session, sink.clone())
        .await
        .unwrap();
    assert_eq!(error_of(&sink.terminal().await).0, ErrorCode::Overloaded);
    let reply = f.messages().await.pop().unwrap();
    assert_eq!(reply.content, "The night was dark and cold.");
    assert_eq!(reply.status, MessageStatus::Complete);
}

#[tokio::test]
async fn impersonate_streams_a_draft_and_saves_nothing() {
    let server = Server::start(reply_script(&["I nod ", "slowly."])).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let before = f.messages().await;
    let sink = Recorder::new();
    let started = f
        .engine
        .impersonate(&f.session, sink.clone())
        .await
        .unwrap();
    assert_eq!(
        (
            started.kind,
            &started.user_message_id,
            &started.assistant_message_id
        ),
        (ReplyKind::Impersonate, &None, &None)
    );
    let end = sink.terminal().await;
    assert_eq!(
        end,
        StreamEvent::Done {
            message_id: None,
            text: "I nod slowly.".into(),
            usage: confab_core::chat::ReplyUsage {
                prompt_tokens: Some(20),
                completion_tokens: Some(2),
                cost_usd: None
            },
            finish_reason: Some("stop".into())
        }
    );
    assert_eq!(f.messages().await, before, "nothing saved");
    let sent = server.last_body()["messages"].as_array().unwrap().clone();
    let last = sent.last().unwrap();
    assert_eq!(last["role"], "system");
    assert!(last["content"]
        .as_str()
        .unwrap()
        .contains("User's next message"));
    assert_eq!(
        f.usage_rows().await.len(),
        1,
        "the request is still counted"
    );
}

#[tokio::test]
async fn shutdown_cancels_and_saves_every_stream() {
    let server = Server::start(vec![sse_head(), bytes(chunk("Goodbye")), Step::Hold]).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    // A second session of the same character streams at the same time.
    let other = f
        .store
        .create_session(&f.character, None, "User")
        .await
        .unwrap();
    let (a, b) = (Recorder::new(), Recorder::new());
    let sa = f
        .engine
        .send(&f.session, "One", &[], a.clone())
        .await
        .unwrap();
    let sb = f.engine.send(&other, "Two", &[], b.clone()).await.unwrap();
    a.first_delta().await;
    b.first_delta().await;
    assert_eq!(f.engine.live_sessions().session_ids.len(), 2);
    tokio::time::timeout(10 * SECOND, f.engine.shutdown())
        .await
        .expect("shutdown finishes");
    // Everything is saved by the time shutdown returns.
    for (sink, started) in [(a, sa), (b, sb)] {
        assert_eq!(
            sink.events().last().unwrap(),
            &StreamEvent::Cancelled {
                reason: CancelReason::Shutdown,
                partial_saved: true
            }
        );
        let reply = f
            .store
            .message(started.assistant_message_id.as_deref().unwrap())
            .await
            .unwrap();
        assert_eq!(
            (reply.content.as_str(), reply.status),
            ("Goodbye", MessageStatus::Cancelled)
        );
    }
    assert!(f.engine.live_sessions().session_ids.is_empty());
    let err = f
        .engine
        .send(&f.session, "After", &[], Recorder::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Busy, "nothing starts while quitting");
    assert!(server.wait_closed(2, 5 * SECOND).await);
}

#[tokio::test]
async fn deltas_are_batched_not_sent_per_token() {
    let n = 10_000;
    let mut body = String::new();
    let mut expected = String::new();
    for i in 0..n {
        let piece = format!("{} ", i % 10);
        body.push_str(&chunk(&piece));
        expected.push_str(&piece);
    }
    body.push_str(&finish(1, n));
    let server = Server::start(vec![sse_head(), bytes(body)]).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "Count", &[], sink.clone())
        .await
        .unwrap();
    let StreamEvent::Done { text, .. } = sink.terminal().await else {
        panic!()
    };
    assert_eq!(text, expected);
    assert_eq!(sink.text(), expected, "the batches add up to the text");
    let deltas = sink
        .events()
        .iter()
        .filter(|e| matches!(e, StreamEvent::Delta { .. }))
        .count();
    assert!(deltas >= 1);
    assert!(
        deltas < (n as usize) / 10,
        "{deltas} delta events for {n} tokens"
    );
}

#[tokio::test]
async fn images_travel_with_the_new_message() {
    let server = Server::start(reply_script(&["A red square."])).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let png = image_png();
    let image = confab_core::session::service::attach_image_bytes(&f.store, "red.png", &png)
        .await
        .unwrap();
    let sink = Recorder::new();
    let started = f
        .engine
        .send(
            &f.session,
            "",
            std::slice::from_ref(&image.id),
            sink.clone(),
        )
        .await
        .unwrap();
    sink.terminal().await;
    let user = f
        .store
        .message(started.user_message_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(user.images.len(), 1);
    let sent = server.last_body()["messages"].as_array().unwrap().clone();
    let last = sent.last().unwrap();
    assert_eq!(last["role"], "user");
    let url = last["content"][0]["image_url"]["url"].as_str().unwrap();
    assert!(url.starts_with("data:image/png;base64,"), "{url}");
}

/// A 1x1 PNG.
fn image_png() -> Vec<u8> {
    let mut out = Vec::new();
    let img = image::RgbImage::from_pixel(1, 1, image::Rgb([255, 0, 0]));
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

#[tokio::test]
async fn recovery_marks_partial_replies_interrupted() {
    let server = Server::start(Vec::new()).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let reply = f
        .store
        .add_message(
            &f.session,
            NewMessage {
                role: Role::Assistant,
                name: "Seraphina",
                content: "Half",
                status: MessageStatus::Partial,
                image_ids: &[],
            },
        )
        .await
        .unwrap();
    assert_eq!(recover_interrupted(&f.store).await.unwrap(), 1);
    let m = f.store.message(&reply.id).await.unwrap();
    assert_eq!(
        (m.content.as_str(), m.status),
        ("Half", MessageStatus::Interrupted)
    );
    assert_eq!(recover_interrupted(&f.store).await.unwrap(), 0, "once only");
    let rows = f.usage_rows().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, "interrupted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_stream_side_by_side_while_others_write() {
    let server = Server::start(vec![
        sse_head(),
        bytes(chunk("One, ")),
        Step::Sleep(Duration::from_millis(30)),
        bytes(chunk("two, ")),
        Step::Sleep(Duration::from_millis(30)),
        bytes(chunk("three.") + &finish(1, 3)),
    ])
    .await;
    let config = EngineConfig {
        checkpoint_every: Duration::from_millis(5),
        ..quick()
    };
    let f = Fixture::new(&server.base_url(), config).await;
    let mut sessions = vec![f.session.clone()];
    for _ in 0..5 {
        sessions.push(
            f.store
                .create_session(&f.character, None, "User")
                .await
                .unwrap(),
        );
    }
    // Every send saves its messages while the others checkpoint.
    let sends = sessions.iter().map(|s| {
        let engine = f.engine.clone();
        let s = s.clone();
        tokio::spawn(async move {
            let sink = Recorder::new();
            let started = engine.send(&s, "Count", &[], sink.clone()).await.unwrap();
            (sink.terminal().await, started)
        })
    });
    for handle in sends.collect::<Vec<_>>() {
        let (end, started) = handle.await.unwrap();
        let StreamEvent::Done { text, .. } = end else {
            panic!("{end:?}")
        };
        assert_eq!(text, "One, two, three.");
        let reply = f
            .store
            .message(started.assistant_message_id.as_deref().unwrap())
            .await
            .unwrap();
        assert_eq!(
            (reply.content.as_str(), reply.status),
            (text.as_str(), MessageStatus::Complete)
        );
    }
    wait_free(&f).await;
}

#[tokio::test]
async fn usage_carries_the_cost_at_the_listed_prices() {
    let server = Server::start(vec![
        sse_head(),
        bytes(chunk("Priced.") + &finish(20_000, 3_000)),
    ])
    .await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    f.store
        .save_cached_models(
            &f.provider.id,
            &[confab_core::llm::ModelInfo {
                id: "test-model".into(),
                name: "Test model".into(),
                context_length: Some(32_000),
                prompt_price_per_million: Some(2.0),
                completion_price_per_million: Some(10.0),
            }],
        )
        .await
        .unwrap();
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "How much?", &[], sink.clone())
        .await
        .unwrap();
    let StreamEvent::Done { usage, .. } = sink.terminal().await else {
        panic!("{:?}", sink.events())
    };
    let expected = 20_000.0 * 2.0 / 1e6 + 3_000.0 * 10.0 / 1e6;
    let cost = usage.cost_usd.expect("a cost");
    assert!((cost - expected).abs() < 1e-9, "{cost}");
    let rows = f.usage_rows().await;
    assert_eq!((rows[0].2, rows[0].3), (20_000, 3_000));
    assert!((rows[0].4.unwrap() - expected).abs() < 1e-9);
}

#[tokio::test]
async fn deleting_the_chat_or_the_reply_mid_stream_ends_it_cleanly() {
    let server = Server::start(vec![
        sse_head(),
        bytes(chunk("Once upon")),
        Step::Sleep(Duration::from_millis(300)),
        bytes(chunk(" a time.") + &finish(1, 3)),
    ])
    .await;
    let f = Fixture::new(&server.base_url(), quick()).await;

    // The reply itself is deleted while it streams.
    let sink = Recorder::new();
    let started = f
        .engine
        .send(&f.session, "Tell me a story", &[], sink.clone())
        .await
        .unwrap();
    sink.first_delta().await;
    f.store
        .delete_message(started.assistant_message_id.as_deref().unwrap())
        .await
        .unwrap();
    let end = sink.terminal().await;
    // The reply has nowhere to go: a typed failure, nothing saved, no panic.
    assert_eq!(
        error_of(&end),
        (ErrorCode::NotFound, None, false),
        "{end:?}"
    );
    wait_free(&f).await;
    assert_eq!(sink.terminal_count(), 1);
    assert!(f
        .store
        .message(started.assistant_message_id.as_deref().unwrap())
        .await
        .is_err());

    // The whole chat is deleted while it streams.
    server.push(vec![
        sse_head(),
        bytes(chunk("Once upon")),
        Step::Sleep(Duration::from_millis(300)),
        bytes(chunk(" a time.") + &finish(1, 3)),
    ]);
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "Another", &[], sink.clone())
        .await
        .unwrap();
    sink.first_delta().await;
    f.store.delete_session(&f.session).await.unwrap();
    let end = sink.terminal().await;
    // The reply has nowhere to go: a typed failure, nothing saved, no panic.
    assert_eq!(
        error_of(&end),
        (ErrorCode::NotFound, None, false),
        "{end:?}"
    );
    wait_free(&f).await;
    assert_eq!(sink.terminal_count(), 1);
}
