//! Text-completion replies over real HTTP on 127.0.0.1: each backend's stream
//! in every chunking, whole (non-streamed) answers, error responses in each
//! backend's shape, cut-off and hostile streams, and stopping KoboldCpp (its
//! abort endpoint, and a server that ignores it).

mod http_support;
mod text_support;

use std::time::Duration;

use confab_core::llm::{
    abort, build_text_request, start_reply, CompletionsStream, KoboldStream, LlamaCppStream,
    ProviderKind, ReplyStream, StreamParser, TextPrompt, Usage, WireEvent, DEFAULT_MAX_EVENT_BYTES,
};
use confab_core::{Error, ErrorCode};
use futures_util::StreamExt;
use text_support::*;

const IDLE: Duration = Duration::from_secs(5);

const KOBOLD_SSE: &str = concat!(
    "event: message\ndata: {\"token\": \"Hello\", \"finish_reason\": null}\n\n",
    "event: message\ndata: {\"token\": \" w\\u00f6rld \u{1F30D}\", \"finish_reason\": null}\n\n",
    "event: message\ndata: {\"token\": \"!\", \"finish_reason\": \"stop\"}\n\n",
);

const LLAMA_SSE: &str = concat!(
    "data: {\"index\":0,\"content\":\"Hello\",\"tokens\":[15043],\"stop\":false,\"id_slot\":-1,\"tokens_predicted\":1,\"tokens_evaluated\":12}\n\n",
    "data: {\"index\":0,\"content\":\" w\u{f6}rld \u{1F30D}\",\"tokens\":[],\"stop\":false}\n\n",
    "data: {\"index\":0,\"content\":\"!\",\"stop\":false}\n\n",
    "data: {\"index\":0,\"content\":\"\",\"stop\":true,\"model\":\"m.gguf\",\"tokens_predicted\":3,\"tokens_evaluated\":12,",
    "\"generation_settings\":{\"n_predict\":3},\"prompt\":\"<|user|>Hi\",\"has_new_line\":false,\"truncated\":false,",
    "\"stop_type\":\"limit\",\"stopping_word\":\"\",\"tokens_cached\":14,",
    "\"timings\":{\"prompt_n\":12,\"prompt_ms\":30.1,\"predicted_n\":3,\"predicted_ms\":50.2}}\n\n",
);

const COMPLETIONS_SSE: &str = concat!(
    "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"text\":\"Hello\",\"logprobs\":null,\"finish_reason\":null}]}\r\n\r\n",
    ": keep-alive\r\n\r\n",
    "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"text\":\" w\u{f6}rld \u{1F30D}\",\"logprobs\":null,\"finish_reason\":null}]}\r\n\r\n",
    "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"text\":\"!\",\"logprobs\":null,\"finish_reason\":\"length\",\"stop_reason\":null}]}\r\n\r\n",
    "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"total_tokens\":15,\"completion_tokens\":3}}\r\n\r\n",
    "data: [DONE]\r\n\r\n",
);

fn text() -> WireEvent {
    WireEvent::Text("Hello w\u{f6}rld \u{1F30D}!".into())
}

fn usage(p: u32, c: u32) -> WireEvent {
    WireEvent::Usage(Usage {
        prompt_tokens: Some(p),
        completion_tokens: Some(c),
        ..Usage::default()
    })
}

fn finish(r: &str) -> WireEvent {
    WireEvent::Finish { reason: r.into() }
}

fn expected(kind: ProviderKind) -> Vec<WireEvent> {
    match kind {
        ProviderKind::KoboldCpp => vec![text(), finish("stop")],
        ProviderKind::LlamaCpp => vec![text(), usage(12, 3), finish("length")],
        _ => vec![text(), finish("length"), usage(12, 3)],
    }
}

fn raw(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::KoboldCpp => KOBOLD_SSE,
        ProviderKind::LlamaCpp => LLAMA_SSE,
        _ => COMPLETIONS_SSE,
    }
}

fn parser(kind: ProviderKind) -> Box<dyn StreamParser + Send> {
    match kind {
        ProviderKind::KoboldCpp => Box::new(KoboldStream::new()),
        ProviderKind::LlamaCpp => Box::new(LlamaCppStream::new()),
        _ => Box::new(CompletionsStream::new()),
    }
}

const KINDS: [ProviderKind; 3] = [
    ProviderKind::KoboldCpp,
    ProviderKind::LlamaCpp,
    ProviderKind::TextCompletions,
];

fn text_prompt() -> TextPrompt<'static> {
    TextPrompt {
        prompt: "<|user|>Hi<|assistant|>",
        stop: &[],
        genkey: Some("KCPPtest"),
        context_length: None,
    }
}

async fn send(
    server: &Server,
    kind: ProviderKind,
    streaming: bool,
    max_event_bytes: usize,
) -> Result<ReplyStream, Error> {
    let base = match kind {
        ProviderKind::TextCompletions => format!("{}/v1", server.root()),
        _ => server.root(),
    };
    let c = config(kind, &base, streaming);
    let req = build_text_request(&c, "m", &text_prompt(), None).unwrap();
    start_reply(&client(), &c, &req, IDLE, max_event_bytes).await
}

async fn collect(stream: Result<ReplyStream, Error>) -> (Vec<WireEvent>, Option<Error>) {
    let mut stream = match stream {
        Ok(s) => s,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut events = Vec::new();
    for _ in 0..100_000 {
        match tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("every stream ends")
        {
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

#[test]
fn every_chunking_of_every_stream_gives_the_same_events() {
    for kind in KINDS {
        for sizes in CHUNKINGS {
            let (events, err) = run_pure(parser(kind), raw(kind).as_bytes(), sizes);
            assert!(err.is_none(), "{kind:?} {sizes:?}: {err:?}");
            assert_eq!(merged(&events), expected(kind), "{kind:?} {sizes:?}");
        }
        // LF, CRLF and CR line ends alike.
        let crlf = raw(kind).replace("\r\n", "\n").replace('\n', "\r\n");
        let cr = raw(kind).replace("\r\n", "\n").replace('\n', "\r");
        for variant in [crlf, cr] {
            let (events, err) = run_pure(parser(kind), variant.as_bytes(), &[1]);
            assert!(err.is_none(), "{kind:?}: {err:?}");
            assert_eq!(merged(&events), expected(kind), "{kind:?}");
        }
    }
}

#[tokio::test]
async fn streams_over_http_in_small_and_whole_chunks() {
    for kind in KINDS {
        for size in [1, 5, 0] {
            let server = Server::always(sse(raw(kind).as_bytes(), size, true)).await;
            let (events, err) =
                collect(send(&server, kind, true, DEFAULT_MAX_EVENT_BYTES).await).await;
            assert!(err.is_none(), "{kind:?} {size}: {err:?}");
            assert_eq!(merged(&events), expected(kind), "{kind:?} {size}");
            let seen = server.seen();
            assert_eq!(seen.len(), 1);
            let path = match kind {
                ProviderKind::KoboldCpp => "/api/extra/generate/stream",
                ProviderKind::LlamaCpp => "/completion",
                _ => "/v1/completions",
            };
            assert_eq!(seen[0].path, path);
            assert_eq!(seen[0].method, "POST");
            assert_eq!(seen[0].json()["prompt"], "<|user|>Hi<|assistant|>");
        }
    }
}

#[tokio::test]
async fn whole_answers_of_each_backend() {
    let cases: [(ProviderKind, &str, Vec<WireEvent>); 5] = [
        (
            ProviderKind::KoboldCpp,
            r#"{"results":[{"text":"Hello there.","finish_reason":"length","logprobs":null,"prompt_tokens":9,"completion_tokens":3}]}"#,
            vec![
                WireEvent::Text("Hello there.".into()),
                usage(9, 3),
                finish("length"),
            ],
        ),
        (
            // Older KoboldCpp: text only.
            ProviderKind::KoboldCpp,
            r#"{"results":[{"text":"Hi."}]}"#,
            vec![WireEvent::Text("Hi.".into()), finish("stop")],
        ),
        (
            ProviderKind::LlamaCpp,
            r#"{"index":0,"content":"Hello there.","tokens":[],"id_slot":0,"stop":true,"model":"m","tokens_predicted":3,"tokens_evaluated":9,"stop_type":"eos","stopping_word":"","timings":{"prompt_n":9,"predicted_n":3}}"#,
            vec![
                WireEvent::Text("Hello there.".into()),
                usage(9, 3),
                finish("stop"),
            ],
        ),
        (
            // Older llama.cpp: stopped_* flags, usage from timings only.
            ProviderKind::LlamaCpp,
            r#"{"content":"Hi.","stop":true,"stopped_eos":false,"stopped_word":false,"stopped_limit":true,"timings":{"prompt_n":4,"predicted_n":2}}"#,
            vec![WireEvent::Text("Hi.".into()), usage(4, 2), finish("length")],
        ),
        (
            ProviderKind::TextCompletions,
            r#"{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"Hello there.","logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}"#,
            vec![
                WireEvent::Text("Hello there.".into()),
                usage(9, 3),
                finish("stop"),
            ],
        ),
    ];
    for (kind, body, want) in cases {
        let server = Server::always(json_ok(body)).await;
        let (events, err) =
            collect(send(&server, kind, false, DEFAULT_MAX_EVENT_BYTES).await).await;
        assert!(err.is_none(), "{kind:?}: {err:?}");
        assert_eq!(events, want, "{kind:?}");
        let path = &server.seen()[0].path;
        assert!(
            ["/api/v1/generate", "/completion", "/v1/completions"].contains(&path.as_str()),
            "{path}"
        );
        assert_eq!(server.seen()[0].header("accept"), Some("application/json"));
    }
    // Answers that are not the backend's shape are protocol errors.
    for (kind, body) in [
        (ProviderKind::KoboldCpp, r#"{"results":[]}"#),
        (ProviderKind::KoboldCpp, r#"{"results":[{"text":5}]}"#),
        (ProviderKind::LlamaCpp, r#"{"stop":true}"#),
        (
            ProviderKind::TextCompletions,
            r#"{"choices":[{"message":{}}]}"#,
        ),
        (ProviderKind::TextCompletions, "[1,2,3]"),
        (ProviderKind::LlamaCpp, "<html>"),
    ] {
        let server = Server::always(json_ok(body)).await;
        let (_, err) = collect(send(&server, kind, false, DEFAULT_MAX_EVENT_BYTES).await).await;
        assert_eq!(err.unwrap().code(), ErrorCode::Protocol, "{kind:?} {body}");
    }
}

#[tokio::test]
async fn error_responses_in_each_backend_s_shape_are_typed() {
    let cases: &[(ProviderKind, &str, &str, ErrorCode)] = &[
        (
            ProviderKind::KoboldCpp,
            "503 Service Unavailable",
            r#"{"detail":{"msg":"Server is busy; please try again later.","type":"service_unavailable"}}"#,
            ErrorCode::Overloaded,
        ),
        (
            ProviderKind::KoboldCpp,
            "401 Unauthorized",
            r#"{"detail":{"error":"Unauthorized","msg":"Authentication key is missing or invalid.","type":"unauthorized"}}"#,
            ErrorCode::Unauthorized,
        ),
        (
            ProviderKind::KoboldCpp,
            "422 Unprocessable Entity",
            r#"{"detail":[{"loc":["body","max_length"],"msg":"ensure this value is greater than 0","type":"value_error"}]}"#,
            ErrorCode::BadRequest,
        ),
        (
            ProviderKind::LlamaCpp,
            "400 Bad Request",
            r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":9000,"n_ctx":8192}}"#,
            ErrorCode::ContextTooLong,
        ),
        (
            ProviderKind::LlamaCpp,
            "503 Service Unavailable",
            r#"{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}"#,
            ErrorCode::Overloaded,
        ),
        (
            ProviderKind::LlamaCpp,
            "401 Unauthorized",
            r#"{"error":{"code":401,"message":"Invalid API Key","type":"authentication_error"}}"#,
            ErrorCode::Unauthorized,
        ),
        (
            ProviderKind::TextCompletions,
            "400 Bad Request",
            r#"{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.","type":"BadRequestError","param":null,"code":400}"#,
            ErrorCode::ContextTooLong,
        ),
        (
            ProviderKind::TextCompletions,
            "404 Not Found",
            r#"{"object":"error","message":"The model `x` does not exist.","type":"NotFoundError","param":null,"code":404}"#,
            ErrorCode::BadRequest,
        ),
        (
            ProviderKind::TextCompletions,
            "500 Internal Server Error",
            "<html><body>oops</body></html>",
            ErrorCode::Upstream,
        ),
    ];
    for streaming in [true, false] {
        for (kind, status, body, code) in cases {
            let server = Server::always(json_status(status, body)).await;
            let (events, err) =
                collect(send(&server, *kind, streaming, DEFAULT_MAX_EVENT_BYTES).await).await;
            assert!(events.is_empty());
            let err = err.unwrap_or_else(|| panic!("{kind:?} {status}: no error"));
            assert_eq!(err.code(), *code, "{kind:?} {status} {streaming}: {err}");
        }
    }
}

#[test]
fn errors_inside_streams_are_typed() {
    let cases: &[(ProviderKind, &str, ErrorCode)] = &[
        (
            ProviderKind::LlamaCpp,
            "data: {\"content\":\"Hi\",\"stop\":false}\n\nerror: {\"code\":500,\"message\":\"slot unavailable\",\"type\":\"server_error\"}\n\n",
            ErrorCode::Upstream,
        ),
        (
            ProviderKind::LlamaCpp,
            "data: {\"error\":{\"code\":400,\"message\":\"the request exceeds the available context size\",\"type\":\"exceed_context_size_error\"}}\n\n",
            ErrorCode::ContextTooLong,
        ),
        (
            ProviderKind::TextCompletions,
            "data: {\"error\":{\"message\":\"Rate limit reached\",\"type\":\"rate_limit_error\"}}\n\n",
            ErrorCode::RateLimited,
        ),
        (
            ProviderKind::KoboldCpp,
            "event: message\ndata: {\"token\": \"Hi\", \"finish_reason\": \"error\"}\n\n",
            ErrorCode::Upstream,
        ),
        (
            ProviderKind::TextCompletions,
            "data: {\"choices\":[{\"text\":\"Hi\",\"finish_reason\":\"error\"}]}\n\n",
            ErrorCode::Upstream,
        ),
    ];
    for (kind, stream, code) in cases {
        for sizes in CHUNKINGS {
            let (_, err) = run_pure(parser(*kind), stream.as_bytes(), sizes);
            assert_eq!(err.map(|e| e.code()), Some(*code), "{kind:?} {stream}");
        }
    }
}

#[tokio::test]
async fn an_older_kobold_without_finish_reasons_ends_by_closing() {
    // KoboldCpp before finish reasons: `{"token"}` events, then the connection closes.
    let old = concat!(
        "event: message\ndata: {\"token\": \"Hello\"}\n\n",
        "event: message\ndata: {\"token\": \" there.\"}\n\n",
    );
    for sizes in CHUNKINGS {
        let (events, err) = run_pure(KoboldStream::new(), old.as_bytes(), sizes);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(
            merged(&events),
            [WireEvent::Text("Hello there.".into()), finish("stop")]
        );
    }
    let server = Server::always(sse(old.as_bytes(), 4, true)).await;
    let (events, err) = collect(
        send(
            &server,
            ProviderKind::KoboldCpp,
            true,
            DEFAULT_MAX_EVENT_BYTES,
        )
        .await,
    )
    .await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        merged(&events),
        [WireEvent::Text("Hello there.".into()), finish("stop")]
    );
    // ... but cut in the middle of an event it is still a cut-off reply,
    let (_, err) = run_pure(KoboldStream::new(), &old.as_bytes()[..old.len() - 8], &[3]);
    assert_eq!(err.unwrap().code(), ErrorCode::Truncated);
    // and an empty stream is no reply at all.
    let (_, err) = run_pure(KoboldStream::new(), b"", &[1]);
    assert_eq!(err.unwrap().code(), ErrorCode::Truncated);
}

#[tokio::test]
async fn a_cut_off_stream_is_truncated_after_its_text() {
    for kind in KINDS {
        let full = raw(kind);
        // Between events (before the one that finishes) and in the middle of it.
        let finishing = match kind {
            ProviderKind::KoboldCpp => full.rfind("event: message").unwrap(),
            ProviderKind::LlamaCpp => full.rfind("data: ").unwrap(),
            _ => full[..full.find("\"length\"").unwrap()]
                .rfind("data: ")
                .unwrap(),
        };
        for cut in [finishing, finishing + 20] {
            let server = Server::always(sse(&full.as_bytes()[..cut], 3, false)).await;
            let (events, err) =
                collect(send(&server, kind, true, DEFAULT_MAX_EVENT_BYTES).await).await;
            let err = err.unwrap_or_else(|| panic!("{kind:?} cut at {cut}: no error"));
            assert!(
                matches!(err.code(), ErrorCode::Truncated | ErrorCode::Network),
                "{kind:?} cut at {cut}: {err}"
            );
            let got = merged(&events);
            assert!(
                matches!(got.first(), Some(WireEvent::Text(t)) if t.starts_with("Hello")),
                "{kind:?}: {got:?}"
            );
        }
        // Pure, without HTTP's own framing: a clean close before the finish.
        let (events, err) = run_pure(parser(kind), &full.as_bytes()[..finishing], &[1]);
        assert_eq!(err.unwrap().code(), ErrorCode::Truncated, "{kind:?}");
        assert!(!events.is_empty());
    }
}

#[tokio::test]
async fn hostile_streams_end_in_typed_errors() {
    // One event over the cap: refused without buffering it all.
    let huge = format!(
        "event: message\ndata: {{\"token\": \"{}\", \"finish_reason\": null}}\n\n",
        "x".repeat(200_000)
    );
    let server = Server::always(sse(huge.as_bytes(), 4096, true)).await;
    let (_, err) = collect(send(&server, ProviderKind::KoboldCpp, true, 64 * 1024).await).await;
    assert_eq!(err.unwrap().code(), ErrorCode::TooLarge);
    // A whole answer over the cap too.
    let big = format!(r#"{{"content":"{}","stop":true}}"#, "y".repeat(200_000));
    let server = Server::always(json_ok(&big)).await;
    let (_, err) = collect(send(&server, ProviderKind::LlamaCpp, false, 64 * 1024).await).await;
    assert_eq!(err.unwrap().code(), ErrorCode::TooLarge);

    let garbage: &[(ProviderKind, &str)] = &[
        (
            ProviderKind::KoboldCpp,
            "event: message\ndata: {\"token\": \"Hi\"\n\n",
        ),
        (ProviderKind::KoboldCpp, "event: message\ndata: [1, 2]\n\n"),
        (ProviderKind::LlamaCpp, "data: not json at all\n\n"),
        (ProviderKind::LlamaCpp, "data: \"a string\"\n\n"),
        (ProviderKind::TextCompletions, "data: {\"choices\": [\n\n"),
    ];
    for (kind, body) in garbage {
        let server = Server::always(sse(body.as_bytes(), 2, true)).await;
        let (_, err) = collect(send(&server, *kind, true, DEFAULT_MAX_EVENT_BYTES).await).await;
        assert_eq!(err.unwrap().code(), ErrorCode::Protocol, "{kind:?} {body}");
    }
    // Invalid UTF-8 and odd field types never stall or panic.
    let odd = b"event: message\ndata: {\"token\": \"a\xffb\", \"finish_reason\": null}\n\nevent: message\ndata: {\"token\": 5, \"finish_reason\": 7}\n\nevent: message\ndata: {\"token\": \"\", \"finish_reason\": \"stop\"}\n\n";
    let (events, err) = run_pure(KoboldStream::new(), odd, &[1]);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        merged(&events),
        [WireEvent::Text("a\u{FFFD}b".into()), finish("stop")]
    );
    // Anything after the end is not part of the reply.
    let after = format!("{LLAMA_SSE}data: {{\"content\":\"more\",\"stop\":false}}\n\n");
    let (events, err) = run_pure(LlamaCppStream::new(), after.as_bytes(), &[5]);
    assert!(err.is_none());
    assert_eq!(merged(&events), expected(ProviderKind::LlamaCpp));
}

#[tokio::test]
async fn a_silent_server_times_out() {
    // Headers, one token, then nothing: the idle timeout ends the wait.
    let first = b"event: message\ndata: {\"token\": \"Hi\", \"finish_reason\": null}\n\n";
    let server = Server::always(Reply::ThenTicking(
        vec![SSE_HEAD.to_vec(), http_chunk(first)],
        Vec::new(),
    ))
    .await;
    let c = config(ProviderKind::KoboldCpp, &server.root(), true);
    let req = build_text_request(&c, "", &text_prompt(), None).unwrap();
    let mut stream = start_reply(
        &client(),
        &c,
        &req,
        Duration::from_millis(300),
        DEFAULT_MAX_EVENT_BYTES,
    )
    .await
    .unwrap();
    assert_eq!(
        stream.next().await.unwrap().unwrap(),
        WireEvent::Text("Hi".into())
    );
    let err = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("bounded")
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Timeout);
}

/// A KoboldCpp that streams a token every 20 ms until the client goes, and
/// answers `/api/extra/abort` as `abort_reply` says.
async fn endless_kobold(abort_reply: Reply) -> Server {
    let token = b"event: message\ndata: {\"token\": \" more\", \"finish_reason\": null}\n\n";
    Server::start(move |req| match req.path.as_str() {
        "/api/extra/abort" => abort_reply.clone(),
        _ => Reply::ThenTicking(
            vec![SSE_HEAD.to_vec(), http_chunk(token)],
            http_chunk(token),
        ),
    })
    .await
}

async fn wait_until(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..250 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn stopping_kobold_aborts_on_the_server_with_the_genkey() {
    let server = endless_kobold(json_ok(r#"{"success": "true", "done": "true"}"#)).await;
    let c = config(ProviderKind::KoboldCpp, &server.root(), true);
    let req = build_text_request(&c, "", &text_prompt(), None).unwrap();
    let http = client();
    let mut stream = start_reply(&http, &c, &req, IDLE, DEFAULT_MAX_EVENT_BYTES)
        .await
        .unwrap();
    assert!(matches!(stream.next().await, Some(Ok(WireEvent::Text(_)))));
    let aborted = abort(&http, &c, "KCPPtest", None, Duration::from_secs(2))
        .await
        .unwrap();
    assert!(aborted);
    drop(stream);
    assert!(
        wait_until(|| server.client_gone()).await,
        "the connection closed"
    );
    let seen = server.seen();
    let abort_req = seen
        .iter()
        .find(|s| s.path == "/api/extra/abort")
        .expect("abort was called");
    assert_eq!(abort_req.method, "POST");
    assert_eq!(abort_req.json(), serde_json::json!({"genkey": "KCPPtest"}));
    let generate = seen
        .iter()
        .find(|s| s.path == "/api/extra/generate/stream")
        .unwrap();
    assert_eq!(generate.json()["genkey"], "KCPPtest");
}

#[tokio::test]
async fn a_server_that_ignores_abort_still_lets_the_client_go() {
    // The abort answers "no" and the stream goes on: dropping the stream ends it.
    let server = endless_kobold(json_ok(r#"{"success": "false"}"#)).await;
    let c = config(ProviderKind::KoboldCpp, &server.root(), true);
    let req = build_text_request(&c, "", &text_prompt(), None).unwrap();
    let http = client();
    let mut stream = start_reply(&http, &c, &req, IDLE, DEFAULT_MAX_EVENT_BYTES)
        .await
        .unwrap();
    for _ in 0..3 {
        assert!(matches!(stream.next().await, Some(Ok(WireEvent::Text(_)))));
    }
    assert!(!abort(&http, &c, "KCPPtest", None, Duration::from_secs(2))
        .await
        .unwrap());
    drop(stream);
    assert!(wait_until(|| server.client_gone()).await);

    // An abort endpoint that never answers costs at most the abort's timeout.
    let server = endless_kobold(Reply::Hang).await;
    let c = config(ProviderKind::KoboldCpp, &server.root(), true);
    let started = std::time::Instant::now();
    let err = abort(&http, &c, "KCPPtest", None, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Timeout);
    assert!(started.elapsed() < Duration::from_secs(5));
    // An abort refused with an error status is that status's error.
    let server = endless_kobold(json_status(
        "401 Unauthorized",
        r#"{"detail":{"msg":"bad key","type":"unauthorized"}}"#,
    ))
    .await;
    let c = config(ProviderKind::KoboldCpp, &server.root(), true);
    let err = abort(
        &http,
        &c,
        "KCPPtest",
        Some("secret-password"),
        Duration::from_secs(2),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unauthorized);
    assert!(!err.to_string().contains("secret-password"));
}
