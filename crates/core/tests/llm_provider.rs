//! Provider requests, model lists and local discovery, without the internet.

mod http_support;

use std::time::{Duration, Instant};

use confab_core::llm::{
    build_request, find_local_servers, models_request, models_url, parse_models, parser_for,
    ImagePart, ModelInfo, ProviderConfig, ProviderKind, SseDecoder, WireEvent,
};
use confab_core::prompt::PromptMessage;
use confab_core::session::Role;
use confab_core::ErrorCode;
use serde_json::json;

const KEY: &str = "sk-test-SECRETSECRET0123456789";

fn msg(role: Role, content: &str) -> PromptMessage {
    PromptMessage {
        role,
        content: content.into(),
    }
}

fn png() -> ImagePart {
    ImagePart {
        mime: "image/png".into(),
        bytes: vec![1, 2, 3],
    }
}

fn config(kind: ProviderKind) -> ProviderConfig {
    let mut c = ProviderConfig::new(kind, "Test");
    c.default_model = "m".into();
    c
}

#[test]
fn defaults_per_kind() {
    let or = ProviderConfig::new(ProviderKind::OpenRouter, "OR");
    assert_eq!(or.base_url, "https://openrouter.ai/api/v1");
    assert_eq!(or.extra_headers["X-Title"], "Confab");
    assert!(or.extra_headers.contains_key("HTTP-Referer"));
    assert!(or.streaming);
    assert_eq!(
        ProviderConfig::new(ProviderKind::OpenAi, "x").base_url,
        "https://api.openai.com/v1"
    );
    assert_eq!(
        ProviderConfig::new(ProviderKind::Anthropic, "x").base_url,
        "https://api.anthropic.com/v1"
    );
    let local = ProviderConfig::new(ProviderKind::OpenAiCompatible, "x");
    assert_eq!(local.base_url, "http://127.0.0.1:8080/v1");
    assert!(local.extra_headers.is_empty());
    let json = serde_json::to_value(&or).unwrap();
    assert_eq!(json["kind"], "openRouter");
    assert!(json.get("baseUrl").is_some() && json.get("defaultModel").is_some());
    assert!(json.get("apiKey").is_none());
    let back: ProviderConfig = serde_json::from_value(json).unwrap();
    assert_eq!(back, or);
}

#[test]
fn openai_streaming_request() {
    let c = config(ProviderKind::OpenAi);
    let prompt = [
        msg(Role::System, "You are Ann."),
        msg(Role::User, "Hi"),
        msg(Role::Assistant, "Hello"),
    ];
    let req = build_request(&c, "gpt-4o", &prompt, &[], Some(KEY)).unwrap();
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, "https://api.openai.com/v1/chat/completions");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(
        req.body,
        json!({
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "You are Ann."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello"}
            ],
            "stream": true,
            "stream_options": {"include_usage": true}
        })
    );
}

#[test]
fn openai_non_streaming_with_settings_images_and_extra_headers() {
    let mut c = config(ProviderKind::OpenRouter);
    c.base_url = "https://openrouter.ai/api/v1///".into();
    c.streaming = false;
    c.generation.temperature = Some(0.7);
    c.generation.top_p = Some(0.9);
    c.generation.max_tokens = Some(300);
    c.generation.stop = vec!["\nUser:".into()];
    c.extra_headers.insert("X-Title".into(), "Mine".into());
    c.extra_headers.insert("X-Custom".into(), "1".into());
    let prompt = [msg(Role::User, "What is this?")];
    let req = build_request(&c, "openai/gpt-4o", &prompt, &[(0, png())], Some(KEY)).unwrap();
    assert_eq!(req.url, "https://openrouter.ai/api/v1/chat/completions");
    assert_eq!(
        req.body,
        json!({
            "model": "openai/gpt-4o",
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AQID"}}
            ]}],
            "stream": false,
            "temperature": 0.7,
            "top_p": 0.9,
            "max_tokens": 300,
            "stop": ["\nUser:"]
        })
    );
    // Extra headers come last and replace a same-named one.
    let names: Vec<&str> = req.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names
            .iter()
            .filter(|n| n.eq_ignore_ascii_case("x-title"))
            .count(),
        1
    );
    assert_eq!(req.header("X-Title"), Some("Mine"));
    assert_eq!(req.header("X-Custom"), Some("1"));
    assert!(req.header("HTTP-Referer").is_some());
    let last = &req.headers[req.headers.len() - 1];
    assert!(last.0 == "X-Title" || last.0 == "X-Custom" || last.0 == "HTTP-Referer");
}

#[test]
fn compatible_server_without_key_sends_no_authorization() {
    let mut c = config(ProviderKind::OpenAiCompatible);
    c.base_url = "http://127.0.0.1:11434/v1/".into();
    let req = build_request(&c, "llama3", &[msg(Role::User, "x")], &[], None).unwrap();
    assert_eq!(req.url, "http://127.0.0.1:11434/v1/chat/completions");
    assert!(req.header("authorization").is_none());
    let req = build_request(&c, "llama3", &[msg(Role::User, "x")], &[], Some("  ")).unwrap();
    assert!(req.header("authorization").is_none());
}

#[test]
fn anthropic_request_system_merging_and_defaults() {
    let c = config(ProviderKind::Anthropic);
    // The opening system messages become `system`; a later one (a note at a
    // depth) keeps its place in the chat as a user turn, as SillyTavern sends it.
    let prompt = [
        msg(Role::System, "Be Ann."),
        msg(Role::System, "Author's note."),
        msg(Role::User, "Hi"),
        msg(Role::System, "World: Eldoria."),
        msg(Role::User, "Still there?"),
        msg(Role::Assistant, "Yes."),
        msg(Role::Assistant, "Always."),
        msg(Role::User, "Good"),
    ];
    let req = build_request(&c, "claude-sonnet-4", &prompt, &[], Some(KEY)).unwrap();
    assert_eq!(req.url, "https://api.anthropic.com/v1/messages");
    assert_eq!(req.header("x-api-key"), Some(KEY));
    assert_eq!(req.header("anthropic-version"), Some("2023-06-01"));
    assert!(req.header("authorization").is_none());
    assert_eq!(
        req.body,
        json!({
            "model": "claude-sonnet-4",
            "max_tokens": 1024,
            "system": "Be Ann.\n\nAuthor's note.",
            "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "Hi"},
                    {"type": "text", "text": "World: Eldoria."},
                    {"type": "text", "text": "Still there?"}
                ]},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "Yes."},
                    {"type": "text", "text": "Always."}
                ]},
                {"role": "user", "content": "Good"}
            ],
            "stream": true
        })
    );
}

#[test]
fn anthropic_with_settings_images_and_an_assistant_opening() {
    let mut c = config(ProviderKind::Anthropic);
    c.streaming = false;
    c.generation.temperature = Some(1.0);
    c.generation.max_tokens = Some(2000);
    c.generation.stop = vec!["END".into()];
    c.extra_headers.insert("anthropic-beta".into(), "x".into());
    let prompt = [
        msg(Role::Assistant, "*waves* Hello!"),
        msg(Role::User, "Look"),
        msg(Role::Assistant, "It is a "),
    ];
    let jpeg = ImagePart {
        mime: "image/jpeg".into(),
        bytes: b"hi".to_vec(),
    };
    let req = build_request(&c, "claude", &prompt, &[(1, jpeg)], Some(KEY)).unwrap();
    assert_eq!(req.header("anthropic-beta"), Some("x"));
    assert_eq!(
        req.body,
        json!({
            "model": "claude",
            "max_tokens": 2000,
            "messages": [
                {"role": "user", "content": "[Start a new chat]"},
                {"role": "assistant", "content": "*waves* Hello!"},
                {"role": "user", "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "aGk="}},
                    {"type": "text", "text": "Look"}
                ]},
                {"role": "assistant", "content": "It is a"}
            ],
            "stream": false,
            "temperature": 1.0,
            "stop_sequences": ["END"]
        })
    );
}

#[test]
fn bad_input_is_refused_without_showing_the_key() {
    let c = config(ProviderKind::OpenAi);
    let user = [msg(Role::User, "x")];
    let codes = [
        build_request(&c, "", &user, &[], Some(KEY)).unwrap_err(),
        build_request(&c, "m", &user, &[(3, png())], Some(KEY)).unwrap_err(),
        build_request(
            &c,
            "m",
            &[msg(Role::Assistant, "x")],
            &[(0, png())],
            Some(KEY),
        )
        .unwrap_err(),
        build_request(
            &c,
            "m",
            &user,
            &[(
                0,
                ImagePart {
                    mime: "text/plain".into(),
                    bytes: vec![],
                },
            )],
            Some(KEY),
        )
        .unwrap_err(),
        build_request(&c, "m", &user, &[], Some("sk-abc\ndef-SECRETSECRET")).unwrap_err(),
        {
            let mut bad = c.clone();
            bad.base_url = "api.openai.com".into();
            build_request(&bad, "m", &user, &[], Some(KEY)).unwrap_err()
        },
        {
            let mut bad = c.clone();
            bad.extra_headers
                .insert("X-Key".into(), format!("{KEY}\r\nEvil: 1"));
            build_request(&bad, "m", &user, &[], Some(KEY)).unwrap_err()
        },
    ];
    for err in codes {
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");
        let text = format!("{err} {err:?}");
        assert!(!text.contains("SECRET"), "{text}");
    }
    let missing = build_request(&c, "m", &user, &[], None).unwrap_err();
    assert_eq!(missing.code(), ErrorCode::Unauthorized);
}

#[test]
fn debug_hides_credentials() {
    let mut c = config(ProviderKind::OpenRouter);
    c.extra_headers
        .insert("X-Api-Key".into(), "SECRET-extra".into());
    let req = build_request(&c, "m", &[msg(Role::User, "hello")], &[], Some(KEY)).unwrap();
    let debug = format!("{req:?} {req:#?}");
    assert!(!debug.contains("SECRET"), "{debug}");
    assert!(debug.contains("[redacted]"));
    assert!(debug.contains("Authorization"));
    assert!(debug.contains("hello") && debug.contains("Confab"));

    let a = build_request(
        &config(ProviderKind::Anthropic),
        "m",
        &[msg(Role::User, "x")],
        &[],
        Some(KEY),
    )
    .unwrap();
    let debug = format!("{a:?}");
    assert!(
        !debug.contains("SECRET") && debug.contains("x-api-key"),
        "{debug}"
    );

    let m = models_request(&config(ProviderKind::OpenAi), Some(KEY)).unwrap();
    assert_eq!(m.method, "GET");
    assert!(!format!("{m:?}").contains("SECRET"));
    assert!(!format!("{:?}", png()).contains("[1, 2, 3]"));
}

fn run(kind: ProviderKind, sse: &str) -> Vec<WireEvent> {
    let mut p = parser_for(kind);
    let mut out = Vec::new();
    for ev in SseDecoder::new().feed(sse.as_bytes()).unwrap() {
        out.extend(p.on_event(&ev).unwrap());
    }
    out
}

#[test]
fn parsers_follow_the_kind() {
    let openai = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n";
    let got = run(ProviderKind::OpenRouter, openai);
    assert!(got.contains(&WireEvent::Text("Hi".into())), "{got:?}");
    let anthropic = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Yo\"}}\n\n";
    let got = run(ProviderKind::Anthropic, anthropic);
    assert!(got.contains(&WireEvent::Text("Yo".into())), "{got:?}");
}

#[test]
fn model_urls() {
    assert_eq!(
        models_url(&config(ProviderKind::OpenRouter)),
        "https://openrouter.ai/api/v1/models"
    );
    assert_eq!(
        models_url(&config(ProviderKind::Anthropic)),
        "https://api.anthropic.com/v1/models?limit=1000"
    );
    let m = models_request(&config(ProviderKind::Anthropic), Some(KEY)).unwrap();
    assert_eq!(m.header("anthropic-version"), Some("2023-06-01"));
}

fn ids(models: &[ModelInfo]) -> Vec<&str> {
    models.iter().map(|m| m.id.as_str()).collect()
}

#[test]
fn openrouter_models() {
    let body = br#"{"data":[
        {"id":"openai/gpt-4o","name":"OpenAI: GPT-4o","context_length":128000,
         "pricing":{"prompt":"0.0000025","completion":"0.00001"}},
        {"id":"meta/llama:free","name":"Meta: Llama (free)","context_length":8192,
         "pricing":{"prompt":"0","completion":"0"}},
        {"id":"openrouter/auto","name":"Auto Router","context_length":2000000,
         "pricing":{"prompt":"-1","completion":"-1"}}
    ]}"#;
    let models = parse_models(ProviderKind::OpenRouter, body).unwrap();
    assert_eq!(
        ids(&models),
        ["openrouter/auto", "meta/llama:free", "openai/gpt-4o"]
    );
    let gpt = &models[2];
    assert_eq!(gpt.name, "OpenAI: GPT-4o");
    assert_eq!(gpt.context_length, Some(128000));
    assert_eq!(gpt.prompt_price_per_million, Some(2.5));
    assert_eq!(gpt.completion_price_per_million, Some(10.0));
    assert_eq!(models[1].prompt_price_per_million, Some(0.0));
    assert_eq!(models[0].prompt_price_per_million, None);
    let json = serde_json::to_value(gpt).unwrap();
    assert_eq!(json["contextLength"], 128000);
    assert_eq!(json["promptPricePerMillion"], 2.5);
}

#[test]
fn openai_and_local_model_lists() {
    let openai = br#"{"object":"list","data":[
        {"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"},
        {"id":"dall-e-3","object":"model","created":1698785189,"owned_by":"system"}]}"#;
    let m = parse_models(ProviderKind::OpenAi, openai).unwrap();
    assert_eq!(ids(&m), ["dall-e-3", "gpt-4o"]);
    assert_eq!(m[1].name, "gpt-4o");
    assert_eq!(m[1].context_length, None);

    let ollama = br#"{"object":"list","data":[{"id":"llama3:latest","object":"model","created":1,"owned_by":"library"}]}"#;
    assert_eq!(
        ids(&parse_models(ProviderKind::OpenAiCompatible, ollama).unwrap()),
        ["llama3:latest"]
    );

    let llamacpp = br#"{"models":[{"name":"m.gguf","model":"m.gguf"}],"object":"list","data":[
        {"id":"m.gguf","object":"model","created":1,"owned_by":"llamacpp",
         "meta":{"vocab_type":2,"n_vocab":128256,"n_ctx_train":131072,"n_embd":4096}}]}"#;
    let m = parse_models(ProviderKind::OpenAiCompatible, llamacpp).unwrap();
    assert_eq!(ids(&m), ["m.gguf"]);
    assert_eq!(
        m[0].context_length, None,
        "n_ctx_train is not the server's window"
    );

    let lmstudio = br#"{"data":[{"id":"qwen2-7b-instruct","object":"model","owned_by":"organization_owner"},
        {"id":"text-embedding-nomic","object":"model","owned_by":"organization_owner"}],"object":"list"}"#;
    assert_eq!(
        ids(&parse_models(ProviderKind::OpenAiCompatible, lmstudio).unwrap()),
        ["qwen2-7b-instruct", "text-embedding-nomic"]
    );

    let kobold = br#"{"object":"list","data":[{"id":"koboldcpp/Mistral","object":"model","created":1,"owned_by":"koboldcpp","permission":[],"root":"koboldcpp"}]}"#;
    assert_eq!(
        ids(&parse_models(ProviderKind::OpenAiCompatible, kobold).unwrap()),
        ["koboldcpp/Mistral"]
    );

    let tags = br#"{"models":[{"name":"qwen:7b","model":"qwen:7b","size":1}]}"#;
    assert_eq!(
        ids(&parse_models(ProviderKind::OpenAiCompatible, tags).unwrap()),
        ["qwen:7b"]
    );

    let dupes = br#"{"data":[{"id":"a"},{"id":"a"}]}"#;
    assert_eq!(
        parse_models(ProviderKind::OpenAiCompatible, dupes)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn anthropic_models() {
    let body = br#"{"data":[
        {"type":"model","id":"claude-3-haiku-20240307","display_name":"Claude Haiku 3","created_at":"2024-03-07T00:00:00Z"},
        {"type":"model","id":"claude-sonnet-4-20250514","display_name":"Claude Sonnet 4","created_at":"2025-05-14T00:00:00Z"}
    ],"has_more":false,"first_id":"a","last_id":"b"}"#;
    let m = parse_models(ProviderKind::Anthropic, body).unwrap();
    assert_eq!(
        ids(&m),
        ["claude-3-haiku-20240307", "claude-sonnet-4-20250514"]
    );
    assert_eq!(m[1].name, "Claude Sonnet 4");
}

#[test]
fn malformed_model_lists_are_protocol_errors() {
    let cases: [(&[u8], &str); 5] = [
        (b"<html>", "not JSON"),
        (br#"{"object":"list"}"#, "no `data`"),
        (br#"{"data":{"id":"x"}}"#, "not an array"),
        (br#"{"data":[{"id":"ok"},{"object":"model"}]}"#, "entry 1"),
        (br#"{"data":[3]}"#, "entry 0"),
    ];
    for (body, needle) in cases {
        let err = parse_models(ProviderKind::OpenAi, body).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Protocol);
        assert!(err.to_string().contains(needle), "{err}");
    }
}

/// Serves one canned HTTP response to every connection.
async fn serve(response: &'static str) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Some(request) = http_support::read(&mut sock).await else {
                    return;
                };
                assert_eq!(
                    (request.method.as_str(), request.path.as_str()),
                    ("GET", "/v1/models")
                );
                let _ = sock.write_all(response.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    port
}

/// Accepts connections and never answers.
async fn silent() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    (port, task)
}

fn http_ok(body: &str) -> &'static str {
    Box::leak(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_boxed_str(),
    )
}

#[tokio::test]
async fn discovery_finds_servers_that_answer() {
    let llama = serve(http_ok(
        r#"{"object":"list","data":[{"id":"m.gguf","object":"model","owned_by":"llamacpp"}]}"#,
    ))
    .await;
    let html = serve(http_ok("<html>hi</html>")).await;
    let not_found =
        serve("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (quiet, quiet_task) = silent().await;

    let started = Instant::now();
    let found = find_local_servers(
        &[closed, llama, html, not_found, quiet, llama],
        Duration::from_millis(700),
    )
    .await;
    let took = started.elapsed();
    quiet_task.abort();

    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(found.len(), 1, "{found:?}");
    let s = &found[0];
    assert_eq!(s.port, llama);
    assert_eq!(s.kind_guess, "llama.cpp");
    assert_eq!(s.base_url, format!("http://127.0.0.1:{llama}/v1"));
    assert_eq!(ids(&s.models), ["m.gguf"]);
    let json = serde_json::to_value(s).unwrap();
    assert_eq!(json["kindGuess"], "llama.cpp");
}

#[tokio::test]
async fn discovery_of_nothing_is_quick_and_empty() {
    assert!(find_local_servers(&[], Duration::from_millis(100))
        .await
        .is_empty());
    let (quiet, task) = silent().await;
    let started = Instant::now();
    assert!(find_local_servers(&[quiet], Duration::from_millis(200))
        .await
        .is_empty());
    assert!(started.elapsed() < Duration::from_secs(3));
    task.abort();
}

#[test]
fn openrouter_cache_prices_are_read_per_million() {
    let body = br#"{"data":[
        {"id":"anthropic/claude-sonnet-4.5","name":"Claude","context_length":200000,
         "pricing":{"prompt":"0.000003","completion":"0.000015","input_cache_read":"0.0000003","input_cache_write":"0.00000375"}},
        {"id":"openai/gpt-4o-mini","name":"GPT","pricing":{"prompt":"0.00000015","completion":"0.0000006","input_cache_read":"0.000000075"}},
        {"id":"x/plain","name":"Plain","pricing":{"prompt":"0.000001","completion":"0.000001"}}]}"#;
    let models = parse_models(ProviderKind::OpenRouter, body).unwrap();
    let by = |id: &str| models.iter().find(|m| m.id == id).unwrap();
    let claude = by("anthropic/claude-sonnet-4.5");
    assert_eq!(claude.cache_read_price_per_million, Some(0.3));
    assert_eq!(claude.cache_write_price_per_million, Some(3.75));
    let gpt = by("openai/gpt-4o-mini");
    assert_eq!(gpt.cache_read_price_per_million, Some(0.075));
    assert_eq!(gpt.cache_write_price_per_million, None);
    assert_eq!(by("x/plain").cache_read_price_per_million, None);
    // A list cached before these fields existed still reads.
    let old: Vec<ModelInfo> = serde_json::from_str(
        r#"[{"id":"a","name":"a","contextLength":null,"promptPricePerMillion":1.0,"completionPricePerMillion":2.0}]"#,
    )
    .unwrap();
    assert_eq!(old[0].cache_read_price_per_million, None);
}
