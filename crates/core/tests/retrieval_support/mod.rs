//! Shared by the retrieval tests: a server on 127.0.0.1 that answers
//! `/v1/embeddings` with deterministic vectors (a hashed bag of words, so
//! texts sharing words score high) or with a chosen hostile answer, and
//! `/v1/chat/completions` with a short streamed reply; and a chat set up
//! with retrieval pointing at it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use confab_core::card::{CardData, CardFormat, CardSpec};
use confab_core::chat::{ChatEngine, EngineConfig};
use confab_core::library::content_hash;
use confab_core::llm::{ProviderConfig, ProviderKind};
use confab_core::memory::settings::{MemorySettings, ModelChoice};
use confab_core::secrets::Keys;
use confab_core::session::turn::PromptCaches;
use confab_core::session::{MessageStatus, Role};
use confab_core::sink::Collect;
use confab_core::store::{Inserted, NewCharacter, NewMessage, Store};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use crate::http_support as http;

/// What the embeddings endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Hashed bag-of-words vectors (256 dimensions; 128 for a model named "*-small").
    Normal,
    /// This HTTP status with an OpenAI-style error body.
    Status(u16),
    /// A body that is not JSON.
    NotJson,
    /// A body larger than any limit (streamed, no length declared).
    Huge,
    /// Vectors of different lengths.
    WrongDims,
    /// A `null` inside a vector.
    NullValue,
    /// A number too large for f32 (infinite once read).
    Overflow,
    /// One vector fewer than the texts.
    MissingOne,
    /// Never answers.
    Hang,
}

#[derive(Default)]
pub struct Seen {
    /// Every text embedded, in order.
    pub inputs: Mutex<Vec<String>>,
    /// Every embeddings request's model.
    pub models: Mutex<Vec<String>>,
    /// Embeddings requests answered.
    pub requests: Mutex<u32>,
    /// Paths asked for.
    pub paths: Mutex<Vec<String>>,
    /// Authorization headers seen.
    pub auth: Mutex<Vec<String>>,
}

pub struct EmbedServer {
    pub addr: SocketAddr,
    pub seen: Arc<Seen>,
    mode: Arc<Mutex<Mode>>,
}

/// Dimensions of the fake model's vectors.
pub const DIMS: usize = 256;

/// Words too common to say what a text is about.
const STOP_WORDS: &[&str] = &[
    "tell", "about", "more", "with", "that", "this", "what", "where", "does", "there", "their",
];

/// The hashed bag of words of `text` in `dims` dimensions.
pub fn bag_of_words(text: &str, dims: usize) -> Vec<f32> {
    let mut v = vec![0.0f32; dims];
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 4)
    {
        let word = word.to_lowercase();
        if STOP_WORDS.contains(&word.as_str()) {
            continue;
        }
        // FNV-1a: stable across runs and platforms.
        let mut h: u64 = 0xcbf29ce484222325;
        for b in word.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
        v[(h % dims as u64) as usize] += 1.0;
    }
    // Never all zeros: a small constant keeps empty texts comparable.
    v[0] += 0.01;
    v
}

impl EmbedServer {
    pub async fn start() -> EmbedServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Seen::default());
        let mode = Arc::new(Mutex::new(Mode::Normal));
        let (s, m) = (seen.clone(), mode.clone());
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve(sock, s.clone(), m.clone()));
            }
        });
        EmbedServer { addr, seen, mode }
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn inputs(&self) -> Vec<String> {
        self.seen.inputs.lock().unwrap().clone()
    }

    pub fn requests(&self) -> u32 {
        *self.seen.requests.lock().unwrap()
    }
}

async fn serve(mut sock: tokio::net::TcpStream, seen: Arc<Seen>, mode: Arc<Mutex<Mode>>) {
    let Some(request) = http::read(&mut sock).await else {
        return;
    };
    let body = request.json();
    let path = request.path.clone();
    seen.paths.lock().unwrap().push(path.clone());
    if let Some(auth) = request.header("authorization") {
        seen.auth.lock().unwrap().push(auth.to_owned());
    }
    if path.ends_with("/chat/completions") {
        let sse = "data: {\"choices\":[{\"delta\":{\"content\":\"The dragon sleeps.\"}}]}\n\n\
                   data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
        let out = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{sse}",
            sse.len()
        );
        let _ = sock.write_all(out.as_bytes()).await;
        return;
    }
    if !path.ends_with("/embeddings") {
        let _ = sock
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await;
        return;
    }
    let inputs: Vec<String> = body["input"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let model = body["model"].as_str().unwrap_or("").to_owned();
    seen.inputs.lock().unwrap().extend(inputs.iter().cloned());
    seen.models.lock().unwrap().push(model.clone());
    *seen.requests.lock().unwrap() += 1;
    let dims = if model.ends_with("-small") {
        DIMS / 2
    } else {
        DIMS
    };
    let mode = *mode.lock().unwrap();
    let vectors: Vec<Vec<f32>> = inputs.iter().map(|t| bag_of_words(t, dims)).collect();
    let data = |vectors: &[Vec<f32>]| -> String {
        let items: Vec<serde_json::Value> = vectors
            .iter()
            .enumerate()
            .map(|(i, v)| serde_json::json!({"object": "embedding", "index": i, "embedding": v}))
            .collect();
        serde_json::json!({"object": "list", "data": items, "model": model}).to_string()
    };
    let (status, text) = match mode {
        Mode::Normal => (200, data(&vectors)),
        Mode::Status(code) => (
            code,
            r#"{"error":{"message":"embeddings went wrong","type":"server_error"}}"#.to_owned(),
        ),
        Mode::NotJson => (200, "<html>proxy error</html>".to_owned()),
        Mode::WrongDims => {
            let mut v = vectors.clone();
            if let Some(last) = v.last_mut() {
                last.push(1.0);
            }
            if v.len() == 1 {
                v.push(vec![1.0; dims + 3]);
            }
            (200, data(&v))
        }
        Mode::NullValue | Mode::Overflow => {
            let mut v = vectors.clone();
            v[0][0] = 4242.0;
            let bad = if mode == Mode::NullValue {
                "null"
            } else {
                "1e39"
            };
            (200, data(&v).replacen("4242.0", bad, 1))
        }
        Mode::MissingOne => (200, data(&vectors[..vectors.len().saturating_sub(1)])),
        Mode::Huge => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"data\":[";
            if sock.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let filler = "0.0,".repeat(16 * 1024);
            for _ in 0..1000 {
                if sock.write_all(filler.as_bytes()).await.is_err() {
                    return;
                }
            }
            return;
        }
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            return;
        }
    };
    let out = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = sock.write_all(out.as_bytes()).await;
}

/// A chat with retrieval on, its chat and embeddings provider the server.
pub struct Chat {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub keys: Arc<Keys>,
    pub caches: Arc<PromptCaches>,
    pub engine: ChatEngine,
    pub session: String,
    pub provider: ProviderConfig,
}

/// An OpenAI-compatible provider at `base_url` with a small window budget:
/// 8,192 tokens less 7,700 kept for the reply leaves ~490 for the prompt.
pub fn provider(base_url: &str) -> ProviderConfig {
    let mut p = ProviderConfig::new(ProviderKind::OpenAiCompatible, "Local");
    p.base_url = base_url.to_owned();
    p.default_model = "chat-model".into();
    p.generation.max_tokens = Some(7700);
    p
}

pub fn settings(provider_id: &str, model: &str) -> MemorySettings {
    MemorySettings {
        summaries: false,
        retrieval: true,
        embeddings: Some(ModelChoice {
            provider_id: provider_id.to_owned(),
            model: Some(model.to_owned()),
        }),
        retrieval_depth: 2,
        retrieval_count: 3,
        retrieval_min_score: 0.4,
        ..MemorySettings::default()
    }
}

impl Chat {
    pub async fn new(base_url: &str) -> Chat {
        confab_core::tokens::default_counter().count("warm up");
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let card = CardData {
            name: "Seraphina".into(),
            description: "A forest guardian.".into(),
            ..Default::default()
        };
        let hash = content_hash(&card);
        let Inserted::New { id: character } = store
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
        let session = store
            .create_session(&character, None, "Traveller")
            .await
            .unwrap();
        let provider = store.save_provider(&provider(base_url)).await.unwrap();
        store
            .set_memory_settings(&session, &settings(&provider.id, "embed-test"))
            .await
            .unwrap();
        let keys = Arc::new(Keys::in_memory(store.clone()));
        let caches = Arc::new(PromptCaches::default());
        let engine = ChatEngine::new(
            store.clone(),
            keys.clone(),
            caches.clone(),
            reqwest::Client::builder().no_proxy().build().unwrap(),
            EngineConfig::default(),
            Arc::new(Collect::default()),
        );
        Chat {
            dir,
            store,
            keys,
            caches,
            engine,
            session,
            provider,
        }
    }

    /// Adds a message at the end of the active path; returns its id.
    pub async fn say(&self, role: Role, text: &str) -> String {
        self.store
            .add_message(
                &self.session,
                NewMessage {
                    role,
                    name: if role == Role::User {
                        "Traveller"
                    } else {
                        "Seraphina"
                    },
                    content: text,
                    status: MessageStatus::Complete,
                    image_ids: &[],
                    speaker: None,
                },
            )
            .await
            .unwrap()
            .id
    }

    /// `n` exchanges of filler small talk (no word shared with the topics tests ask about).
    pub async fn small_talk(&self, n: usize) {
        for i in 0..n {
            self.say(Role::User, &format!("Tell me more, friend number {i}."))
                .await;
            self.say(
                Role::Assistant,
                &format!("Seraphina hums quietly and pours another cup of herbal tea, round {i}."),
            )
            .await;
        }
    }

    pub async fn set_settings(&self, settings: &MemorySettings) {
        self.store
            .set_memory_settings(&self.session, settings)
            .await
            .unwrap();
    }
}
