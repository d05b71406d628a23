//! A server that echoes the API key in its errors: the key is taken out of
//! every failure a reply can end with (an HTTP error body, an SSE error event,
//! Anthropic's error event, a llama.cpp `error:` line, a non-streamed error),
//! whatever the key looks like, before it reaches the stream's subscribers,
//! the saved messages or anything else in the database.

mod chat_support;
mod http_support;

use std::time::Duration;

use chat_support::*;
use confab_core::chat::{EngineConfig, StreamEvent};
use confab_core::llm::{ProviderConfig, ProviderKind};
use confab_core::secrets::KeyStorage;

/// Groq's and xAI's key shapes: neither looks like `sk-...` nor follows `Bearer`.
const GROQ_KEY: &str = "gsk_Zx9TESTabcdef0123456789QRSTuv";
const XAI_KEY: &str = "xai-QWERTYtest0123456789abcdefXYZ";

fn quick() -> EngineConfig {
    EngineConfig {
        idle_timeout: Duration::from_secs(10),
        ..EngineConfig::default()
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

fn json_error(key: &str) -> String {
    serde_json::json!({"error": {"message": format!("Invalid API Key: {key} is not valid"),
        "type": "invalid_request_error"}})
    .to_string()
}

#[tokio::test]
async fn a_key_echoed_in_any_stream_error_never_leaves_the_engine() {
    let server = Server::start(Vec::new()).await;
    let mut f = Fixture::new(&server.base_url(), quick()).await;
    let json = "application/json";
    let openai: Vec<(&str, Script)> = vec![
        // An error status with the key in a JSON body.
        (
            GROQ_KEY,
            vec![
                Step::Bytes(head(401, json, &[])),
                bytes(json_error(GROQ_KEY)),
            ],
        ),
        // An error status with the key in a plain-text body.
        (
            XAI_KEY,
            vec![
                Step::Bytes(head(500, "text/plain", &[])),
                bytes(format!("upstream refused {XAI_KEY} for this model")),
            ],
        ),
        // An in-band error event after some text (OpenAI, OpenRouter mid-stream).
        (
            XAI_KEY,
            vec![
                sse_head(),
                bytes(chunk("Partial ")),
                bytes(format!("data: {}\n\n", json_error(XAI_KEY))),
            ],
        ),
        // llama.cpp's `error:` field.
        (
            GROQ_KEY,
            vec![
                sse_head(),
                bytes(format!("error: {}\n\n", json_error(GROQ_KEY))),
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (key, script) in openai {
        failures.push(fail_once(&f, &server, key, script).await);
    }

    // Anthropic's `error` event.
    let mut claude = ProviderConfig::new(ProviderKind::Anthropic, "Claude");
    claude.base_url = server.base_url();
    claude.default_model = "claude-test".into();
    f.store.save_provider(&claude).await.unwrap();
    f.provider = claude;
    let event = serde_json::json!({"type": "error", "error": {"type": "authentication_error",
        "message": format!("invalid x-api-key {GROQ_KEY}")}});
    failures.push(
        fail_once(
            &f,
            &server,
            GROQ_KEY,
            vec![
                sse_head(),
                bytes(format!("event: error\ndata: {event}\n\n")),
            ],
        )
        .await,
    );

    // A provider that does not stream: the error arrives as one body.
    let mut whole = local_provider(&server.base_url());
    whole.name = "Whole".into();
    whole.streaming = false;
    f.store.save_provider(&whole).await.unwrap();
    f.provider = whole;
    failures.push(
        fail_once(
            &f,
            &server,
            XAI_KEY,
            vec![
                Step::Bytes(head(400, json, &[])),
                bytes(json_error(XAI_KEY)),
            ],
        )
        .await,
    );

    for words in &failures {
        assert!(
            !words.contains(GROQ_KEY) && !words.contains(XAI_KEY),
            "{words}"
        );
        // The echo did reach the error (so the check above is not empty): scrubbed.
        assert!(words.contains("[redacted]"), "{words}");
    }

    // Nothing stored holds a key: the messages, their details, usage, anything.
    for m in f.messages().await {
        let all = format!("{m:?}");
        assert!(!all.contains(GROQ_KEY) && !all.contains(XAI_KEY), "{all}");
    }
    let db = f.store.path().to_owned();
    for file in [db.clone(), db.with_extension("db-wal")] {
        if let Ok(bytes) = std::fs::read(&file) {
            for key in [GROQ_KEY, XAI_KEY] {
                assert!(
                    !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
                    "{key} in {}",
                    file.display()
                );
            }
        }
    }
}

/// Points the session at the fixture's current provider with `key`, serves
/// `script` once, sends, and returns every outward form of the failure.
async fn fail_once(f: &Fixture, server: &Server, key: &str, script: Script) -> String {
    f.keys
        .set(&f.provider.id, key, KeyStorage::Session)
        .await
        .unwrap();
    f.store
        .set_session_model(&f.session, Some(&f.provider.id), None)
        .await
        .unwrap();
    server.push(script);
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "Hello", &[], sink.clone())
        .await
        .unwrap();
    let end = sink.terminal().await;
    assert!(matches!(end, StreamEvent::Failed { .. }), "{end:?}");
    wait_free(f).await;
    let mut words = format!("{end:?} {}", serde_json::to_string(&end).unwrap());
    for e in sink.events() {
        words.push_str(&format!(" {e:?}"));
    }
    words
}
