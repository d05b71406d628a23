//! The wire layer over real HTTP: a server on 127.0.0.1 writes raw bytes
//! (captures, broken streams, error responses) and reqwest reads them.
//! Every server stops by itself; every wait is bounded.

mod http_support;

use std::net::SocketAddr;
use std::time::Duration;

use confab_core::llm::{
    error_from_reqwest, stream_events, AnthropicStream, OpenAiStream, StreamParser, Usage,
    WireEvent, DEFAULT_MAX_EVENT_BYTES,
};
use confab_core::{Error, ErrorCode};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

const OPENAI_RAW: &[u8] = include_bytes!("fixtures/streams/openai_stream.raw");
const ANTHROPIC_RAW: &[u8] = include_bytes!("fixtures/streams/anthropic_stream.raw");
const IDLE: Duration = Duration::from_secs(5);

/// What a test server does once it has read the request.
enum Reply {
    /// Write these pieces, pausing briefly between them, then close.
    Pieces(Vec<Vec<u8>>),
    /// Write this, then hold the connection open (bounded) without a word more.
    ThenSilence(Vec<u8>),
}

/// Serves one connection on 127.0.0.1 and returns its address.
async fn serve(reply: Reply) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let Ok(Ok((mut sock, _))) =
            tokio::time::timeout(Duration::from_secs(10), listener.accept()).await
        else {
            return;
        };
        http_support::read(&mut sock).await;
        match reply {
            Reply::Pieces(pieces) => {
                for p in pieces {
                    if sock.write_all(&p).await.is_err() {
                        return;
                    }
                    let _ = sock.flush().await;
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
            Reply::ThenSilence(head) => {
                let _ = sock.write_all(&head).await;
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
        }
    });
    addr
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Splits a capture into its head and body.
fn split_head(raw: &[u8]) -> (&[u8], &[u8]) {
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    (&raw[..at + 4], &raw[at + 4..])
}

/// The body as HTTP/1.1 chunks of uneven sizes, ending with the last chunk.
fn chunked(body: &[u8], last_chunk: bool) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = body;
    let mut n = 1;
    while !rest.is_empty() {
        let take = n.min(rest.len());
        let (a, b) = rest.split_at(take);
        let mut piece = format!("{take:x}\r\n").into_bytes();
        piece.extend_from_slice(a);
        piece.extend_from_slice(b"\r\n");
        out.push(piece);
        rest = b;
        n = n * 3 % 97 + 1;
    }
    if last_chunk {
        out.push(b"0\r\n\r\n".to_vec());
    }
    out
}

async fn collect<P: StreamParser + Send + 'static>(
    addr: SocketAddr,
    parser: P,
    idle: Duration,
) -> (Vec<WireEvent>, Option<Error>) {
    let response = client()
        .get(format!("http://{addr}/v1/chat/completions"))
        .send()
        .await
        .unwrap();
    let stream = stream_events(response, parser, idle, DEFAULT_MAX_EVENT_BYTES);
    futures_util::pin_mut!(stream);
    let mut events = Vec::new();
    // Bounded: no test stream has anywhere near this many events.
    for _ in 0..10_000 {
        match stream.next().await {
            Some(Ok(ev)) => events.push(ev),
            Some(Err(e)) => {
                assert!(stream.next().await.is_none(), "nothing follows an error");
                return (events, Some(e));
            }
            None => return (events, None),
        }
    }
    panic!("the stream did not end");
}

fn text(evs: &[WireEvent]) -> String {
    evs.iter()
        .filter_map(|e| match e {
            WireEvent::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn the_openai_capture_over_chunked_http() {
    let (head, body) = split_head(OPENAI_RAW);
    let mut pieces = vec![head.to_vec()];
    pieces.extend(chunked(body, true));
    let addr = serve(Reply::Pieces(pieces)).await;
    let (evs, err) = collect(addr, OpenAiStream::new(), IDLE).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(text(&evs), "Mock response from gpt-4o-mini.");
    assert!(evs.contains(&WireEvent::Finish {
        reason: "stop".into()
    }));
    assert!(evs.contains(&WireEvent::Usage(Usage {
        prompt_tokens: Some(1),
        completion_tokens: Some(7),
        ..Usage::default()
    })));
}

#[tokio::test]
async fn the_anthropic_capture_delimited_by_close() {
    let mut pieces = vec![
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n".to_vec(),
    ];
    pieces.extend(ANTHROPIC_RAW.chunks(13).map(<[u8]>::to_vec));
    let addr = serve(Reply::Pieces(pieces)).await;
    let (evs, err) = collect(addr, AnthropicStream::new(), IDLE).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(text(&evs), "Mock response from claude-sonnet-4-6.");
}

#[tokio::test]
async fn a_silent_server_is_a_timeout() {
    // Headers, then nothing: the idle timeout per chunk fires.
    let (head, _) = split_head(OPENAI_RAW);
    let addr = serve(Reply::ThenSilence(head.to_vec())).await;
    let (evs, err) = collect(addr, OpenAiStream::new(), Duration::from_millis(200)).await;
    assert!(evs.is_empty());
    assert_eq!(err.map(|e| e.code()), Some(ErrorCode::Timeout));

    // No answer at all: the request's own read timeout, mapped the same way.
    let addr = serve(Reply::ThenSilence(Vec::new())).await;
    let err = reqwest::Client::builder()
        .no_proxy()
        .read_timeout(Duration::from_millis(200))
        .build()
        .unwrap()
        .get(format!("http://{addr}/"))
        .send()
        .await
        .expect_err("no answer");
    assert_eq!(error_from_reqwest(err).code(), ErrorCode::Timeout);
}

#[tokio::test]
async fn a_connection_dropped_mid_stream() {
    let (head, body) = split_head(OPENAI_RAW);
    // Chunked, cut inside the body: the transfer is broken, a network error.
    let mut pieces = vec![head.to_vec()];
    let mut body_pieces = chunked(&body[..body.len() / 2], false);
    body_pieces.push(b"40\r\ndata: {\"cho".to_vec());
    pieces.extend(body_pieces);
    let addr = serve(Reply::Pieces(pieces)).await;
    let (evs, err) = collect(addr, OpenAiStream::new(), IDLE).await;
    assert!(text(&evs).starts_with("Mock"), "{evs:?}");
    assert_eq!(err.map(|e| e.code()), Some(ErrorCode::Network));

    // Delimited by close, closed before any finish: a cut-off reply.
    let mut pieces = vec![
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n".to_vec(),
    ];
    pieces.push(body[..body.len() / 2].to_vec());
    let addr = serve(Reply::Pieces(pieces)).await;
    let (evs, err) = collect(addr, OpenAiStream::new(), IDLE).await;
    assert!(text(&evs).starts_with("Mock"), "{evs:?}");
    assert_eq!(err.map(|e| e.code()), Some(ErrorCode::Truncated));
}

fn http_error(status: &str, extra_headers: &str, body: &str) -> Reply {
    Reply::Pieces(vec![format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra_headers}\r\n{body}",
        body.len()
    )
    .into_bytes()])
}

#[tokio::test]
async fn http_errors_are_typed() {
    let addr = serve(http_error(
        "401 Unauthorized",
        "",
        r#"{"error":{"message":"Incorrect API key provided: sk-proj-abcdefgh12345678.","type":"invalid_request_error","code":"invalid_api_key"}}"#,
    ))
    .await;
    let (_, err) = collect(addr, OpenAiStream::new(), IDLE).await;
    let err = err.expect("an error");
    assert_eq!(err.code(), ErrorCode::Unauthorized);
    assert!(!err.to_string().contains("abcdefgh"), "{err}");

    let addr = serve(http_error(
        "429 Too Many Requests",
        "retry-after: 12\r\n",
        r#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#,
    ))
    .await;
    let (_, err) = collect(addr, AnthropicStream::new(), IDLE).await;
    assert!(
        matches!(
            err,
            Some(Error::RateLimited {
                retry_after_secs: Some(12),
                ..
            })
        ),
        "{err:?}"
    );

    let addr = serve(http_error(
        "529 Overloaded",
        "",
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    ))
    .await;
    let (_, err) = collect(addr, AnthropicStream::new(), IDLE).await;
    assert_eq!(err.map(|e| e.code()), Some(ErrorCode::Overloaded));
}

#[tokio::test]
async fn a_refused_connection_is_a_network_error_without_the_url() {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    let err = client()
        .get("http://127.0.0.1:1/v1/models?key=sk-abcdefgh12345678")
        .send()
        .await
        .expect_err("refused");
    let err = error_from_reqwest(err);
    assert_eq!(err.code(), ErrorCode::Network);
    let msg = err.to_string();
    assert!(!msg.contains("abcdefgh"), "{msg}");
    assert!(msg.starts_with("could not reach the provider"), "{msg}");
}
