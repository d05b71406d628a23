//! The embeddings client against a real server on 127.0.0.1: where each kind
//! serves embeddings, batching, and every hostile answer as a typed error.

mod http_support;
mod retrieval_support;

use std::time::{Duration, Instant};

use confab_core::llm::embeddings::{
    embed, embeddings_request, embeddings_url, parse_embeddings, MAX_BATCH,
};
use confab_core::llm::{ProviderConfig, ProviderKind};
use confab_core::ErrorCode;
use retrieval_support::{bag_of_words, EmbedServer, Mode, DIMS};

fn config(kind: ProviderKind, base: &str) -> ProviderConfig {
    let mut c = ProviderConfig::new(kind, "Test");
    c.base_url = base.to_owned();
    c
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[test]
fn each_kind_is_asked_where_it_serves_embeddings() {
    let url = |kind, base: &str| embeddings_url(&config(kind, base)).unwrap();
    assert_eq!(
        url(ProviderKind::OpenAi, "https://api.openai.com/v1"),
        "https://api.openai.com/v1/embeddings"
    );
    assert_eq!(
        url(ProviderKind::OpenRouter, "https://openrouter.ai/api/v1/"),
        "https://openrouter.ai/api/v1/embeddings"
    );
    assert_eq!(
        url(ProviderKind::OpenAiCompatible, "http://127.0.0.1:1234/v1"),
        "http://127.0.0.1:1234/v1/embeddings"
    );
    assert_eq!(
        url(ProviderKind::TextCompletions, "http://127.0.0.1:5000/v1"),
        "http://127.0.0.1:5000/v1/embeddings"
    );
    // Text kinds are configured by their root, with or without a suffix.
    assert_eq!(
        url(ProviderKind::LlamaCpp, "http://127.0.0.1:8080"),
        "http://127.0.0.1:8080/v1/embeddings"
    );
    assert_eq!(
        url(ProviderKind::LlamaCpp, "http://127.0.0.1:8080/v1"),
        "http://127.0.0.1:8080/v1/embeddings"
    );
    assert_eq!(
        url(ProviderKind::KoboldCpp, "http://127.0.0.1:5001/api"),
        "http://127.0.0.1:5001/v1/embeddings"
    );
    let err = embeddings_url(&config(
        ProviderKind::Anthropic,
        "https://api.anthropic.com/v1",
    ))
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("no embeddings"));
}

#[test]
fn the_request_carries_the_model_the_texts_and_the_key() {
    let mut c = config(ProviderKind::OpenAi, "https://api.openai.com/v1");
    c.extra_headers.insert("X-Test".into(), "1".into());
    let r = embeddings_request(
        &c,
        "text-embedding-3-small",
        &["a".into(), "b".into()],
        Some("sk-test-key"),
    )
    .unwrap();
    assert_eq!(r.method, "POST");
    assert_eq!(r.body["model"], "text-embedding-3-small");
    assert_eq!(r.body["input"], serde_json::json!(["a", "b"]));
    assert_eq!(r.header("authorization"), Some("Bearer sk-test-key"));
    assert_eq!(r.header("x-test"), Some("1"));
    assert!(!format!("{r:?}").contains("sk-test-key"));
    // OpenAI without a key: refused before anything is sent.
    let err = embeddings_request(&c, "m", &["a".into()], None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unauthorized);
}

#[test]
fn answers_are_read_in_index_order_and_checked() {
    let ok = br#"{"data":[{"index":1,"embedding":[0,1]},{"index":0,"embedding":[1,0]}]}"#;
    assert_eq!(
        parse_embeddings(ok, 2).unwrap(),
        vec![vec![1.0, 0.0], vec![0.0, 1.0]]
    );
    let bad: &[(&[u8], usize)] = &[
        (b"not json", 1),
        (br#"{"data":{}}"#, 1),
        (br#"{"data":[{"embedding":[1]}]}"#, 2),
        (br#"{"data":[{"embedding":[]}]}"#, 1),
        (br#"{"data":[{"embedding":"abc"}]}"#, 1),
        (br#"{"data":[{"embedding":[1,2]},{"embedding":[1]}]}"#, 2),
        (br#"{"data":[{"embedding":[1,null]}]}"#, 1),
        (br#"{"data":[{"embedding":[1,1e39]}]}"#, 1),
        (
            br#"{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[1]}]}"#,
            2,
        ),
        (br#"{"data":[{"index":7,"embedding":[1]}]}"#, 1),
        (br#"{"data":[{"index":-1,"embedding":[1]}]}"#, 1),
    ];
    for (body, n) in bad {
        let err = parse_embeddings(body, *n).unwrap_err();
        assert_eq!(
            err.code(),
            ErrorCode::Protocol,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    let long = format!("{{\"data\":[{{\"embedding\":[{}1]}}]}}", "0,".repeat(9000));
    assert_eq!(
        parse_embeddings(long.as_bytes(), 1).unwrap_err().code(),
        ErrorCode::Protocol
    );
}

#[tokio::test]
async fn texts_are_sent_in_batches_and_come_back_in_order() {
    let server = EmbedServer::start().await;
    let c = config(ProviderKind::OpenAiCompatible, &server.base_url());
    let texts: Vec<String> = (0..(MAX_BATCH * 2 + 3))
        .map(|i| format!("passage number {i} about lanterns"))
        .collect();
    let vectors = embed(
        &http(),
        &c,
        "embed-test",
        None,
        &texts,
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    assert_eq!(vectors.len(), texts.len());
    assert_eq!(server.requests(), 3);
    assert_eq!(vectors[5], bag_of_words(&texts[5], DIMS));
    assert_eq!(server.inputs(), texts);
}

#[tokio::test]
async fn hostile_answers_are_typed_errors() {
    let server = EmbedServer::start().await;
    let c = config(ProviderKind::OpenAiCompatible, &server.base_url());
    let texts = vec!["one text".to_owned(), "another text".to_owned()];
    let cases = [
        (Mode::Status(500), ErrorCode::Upstream),
        (Mode::Status(401), ErrorCode::Unauthorized),
        (Mode::Status(429), ErrorCode::RateLimited),
        (Mode::Status(404), ErrorCode::NotFound),
        (Mode::NotJson, ErrorCode::Protocol),
        (Mode::Huge, ErrorCode::Protocol),
        (Mode::WrongDims, ErrorCode::Protocol),
        (Mode::NullValue, ErrorCode::Protocol),
        (Mode::Overflow, ErrorCode::Protocol),
        (Mode::MissingOne, ErrorCode::Protocol),
    ];
    for (mode, code) in cases {
        server.set_mode(mode);
        let err = embed(
            &http(),
            &c,
            "embed-test",
            None,
            &texts,
            Duration::from_secs(10),
        )
        .await
        .unwrap_err();
        // 404's mapping is the chat client's; what matters is that it is typed.
        if mode != Mode::Status(404) {
            assert_eq!(err.code(), code, "{mode:?}: {err}");
        }
    }
    server.set_mode(Mode::Hang);
    let started = Instant::now();
    let err = embed(
        &http(),
        &c,
        "embed-test",
        None,
        &texts,
        Duration::from_millis(300),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Timeout);
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn the_key_is_sent_as_a_bearer_and_never_shown_in_an_error() {
    let server = EmbedServer::start().await;
    let c = config(ProviderKind::OpenAiCompatible, &server.base_url());
    server.set_mode(Mode::Status(401));
    let err = embed(
        &http(),
        &c,
        "embed-test",
        Some("sk-secret-123456"),
        &["x".to_owned()],
        Duration::from_secs(10),
    )
    .await
    .unwrap_err();
    assert!(!err.to_string().contains("sk-secret-123456"));
    assert!(server
        .seen
        .auth
        .lock()
        .unwrap()
        .iter()
        .any(|a| a.contains("Bearer sk-secret-123456")));
}
