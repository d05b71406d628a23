//! The chat engine end to end: how a stream ends other than done: stop (and
//! stop racing the end), the idle timeout, the maximum duration, shutdown,
//! recovery after a crash, the chat or the reply deleted mid-stream.

mod chat_engine_support;
mod chat_support;
mod http_support;

use std::time::Duration;

use chat_engine_support::{error_of, quick, wait_free, SECOND};
use chat_support::*;
use confab_core::chat::{recover_interrupted, CancelReason, EngineConfig, StreamEvent};
use confab_core::session::{MessageStatus, Role};
use confab_core::store::NewMessage;
use confab_core::ErrorCode;

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
                speaker: None,
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
