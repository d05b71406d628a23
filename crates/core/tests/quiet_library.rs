//! A restore (and an archive import) replaces what the chat engine reads and
//! writes, so it needs the library quiet: refused with `reply_streaming`
//! while a reply streams in any chat, changing nothing; and while it holds
//! the library, no reply can start.

mod chat_engine_support;
mod chat_support;
mod http_support;

use chat_engine_support::{quick, wait_free, SECOND};
use chat_support::*;
use confab_core::backup::{self, BackupKind};
use confab_core::ErrorCode;

const T0: i64 = 1_764_000_000_000;

#[tokio::test]
async fn a_restore_is_refused_while_a_reply_streams_and_replies_wait_for_a_restore() {
    // The model says a word, then holds the connection open: the reply streams on.
    let server = Server::start(vec![sse_head(), bytes(chunk("Once upon")), Step::Hold]).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let saved = backup::create(&f.store, BackupKind::Manual, T0)
        .await
        .unwrap();
    f.store.create_persona("Added later", "").await.unwrap();

    let sink = Recorder::new();
    f.engine
        .send(&f.session, "Tell me a story", &[], sink.clone())
        .await
        .unwrap();
    sink.first_delta().await;
    let err = f.engine.quiet().unwrap_err();
    assert_eq!(err.code(), ErrorCode::ReplyStreaming, "{err}");
    assert!(err.to_string().contains("1 chat"), "{err}");
    // Nothing was restored nor backed up: the library and its backups are as they were.
    assert_eq!(backup::list(&f.store).await.unwrap().len(), 1);
    assert_eq!(f.store.personas().await.unwrap().len(), 1);

    // Once the reply ends, the library can be held quiet; meanwhile no reply starts.
    assert!(f.engine.stop(&f.session));
    wait_free(&f).await;
    let quiet = f.engine.quiet().unwrap();
    let again = f.engine.quiet().unwrap_err();
    assert_eq!(again.code(), ErrorCode::Busy, "one restore at a time");
    let refused = f
        .engine
        .send(&f.session, "Meanwhile", &[], Recorder::new())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Busy, "{refused}");
    let outcome = backup::restore(&f.store, &quiet, &saved.name, T0 + 1)
        .await
        .unwrap();
    assert_eq!(outcome.previous.kind, BackupKind::PreRestore);
    assert!(f.store.personas().await.unwrap().is_empty(), "restored");
    drop(quiet);

    // Let go, replies start again.
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "After the restore", &[], sink.clone())
        .await
        .unwrap();
    sink.first_delta().await;
    assert!(f.engine.stop(&f.session));
    wait_free(&f).await;
    tokio::time::timeout(5 * SECOND, sink.terminal())
        .await
        .unwrap();
}
