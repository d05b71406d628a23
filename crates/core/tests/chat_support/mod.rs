//! Shared by the chat engine tests: a scriptable model server on 127.0.0.1
//! that writes raw HTTP and SSE bytes, and a store with a character, a
//! session and a provider pointing at that server.
#![allow(dead_code)] // each test binary uses its own part of this

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use confab_core::card::{CardData, CardFormat, CardSpec};
use confab_core::chat::{ChatEngine, EngineConfig, LiveSessions, StreamEvent};
use confab_core::library::content_hash;
use confab_core::llm::{ProviderConfig, ProviderKind};
use confab_core::secrets::Keys;
use confab_core::session::turn::PromptCaches;
use confab_core::sink::{Collect, Sink};
use confab_core::store::{Inserted, NewCharacter, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::http_support as http;

/// One thing the server does on a connection, in order.
#[derive(Clone)]
pub enum Step {
    /// Writes these bytes.
    Bytes(Vec<u8>),
    /// Pauses.
    Sleep(Duration),
    /// Pauses until the test calls `notify_one` on the gate.
    Wait(Arc<Notify>),
    /// Writes this chunk every `every` until the client goes away (bounded: 60 s).
    Trickle(Vec<u8>, Duration),
    /// Keeps the connection open, silent, until the client closes it (bounded: 60 s).
    Hold,
}

/// A connection's script.
pub type Script = Vec<Step>;

/// What the server saw.
#[derive(Default)]
pub struct Seen {
    /// Each request's JSON body, in arrival order.
    pub bodies: Mutex<Vec<serde_json::Value>>,
    /// Each request's body as sent, byte for byte, in arrival order.
    pub raw_bodies: Mutex<Vec<Vec<u8>>>,
    /// Each request's head, in arrival order.
    pub heads: Mutex<Vec<String>>,
    /// How many connections the client closed while the server still had more to do or was holding.
    pub closed_by_client: Mutex<u32>,
    /// Wakes whenever `closed_by_client` grows.
    pub closed: Notify,
}

/// A model server on 127.0.0.1: each connection takes the next queued script,
/// or the default one when the queue is empty.
pub struct Server {
    pub addr: SocketAddr,
    pub seen: Arc<Seen>,
    queue: Arc<Mutex<VecDeque<Script>>>,
    default: Arc<Mutex<Script>>,
}

impl Server {
    pub async fn start(default: Script) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Seen::default());
        let queue: Arc<Mutex<VecDeque<Script>>> = Arc::default();
        let default = Arc::new(Mutex::new(default));
        let (s, q, d) = (seen.clone(), queue.clone(), default.clone());
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let script = q
                    .lock()
                    .unwrap()
                    .pop_front()
                    .unwrap_or_else(|| d.lock().unwrap().clone());
                tokio::spawn(serve(sock, script, s.clone()));
            }
        });
        Server {
            addr,
            seen,
            queue,
            default,
        }
    }

    /// The script of the next connection.
    pub fn push(&self, script: Script) {
        self.queue.lock().unwrap().push_back(script);
    }

    /// The script of connections when none is queued.
    pub fn set_default(&self, script: Script) {
        *self.default.lock().unwrap() = script;
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn bodies(&self) -> Vec<serde_json::Value> {
        self.seen.bodies.lock().unwrap().clone()
    }

    pub fn last_body(&self) -> serde_json::Value {
        self.bodies().pop().expect("a request arrived")
    }

    /// The last request's body, byte for byte.
    pub fn last_raw_body(&self) -> Vec<u8> {
        self.seen
            .raw_bodies
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a request arrived")
    }

    pub fn closed_by_client(&self) -> u32 {
        *self.seen.closed_by_client.lock().unwrap()
    }

    /// Waits (bounded) until the client has closed `n` connections early.
    pub async fn wait_closed(&self, n: u32, within: Duration) -> bool {
        let end = Instant::now() + within;
        loop {
            let notified = self.seen.closed.notified();
            if self.closed_by_client() >= n {
                return true;
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, notified).await.is_err() {
                return self.closed_by_client() >= n;
            }
        }
    }
}

async fn serve(sock: tokio::net::TcpStream, script: Script, seen: Arc<Seen>) {
    let (mut rd, mut wr) = sock.into_split();
    let Some(request) = http::read(&mut rd).await else {
        return;
    };
    seen.bodies.lock().unwrap().push(request.json());
    seen.heads.lock().unwrap().push(request.head);
    seen.raw_bodies.lock().unwrap().push(request.body);

    // The client closing its side shows up as the end of what we read.
    let gone = Arc::new(Notify::new());
    let gone_flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let (gone, flag) = (gone.clone(), gone_flag.clone());
        tokio::spawn(async move {
            let mut sink = [0u8; 1024];
            loop {
                match rd.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            gone.notify_waiters();
        });
    }
    let note_closed = || {
        *seen.closed_by_client.lock().unwrap() += 1;
        seen.closed.notify_waiters();
    };
    let is_gone = || gone_flag.load(std::sync::atomic::Ordering::SeqCst);
    let limit = Duration::from_secs(60);
    for step in script {
        match step {
            Step::Bytes(b) => {
                if wr.write_all(&b).await.is_err() || wr.flush().await.is_err() {
                    note_closed();
                    return;
                }
            }
            Step::Sleep(d) => tokio::time::sleep(d).await,
            Step::Wait(gate) => {
                let closed = gone.notified();
                if is_gone() {
                    note_closed();
                    return;
                }
                tokio::select! {
                    _ = gate.notified() => {}
                    _ = closed => { note_closed(); return; }
                    _ = tokio::time::sleep(limit) => return,
                }
            }
            Step::Trickle(b, every) => {
                let end = Instant::now() + limit;
                while Instant::now() < end {
                    if is_gone() || wr.write_all(&b).await.is_err() {
                        note_closed();
                        return;
                    }
                    tokio::time::sleep(every).await;
                }
                return;
            }
            Step::Hold => {
                let closed = gone.notified();
                if is_gone() {
                    note_closed();
                    return;
                }
                tokio::select! {
                    _ = closed => note_closed(),
                    _ = tokio::time::sleep(limit) => {}
                }
                return;
            }
        }
    }
    let _ = wr.shutdown().await;
}

/// An HTTP/1.1 head; the body runs until the connection closes.
pub fn head(status: u16, content_type: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        529 => "Overloaded",
        _ => "Status",
    };
    let mut h = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\nconnection: close\r\ncache-control: no-cache\r\n"
    );
    for (n, v) in extra {
        h.push_str(&format!("{n}: {v}\r\n"));
    }
    h.push_str("\r\n");
    h.into_bytes()
}

pub fn sse_head() -> Step {
    Step::Bytes(head(200, "text/event-stream", &[]))
}

/// One OpenAI-style chunk with reply text.
pub fn chunk(text: &str) -> String {
    format!(
        "data: {}\n\n",
        serde_json::json!({"choices":[{"index":0,"delta":{"content":text},"finish_reason":null}]})
    )
}

/// One OpenAI-style chunk with reasoning.
pub fn reasoning_chunk(text: &str) -> String {
    format!(
        "data: {}\n\n",
        serde_json::json!({"choices":[{"index":0,"delta":{"reasoning_content":text},"finish_reason":null}]})
    )
}

/// The finish chunk, the usage chunk and `[DONE]`.
pub fn finish(prompt: u32, completion: u32) -> String {
    format!(
        "data: {}\n\ndata: {}\n\ndata: [DONE]\n\n",
        serde_json::json!({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}),
        serde_json::json!({"choices":[],"usage":{"prompt_tokens":prompt,"completion_tokens":completion}})
    )
}

/// A whole streamed reply of `pieces`.
pub fn reply_script(pieces: &[&str]) -> Script {
    let mut body = String::new();
    for p in pieces {
        body.push_str(&chunk(p));
    }
    body.push_str(&finish(20, pieces.len() as u32));
    vec![sse_head(), Step::Bytes(body.into_bytes())]
}

pub fn bytes(s: impl Into<String>) -> Step {
    Step::Bytes(s.into().into_bytes())
}

/// A sink that keeps events and lets a test wait for them.
#[derive(Default)]
pub struct Recorder {
    events: Collect<StreamEvent>,
    pub changed: Notify,
}

impl Sink<StreamEvent> for Recorder {
    fn send(&self, event: StreamEvent) {
        self.events.send(event);
        self.changed.notify_waiters();
    }
}

impl Recorder {
    pub fn new() -> Arc<Recorder> {
        Arc::new(Recorder::default())
    }

    pub fn events(&self) -> Vec<StreamEvent> {
        self.events.events()
    }

    /// Waits (bounded) until `pred` holds for the events so far.
    pub async fn wait_for(&self, within: Duration, pred: impl Fn(&[StreamEvent]) -> bool) -> bool {
        let end = Instant::now() + within;
        loop {
            let notified = self.changed.notified();
            if pred(&self.events()) {
                return true;
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let _ = tokio::time::timeout(left.min(Duration::from_millis(50)), notified).await;
        }
    }

    /// The terminal event, waiting up to 20 s for it.
    pub async fn terminal(&self) -> StreamEvent {
        assert!(
            self.wait_for(Duration::from_secs(20), |e| e
                .iter()
                .any(StreamEvent::is_terminal))
                .await,
            "no terminal event; got {:?}",
            self.events()
        );
        self.events()
            .into_iter()
            .find(StreamEvent::is_terminal)
            .unwrap()
    }

    /// Waits until some delta arrived.
    pub async fn first_delta(&self) {
        assert!(
            self.wait_for(Duration::from_secs(10), |e| e
                .iter()
                .any(|e| matches!(e, StreamEvent::Delta { .. })))
                .await,
            "no delta; got {:?}",
            self.events()
        );
    }

    /// The text of the snapshot and every delta, in order.
    pub fn text(&self) -> String {
        self.events()
            .iter()
            .map(|e| match e {
                StreamEvent::Snapshot { text, .. } | StreamEvent::Delta { text, .. } => {
                    text.as_str()
                }
                _ => "",
            })
            .collect()
    }

    pub fn terminal_count(&self) -> usize {
        self.events().iter().filter(|e| e.is_terminal()).count()
    }
}

/// A store with a character, a session and a provider at `base_url`.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub keys: Arc<Keys>,
    pub caches: Arc<PromptCaches>,
    pub engine: ChatEngine,
    pub notices: Arc<Collect<LiveSessions>>,
    pub session: String,
    pub character: String,
    pub provider: ProviderConfig,
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Creates the character "Seraphina" (greeting "Hello, traveller.") in `store`.
pub async fn add_character(store: &Store) -> String {
    let card = CardData {
        name: "Seraphina".into(),
        description: "A forest guardian.".into(),
        first_mes: "Hello, traveller.".into(),
        post_history_instructions: "Stay in character.".into(),
        ..Default::default()
    };
    let hash = content_hash(&card);
    let Inserted::New { id } = store
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
    else {
        panic!("a new character")
    };
    id
}

/// An OpenAI-compatible provider (no key needed) at `base_url`.
pub fn local_provider(base_url: &str) -> ProviderConfig {
    let mut p = ProviderConfig::new(ProviderKind::OpenAiCompatible, "Local");
    p.base_url = base_url.to_owned();
    p.default_model = "test-model".into();
    p
}

impl Fixture {
    pub async fn new(base_url: &str, config: EngineConfig) -> Fixture {
        // The token counter loads its tables once; not inside a test's deadline.
        confab_core::tokens::default_counter().count("warm up");
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let character = add_character(&store).await;
        let session = store
            .create_session(&character, None, "Traveller")
            .await
            .unwrap();
        let provider = store
            .save_provider(&local_provider(base_url))
            .await
            .unwrap();
        let keys = Arc::new(Keys::in_memory(store.clone()));
        let caches = Arc::new(PromptCaches::default());
        let notices = Arc::new(Collect::default());
        let engine = ChatEngine::new(
            store.clone(),
            keys.clone(),
            caches.clone(),
            http(),
            config,
            notices.clone(),
        );
        Fixture {
            dir,
            store,
            keys,
            caches,
            engine,
            notices,
            session,
            character,
            provider,
        }
    }

    /// A second engine over the same store (with `config`).
    pub fn engine_with(&self, config: EngineConfig) -> ChatEngine {
        ChatEngine::new(
            self.store.clone(),
            self.keys.clone(),
            self.caches.clone(),
            http(),
            config,
            self.notices.clone(),
        )
    }

    /// The active path's messages.
    pub async fn messages(&self) -> Vec<confab_core::session::Message> {
        self.store
            .messages_page(&self.session, None, 500)
            .await
            .unwrap()
            .messages
    }

    /// Usage rows: (outcome, reason, prompt, completion, cost).
    pub async fn usage_rows(&self) -> Vec<(String, String, i64, i64, Option<f64>)> {
        usage_rows(&self.store).await
    }
}

pub async fn usage_rows(store: &Store) -> Vec<(String, String, i64, i64, Option<f64>)> {
    use sqlx::ConnectOptions;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(store.path())
        .connect()
        .await
        .unwrap();
    sqlx::query_as(
        "SELECT outcome, reason, prompt_tokens, completion_tokens, cost_usd FROM usage_events ORDER BY rowid",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
}
