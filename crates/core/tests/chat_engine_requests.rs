//! The chat engine end to end: the requests beside send: regenerate (a new
//! swipe), continue (appended to the last reply), impersonate (a draft, nothing saved).

mod chat_engine_support;
mod chat_support;
mod http_support;

use chat_engine_support::{error_of, quick};
use chat_support::*;
use confab_core::chat::{ReplyKind, StreamEvent};
use confab_core::session::{MessageStatus, Role};
use confab_core::store::NewMessage;
use confab_core::ErrorCode;

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
                speaker: None,
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
                cost_usd: None,
                cache_write_tokens: None,
                cache_read_tokens: None,
                cache_saved_usd: None,
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
