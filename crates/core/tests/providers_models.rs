//! Providers' model lists, on a real SQLite file and a real HTTP server on
//! 127.0.0.1: fetched with the right key and headers, cached, kept when a
//! refresh fails, favourites first. Nothing leaves loopback.

mod http_support;
mod providers_support;

use std::sync::{Arc, Mutex};

use confab_core::llm::ProviderKind;
use confab_core::providers;
use confab_core::secrets::KeyStorage;
use confab_core::{Error, ErrorCode};
use providers_support::{
    add, all_words, env, header, ids, json_ok, quick, response, Reply, Server, OPENROUTER_MODELS,
};

// ---------------------------------------------------------------------------
// Model lists

#[tokio::test]
async fn openrouter_models_are_fetched_with_the_session_key_and_cached() {
    let e = env().await;
    let server = Server::always(json_ok(OPENROUTER_MODELS)).await;
    let p = add(
        &e,
        ProviderKind::OpenRouter,
        "OpenRouter",
        &server.url("/api/v1"),
        "openai/gpt-4o-mini",
    )
    .await;
    let status = e
        .keys
        .set(&p.id, "sk-or-v1-0123456789abcdef\n", KeyStorage::Session)
        .await
        .unwrap();
    assert!(status.set);

    let before = providers::models(&e.store, &p.id).await.unwrap();
    assert!(before.models.is_empty());
    assert_eq!(before.fetched_at, None);

    let list = providers::refresh_models(&e.store, &e.keys, &e.http, &p.id)
        .await
        .unwrap();
    assert!(list.fetched_at.is_some());
    assert_eq!(
        ids(&list.models),
        [
            "anthropic/claude-3.5-sonnet",
            "openrouter/auto",
            "meta-llama/llama-3.1-8b-instruct:free",
            "openai/gpt-4o-mini"
        ]
    );
    let mini = &list.models[3];
    assert_eq!(mini.name, "OpenAI: GPT-4o-mini");
    assert_eq!(mini.context_length, Some(128_000));
    assert_eq!(mini.prompt_price_per_million, Some(0.15));
    assert_eq!(mini.completion_price_per_million, Some(0.6));
    // A router priced per request has no per-token price.
    assert_eq!(list.models[1].prompt_price_per_million, None);

    // The request: the models endpoint, the session key, OpenRouter's headers, Confab's agent.
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let head = &requests[0];
    assert!(
        head.starts_with("GET /api/v1/models HTTP/1.1\r\n"),
        "{head}"
    );
    assert_eq!(
        header(head, "authorization"),
        Some("Bearer sk-or-v1-0123456789abcdef")
    );
    assert_eq!(header(head, "x-title"), Some("Confab"));
    assert!(header(head, "http-referer").is_some());
    assert_eq!(
        header(head, "user-agent"),
        Some(format!("Confab/{}", env!("CARGO_PKG_VERSION")).as_str())
    );

    // Cached: read back without a request.
    let cached = providers::models(&e.store, &p.id).await.unwrap();
    assert_eq!(cached, list);
    assert_eq!(server.requests().len(), 1);

    // Testing the key lists the models again and counts them.
    let count = providers::test_key(&e.store, &e.keys, &e.http, &p.id)
        .await
        .unwrap();
    assert_eq!(count, 4);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn anthropic_lists_with_its_own_headers() {
    let e = env().await;
    let server = Server::always(json_ok(
        r#"{"data":[{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude Sonnet 4.5"}],"has_more":false}"#,
    ))
    .await;
    let p = add(
        &e,
        ProviderKind::Anthropic,
        "Anthropic",
        &server.url("/v1"),
        "",
    )
    .await;
    e.keys
        .set(&p.id, "sk-ant-api03-abcdefgh", KeyStorage::Keyring)
        .await
        .unwrap();
    let list = providers::refresh_models(&e.store, &e.keys, &e.http, &p.id)
        .await
        .unwrap();
    assert_eq!(list.models[0].name, "Claude Sonnet 4.5");
    let head = &server.requests()[0];
    assert!(head.starts_with("GET /v1/models?limit=1000 "), "{head}");
    assert_eq!(header(head, "x-api-key"), Some("sk-ant-api03-abcdefgh"));
    assert_eq!(header(head, "anthropic-version"), Some("2023-06-01"));
    assert_eq!(header(head, "authorization"), None);
}

#[tokio::test]
async fn a_local_server_needs_no_key() {
    let e = env().await;
    let server = Server::always(json_ok(
        r#"{"object":"list","data":[{"id":"qwen2.5:7b","object":"model","owned_by":"library"}]}"#,
    ))
    .await;
    let p = add(
        &e,
        ProviderKind::OpenAiCompatible,
        "Ollama",
        &server.url("/v1/"),
        "qwen2.5:7b",
    )
    .await;
    assert_eq!(
        providers::test_key(&e.store, &e.keys, &e.http, &p.id)
            .await
            .unwrap(),
        1
    );
    let head = &server.requests()[0];
    assert!(head.starts_with("GET /v1/models HTTP/1.1"), "{head}");
    assert_eq!(header(head, "authorization"), None);
}

#[tokio::test]
async fn a_refused_key_is_unauthorized_and_never_shown() {
    let e = env().await;
    // The key is not sk-shaped, so only Confab's knowledge of it can hide it.
    let key = "xai-TESTKEY-0123456789abcdef";
    let body = format!(
        r#"{{"error":{{"message":"Incorrect API key provided: {key}. You can obtain an API key from https://console.x.ai.","type":"invalid_request_error","code":"invalid_api_key"}}}}"#
    );
    let server = Server::always(response(
        "401 Unauthorized",
        &[("Content-Type", "application/json")],
        &body,
    ))
    .await;
    let p = add(
        &e,
        ProviderKind::OpenAi,
        "xAI",
        &server.url("/v1"),
        "grok-4",
    )
    .await;
    e.keys.set(&p.id, key, KeyStorage::Session).await.unwrap();

    for err in [
        providers::refresh_models(&e.store, &e.keys, &e.http, &p.id)
            .await
            .unwrap_err(),
        providers::test_key(&e.store, &e.keys, &e.http, &p.id)
            .await
            .unwrap_err(),
    ] {
        assert_eq!(err.code(), ErrorCode::Unauthorized, "{err}");
        assert_eq!(err.code(), ErrorCode::Unauthorized, "{err}");
        let words = all_words(err);
        assert!(!words.contains(key), "{words}");
        assert!(!words.contains("0123456789abcdef"), "{words}");
        assert!(words.contains("Incorrect API key"), "{words}");
    }
    // Nothing was cached.
    assert_eq!(
        providers::models(&e.store, &p.id).await.unwrap().fetched_at,
        None
    );
}

#[tokio::test]
async fn a_provider_that_needs_a_key_and_has_none_asks_nobody() {
    let e = env().await;
    let server = Server::always(json_ok(OPENROUTER_MODELS)).await;
    let p = add(
        &e,
        ProviderKind::OpenRouter,
        "OpenRouter",
        &server.url("/api/v1"),
        "",
    )
    .await;
    let err = providers::test_key(&e.store, &e.keys, &e.http, &p.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unauthorized);
    assert!(err.to_string().contains("no API key"), "{err}");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_cache() {
    let e = env().await;
    let calls = Arc::new(Mutex::new(0));
    let counter = calls.clone();
    let server = Server::start(move |_| {
        let mut n = counter.lock().unwrap();
        *n += 1;
        match *n {
            1 => json_ok(OPENROUTER_MODELS),
            2 => response(
                "503 Service Unavailable",
                &[("Retry-After", "7")],
                "<html>upstream down</html>",
            ),
            3 => json_ok(r#"{"data": "not a list"}"#),
            4 => response(
                "429 Too Many Requests",
                &[("Retry-After", "12"), ("Content-Type", "application/json")],
                r#"{"error":{"message":"Rate limit exceeded","code":429}}"#,
            ),
            _ => Reply::Hang,
        }
    })
    .await;
    let p = add(
        &e,
        ProviderKind::OpenRouter,
        "OpenRouter",
        &server.url("/api/v1"),
        "",
    )
    .await;
    e.keys
        .set(&p.id, "sk-or-v1-aaaabbbbcccc", KeyStorage::Session)
        .await
        .unwrap();
    let good = providers::refresh_models(&e.store, &e.keys, &e.http, &p.id)
        .await
        .unwrap();
    assert_eq!(good.models.len(), 4);

    let limits = quick();
    let refresh = || providers::refresh_models_with(&e.store, &e.keys, &e.http, &p.id, &limits);
    let unavailable = refresh().await.unwrap_err();
    assert!(
        matches!(
            unavailable.code(),
            ErrorCode::Upstream | ErrorCode::Overloaded
        ),
        "{unavailable:?}"
    );
    assert_eq!(refresh().await.unwrap_err().code(), ErrorCode::Protocol);
    match refresh().await.unwrap_err() {
        Error::RateLimited {
            retry_after_secs, ..
        } => assert_eq!(retry_after_secs, Some(12)),
        other => panic!("{other:?}"),
    }
    assert_eq!(refresh().await.unwrap_err().code(), ErrorCode::Timeout);

    assert_eq!(providers::models(&e.store, &p.id).await.unwrap(), good);
}

#[tokio::test]
async fn favourites_come_first_then_by_name() {
    let e = env().await;
    let server = Server::always(json_ok(OPENROUTER_MODELS)).await;
    let p = add(
        &e,
        ProviderKind::OpenRouter,
        "OpenRouter",
        &server.url("/api/v1"),
        "",
    )
    .await;
    // A favourite may be pinned before any list is fetched.
    let list = providers::set_favourite(&e.store, &p.id, " openai/gpt-4o-mini ", true)
        .await
        .unwrap();
    assert_eq!(list.favourites, ["openai/gpt-4o-mini"]);
    assert!(list.models.is_empty());

    e.keys
        .set(&p.id, "sk-or-v1-aaaabbbbcccc", KeyStorage::Session)
        .await
        .unwrap();
    providers::refresh_models(&e.store, &e.keys, &e.http, &p.id)
        .await
        .unwrap();
    providers::set_favourite(&e.store, &p.id, "openrouter/auto", true)
        .await
        .unwrap();
    // Twice is once.
    let list = providers::set_favourite(&e.store, &p.id, "openrouter/auto", true)
        .await
        .unwrap();
    assert_eq!(list.favourites, ["openai/gpt-4o-mini", "openrouter/auto"]);
    assert_eq!(
        ids(&list.models),
        [
            "openrouter/auto",
            "openai/gpt-4o-mini",
            "anthropic/claude-3.5-sonnet",
            "meta-llama/llama-3.1-8b-instruct:free"
        ]
    );

    let list = providers::set_favourite(&e.store, &p.id, "openrouter/auto", false)
        .await
        .unwrap();
    assert_eq!(list.favourites, ["openai/gpt-4o-mini"]);
    assert_eq!(list.models[0].id, "openai/gpt-4o-mini");
    assert_eq!(list.models[1].id, "anthropic/claude-3.5-sonnet");

    // Unknown provider, empty model id.
    assert_eq!(
        providers::set_favourite(&e.store, "nope", "m", true)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        providers::set_favourite(&e.store, &p.id, "  ", true)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::InvalidInput
    );
    assert_eq!(
        providers::models(&e.store, "nope")
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
}
