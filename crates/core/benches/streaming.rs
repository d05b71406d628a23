//! The chat engine's streaming path against a plain reqwest client reading the
//! same local server in the same run.
//!
//! 1. Throughput: a server on 127.0.0.1 streams 100,000 OpenAI-style chunks as
//!    fast as it can. The engine parses, accumulates, checkpoints to SQLite
//!    (every 250 ms) and sends batched deltas to a sink that serialises each
//!    event as the app's IPC channel does. Baselines: reqwest reading the raw
//!    bytes, and reqwest + Confab's SSE/JSON parser alone.
//! 2. Added latency per token: the server writes one token at a time and
//!    stamps each write; the engine (batching off, so every token is handed
//!    on at once) and plain reqwest stamp each arrival. Added latency is the
//!    engine's minus reqwest's, per percentile. (With batching on, deltas are
//!    held up to 16 ms on purpose, for the UI.)
//! 3. Time to first token with a 1,000-message history and a 5,000-entry world
//!    book: from `send` (user message saved, prompt assembled with world info
//!    scanned, reply created, request built) to the first delta at the sink,
//!    against reqwest's time to the first byte of the same request.
//!
//! Run: `cargo bench -p confab-core --bench streaming`
//!
//! The server, the probe sink and the library live in `streaming_support/`.

mod streaming_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use confab_core::chat::{ChatEngine, EngineConfig, StreamEvent};
use confab_core::llm::{stream_events, ModelInfo, OpenAiStream};
use futures_util::StreamExt;

use streaming_support::{chunk, setup, Mode, Probe, Server, Setup, FINISH, HEAD};

const TOKENS: usize = 100_000;
const PACED_TOKENS: usize = 3_000;
const ROUNDS: usize = 3;
const PACE: Duration = Duration::from_micros(250);
const TOKEN_LEN: usize = 6;
const HISTORY: usize = 1_000;
const ENTRIES: usize = 5_000;
const TTFT_RUNS: usize = 30;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Sends once through `engine` and waits for the end.
async fn run_engine(engine: &ChatEngine, session: &str) -> Option<(Duration, Arc<Probe>)> {
    let probe = Arc::new(Probe::default());
    let t = Instant::now();
    engine
        .send(session, "Tell me everything.", &[], probe.clone())
        .await
        .ok()?;
    let (end, event) = probe.finished().await?;
    match event {
        StreamEvent::Done { .. } => Some((end.duration_since(t), probe)),
        other => {
            eprintln!("the engine did not finish: {other:?}");
            None
        }
    }
}

async fn throughput(server: &Server, s: &Setup) {
    let mut body = HEAD.to_vec();
    for i in 0..TOKENS {
        body.extend_from_slice(chunk(i).as_bytes());
    }
    body.extend_from_slice(FINISH.as_bytes());
    let mb = body.len() as f64 / 1e6;
    server.set(Mode::Bulk(Arc::new(body)));
    let Some(session) = s.short_session().await else {
        return;
    };
    let engine = s.engine(EngineConfig::default());
    let http = reqwest::Client::builder().no_proxy().build();
    let Ok(http) = http else { return };
    let request_body = br#"{"model":"bench-model","stream":true,"messages":[]}"#.to_vec();

    let mut raw = Vec::new();
    let mut parsed = Vec::new();
    let mut ours = Vec::new();
    let mut last_probe = None;
    for _ in 0..3 {
        // Plain reqwest: the bytes only. (In a task, as the engine's reader is.)
        let (h, url, b) = (http.clone(), server.url(), request_body.clone());
        let took = tokio::spawn(async move {
            let t = Instant::now();
            let resp = h
                .post(url)
                .header("content-type", "application/json")
                .body(b)
                .send()
                .await
                .ok()?;
            let mut stream = resp.bytes_stream();
            let mut n = 0usize;
            while let Some(Ok(b)) = stream.next().await {
                n += b.len();
            }
            std::hint::black_box(n);
            Some(t.elapsed())
        })
        .await;
        if let Ok(Some(d)) = took {
            raw.push(d);
        }
        // reqwest + Confab's SSE decoder and OpenAI parser, nothing else.
        let (h, url, b) = (http.clone(), server.url(), request_body.clone());
        let took = tokio::spawn(async move {
            let t = Instant::now();
            let resp = h
                .post(url)
                .header("content-type", "application/json")
                .body(b)
                .send()
                .await
                .ok()?;
            let events = stream_events(
                resp,
                OpenAiStream::new(),
                Duration::from_secs(60),
                confab_core::llm::DEFAULT_MAX_EVENT_BYTES,
            );
            futures_util::pin_mut!(events);
            let mut text = 0usize;
            while let Some(Ok(ev)) = events.next().await {
                if let confab_core::llm::WireEvent::Text(t) = ev {
                    text += t.len();
                }
            }
            std::hint::black_box(text);
            Some(t.elapsed())
        })
        .await;
        if let Ok(Some(d)) = took {
            parsed.push(d);
        }
        // The engine: parse, accumulate, checkpoint, batch, sink.
        if let Some((d, probe)) = run_engine(&engine, &session).await {
            ours.push(d);
            last_probe = Some(probe);
        }
    }
    raw.sort();
    parsed.sort();
    ours.sort();
    let best = |v: &[Duration]| v.first().copied().unwrap_or_default();
    let rate = |d: Duration| TOKENS as f64 / d.as_secs_f64().max(1e-9);
    println!("throughput, {TOKENS} tokens ({mb:.1} MB of SSE), best of 3:");
    println!(
        "  plain reqwest, bytes only:        {:>8.1} ms  {:>10.0} tokens/s",
        ms(best(&raw)),
        rate(best(&raw))
    );
    println!(
        "  reqwest + SSE/JSON parse only:    {:>8.1} ms  {:>10.0} tokens/s",
        ms(best(&parsed)),
        rate(best(&parsed))
    );
    println!(
        "  engine (parse, accumulate, checkpoint, sink): {:>8.1} ms  {:>10.0} tokens/s (target >= 100,000)",
        ms(best(&ours)),
        rate(best(&ours))
    );
    if let Some(p) = last_probe {
        let deltas = p.deltas.lock().map(|d| *d).unwrap_or(0);
        let text = p.text_len.lock().map(|d| *d).unwrap_or(0);
        let ipc = p.ipc_bytes.lock().map(|d| *d).unwrap_or(0);
        println!(
            "  engine sent {deltas} delta events for {TOKENS} tokens ({} bytes of text, {} bytes of IPC JSON)",
            text, ipc
        );
        if text != TOKENS * TOKEN_LEN {
            println!(
                "  WARNING: the engine's text is {text} bytes, expected {}",
                TOKENS * TOKEN_LEN
            );
        }
    }
}

/// Per-token latency: (server write) -> (arrival), sorted.
fn latencies(
    stamps: &[Instant],
    arrivals: &[(Instant, usize)],
    per_token_bytes: usize,
) -> Vec<Duration> {
    let mut out = Vec::with_capacity(stamps.len());
    let mut a = 0;
    for (i, sent) in stamps.iter().enumerate() {
        let need = (i + 1) * per_token_bytes;
        while a < arrivals.len() && arrivals[a].1 < need {
            a += 1;
        }
        let Some((at, _)) = arrivals.get(a) else {
            break;
        };
        out.push(at.saturating_duration_since(*sent));
    }
    out.sort();
    out
}

async fn latency(server: &Server, s: &Setup) {
    let Some(session) = s.short_session().await else {
        return;
    };
    let http = match reqwest::Client::builder().no_proxy().build() {
        Ok(h) => h,
        Err(_) => return,
    };
    let request_body = br#"{"model":"bench-model","stream":true,"messages":[]}"#.to_vec();

    let engine = s.engine(EngineConfig {
        batch_every: Duration::ZERO,
        ..EngineConfig::default()
    });
    let mut base = Vec::new();
    let mut ours = Vec::new();
    // Alternating rounds, pooled, so a burst of load elsewhere hits both alike.
    for _ in 0..ROUNDS {
        // Plain reqwest: arrival of each event's last byte, counted by its "\n\n".
        let stamps = Arc::new(Mutex::new(Vec::with_capacity(PACED_TOKENS)));
        server.set(Mode::Paced(stamps.clone()));
        let (h, url, b) = (http.clone(), server.url(), request_body.clone());
        let arrivals = tokio::spawn(async move {
            let mut arrivals: Vec<(Instant, usize)> = Vec::new();
            if let Ok(resp) = h
                .post(url)
                .header("content-type", "application/json")
                .body(b)
                .send()
                .await
            {
                let mut stream = resp.bytes_stream();
                let (mut events, mut prev) = (0usize, 0u8);
                while let Some(Ok(b)) = stream.next().await {
                    let now = Instant::now();
                    for &byte in b.iter() {
                        if byte == b'\n' && prev == b'\n' {
                            events += 1;
                        }
                        prev = byte;
                    }
                    arrivals.push((now, events));
                }
            }
            arrivals
        })
        .await
        .unwrap_or_default();
        let sent = stamps.lock().map(|s| s.clone()).unwrap_or_default();
        base.extend(latencies(&sent, &arrivals, 1));

        // The engine with batching off: every token is handed to the sink as it is read.
        let stamps = Arc::new(Mutex::new(Vec::with_capacity(PACED_TOKENS)));
        server.set(Mode::Paced(stamps.clone()));
        let Some((_, probe)) = run_engine(&engine, &session).await else {
            return;
        };
        let sent = stamps.lock().map(|s| s.clone()).unwrap_or_default();
        let arrivals = probe.arrivals.lock().map(|a| a.clone()).unwrap_or_default();
        ours.extend(latencies(&sent, &arrivals, TOKEN_LEN));
    }
    base.sort();
    ours.sort();

    println!(
        "latency per token, {ROUNDS} x {PACED_TOKENS} tokens written one by one (~{} us apart), server write -> arrival:",
        PACE.as_micros()
    );
    let row = |name: &str, v: &[Duration]| {
        println!(
            "  {name:<34} p50 {:>7.1} us  p90 {:>7.1} us  p99 {:>7.1} us  ({} tokens)",
            us(percentile(v, 0.5)),
            us(percentile(v, 0.9)),
            us(percentile(v, 0.99)),
            v.len()
        )
    };
    row("plain reqwest:", &base);
    row("engine (parse, accumulate, sink):", &ours);
    let added = |p: f64| us(percentile(&ours, p)) - us(percentile(&base, p));
    println!(
        "  added by the engine: p50 {:.1} us, p99 {:.1} us (target p99 < 1000 us)",
        added(0.5),
        added(0.99)
    );
}

async fn ttft(server: &Server, s: &Setup, window: Option<u32>) {
    let mut body = HEAD.to_vec();
    body.extend_from_slice(chunk(0).as_bytes());
    body.extend_from_slice(FINISH.as_bytes());
    server.set(Mode::Bulk(Arc::new(body)));
    let label = match window {
        Some(w) => {
            // A listed model with a large window: the whole history fits and is counted.
            let _ = s
                .store
                .save_cached_models(
                    &s.provider.id,
                    &[ModelInfo {
                        id: "bench-model".into(),
                        name: "bench-model".into(),
                        context_length: Some(w),
                        prompt_price_per_million: None,
                        completion_price_per_million: None,
                        cache_read_price_per_million: None,
                        cache_write_price_per_million: None,
                    }],
                )
                .await;
            format!("{w}-token window")
        }
        None => "unknown window (8,192 assumed)".to_owned(),
    };
    let engine = s.engine(EngineConfig::default());
    // Warm up: the book compiles once, the token counter loads once.
    let _ = run_engine(&engine, &s.session).await;
    let request_body = server
        .last_body
        .lock()
        .map(|b| b.clone())
        .unwrap_or_default();
    let http = match reqwest::Client::builder().no_proxy().build() {
        Ok(h) => h,
        Err(_) => return,
    };

    let mut ours = Vec::with_capacity(TTFT_RUNS);
    let mut base = Vec::with_capacity(TTFT_RUNS);
    let mut assembly = Vec::with_capacity(TTFT_RUNS);
    let mut prompt_messages = 0;
    for _ in 0..TTFT_RUNS {
        // Plain reqwest: the same request body, to the first byte of the reply body.
        let (h, url, b) = (http.clone(), server.url(), request_body.clone());
        let first = tokio::spawn(async move {
            let t = Instant::now();
            let resp = h
                .post(url)
                .header("content-type", "application/json")
                .body(b)
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
        .await;
        if let Ok(Some(d)) = first {
            base.push(d);
        }
        // The engine: send -> first delta at the sink.
        let probe = Arc::new(Probe::default());
        let t = Instant::now();
        if engine
            .send(&s.session, "Where are we now?", &[], probe.clone())
            .await
            .is_ok()
        {
            let first = probe.finished().await.and_then(|_| {
                probe
                    .arrivals
                    .lock()
                    .ok()
                    .and_then(|a| a.first().map(|(at, _)| *at))
            });
            if let Some(at) = first {
                ours.push(at.duration_since(t));
            }
        }
        // For the breakdown: prompt assembly alone (what a preview costs).
        let t = Instant::now();
        let request = confab_core::session::turn::TurnRequest {
            new_message: Some("Where are we now?".into()),
            ..Default::default()
        };
        let limits = confab_core::session::service::PromptLimits {
            context_window: window.unwrap_or(8192),
            reply_reserve: 512,
        };
        if let Ok(turn) = confab_core::session::turn::build_turn(
            &s.store, &s.caches, &s.session, &request, limits,
        )
        .await
        {
            prompt_messages = turn.prompt.messages.len();
        }
        assembly.push(t.elapsed());
    }
    ours.sort();
    base.sort();
    assembly.sort();
    let (o, b) = (percentile(&ours, 0.5), percentile(&base, 0.5));
    println!(
        "time to first token, {HISTORY}-message history, {ENTRIES}-entry world book, example dialogue and both notes, {label}, median of {TTFT_RUNS}:"
    );
    println!(
        "  plain reqwest, same request, to first byte: {:>7.2} ms (p90 {:.2} ms)",
        ms(b),
        ms(percentile(&base, 0.9))
    );
    println!(
        "  engine, send to first delta at the sink:    {:>7.2} ms (p90 {:.2} ms)",
        ms(o),
        ms(percentile(&ours, 0.9))
    );
    println!(
        "  added by the engine: {:.2} ms (target < 5 ms); of which prompt assembly alone: {:.2} ms ({} prompt messages)",
        ms(o.saturating_sub(b)),
        ms(percentile(&assembly, 0.5)),
        prompt_messages
    );
}

fn main() {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("runtime: {e}");
            return;
        }
    };
    let server = Server::start();
    runtime.block_on(async {
        confab_core::tokens::default_counter().count("warm up");
        let Some(s) = setup(&server).await else {
            eprintln!("setup failed");
            return;
        };
        println!("streaming benchmark (release build, 127.0.0.1)");
        throughput(&server, &s).await;
        latency(&server, &s).await;
        ttft(&server, &s, None).await;
        ttft(&server, &s, Some(128_000)).await;
    });
}
