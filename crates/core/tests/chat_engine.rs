//! The chat engine end to end: real SQLite files in temp dirs, a real HTTP
//! server on 127.0.0.1 writing raw SSE bytes with controlled pacing.
//! Every wait is bounded; no test asserts a wall-clock time.
//!
//! This file: sending and streaming (saving, usage, the preview's prompt, busy
//! sessions, attaching, checkpoints, batching, images, sessions side by side).
//! Stopping and other endings are in chat_engine_stopping.rs, providers' answers
//! and failures in chat_engine_providers.rs, regenerate, continue and
//! impersonate in chat_engine_requests.rs.

mod chat_engine_support;
mod chat_support;
mod http_support;

use std::sync::Arc;
use std::time::Duration;

use chat_engine_support::{quick, started_of, wait_free, SECOND};
use chat_support::*;
use confab_core::chat::{EngineConfig, ReplyKind, StreamEvent};
use confab_core::session::{MessageStatus, Role};
use confab_core::sink::Sink;
use confab_core::ErrorCode;
use tokio::sync::Notify;

const OPENAI_RAW: &[u8] = include_bytes!("fixtures/streams/openai_stream.raw");

/// The body of a capture (after its head), to serve behind our own head.
fn body_of(raw: &[u8]) -> Vec<u8> {
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    raw[at + 4..].to_vec()
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
