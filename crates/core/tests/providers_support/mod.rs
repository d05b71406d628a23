//! Shared by the provider tests: a test server on 127.0.0.1 that answers
//! each request with a scripted reply, and a store with keys, a character and
//! sessions; small helpers for configurations, model lists and errors.
#![allow(dead_code)] // each test binary uses its own part of this

use crate::http_support as http;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use confab_core::card::{CardData, CardFormat, CardSpec};
use confab_core::library::content_hash;
use confab_core::llm::{ModelInfo, ProviderConfig, ProviderKind};
use confab_core::providers::{self, ModelFetch};
use confab_core::secrets::Keys;
use confab_core::store::{Inserted, NewCharacter, Store};
use confab_core::{AppError, Error};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

// ---------------------------------------------------------------------------
// A test server on 127.0.0.1

/// What the server does with a request.
#[derive(Clone)]
pub enum Reply {
    /// Write these bytes, then close.
    Raw(Vec<u8>),
    /// Say nothing and hold the connection (bounded).
    Hang,
    /// Write a head announcing a chunked body, then chunks without end (bounded).
    Endless,
}

/// A server that records each request's head and answers by `route(head)`.
pub struct Server {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<String>>>,
    pub task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    pub async fn start(route: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Server {
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
                    let Some(request) = http::read(&mut sock).await else {
                        return;
                    };
                    let head = request.head;
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
    pub async fn always(reply: Reply) -> Server {
        Server::start(move |_| reply.clone()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

pub fn response(status: &str, headers: &[(&str, &str)], body: &str) -> Reply {
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

pub fn json_ok(body: &str) -> Reply {
    response("200 OK", &[("Content-Type", "application/json")], body)
}

/// The value of a header in a recorded request head, by case-insensitive name.
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// OpenRouter's shape: per-token prices as strings, context lengths, a router priced per request.
pub const OPENROUTER_MODELS: &str = r#"{"data":[
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

pub struct Env {
    pub _dir: tempfile::TempDir,
    pub store: Store,
    pub keys: Keys,
    pub http: reqwest::Client,
}

pub async fn env() -> Env {
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

pub async fn session(store: &Store) -> String {
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

pub fn config(kind: ProviderKind, name: &str, base_url: &str) -> ProviderConfig {
    let mut c = ProviderConfig::new(kind, name);
    c.id = String::new();
    c.base_url = base_url.to_owned();
    c
}

pub async fn add(
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

pub fn ids(models: &[ModelInfo]) -> Vec<&str> {
    models.iter().map(|m| m.id.as_str()).collect()
}

pub fn quick() -> ModelFetch {
    ModelFetch {
        timeout: Duration::from_millis(500),
        ..ModelFetch::default()
    }
}

/// The error's every outward form: Display, Debug and the IPC/CLI JSON.
pub fn all_words(err: Error) -> String {
    let words = format!("{err} {err:?}");
    let app = serde_json::to_string(&AppError::from(err)).unwrap();
    format!("{words} {app}")
}
