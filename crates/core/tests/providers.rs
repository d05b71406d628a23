//! Providers as the user manages them, on a real SQLite file and a real HTTP
//! server on 127.0.0.1: configurations, keys, model lists (fetched, cached,
//! pinned), the model a session replies with, and usage. Nothing leaves loopback.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use confab_core::card::{CardData, CardFormat, CardSpec};
use confab_core::library::content_hash;
use confab_core::llm::{ModelInfo, ProviderConfig, ProviderKind};
use confab_core::providers::{self, ModelFetch};
use confab_core::secrets::{KeyStorage, Keys};
use confab_core::store::{Inserted, NewCharacter, Store, UsageOutcome, UsageRecord};
use confab_core::{AppError, Error, ErrorCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

// ---------------------------------------------------------------------------
// A test server on 127.0.0.1

/// What the server does with a request.
#[derive(Clone)]
enum Reply {
    /// Write these bytes, then close.
    Raw(Vec<u8>),
    /// Say nothing and hold the connection (bounded).
    Hang,
    /// Write a head announcing a chunked body, then chunks without end (bounded).
    Endless,
}

/// A server that records each request's head and answers by `route(head)`.
struct Server {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    async fn start(route: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let route = Arc::new(route);
        let task = tokio::spawn(async move {
            while let Ok(Ok((mut sock, _))) =
                tokio::time::timeout(Duration::from_secs(20), listener.accept()).await
            {
                let seen = seen.clone();
                let route = route.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let reply = route(&head);
                    seen.lock().unwrap().push(head);
                    match reply {
                        Reply::Raw(bytes) => {
                            let _ = sock.write_all(&bytes).await;
                            let _ = sock.shutdown().await;
                        }
                        Reply::Hang => tokio::time::sleep(Duration::from_secs(10)).await,
                        Reply::Endless => {
                            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                                        Transfer-Encoding: chunked\r\n\r\n";
                            if sock.write_all(head.as_bytes()).await.is_err() {
                                return;
                            }
                            let chunk = format!("400\r\n{}\r\n", " ".repeat(0x400));
                            for _ in 0..100_000 {
                                if sock.write_all(chunk.as_bytes()).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
        Server {
            addr,
            requests,
            task,
        }
    }

    /// Answers every request the same way.
    async fn always(reply: Reply) -> Server {
        Server::start(move |_| reply.clone()).await
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn response(status: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut text = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    Reply::Raw(text.into_bytes())
}

fn json_ok(body: &str) -> Reply {
    response("200 OK", &[("Content-Type", "application/json")], body)
}

/// The value of a header in a recorded request head, by case-insensitive name.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// OpenRouter's shape: per-token prices as strings, context lengths, a router priced per request.
const OPENROUTER_MODELS: &str = r#"{"data":[
  {"id":"openai/gpt-4o-mini","name":"OpenAI: GPT-4o-mini","context_length":128000,
   "pricing":{"prompt":"0.00000015","completion":"0.0000006","request":"0"}},
  {"id":"anthropic/claude-3.5-sonnet","name":"Anthropic: Claude 3.5 Sonnet","context_length":200000,
   "pricing":{"prompt":"0.000003","completion":"0.000015"}},
  {"id":"meta-llama/llama-3.1-8b-instruct:free","name":"Meta: Llama 3.1 8B Instruct (free)",
   "context_length":131072,"pricing":{"prompt":"0","completion":"0"}},
  {"id":"openrouter/auto","name":"Auto Router","context_length":2000000,
   "pricing":{"prompt":"-1","completion":"-1"}}
]}"#;

// ---------------------------------------------------------------------------
// The store, keys, a character and sessions

struct Env {
    _dir: tempfile::TempDir,
    store: Store,
    keys: Keys,
    http: reqwest::Client,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let keys = Keys::in_memory(store.clone());
    Env {
        _dir: dir,
        store,
        keys,
        // The environment's proxies are not the test's business.
        http: providers::http_client_with_env(|_| None).unwrap(),
    }
}

async fn session(store: &Store) -> String {
    let card = CardData {
        name: "Seraphina".into(),
        first_mes: "Welcome.".into(),
        ..Default::default()
    };
    let hash = content_hash(&card);
    let character = match store
        .insert_character(NewCharacter {
            card: &card,
            original: &serde_json::json!({}),
            spec: CardSpec::V3,
            format: CardFormat::Json,
            source_file: "s.json",
            content_hash: &hash,
            avatar: None,
            assets: &[],
            collections: &[],
        })
        .await
        .unwrap()
    {
        Inserted::New { id } | Inserted::Duplicate { id, .. } => id,
    };
    store
        .create_session(&character, None, "Traveller")
        .await
        .unwrap()
}

fn config(kind: ProviderKind, name: &str, base_url: &str) -> ProviderConfig {
    let mut c = ProviderConfig::new(kind, name);
    c.id = String::new();
    c.base_url = base_url.to_owned();
    c
}

async fn add(
    e: &Env,
    kind: ProviderKind,
    name: &str,
    base_url: &str,
    model: &str,
) -> ProviderConfig {
    let mut c = config(kind, name, base_url);
    c.default_model = model.to_owned();
    providers::save(&e.store, &e.keys, c).await.unwrap().config
}

fn ids(models: &[ModelInfo]) -> Vec<&str> {
    models.iter().map(|m| m.id.as_str()).collect()
}

fn quick() -> ModelFetch {
    ModelFetch {
        timeout: Duration::from_millis(500),
        ..ModelFetch::default()
    }
}

/// The error's every outward form: Display, Debug and the IPC/CLI JSON.
fn all_words(err: Error) -> String {
    let words = format!("{err} {err:?}");
    let app = serde_json::to_string(&AppError::from(err)).unwrap();
    format!("{words} {app}")
}

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

// ---------------------------------------------------------------------------
// Configurations

#[tokio::test]
async fn save_trims_assigns_an_id_and_lists_with_key_status() {
    let e = env().await;
    let mut c = config(
        ProviderKind::OpenRouter,
        "  My OpenRouter  ",
        "  https://openrouter.ai/api/v1/  ",
    );
    c.default_model = " openai/gpt-4o-mini ".into();
    c.extra_headers.insert(" X-Extra ".into(), " yes ".into());
    c.generation.temperature = Some(0.8);
    c.generation.top_p = Some(1.0);
    c.generation.max_tokens = Some(400);
    c.generation.stop = vec!["\nUser:".into(), String::new()];
    let saved = providers::save(&e.store, &e.keys, c).await.unwrap();
    let id = saved.config.id.clone();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert_eq!(saved.config.name, "My OpenRouter");
    assert_eq!(saved.config.base_url, "https://openrouter.ai/api/v1/");
    assert_eq!(saved.config.default_model, "openai/gpt-4o-mini");
    assert_eq!(saved.config.extra_headers["X-Extra"], "yes");
    assert_eq!(saved.config.extra_headers["X-Title"], "Confab");
    assert!(saved.config.extra_headers.contains_key("HTTP-Referer"));
    assert_eq!(saved.config.generation.stop, ["\nUser:"]);
    assert!(saved.is_default, "the first provider is the default");
    assert!(!saved.key.set);

    let second = add(
        &e,
        ProviderKind::OpenAiCompatible,
        "LM Studio",
        "http://127.0.0.1:1234/v1",
        "",
    )
    .await;
    e.keys
        .set(&second.id, "lm-studio", KeyStorage::Session)
        .await
        .unwrap();
    e.store.set_default_provider(&second.id).await.unwrap();

    let list = providers::list(&e.store, &e.keys).await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].config.id, id);
    assert!(!list[0].is_default && list[1].is_default);
    assert!(!list[0].key.set);
    assert_eq!(list[1].key.storage, Some(KeyStorage::Session));
    // No key in what the UI sees.
    assert!(!serde_json::to_string(&list)
        .unwrap()
        .contains("lm-studio\""));

    // Saving again with the id changes it in place.
    let mut changed = list[0].config.clone();
    changed.name = "Renamed".into();
    let again = providers::save(&e.store, &e.keys, changed).await.unwrap();
    assert_eq!(again.config.id, id);
    let list = providers::list(&e.store, &e.keys).await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].config.name, "Renamed");
}

#[tokio::test]
async fn bad_configurations_are_refused_and_change_nothing() {
    let e = env().await;
    let ok = || config(ProviderKind::OpenAi, "OpenAI", "https://api.openai.com/v1");
    let mut cases: Vec<(ProviderConfig, &str)> = Vec::new();
    let mut c = ok();
    c.name = "   ".into();
    cases.push((c, "needs a name"));
    let mut c = ok();
    c.name = "n".repeat(101);
    cases.push((c, "100 characters"));
    for url in [
        "ftp://example.com",
        "api.openai.com/v1",
        "http://",
        "https://user:pass@example.com/v1",
        "https://example.com/v1?key=1",
        "http://exa mple.com",
    ] {
        let mut c = ok();
        c.base_url = url.into();
        cases.push((c, "address"));
    }
    let mut c = ok();
    c.extra_headers.insert("Bad Header".into(), "v".into());
    cases.push((c, "header name"));
    let mut c = ok();
    c.extra_headers
        .insert("X-Note".into(), "line\r\nInjected: yes".into());
    cases.push((c, "line break"));
    let mut c = ok();
    c.extra_headers
        .insert("Authorization".into(), "Bearer sk-abcdefgh12345".into());
    cases.push((c, "API key instead"));
    let mut c = ok();
    c.extra_headers.insert("X-A".into(), "1".into());
    c.extra_headers.insert("x-a".into(), "2".into());
    cases.push((c, "twice"));
    for t in [-0.1, 2.01, f32::NAN] {
        let mut c = ok();
        c.generation.temperature = Some(t);
        cases.push((c, "temperature"));
    }
    for p in [-0.5, 1.5] {
        let mut c = ok();
        c.generation.top_p = Some(p);
        cases.push((c, "top-p"));
    }
    for m in [0, 1_000_001] {
        let mut c = ok();
        c.generation.max_tokens = Some(m);
        cases.push((c, "token limit"));
    }
    let mut c = ok();
    c.generation.stop = (0..17).map(|i| format!("stop{i}")).collect();
    cases.push((c, "16 stop strings"));
    let mut c = ok();
    c.default_model = "line\nbreak".into();
    cases.push((c, "default model"));

    for (c, needle) in cases {
        let err = providers::save(&e.store, &e.keys, c.clone())
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{c:?}: {err}");
        assert!(err.to_string().contains(needle), "{needle:?} in {err}");
        assert!(!err.to_string().contains("sk-abcdefgh12345"), "{err}");
    }
    assert!(providers::list(&e.store, &e.keys).await.unwrap().is_empty());

    // The edges are allowed.
    let mut c = ok();
    c.name = "n".repeat(100);
    c.generation.temperature = Some(2.0);
    c.generation.top_p = Some(0.0);
    c.generation.max_tokens = Some(1_000_000);
    c.generation.stop = (0..16).map(|i| format!("stop{i}")).collect();
    c.extra_headers = BTreeMap::from([("X-Title".into(), "Confab".into())]);
    providers::save(&e.store, &e.keys, c).await.unwrap();
}

#[tokio::test]
async fn plain_http_is_only_for_this_computer_and_private_networks() {
    let e = env().await;
    let with = |url: &str| config(ProviderKind::OpenAiCompatible, "Server", url);
    // A bearer key in clear text across the internet: refused, nothing saved.
    for url in [
        "http://api.openai.com/v1",
        "HTTP://API.OPENAI.COM/v1",
        "http://8.8.8.8/v1",
        "http://[2001:db8::1]:8080/v1",
        "http://172.32.0.1/v1",
        "http://100.64.0.1/v1",
        "http://192.169.0.1/v1",
        "http://localhost.example.com/v1",
        "http://printer.local.example.com/v1",
        "http://0.0.0.0:8080/v1",
        "http://[::ffff:8.8.8.8]/v1",
    ] {
        let err = providers::save(&e.store, &e.keys, with(url))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{url}: {err}");
        assert!(err.to_string().contains("unencrypted"), "{url}: {err}");
    }
    assert!(providers::list(&e.store, &e.keys).await.unwrap().is_empty());

    // This computer and private networks may use plain HTTP; https goes anywhere.
    for url in [
        "http://127.0.0.1:8080/v1",
        "http://127.5.6.7/v1",
        "http://2130706433/v1", // 127.0.0.1 written as one number
        "http://localhost:1234/v1",
        "http://LocalHost/v1",
        "http://ollama.localhost/v1",
        "http://[::1]:8080/v1",
        "http://10.1.2.3/v1",
        "http://172.16.0.1/v1",
        "http://172.31.255.254/v1",
        "http://192.168.1.20:5001/v1",
        "http://169.254.10.1/v1",
        "http://[fd12:3456::1]/v1",
        "http://[fe80::1]/v1",
        "http://[::ffff:192.168.0.9]/v1",
        "http://gpu-box.local:11434/v1",
        "http://gpu-box.local.:11434/v1",
        "https://api.openai.com/v1",
    ] {
        providers::save(&e.store, &e.keys, with(url))
            .await
            .unwrap_or_else(|err| panic!("{url}: {err}"));
    }

    // The user's confirmation lets a public plain-HTTP server through, and is kept.
    let mut confirmed = with("http://api.example.com/v1");
    confirmed.allow_insecure_http = true;
    let saved = providers::save(&e.store, &e.keys, confirmed).await.unwrap();
    let listed = providers::list(&e.store, &e.keys).await.unwrap();
    let again = listed
        .iter()
        .find(|p| p.config.id == saved.config.id)
        .unwrap();
    assert!(again.config.allow_insecure_http);

    // A configuration stored before the check (or edited by hand) is refused
    // again before a request is built, so the key never leaves.
    let mut old = with("http://api.openai.com/v1");
    old.default_model = "gpt".into();
    let prompt = [confab_core::prompt::PromptMessage {
        role: confab_core::session::Role::User,
        content: "hi".into(),
    }];
    let err = confab_core::llm::build_request(&old, "gpt", &prompt, &[], Some("sk-secretsecret1"))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(!err.to_string().contains("sk-secretsecret1"));
    let err = confab_core::llm::models_request(&old, Some("sk-secretsecret1")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    // Configurations saved before the flag existed read as unconfirmed.
    let json = r#"{"id":"x","name":"Old","kind":"openAiCompatible","baseUrl":"http://10.0.0.2/v1","defaultModel":""}"#;
    let parsed: ProviderConfig = serde_json::from_str(json).unwrap();
    assert!(!parsed.allow_insecure_http);
}

#[tokio::test]
async fn delete_removes_the_key_models_favourites_and_session_choice() {
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
    let other = add(
        &e,
        ProviderKind::OpenAiCompatible,
        "Local",
        "http://127.0.0.1:8080/v1",
        "local.gguf",
    )
    .await;
    e.keys
        .set(&p.id, "sk-or-v1-aaaabbbbcccc", KeyStorage::Session)
        .await
        .unwrap();
    providers::refresh_models(&e.store, &e.keys, &e.http, &p.id)
        .await
        .unwrap();
    providers::set_favourite(&e.store, &p.id, "openai/gpt-4o-mini", true)
        .await
        .unwrap();
    let s = session(&e.store).await;
    providers::set_session_model(&e.store, &s, Some(p.id.clone()), None)
        .await
        .unwrap();

    providers::delete(&e.store, &e.keys, &p.id).await.unwrap();

    assert!(!e.keys.status(&p.id).await.unwrap().set);
    assert_eq!(e.keys.get(&p.id).await.unwrap(), None);
    let list = providers::list(&e.store, &e.keys).await.unwrap();
    assert_eq!(ids_of(&list), [other.id.as_str()]);
    assert_eq!(
        providers::models(&e.store, &p.id).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
    // The session falls back to the default provider and its model.
    let m = providers::session_model(&e.store, &s).await.unwrap();
    assert_eq!(m.chosen_provider_id, None);
    assert_eq!(m.provider_id.as_deref(), Some(other.id.as_str()));
    assert_eq!(m.model, "local.gguf");

    // The same id saved again starts with no models and no favourites.
    let mut again = p.clone();
    again.name = "Back".into();
    providers::save(&e.store, &e.keys, again).await.unwrap();
    let list = providers::models(&e.store, &p.id).await.unwrap();
    assert!(list.models.is_empty() && list.favourites.is_empty());
    assert_eq!(list.fetched_at, None);

    assert_eq!(
        providers::delete(&e.store, &e.keys, "nope")
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
}

fn ids_of(list: &[providers::Provider]) -> Vec<&str> {
    list.iter().map(|p| p.config.id.as_str()).collect()
}

// ---------------------------------------------------------------------------
// The model a session replies with

#[tokio::test]
async fn a_session_resolves_its_provider_model_and_context_length() {
    let e = env().await;
    let s = session(&e.store).await;

    // Nothing configured.
    let m = providers::session_model(&e.store, &s).await.unwrap();
    assert_eq!(m.provider_id, None);
    assert_eq!(m.model, "");
    assert_eq!(m.context_length, None);

    let server = Server::always(json_ok(OPENROUTER_MODELS)).await;
    let router = add(
        &e,
        ProviderKind::OpenRouter,
        "OpenRouter",
        &server.url("/api/v1"),
        "openai/gpt-4o-mini",
    )
    .await;
    let local = add(
        &e,
        ProviderKind::OpenAiCompatible,
        "Local",
        "http://127.0.0.1:8080/v1",
        "local.gguf",
    )
    .await;

    // The first provider is the default; its default model, no list yet.
    let m = providers::session_model(&e.store, &s).await.unwrap();
    assert_eq!(m.provider_id.as_deref(), Some(router.id.as_str()));
    assert_eq!(m.provider_name.as_deref(), Some("OpenRouter"));
    assert_eq!(m.model, "openai/gpt-4o-mini");
    assert_eq!(m.context_length, None);

    // With the list cached, the model's context length is known.
    e.keys
        .set(&router.id, "sk-or-v1-aaaabbbbcccc", KeyStorage::Session)
        .await
        .unwrap();
    providers::refresh_models(&e.store, &e.keys, &e.http, &router.id)
        .await
        .unwrap();
    let m = providers::session_model(&e.store, &s).await.unwrap();
    assert_eq!(m.context_length, Some(128_000));

    // The session's own model, trimmed.
    let m = providers::set_session_model(
        &e.store,
        &s,
        None,
        Some(" anthropic/claude-3.5-sonnet ".into()),
    )
    .await
    .unwrap();
    assert_eq!(m.chosen_provider_id, None);
    assert_eq!(
        m.chosen_model.as_deref(),
        Some("anthropic/claude-3.5-sonnet")
    );
    assert_eq!(m.model, "anthropic/claude-3.5-sonnet");
    assert_eq!(m.context_length, Some(200_000));

    // Another provider chosen explicitly, model cleared: that provider's default.
    let m = providers::set_session_model(&e.store, &s, Some(local.id.clone()), Some("  ".into()))
        .await
        .unwrap();
    assert_eq!(m.chosen_provider_id.as_deref(), Some(local.id.as_str()));
    assert_eq!(m.chosen_model, None);
    assert_eq!(m.provider_name.as_deref(), Some("Local"));
    assert_eq!(m.model, "local.gguf");
    assert_eq!(m.context_length, None);

    // Cleared: the default again, which the user may change.
    providers::set_session_model(&e.store, &s, None, None)
        .await
        .unwrap();
    e.store.set_default_provider(&local.id).await.unwrap();
    let m = providers::session_model(&e.store, &s).await.unwrap();
    assert_eq!(m.provider_id.as_deref(), Some(local.id.as_str()));

    // An unknown provider or session changes nothing.
    let err = providers::set_session_model(&e.store, &s, Some("nope".into()), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    assert_eq!(
        providers::session_model(&e.store, &s)
            .await
            .unwrap()
            .chosen_provider_id,
        None
    );
    let err = providers::set_session_model(&e.store, "no-session", None, Some("m".into()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
}

// ---------------------------------------------------------------------------
// Cost and usage

fn model(prompt: Option<f64>, completion: Option<f64>) -> ModelInfo {
    ModelInfo {
        id: "m".into(),
        name: "m".into(),
        context_length: None,
        prompt_price_per_million: prompt,
        completion_price_per_million: completion,
    }
}

#[test]
fn cost_comes_from_prices_per_million() {
    let gpt = model(Some(0.15), Some(0.6));
    let cost = providers::cost_usd(Some(&gpt), 1_000_000, 500_000).unwrap();
    assert!((cost - 0.45).abs() < 1e-12, "{cost}");
    let cost = providers::cost_usd(Some(&gpt), 1200, 300).unwrap();
    assert!((cost - (1200.0 * 0.15 + 300.0 * 0.6) / 1e6).abs() < 1e-15);
    assert_eq!(
        providers::cost_usd(Some(&model(Some(0.0), Some(0.0))), 10, 10),
        Some(0.0)
    );
    // Unknown model or prices: unknown cost, never a partial one.
    assert_eq!(providers::cost_usd(None, 10, 10), None);
    assert_eq!(providers::cost_usd(Some(&model(None, None)), 10, 10), None);
    assert_eq!(
        providers::cost_usd(Some(&model(Some(1.0), None)), 10, 10),
        None
    );
    // A kind of token not used needs no price.
    assert_eq!(
        providers::cost_usd(Some(&model(Some(2.0), None)), 1_000_000, 0),
        Some(2.0)
    );
}

fn record(provider: &str, model: &str, outcome: UsageOutcome, reason: &str) -> UsageRecord {
    UsageRecord {
        provider_id: None,
        provider_name: provider.into(),
        model: model.into(),
        outcome,
        reason: reason.into(),
        prompt_tokens: 0,
        completion_tokens: 0,
        cost_usd: None,
    }
}

#[tokio::test]
async fn usage_is_summed_per_day_provider_and_model() {
    let e = env().await;
    let day_ms: i64 = 86_400_000;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let today = now;
    let yesterday = now - day_ms;
    let long_ago = now - 30 * day_ms;

    let done = |p: &str, m: &str, pt: u32, ct: u32, cost: Option<f64>| UsageRecord {
        prompt_tokens: pt,
        completion_tokens: ct,
        cost_usd: cost,
        ..record(p, m, UsageOutcome::Done, "")
    };
    let rows = [
        (done("OpenRouter", "gpt", 100, 10, Some(0.5)), today),
        (done("OpenRouter", "gpt", 200, 20, None), today),
        (done("OpenRouter", "gpt", 300, 30, Some(0.25)), today),
        (done("Local", "llama", 1000, 100, None), today),
        (done("Local", "llama", 1000, 100, None), today),
        (done("OpenRouter", "gpt", 1, 1, Some(1.0)), yesterday),
        (done("OpenRouter", "gpt", 5, 5, Some(9.0)), long_ago),
        (
            record("OpenRouter", "gpt", UsageOutcome::Failed, "rate_limited"),
            today,
        ),
        (
            record("OpenRouter", "gpt", UsageOutcome::Failed, "rate_limited"),
            yesterday,
        ),
        (
            record("Local", "llama", UsageOutcome::Cancelled, "user"),
            today,
        ),
        (
            record("Local", "llama", UsageOutcome::Failed, "network"),
            long_ago,
        ),
        (
            record("Local", "llama", UsageOutcome::Interrupted, "app_closed"),
            today,
        ),
    ];
    for (r, at) in &rows {
        e.store.record_usage_at(r, *at).await.unwrap();
    }
    // Today's date as SQLite sees it, to name the rows.
    let day = |ms: i64| {
        let secs = ms / 1000;
        let days = secs.div_euclid(86_400);
        civil(days)
    };

    let report = providers::usage(&e.store, 7).await.unwrap();
    let got: Vec<_> = report
        .rows
        .iter()
        .map(|r| {
            (
                r.day.as_str(),
                r.provider_name.as_str(),
                r.model.as_str(),
                r.requests,
                r.prompt_tokens,
                r.completion_tokens,
                r.cost_usd,
            )
        })
        .collect();
    let (t, y) = (day(today), day(yesterday));
    assert_eq!(
        got,
        [
            // Failures count as requests; a group's cost sums the known ones.
            (t.as_str(), "Local", "llama", 4, 2000, 200, None),
            (t.as_str(), "OpenRouter", "gpt", 4, 600, 60, Some(0.75)),
            (y.as_str(), "OpenRouter", "gpt", 2, 1, 1, Some(1.0)),
        ]
    );
    let outcomes: Vec<_> = report
        .outcomes
        .iter()
        .map(|o| (o.outcome.as_str(), o.reason.as_str(), o.count))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("failed", "rate_limited", 2),
            ("cancelled", "user", 1),
            ("interrupted", "app_closed", 1),
        ]
    );

    // One day is today only; a longer window reaches the old rows.
    let today_only = providers::usage(&e.store, 1).await.unwrap();
    assert!(today_only.rows.iter().all(|r| r.day == t));
    assert_eq!(today_only.rows.len(), 2);
    let long = providers::usage(&e.store, 60).await.unwrap();
    assert_eq!(long.rows.len(), 5);
    assert_eq!(long.rows[3].provider_name, "Local");
    assert_eq!(long.rows[4].cost_usd, Some(9.0));
    assert_eq!(long.outcomes.len(), 4);

    for days in [0, 100_000] {
        assert_eq!(
            providers::usage(&e.store, days).await.unwrap_err().code(),
            ErrorCode::InvalidInput
        );
    }
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["rows"][0]["providerName"], "Local");
    assert_eq!(json["rows"][0]["costUsd"], serde_json::Value::Null);
}

/// `YYYY-MM-DD` of a count of days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
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

/// A keyring that never answers, as on a Linux box without a Secret Service.
#[derive(Debug)]
struct NoKeyring;

impl confab_core::secrets::SecretStore for NoKeyring {
    fn get(&self, _: &str) -> confab_core::Result<Option<String>> {
        Err(Error::KeyringUnavailable("no Secret Service".into()))
    }
    fn set(&self, _: &str, _: &str) -> confab_core::Result<()> {
        Err(Error::KeyringUnavailable("no Secret Service".into()))
    }
    fn delete(&self, _: &str) -> confab_core::Result<()> {
        Err(Error::KeyringUnavailable("no Secret Service".into()))
    }
}

#[tokio::test]
async fn a_keyless_provider_is_removable_without_a_keyring() {
    let e = env().await;
    let keys = Keys::new(Arc::new(NoKeyring), e.store.clone(), None);
    let local = config(
        ProviderKind::OpenAiCompatible,
        "Local",
        "http://127.0.0.1:8080/v1",
    );
    let local = providers::save(&e.store, &keys, local)
        .await
        .unwrap()
        .config;
    // The list still opens, showing no key.
    let list = providers::list(&e.store, &keys).await.unwrap();
    assert!(!list[0].key.set);

    providers::delete(&e.store, &keys, &local.id).await.unwrap();
    assert!(providers::list(&e.store, &keys).await.unwrap().is_empty());
}
