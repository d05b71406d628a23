//! The chat engine end to end: what providers answer: HTTP errors as typed
//! failures, an unreachable server, no provider or no key, non-streaming
//! providers, reasoning kept apart, the cost at the listed prices.

mod chat_engine_support;
mod chat_support;
mod http_support;

use std::time::Duration;

use chat_engine_support::{error_of, quick, started_of, wait_free};
use chat_support::*;
use confab_core::chat::{EngineConfig, StreamEvent};
use confab_core::llm::{ProviderConfig, ProviderKind};
use confab_core::secrets::KeyStorage;
use confab_core::session::MessageStatus;
use confab_core::ErrorCode;

const ANTHROPIC_RAW: &[u8] = include_bytes!("fixtures/streams/anthropic_stream.raw");

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
                cache_read_price_per_million: None,
                cache_write_price_per_million: None,
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
async fn cache_tokens_reach_done_and_the_usage_report_with_the_saving() {
    let usage = serde_json::json!({"choices":[],"usage":{"prompt_tokens":10_000,"completion_tokens":100,
        "prompt_tokens_details":{"cached_tokens":8_000,"cache_write_tokens":1_000}}});
    let server = Server::start(vec![
        sse_head(),
        bytes(
            chunk("Cached.")
                + &format!(
                    "data: {}\n\ndata: {usage}\n\ndata: [DONE]\n\n",
                    serde_json::json!({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})
                ),
        ),
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
                cache_read_price_per_million: Some(0.2),
                cache_write_price_per_million: Some(2.5),
            }],
        )
        .await
        .unwrap();
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "Again?", &[], sink.clone())
        .await
        .unwrap();
    let StreamEvent::Done { usage, .. } = sink.terminal().await else {
        panic!("{:?}", sink.events())
    };
    assert_eq!(usage.cache_read_tokens, Some(8_000));
    assert_eq!(usage.cache_write_tokens, Some(1_000));
    let cost = (1_000.0 * 2.0 + 8_000.0 * 0.2 + 1_000.0 * 2.5 + 100.0 * 10.0) / 1e6;
    let saved = (8_000.0 * 1.8 - 1_000.0 * 0.5) / 1e6;
    assert!((usage.cost_usd.unwrap() - cost).abs() < 1e-12, "{usage:?}");
    assert!(
        (usage.cache_saved_usd.unwrap() - saved).abs() < 1e-12,
        "{usage:?}"
    );
    let report = confab_core::providers::usage(&f.store, 1).await.unwrap();
    assert_eq!(report.rows[0].cache_read_tokens, 8_000);
    assert_eq!(report.rows[0].cache_write_tokens, 1_000);
    assert!((report.rows[0].cache_saved_usd.unwrap() - saved).abs() < 1e-12);
}

#[tokio::test]
async fn an_anthropic_send_marks_the_prompt_and_reads_the_cache_usage() {
    let capture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/streams/anthropic_cache_stream.raw"
    ))
    .unwrap();
    let server = Server::start(vec![sse_head(), bytes(capture)]).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let mut claude = f.provider.clone();
    claude.kind = confab_core::llm::ProviderKind::Anthropic;
    claude.default_model = "claude-sonnet-4-5".into();
    let claude = f.store.save_provider(&claude).await.unwrap();
    f.keys
        .set(
            &claude.id,
            "sk-ant-test-key",
            confab_core::secrets::KeyStorage::Session,
        )
        .await
        .unwrap();
    // A message long enough to be worth caching.
    let long = "The storm tears at the sails. ".repeat(300);
    let sink = Recorder::new();
    f.engine
        .send(&f.session, &long, &[], sink.clone())
        .await
        .unwrap();
    let StreamEvent::Done { usage, text, .. } = sink.terminal().await else {
        panic!("{:?}", sink.events())
    };
    assert_eq!(text, "The tavern falls quiet.");
    assert_eq!(usage.prompt_tokens, Some(2052));
    assert_eq!(usage.cache_write_tokens, Some(188));
    assert_eq!(usage.cache_read_tokens, Some(1843));
    let body = server.last_body();
    let messages = body["messages"].as_array().unwrap();
    let last = messages.last().unwrap();
    assert_eq!(last["role"], "user");
    let block = last["content"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        block["cache_control"],
        serde_json::json!({"type": "ephemeral"})
    );
    assert!(block["text"].as_str().unwrap().starts_with("The storm"));
    assert!(body.to_string().matches("cache_control").count() <= 4);

    // Caching off: no marks.
    let mut off = claude.clone();
    off.prompt_cache = false;
    f.store.save_provider(&off).await.unwrap();
    server.set_default(vec![
        sse_head(),
        bytes(
            std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/streams/anthropic_cache_stream.raw"
            ))
            .unwrap(),
        ),
    ]);
    let sink = Recorder::new();
    f.engine
        .send(&f.session, &long, &[], sink.clone())
        .await
        .unwrap();
    sink.terminal().await;
    assert!(!server.last_body().to_string().contains("cache_control"));
}
