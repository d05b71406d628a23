//! The two ends of a stream for the streaming benchmark: a blocking server on
//! 127.0.0.1 that writes OpenAI-style chunks (in bulk or paced, stamping each
//! write), and the probe sink that stamps what arrives. `library.rs` builds the
//! library the engine streams in.

mod library;

#[path = "../../tests/http_support/mod.rs"]
mod http;

pub use library::{setup, Setup};

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use confab_core::chat::StreamEvent;
use confab_core::sink::Sink;

use crate::{PACE, PACED_TOKENS};

/// One realistic chunk (the shape OpenAI sends) carrying token `i` (always 6 bytes of text).
pub fn chunk(i: usize) -> String {
    format!(
        "data: {{\"id\":\"chatcmpl-9eeb3feddc5b4658b1f23067\",\"object\":\"chat.completion.chunk\",\
         \"created\":1795246911,\"model\":\"bench-model\",\"system_fingerprint\":null,\"choices\":\
         [{{\"index\":0,\"delta\":{{\"content\":\"w{:04} \"}},\"logprobs\":null,\"finish_reason\":null}}],\
         \"usage\":null}}\n\n",
        i % 10_000
    )
}

pub const FINISH: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":100000}}\n\ndata: [DONE]\n\n";

pub const HEAD: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";

/// What the server does with the next request.
#[derive(Clone)]
pub enum Mode {
    /// Writes this whole response as fast as the socket takes it.
    Bulk(Arc<Vec<u8>>),
    /// Writes `PACED_TOKENS` chunks one by one, stamping each write.
    Paced(Arc<Mutex<Vec<Instant>>>),
}

/// A blocking server on its own thread, one connection at a time.
pub struct Server {
    pub addr: SocketAddr,
    pub mode: Arc<Mutex<Mode>>,
    pub last_body: Arc<Mutex<Vec<u8>>>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mode = Arc::new(Mutex::new(Mode::Bulk(Arc::new(Vec::new()))));
        let last_body = Arc::new(Mutex::new(Vec::new()));
        let (m, b) = (mode.clone(), last_body.clone());
        std::thread::spawn(move || {
            for sock in listener.incoming() {
                let Ok(mut sock) = sock else { continue };
                let _ = sock.set_nodelay(true);
                let body = http::read_blocking(&mut sock)
                    .map(|request| request.body)
                    .unwrap_or_default();
                if let Ok(mut last) = b.lock() {
                    *last = body;
                }
                let mode = m.lock().map(|m| m.clone());
                match mode {
                    Ok(Mode::Bulk(bytes)) => {
                        let _ = sock.write_all(&bytes);
                    }
                    Ok(Mode::Paced(stamps)) => {
                        let _ = sock.write_all(HEAD);
                        for i in 0..PACED_TOKENS {
                            std::thread::sleep(PACE);
                            let c = chunk(i);
                            if let Ok(mut s) = stamps.lock() {
                                s.push(Instant::now());
                            }
                            if sock.write_all(c.as_bytes()).is_err() {
                                break;
                            }
                        }
                        let _ = sock.write_all(FINISH.as_bytes());
                    }
                    Err(_) => {}
                }
            }
        });
        Server {
            addr,
            mode,
            last_body,
        }
    }

    pub fn set(&self, mode: Mode) {
        if let Ok(mut m) = self.mode.lock() {
            *m = mode;
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/v1/chat/completions", self.addr)
    }
}

/// The sink the benchmark reads: arrival times of text, the first delta, the end.
#[derive(Default)]
pub struct Probe {
    /// (arrival, reply bytes so far) per delta.
    pub arrivals: Mutex<Vec<(Instant, usize)>>,
    pub text_len: Mutex<usize>,
    pub deltas: Mutex<usize>,
    pub ipc_bytes: Mutex<usize>,
    pub end: Mutex<Option<(Instant, StreamEvent)>>,
    pub done: tokio::sync::Notify,
}

impl Sink<StreamEvent> for Probe {
    fn send(&self, event: StreamEvent) {
        let now = Instant::now();
        // What the app's channel does with every event: serialise it.
        let json = serde_json::to_vec(&event).map(|j| j.len()).unwrap_or(0);
        if let Ok(mut b) = self.ipc_bytes.lock() {
            *b += json;
        }
        match &event {
            StreamEvent::Delta { text, .. } => {
                let len = self.text_len.lock().map(|mut l| {
                    *l += text.len();
                    *l
                });
                if let (Ok(len), Ok(mut a)) = (len, self.arrivals.lock()) {
                    a.push((now, len));
                }
                if let Ok(mut d) = self.deltas.lock() {
                    *d += 1;
                }
            }
            e if e.is_terminal() => {
                if let Ok(mut end) = self.end.lock() {
                    *end = Some((now, event));
                }
                self.done.notify_one();
            }
            _ => {}
        }
    }
}

impl Probe {
    pub async fn finished(&self) -> Option<(Instant, StreamEvent)> {
        let _ = tokio::time::timeout(Duration::from_secs(120), self.done.notified()).await;
        self.end.lock().ok()?.clone()
    }
}
