//! Shared by the text-completion tests: a fake server on 127.0.0.1 that reads
//! each request whole (head and body), records it, and answers as a route says:
//! raw bytes in pieces, a stream that never ends, or silence. Every server and
//! every wait is bounded.
#![allow(dead_code)] // each test binary uses its own part of this

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use confab_core::llm::{
    ProviderConfig, ProviderKind, SseDecoder, StreamParser, WireEvent, DEFAULT_MAX_EVENT_BYTES,
};
use confab_core::Error;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use crate::http_support as http;

/// One request as the server read it.
pub use http::Request as Seen;

/// What the server does with a request.
#[derive(Clone)]
pub enum Reply {
    /// Write these pieces (a short pause between them), then close.
    Pieces(Vec<Vec<u8>>),
    /// Write the head and these body pieces, then keep writing `tick` every
    /// 20 ms (bounded) until the client goes; then record that it went.
    ThenTicking(Vec<Vec<u8>>, Vec<u8>),
    /// Say nothing and hold the connection (bounded).
    Hang,
}

/// A fake server: `route(&Seen)` decides the answer.
pub struct Server {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Set when a `ThenTicking` client hung up.
    gone: Arc<Mutex<bool>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    pub async fn start(route: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let gone = Arc::new(Mutex::new(false));
        let (seen2, gone2) = (seen.clone(), gone.clone());
        let route = Arc::new(route);
        let task = tokio::spawn(async move {
            while let Ok(Ok((mut sock, _))) =
                tokio::time::timeout(Duration::from_secs(30), listener.accept()).await
            {
                let (seen, gone, route) = (seen2.clone(), gone2.clone(), route.clone());
                tokio::spawn(async move {
                    let Some(req) = http::read(&mut sock).await else {
                        return;
                    };
                    let reply = route(&req);
                    seen.lock().unwrap().push(req);
                    match reply {
                        Reply::Pieces(pieces) => {
                            for p in pieces {
                                if sock.write_all(&p).await.is_err() {
                                    return;
                                }
                                let _ = sock.flush().await;
                                tokio::task::yield_now().await;
                            }
                            let _ = sock.shutdown().await;
                        }
                        Reply::ThenTicking(pieces, tick) => {
                            for p in pieces {
                                if sock.write_all(&p).await.is_err() {
                                    *gone.lock().unwrap() = true;
                                    return;
                                }
                            }
                            for _ in 0..1500 {
                                tokio::time::sleep(Duration::from_millis(20)).await;
                                if sock.write_all(&tick).await.is_err()
                                    || sock.flush().await.is_err()
                                {
                                    *gone.lock().unwrap() = true;
                                    return;
                                }
                            }
                        }
                        Reply::Hang => tokio::time::sleep(Duration::from_secs(10)).await,
                    }
                });
            }
        });
        Server {
            addr,
            seen,
            gone,
            task,
        }
    }

    pub async fn always(reply: Reply) -> Server {
        Server::start(move |_| reply.clone()).await
    }

    pub fn root(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn client_gone(&self) -> bool {
        *self.gone.lock().unwrap()
    }
}

/// A whole HTTP response with a Content-Length.
pub fn response(status: &str, content_type: &str, body: &[u8]) -> Reply {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    Reply::Pieces(vec![out])
}

pub fn json_ok(body: &str) -> Reply {
    response("200 OK", "application/json", body.as_bytes())
}

pub fn json_status(status: &str, body: &str) -> Reply {
    response(status, "application/json", body.as_bytes())
}

pub const SSE_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n";

/// An SSE body sent as HTTP chunks of `size` bytes (0: one chunk), with the last chunk when `complete`.
pub fn sse(body: &[u8], size: usize, complete: bool) -> Reply {
    let mut pieces = vec![SSE_HEAD.to_vec()];
    let size = if size == 0 { body.len().max(1) } else { size };
    for part in body.chunks(size) {
        let mut p = format!("{:x}\r\n", part.len()).into_bytes();
        p.extend_from_slice(part);
        p.extend_from_slice(b"\r\n");
        pieces.push(p);
    }
    if complete {
        pieces.push(b"0\r\n\r\n".to_vec());
    }
    Reply::Pieces(pieces)
}

/// One HTTP chunk holding `data`.
pub fn http_chunk(data: &[u8]) -> Vec<u8> {
    let mut p = format!("{:x}\r\n", data.len()).into_bytes();
    p.extend_from_slice(data);
    p.extend_from_slice(b"\r\n");
    p
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

pub fn config(kind: ProviderKind, base_url: &str, streaming: bool) -> ProviderConfig {
    let mut c = ProviderConfig::new(kind, "Local");
    c.base_url = base_url.to_owned();
    c.streaming = streaming;
    c
}

/// Feeds `bytes` to a decoder and `parser` in pieces of the given sizes (cycled), then ends.
pub fn run_pure<P: StreamParser>(
    mut parser: P,
    bytes: &[u8],
    sizes: &[usize],
) -> (Vec<WireEvent>, Option<Error>) {
    let mut decoder = SseDecoder::with_max_event_bytes(DEFAULT_MAX_EVENT_BYTES);
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].clamp(1, rest.len());
        i += 1;
        let (piece, tail) = rest.split_at(n);
        rest = tail;
        match decoder.feed(piece) {
            Ok(evs) => {
                for ev in evs {
                    match parser.on_event(&ev) {
                        Ok(w) => out.extend(w),
                        Err(e) => return (out, Some(e)),
                    }
                }
            }
            Err(e) => return (out, Some(e)),
        }
    }
    match decoder.finish() {
        Ok(evs) => {
            for ev in evs {
                match parser.on_final_event(&ev) {
                    Ok(w) => out.extend(w),
                    Err(e) => return (out, Some(e)),
                }
            }
        }
        Err(e) => return (out, Some(e)),
    }
    match parser.on_eof() {
        Ok(w) => out.extend(w),
        Err(e) => return (out, Some(e)),
    }
    (out, None)
}

/// Text, reasoning and the other events, with adjacent text and reasoning merged.
pub fn merged(events: &[WireEvent]) -> Vec<WireEvent> {
    let mut out: Vec<WireEvent> = Vec::new();
    for ev in events {
        match (out.last_mut(), ev) {
            (Some(WireEvent::Text(a)), WireEvent::Text(b)) => a.push_str(b),
            (Some(WireEvent::Reasoning(a)), WireEvent::Reasoning(b)) => a.push_str(b),
            (_, WireEvent::KeepAlive) => {}
            _ => out.push(ev.clone()),
        }
    }
    out
}

/// Chunk-size patterns every stream is replayed with: one byte, small primes, uneven, whole.
pub const CHUNKINGS: &[&[usize]] = &[&[1], &[2], &[3], &[7], &[13, 1, 5], &[64], &[1 << 20]];
