//! The providers' HTTP client against hostile or absent servers on 127.0.0.1:
//! no answer, an oversize answer, nothing listening, redirects, proxies from the
//! environment, the real environment, TLS with ALPN. Nothing leaves loopback.

mod http_support;
mod providers_support;

use std::time::Duration;

use confab_core::llm::ProviderKind;
use confab_core::providers::{self, ModelFetch};
use confab_core::secrets::KeyStorage;
use confab_core::ErrorCode;
use providers_support::{
    add, all_words, config, env, header, json_ok, quick, response, Reply, Server, OPENROUTER_MODELS,
};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let e = env().await;
    let server = Server::always(Reply::Hang).await;
    let p = add(
        &e,
        ProviderKind::OpenAiCompatible,
        "llama.cpp",
        &server.url("/v1"),
        "",
    )
    .await;
    let started = std::time::Instant::now();
    let err = providers::test_key_with(&e.store, &e.keys, &e.http, &p.id, &quick())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Timeout, "{err}");
    assert!(err.to_string().contains("llama.cpp"), "{err}");
    // Bounded by the fetch's own timeout, not the server's patience.
    assert!(started.elapsed() < Duration::from_secs(8));
}

#[tokio::test]
async fn an_oversize_model_list_is_refused() {
    let e = env().await;
    let limits = ModelFetch {
        timeout: Duration::from_secs(10),
        max_bytes: 64 * 1024,
    };
    // Announced by Content-Length, and streamed without end.
    let big = format!(r#"{{"data":[{}]}}"#, r#"{"id":"m"},"#.repeat(20_000));
    for reply in [json_ok(&big), Reply::Endless] {
        let server = Server::always(reply).await;
        let p = add(
            &e,
            ProviderKind::OpenAiCompatible,
            "Big",
            &server.url("/v1"),
            "",
        )
        .await;
        let err = providers::refresh_models_with(&e.store, &e.keys, &e.http, &p.id, &limits)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::TooLarge, "{err}");
        assert!(err.to_string().contains("64 KB"), "{err}");
    }
}

#[tokio::test]
async fn nothing_listening_is_a_network_error() {
    let e = env().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let p = add(
        &e,
        ProviderKind::OpenAiCompatible,
        "Gone",
        &format!("http://127.0.0.1:{port}/v1"),
        "",
    )
    .await;
    let err = providers::refresh_models(&e.store, &e.keys, &e.http, &p.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Network, "{err}");
}

#[tokio::test]
async fn redirects_are_followed_only_within_the_same_server() {
    let e = env().await;
    let elsewhere = Server::always(json_ok(OPENROUTER_MODELS)).await;
    let target = elsewhere.url("/steal/models");
    let server = Server::start(move |head| {
        if head.starts_with("GET /old/models") {
            response("301 Moved Permanently", &[("Location", "/new/models")], "")
        } else if head.starts_with("GET /new/models") {
            response("307 Temporary Redirect", &[("Location", &target)], "")
        } else {
            json_ok(OPENROUTER_MODELS)
        }
    })
    .await;

    let mut c = config(ProviderKind::Anthropic, "Moved", &server.url("/old"));
    c.default_model = "m".into();
    let moved = providers::save(&e.store, &e.keys, c).await.unwrap().config;
    e.keys
        .set(&moved.id, "anthropic-key-0123456789", KeyStorage::Session)
        .await
        .unwrap();
    let err = providers::refresh_models(&e.store, &e.keys, &e.http, &moved.id)
        .await
        .unwrap_err();
    // /old → /new is followed; /new → another port is not: the key stays here.
    let heads = server.requests();
    assert_eq!(heads.len(), 2, "{heads:?}");
    assert_eq!(
        header(&heads[1], "x-api-key"),
        Some("anthropic-key-0123456789")
    );
    assert!(elsewhere.requests().is_empty());
    assert_eq!(err.code(), ErrorCode::Upstream, "{err}");
    let words = all_words(err);
    assert!(
        words.contains(&elsewhere.addr.port().to_string()),
        "{words}"
    );
    assert!(!words.contains("/steal"), "{words}");
}

#[tokio::test]
async fn proxies_from_the_environment_never_see_loopback() {
    let proxy = Server::always(json_ok(r#"{"data":[{"id":"via-proxy"}]}"#)).await;
    let direct = Server::always(json_ok(r#"{"data":[{"id":"direct"}]}"#)).await;
    let proxy_url = proxy.url("");
    let http = providers::http_client_with_env(move |name| {
        (name == "HTTP_PROXY" || name == "https_proxy").then(|| proxy_url.clone())
    })
    .unwrap();
    let body = http
        .get(direct.url("/v1/models"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("direct"));
    assert!(proxy.requests().is_empty());

    // A remote host goes through the proxy (which is on loopback: nothing leaves it).
    let body = http
        .get("http://models.example.invalid/v1/models")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("via-proxy"));
    let heads = proxy.requests();
    assert!(
        heads[0].starts_with("GET http://models.example.invalid/v1/models "),
        "{heads:?}"
    );
}

#[tokio::test]
async fn the_http_client_builds_from_the_real_environment() {
    // Whatever proxies this machine has, the client builds and reaches loopback.
    let server = Server::always(json_ok(r#"{"data":[]}"#)).await;
    let status = providers::http_client()
        .unwrap()
        .get(server.url("/v1/models"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn https_is_spoken_with_alpn_for_http2() {
    // A TCP server on loopback that reads what the client sends first and hangs up:
    // a TLS ClientHello proves a TLS backend is compiled in and used for https.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut hello = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), sock.read(&mut hello))
            .await
            .unwrap()
            .unwrap();
        hello.truncate(n);
        hello
    });
    let e = env().await;
    let p = add(
        &e,
        ProviderKind::OpenAi,
        "TLS",
        &format!("https://127.0.0.1:{port}/v1"),
        "",
    )
    .await;
    e.keys
        .set(&p.id, "sk-tls-0123456789", KeyStorage::Session)
        .await
        .unwrap();
    let err = providers::refresh_models_with(&e.store, &e.keys, &e.http, &p.id, &quick())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Network, "{err}");
    let hello = server.await.unwrap();
    // A TLS handshake record, and the ALPN offer of h2 and http/1.1.
    assert_eq!(hello.first(), Some(&0x16), "{hello:?}");
    let has = |needle: &[u8]| hello.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"\x02h2") && has(b"\x08http/1.1"), "{hello:?}");
    // The key never travels in the clear.
    assert!(!has(b"sk-tls-0123456789"));
}
