//! The summarizer as a separate model that hangs, fails or answers with
//! something unusable: the chat never waits for it and never breaks because of
//! it; the error is kept for the Memory panel; nothing unusable is saved.

mod chat_engine_support;
mod chat_support;
mod http_support;
mod memory_support;

use std::time::Duration;

use chat_engine_support::{quick, SECOND};
use chat_support::*;
use confab_core::memory::settings::MemorySettings;
use confab_core::ErrorCode;
use memory_support::*;

fn code<T: std::fmt::Debug>(r: confab_core::Result<T>) -> ErrorCode {
    confab_core::AppError::from(r.unwrap_err()).code
}

#[tokio::test]
async fn a_hanging_summarizer_never_makes_the_chat_wait_or_busy() {
    let server = Server::start(says("Fine.")).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let summarizer = own_summarizer(&f, vec![sse_head(), Step::Hold]).await;
    fill(&f, "a", 12).await;
    send_done(&f, "Go on.").await;
    let view = wait_view(&f, |v| v.summarizing).await;
    assert!(view.summaries.is_empty());
    // The next send goes at once and ends, the summarizer still hanging.
    send_done(&f, "And then?").await;
    assert!(f.engine.memory_view(&f.session).await.unwrap().summarizing);
    // Asking for one now is refused while the job runs; a restore's quiet stops it.
    assert_eq!(
        code(f.engine.summarize_now(&f.session).await),
        ErrorCode::Busy
    );
    let quiet = f.engine.quiet().unwrap();
    assert!(
        summarizer.wait_closed(1, 10 * SECOND).await,
        "the request was dropped"
    );
    drop(quiet);
    let view = wait_view(&f, |v| !v.summarizing).await;
    assert!(
        view.summaries.is_empty() && view.last_error.is_none(),
        "{view:?}"
    );
}

#[tokio::test]
async fn a_failing_summarizer_keeps_its_error_and_the_chat_goes_on() {
    let server = Server::start(says("Fine.")).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let heard = notices(&f);
    let failing = vec![
        Step::Bytes(head(500, "application/json", &[])),
        bytes(r#"{"error":{"message":"summarizer exploded"}}"#),
    ];
    let summarizer = own_summarizer(&f, failing).await;
    fill(&f, "a", 12).await;
    send_done(&f, "Go on.").await;
    let view = wait_view(&f, |v| v.last_error.is_some() && !v.summarizing).await;
    let error = view.last_error.unwrap();
    assert_eq!(error.code, ErrorCode::Upstream, "{error:?}");
    assert!(error.message.contains("summarizer exploded"));
    assert!(view.summaries.is_empty());
    assert!(view.unsummarized > 0);
    assert!(!heard.events().is_empty());
    // The chat is fine; its usage shows the failed summarizer request.
    send_done(&f, "And then?").await;
    let rows = f.usage_rows().await;
    assert!(
        rows.iter().any(|r| r.0 == "failed" && r.1 == "upstream"),
        "{rows:?}"
    );
    // A working summarizer clears the error (once the job the last reply started is over).
    summarizer.set_default(says("Summary: all is well."));
    wait_view(&f, |v| !v.summarizing).await;
    // (That job may have written them already with the working one.)
    f.engine.summarize_now(&f.session).await.unwrap();
    let view = f.engine.memory_view(&f.session).await.unwrap();
    assert!(view.last_error.is_none());
    assert!(!view.summaries.is_empty());
    assert_eq!(view.unsummarized, 0);
}

#[tokio::test]
async fn huge_or_empty_summaries_are_refused_and_nothing_is_saved() {
    let server = Server::start(says("Fine.")).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let huge = "word ".repeat(2_000);
    let summarizer = own_summarizer(&f, says(&huge)).await;
    fill(&f, "a", 12).await;
    assert_eq!(
        code(f.engine.summarize_now(&f.session).await),
        ErrorCode::TooLarge
    );
    let view = f.engine.memory_view(&f.session).await.unwrap();
    assert_eq!(view.last_error.unwrap().code, ErrorCode::TooLarge);
    assert!(view.summaries.is_empty());
    summarizer.set_default(says("   \n  "));
    assert_eq!(
        code(f.engine.summarize_now(&f.session).await),
        ErrorCode::Upstream
    );
    assert!(f.store.chat_summaries(&f.session).await.unwrap().is_empty());
    // A trickle that never ends is cut off at the size limit too, not read forever.
    summarizer.set_default(vec![
        sse_head(),
        Step::Trickle(
            chunk(&"x".repeat(1000)).into_bytes(),
            Duration::from_millis(1),
        ),
    ]);
    assert_eq!(
        code(f.engine.summarize_now(&f.session).await),
        ErrorCode::TooLarge
    );
}

#[tokio::test]
async fn summaries_off_writes_nothing_and_sends_nothing() {
    let server = Server::start(says("Summary.")).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    fill(&f, "a", 12).await;
    send_done(&f, "Go on.").await;
    wait_summaries(&f).await;
    f.engine
        .set_memory_settings(
            &f.session,
            MemorySettings {
                summaries: false,
                ..MemorySettings::default()
            },
        )
        .await
        .unwrap();
    assert!(summary_labels(&prompt_now(&f, "Hm?").await).is_empty());
    assert_eq!(
        code(f.engine.summarize_now(&f.session).await),
        ErrorCode::InvalidInput
    );
    let before = f.store.chat_summaries(&f.session).await.unwrap().len();
    fill(&f, "b", 12).await;
    send_done(&f, "Go on.").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        f.store.chat_summaries(&f.session).await.unwrap().len(),
        before
    );
}
