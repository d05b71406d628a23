//! Time to first token of a text-completion reply, over a plain request.
//!
//! A KoboldCpp-style server on 127.0.0.1 answers `/api/extra/version`,
//! `/api/v1/model` (a Llama 3.1 model, so Auto picks the Llama 3 preset) and
//! `/api/extra/true_max_context_length`, and streams a short reply from
//! `/api/extra/generate/stream` the moment it has the request. In the same
//! run, alternating:
//!
//! - the engine: `send` (user message saved, prompt assembled, rendered
//!   through the instruct template in force, reply row created, request
//!   built) to the first delta at the sink;
//! - plain reqwest: the very body the engine sent, POSTed to the same
//!   endpoint, to the first byte of the response body.
//!
//! The added time is the engine's median minus reqwest's (target < 5 ms),
//! for a short chat and a 1,000-message one (each send adds its two short
//! messages to the chat it measures). What the server says of itself
//! is asked once a minute and cached, so the warm-up pays for it; the first,
//! cold send is printed apart.
//!
//! `cargo bench --locked -p confab-core --bench text_completion`

#[path = "../tests/http_support/mod.rs"]
mod http;

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use confab_core::card::{CardData, CardFormat, CardSpec};
use confab_core::chat::{ChatEngine, EngineConfig, StreamEvent};
use confab_core::library::content_hash;
use confab_core::llm::{ProviderConfig, ProviderKind};
use confab_core::secrets::Keys;
use confab_core::session::turn::PromptCaches;
use confab_core::session::Role;
use confab_core::sink::{Discard, Sink};
use confab_core::store::{ImportedMessage, Inserted, NewCharacter, Store};
use futures_util::StreamExt;

const RUNS: usize = 30;
const LONG_HISTORY: usize = 1_000;
const GENERATE: &str = "/api/extra/generate/stream";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The fake KoboldCpp: a thread per connection, answers by path; keeps the
/// last generate body and every path asked.
struct Server {
    root: String,
    last_body: Arc<Mutex<Vec<u8>>>,
    paths: Arc<Mutex<Vec<String>>>,
}

fn reply_stream() -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n".to_vec();
    let tokens = ["The", " tide", " turns", "."];
    for (i, t) in tokens.iter().enumerate() {
        let finish = if i + 1 == tokens.len() {
            "\"stop\""
        } else {
            "null"
        };
        out.extend_from_slice(
            format!(
                "event: message\ndata: {{\"token\": \"{t}\", \"finish_reason\": {finish}}}\n\n"
            )
            .as_bytes(),
        );
    }
    out
}

fn json_reply(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let root = format!("http://{}", listener.local_addr().expect("addr"));
        let last_body = Arc::new(Mutex::new(Vec::new()));
        let paths = Arc::new(Mutex::new(Vec::new()));
        let (b, p) = (last_body.clone(), paths.clone());
        let stream = Arc::new(reply_stream());
        std::thread::spawn(move || {
            for sock in listener.incoming() {
                let Ok(mut sock) = sock else { continue };
                let (b, p, stream) = (b.clone(), p.clone(), stream.clone());
                std::thread::spawn(move || {
                    let _ = sock.set_nodelay(true);
                    let Some(http::Request { path, body, .. }) = http::read_blocking(&mut sock)
                    else {
                        return;
                    };
                    if let Ok(mut seen) = p.lock() {
                        seen.push(path.clone());
                    }
                    let reply = match path.as_str() {
                        "/api/extra/version" => {
                            json_reply(r#"{"result":"KoboldCpp","version":"1.82.4"}"#)
                        }
                        "/api/v1/model" => json_reply(
                            r#"{"result":"koboldcpp/Meta-Llama-3.1-8B-Instruct-Q4_K_M"}"#,
                        ),
                        "/api/extra/true_max_context_length" => json_reply(r#"{"value":32768}"#),
                        GENERATE => {
                            if let Ok(mut last) = b.lock() {
                                *last = body;
                            }
                            stream.to_vec()
                        }
                        _ => json_reply("{}"),
                    };
                    let _ = sock.write_all(&reply);
                });
            }
        });
        Server {
            root,
            last_body,
            paths,
        }
    }
}

/// Stamps the first delta; wakes the waiter at the end.
#[derive(Default)]
struct Probe {
    first: Mutex<Option<Instant>>,
    text: Mutex<String>,
    end: Mutex<Option<StreamEvent>>,
    done: tokio::sync::Notify,
}

impl Sink<StreamEvent> for Probe {
    fn send(&self, event: StreamEvent) {
        let now = Instant::now();
        // What the app's channel does with every event: serialise it.
        std::hint::black_box(serde_json::to_vec(&event).map(|j| j.len()).unwrap_or(0));
        match &event {
            StreamEvent::Delta { text, .. } => {
                if let Ok(mut f) = self.first.lock() {
                    f.get_or_insert(now);
                }
                if let Ok(mut t) = self.text.lock() {
                    t.push_str(text);
                }
            }
            e if e.is_terminal() => {
                if let Ok(mut end) = self.end.lock() {
                    *end = Some(event);
                }
                self.done.notify_one();
            }
            _ => {}
        }
    }
}

/// One send through the engine: (send -> first delta, the reply's text).
async fn engine_once(engine: &ChatEngine, session: &str) -> Option<(Duration, String)> {
    let probe = Arc::new(Probe::default());
    let t = Instant::now();
    if let Err(e) = engine
        .send(session, "Which way is the harbour?", &[], probe.clone())
        .await
    {
        eprintln!("send failed: {e}");
        return None;
    }
    let _ = tokio::time::timeout(Duration::from_secs(60), probe.done.notified()).await;
    match probe.end.lock().ok()?.clone() {
        Some(StreamEvent::Done { .. }) => {}
        other => {
            eprintln!("the engine did not finish: {other:?}");
            return None;
        }
    }
    let first = (*probe.first.lock().ok()?)?;
    let text = probe.text.lock().ok()?.clone();
    Some((first.duration_since(t), text))
}

/// Plain reqwest: `body` POSTed to the generate endpoint, to the first byte of the response body.
async fn plain_once(http: &reqwest::Client, url: &str, body: Vec<u8>) -> Option<Duration> {
    let (h, url) = (http.clone(), url.to_owned());
    // In a task, as the engine's reader is.
    tokio::spawn(async move {
        let t = Instant::now();
        let resp = h
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .ok()?;
        let mut stream = resp.bytes_stream();
        let first = match stream.next().await {
            Some(Ok(_)) => Some(t.elapsed()),
            _ => None,
        };
        while stream.next().await.is_some() {}
        first
    })
    .await
    .ok()
    .flatten()
}

fn words(seed: usize, len: usize) -> String {
    const W: &[&str] = &[
        "the", "old", "road", "river", "light", "night", "said", "looked", "toward", "city",
        "quiet", "under", "over", "she", "he", "and", "lantern", "harbor", "storm", "glade",
    ];
    let mut x = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut s = String::with_capacity(len + 10);
    while s.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(W[(x % W.len() as u64) as usize]);
    }
    s
}

async fn character(store: &Store) -> Option<String> {
    let card = CardData {
        name: "Mira".into(),
        description: "{{char}} is a ship's navigator. ".repeat(20),
        personality: "bold, dry, loyal".into(),
        scenario: "A long voyage.".into(),
        first_mes: "We sail at dawn.".into(),
        mes_example: "<START>\n{{user}}: Where are we headed?\n{{char}}: South, past the reef.\n\
                      <START>\n{{user}}: You look tired.\n{{char}}: Three nights of stars and no sleep."
            .into(),
        ..CardData::default()
    };
    let hash = content_hash(&card);
    match store
        .insert_character(NewCharacter {
            card: &card,
            original: &serde_json::json!({}),
            spec: CardSpec::V3,
            format: CardFormat::Json,
            source_file: "bench.json",
            content_hash: &hash,
            avatar: None,
            assets: &[],
            collections: &[],
        })
        .await
    {
        Ok(Inserted::New { id }) => Some(id),
        _ => None,
    }
}

fn history(n: usize) -> Vec<ImportedMessage> {
    (0..n)
        .map(|i| {
            let (role, name) = if i % 2 == 0 {
                (Role::User, "Ann")
            } else {
                (Role::Assistant, "Mira")
            };
            ImportedMessage {
                role,
                name: name.into(),
                swipes: vec![words(i + 77, 280)],
                swipe_index: 0,
                created_at: 1_700_000_000_000 + i as i64,
                speaker: None,
            }
        })
        .collect()
}

/// Warms up, then alternates engine and plain request `RUNS` times; prints the figures.
async fn measure(engine: &ChatEngine, server: &Server, session: &str, label: &str) {
    let http = match reqwest::Client::builder().no_proxy().build() {
        Ok(h) => h,
        Err(_) => return,
    };
    let url = format!("{}{GENERATE}", server.root);
    let cold = engine_once(engine, session).await;
    // The first send asked the server about itself; the rest use the cached answer.
    let Some((_, text)) = engine_once(engine, session).await else {
        return;
    };
    if text != "The tide turns." {
        println!("  WARNING: the engine's reply is {text:?}");
    }
    let mut ours = Vec::with_capacity(RUNS);
    let mut base = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let body = server
            .last_body
            .lock()
            .map(|b| b.clone())
            .unwrap_or_default();
        if let Some(d) = plain_once(&http, &url, body).await {
            base.push(d);
        }
        if let Some((d, _)) = engine_once(engine, session).await {
            ours.push(d);
        }
    }
    ours.sort();
    base.sort();
    let (o, b) = (percentile(&ours, 0.5), percentile(&base, 0.5));
    let last = server
        .last_body
        .lock()
        .map(|b| b.clone())
        .unwrap_or_default();
    let prompt_bytes = last.len();
    let prompt = serde_json::from_slice::<serde_json::Value>(&last)
        .ok()
        .and_then(|v| v["prompt"].as_str().map(str::to_owned))
        .unwrap_or_default();
    if !prompt.starts_with("<|start_header_id|>system<|end_header_id|>")
        || !prompt.ends_with("<|start_header_id|>assistant<|end_header_id|>\n\n")
    {
        println!("  WARNING: the prompt is not in the Llama 3 format Auto should pick");
    }
    println!(
        "time to first token, KoboldCpp-style provider, {label}, median of {RUNS} ({prompt_bytes}-byte request):"
    );
    println!(
        "  plain reqwest, same body, to first byte:  {:>7.2} ms (p90 {:.2} ms)",
        ms(b),
        ms(percentile(&base, 0.9))
    );
    println!(
        "  engine, send to first delta at the sink:  {:>7.2} ms (p90 {:.2} ms)",
        ms(o),
        ms(percentile(&ours, 0.9))
    );
    println!(
        "  added by the engine: {:.2} ms (target < 5 ms); engine / plain: {:.1}x",
        ms(o.saturating_sub(b)),
        o.as_secs_f64() / b.as_secs_f64().max(1e-9)
    );
    if let Some((d, _)) = cold {
        println!(
            "  first send, asking the server about itself: {:.2} ms",
            ms(d)
        );
    }
}

async fn run() {
    let server = Server::start();
    let Ok(dir) = tempfile::tempdir() else { return };
    let Ok(store) = Store::open(dir.path()).await else {
        return;
    };
    let Some(character) = character(&store).await else {
        eprintln!("setup failed");
        return;
    };
    let mut provider = ProviderConfig::new(ProviderKind::KoboldCpp, "Kobold");
    provider.base_url = server.root.clone();
    let Ok(provider) = store.save_provider(&provider).await else {
        eprintln!("setup failed");
        return;
    };
    let Ok(http) = reqwest::Client::builder().no_proxy().build() else {
        return;
    };
    let engine = ChatEngine::new(
        store.clone(),
        Arc::new(Keys::in_memory(store.clone())),
        Arc::new(PromptCaches::default()),
        http,
        EngineConfig::default(),
        Arc::new(Discard),
    );
    confab_core::tokens::default_counter().count("warm up");
    println!(
        "text-completion benchmark (release build, 127.0.0.1, provider {})",
        provider.name
    );
    for (n, label) in [
        (10, "10-message chat".to_owned()),
        (LONG_HISTORY, format!("{LONG_HISTORY}-message chat")),
    ] {
        let Ok(session) = store.import_session(&character, "bench", &history(n)).await else {
            eprintln!("setup failed");
            return;
        };
        measure(&engine, &server, &session, &label).await;
    }
    let paths = server.paths.lock().map(|p| p.clone()).unwrap_or_default();
    let generate = paths.iter().filter(|p| *p == GENERATE).count();
    let mut others: Vec<&String> = paths.iter().filter(|p| *p != GENERATE).collect();
    others.sort();
    others.dedup();
    println!(
        "  the server saw {generate} generate requests; also asked: {}",
        others
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    store.close().await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run());
}
