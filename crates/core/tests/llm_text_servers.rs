//! Asking text-completion servers about themselves: token counts, llama.cpp's
//! `/props`, KoboldCpp's version, model and context length (parsers, then the
//! async calls against fake servers), and discovery telling KoboldCpp and
//! llama.cpp from other OpenAI-style servers.

mod http_support;
mod text_support;

use std::time::Duration;

use confab_core::llm::discover::looks_like_llamacpp_props;
use confab_core::llm::text::tokenize::{
    count_tokens, fetch_props, parse_kobold_model, parse_kobold_value, parse_kobold_version,
    parse_llamacpp_props, parse_token_count, ServerProps,
};
use confab_core::llm::{find_local_servers, ProviderKind};
use confab_core::ErrorCode;
use text_support::*;

const LLAMA_PROPS: &str = r#"{
  "default_generation_settings": {"id": 0, "n_ctx": 8192, "params": {"temperature": 0.8}},
  "total_slots": 1,
  "model_path": "/models/Qwen3-8B-Q4_K_M.gguf",
  "chat_template": "{% for message in messages %}<|im_start|>{{ message.role }}\n{{ message.content }}<|im_end|>\n{% endfor %}",
  "bos_token": "<|endoftext|>",
  "eos_token": "<|im_end|>",
  "build_info": "b5000-abcdef0"
}"#;

#[test]
fn token_counts_are_read_from_each_backend() {
    assert_eq!(
        parse_token_count(ProviderKind::LlamaCpp, br#"{"tokens":[1,2,3,4]}"#).unwrap(),
        4
    );
    assert_eq!(
        parse_token_count(
            ProviderKind::LlamaCpp,
            br#"{"tokens":[{"id":1,"piece":"a"},{"id":2,"piece":"b"}]}"#
        )
        .unwrap(),
        2
    );
    assert_eq!(
        parse_token_count(ProviderKind::KoboldCpp, br#"{"value":17,"ids":[1]}"#).unwrap(),
        17
    );
    for (kind, body) in [
        (ProviderKind::LlamaCpp, &br#"{"value":3}"#[..]),
        (ProviderKind::KoboldCpp, br#"{"value":-1}"#),
        (ProviderKind::KoboldCpp, br#"{"value":99999999999}"#),
        (ProviderKind::KoboldCpp, b"nope"),
    ] {
        assert_eq!(
            parse_token_count(kind, body).unwrap_err().code(),
            ErrorCode::Protocol
        );
    }
}

#[test]
fn llamacpp_props_and_kobold_identity_are_read() {
    let p = parse_llamacpp_props(LLAMA_PROPS.as_bytes()).unwrap();
    assert_eq!(
        p,
        ServerProps {
            chat_template: Some(
                "{% for message in messages %}<|im_start|>{{ message.role }}\n{{ message.content }}<|im_end|>\n{% endfor %}".into()
            ),
            bos_token: Some("<|endoftext|>".into()),
            eos_token: Some("<|im_end|>".into()),
            context_length: Some(8192),
            model: Some("/models/Qwen3-8B-Q4_K_M.gguf".into()),
            version: Some("b5000-abcdef0".into()),
        }
    );
    // Older servers: fewer fields, none required.
    let p = parse_llamacpp_props(br#"{"total_slots":1,"chat_template":""}"#).unwrap();
    assert_eq!(p, ServerProps::default());
    assert_eq!(
        parse_llamacpp_props(b"[1]").unwrap_err().code(),
        ErrorCode::Protocol
    );
    assert!(looks_like_llamacpp_props(LLAMA_PROPS.as_bytes()));
    assert!(!looks_like_llamacpp_props(br#"{"data":[]}"#));
    assert!(!looks_like_llamacpp_props(b"<html>"));

    assert_eq!(
        parse_kobold_version(
            br#"{"result":"KoboldCpp","version":"1.82.4","protected":false,"txt2img":false}"#
        )
        .unwrap(),
        "1.82.4"
    );
    assert_eq!(
        parse_kobold_version(br#"{"result":"Something else"}"#)
            .unwrap_err()
            .code(),
        ErrorCode::Protocol
    );
    assert_eq!(
        parse_kobold_model(br#"{"result":"koboldcpp/Mistral-Nemo-12B"}"#).unwrap(),
        "Mistral-Nemo-12B"
    );
    assert_eq!(
        parse_kobold_model(br#"{"result":"plain"}"#).unwrap(),
        "plain"
    );
    assert_eq!(parse_kobold_value(br#"{"value":16384}"#).unwrap(), 16384);
}

/// KoboldCpp's `/props`: the template as the GGUF carries it, one slot, its window.
const KOBOLD_PROPS: &str = r#"{"chat_template":"{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}","total_slots":1,"default_generation_settings":{"n_ctx":16384}}"#;

fn kobold_route(req: &Seen) -> Reply {
    match req.path.as_str() {
        "/api/extra/version" => json_ok(r#"{"result":"KoboldCpp","version":"1.82.4"}"#),
        "/api/v1/model" => json_ok(r#"{"result":"koboldcpp/Nemo-12B"}"#),
        "/api/extra/true_max_context_length" => json_ok(r#"{"value":16384}"#),
        // KoboldCpp (since late 2024) answers llama.cpp's /props with the loaded model's chat template.
        "/props" => json_ok(KOBOLD_PROPS),
        "/api/extra/tokencount" => json_ok(r#"{"value":5,"ids":[1,2,3,4,5]}"#),
        "/v1/models" => json_ok(
            r#"{"object":"list","data":[{"id":"koboldcpp/Nemo-12B","object":"model","created":1,"owned_by":"koboldcpp","permission":[],"root":"koboldcpp"}]}"#,
        ),
        _ => json_status("404 Not Found", r#"{"detail":"Not Found"}"#),
    }
}

fn llama_route(req: &Seen) -> Reply {
    match req.path.as_str() {
        "/props" => json_ok(LLAMA_PROPS),
        "/tokenize" => json_ok(r#"{"tokens":[9707,1879,0]}"#),
        "/v1/models" => json_ok(
            r#"{"object":"list","data":[{"id":"Qwen3-8B-Q4_K_M.gguf","object":"model","owned_by":"llamacpp","meta":{"n_ctx_train":40960}}]}"#,
        ),
        _ => json_status(
            "404 Not Found",
            r#"{"error":{"code":404,"message":"File Not Found","type":"not_found_error"}}"#,
        ),
    }
}

#[tokio::test]
async fn counting_tokens_and_fetching_props_over_http() {
    let kobold = Server::start(kobold_route).await;
    let c = config(ProviderKind::KoboldCpp, &kobold.root(), true);
    let t = Duration::from_secs(3);
    assert_eq!(
        count_tokens(&client(), &c, "Hello", None, t).await.unwrap(),
        5
    );
    let seen = kobold.seen();
    assert_eq!(seen[0].json(), serde_json::json!({"prompt": "Hello"}));
    let props = fetch_props(&client(), &c, Some("pw"), t).await.unwrap();
    assert_eq!(
        props,
        ServerProps {
            chat_template: Some(
                "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
                    .into()
            ),
            context_length: Some(16384),
            model: Some("Nemo-12B".into()),
            version: Some("1.82.4".into()),
            ..ServerProps::default()
        }
    );
    assert!(kobold
        .seen()
        .iter()
        .skip(1)
        .all(|s| s.method == "GET" && s.header("authorization") == Some("Bearer pw")));

    let llama = Server::start(llama_route).await;
    let c = config(ProviderKind::LlamaCpp, &llama.root(), true);
    assert_eq!(
        count_tokens(&client(), &c, "Hi!", None, t).await.unwrap(),
        3
    );
    assert_eq!(
        llama.seen()[0].json(),
        serde_json::json!({"content": "Hi!"})
    );
    let props = fetch_props(&client(), &c, None, t).await.unwrap();
    assert_eq!(props.context_length, Some(8192));
    assert_eq!(props.eos_token.as_deref(), Some("<|im_end|>"));

    // A KoboldCpp too old for the model and context endpoints still identifies.
    let old = Server::start(|req: &Seen| match req.path.as_str() {
        "/api/extra/version" => json_ok(r#"{"result":"KoboldCpp","version":"1.40"}"#),
        _ => json_status("404 Not Found", r#"{"detail":"Not Found"}"#),
    })
    .await;
    let c = config(ProviderKind::KoboldCpp, &old.root(), true);
    let props = fetch_props(&client(), &c, None, t).await.unwrap();
    assert_eq!(props.version.as_deref(), Some("1.40"));
    assert_eq!(props.model, None);
    assert_eq!(
        props.chat_template, None,
        "no /props: the model's name picks the template"
    );
    // A server that is not KoboldCpp, and one that errs, are typed errors.
    let c = config(ProviderKind::KoboldCpp, &llama.root(), true);
    assert_eq!(
        fetch_props(&client(), &c, None, t)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::BadRequest
    );
    let busy = Server::always(json_status(
        "503 Service Unavailable",
        r#"{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}"#,
    ))
    .await;
    let c = config(ProviderKind::LlamaCpp, &busy.root(), true);
    assert_eq!(
        count_tokens(&client(), &c, "x", None, t)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Overloaded
    );
    // A server that never answers costs the timeout.
    let hang = Server::always(Reply::Hang).await;
    let c = config(ProviderKind::LlamaCpp, &hang.root(), true);
    assert_eq!(
        fetch_props(&client(), &c, None, Duration::from_millis(200))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Timeout
    );
    // Chat kinds have no tokenizer endpoint.
    let c = config(ProviderKind::TextCompletions, &llama.root(), true);
    assert_eq!(
        count_tokens(&client(), &c, "x", None, t)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::InvalidInput
    );
}

#[tokio::test]
async fn discovery_tells_kobold_and_llamacpp_from_other_servers() {
    let kobold = Server::start(kobold_route).await;
    let llama = Server::start(llama_route).await;
    // A llama.cpp still loading its model: /props answers, /v1/models does not.
    let loading = Server::start(|req: &Seen| match req.path.as_str() {
        "/props" => json_ok(r#"{"total_slots":1,"default_generation_settings":{"n_ctx":4096}}"#),
        _ => json_status(
            "503 Service Unavailable",
            r#"{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}"#,
        ),
    })
    .await;
    // vLLM-like: /v1/models only; /props and /api/extra/version are 404s.
    let generic = Server::start(|req: &Seen| match req.path.as_str() {
        "/v1/models" => json_ok(
            r#"{"object":"list","data":[{"id":"Qwen/Qwen3-8B","object":"model","owned_by":"vllm","max_model_len":32768}]}"#,
        ),
        "/health" => json_ok("{}"),
        _ => json_status("404 Not Found", r#"{"detail":"Not Found"}"#),
    })
    .await;
    // A web page on every path.
    let html = Server::always(response("200 OK", "text/html", b"<html>hi</html>")).await;
    let ports = [
        kobold.addr.port(),
        llama.addr.port(),
        loading.addr.port(),
        generic.addr.port(),
        html.addr.port(),
    ];
    let found = find_local_servers(&ports, Duration::from_secs(2)).await;
    let summary: Vec<(u16, ProviderKind, &str, String, usize)> = found
        .iter()
        .map(|s| {
            (
                s.port,
                s.kind,
                s.kind_guess.as_str(),
                s.kind_base_url.clone(),
                s.models.len(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                ports[0],
                ProviderKind::KoboldCpp,
                "koboldcpp",
                kobold.root(),
                1
            ),
            (
                ports[1],
                ProviderKind::LlamaCpp,
                "llama.cpp",
                llama.root(),
                1
            ),
            (
                ports[2],
                ProviderKind::LlamaCpp,
                "llama.cpp",
                loading.root(),
                0
            ),
            (
                ports[3],
                ProviderKind::OpenAiCompatible,
                "openai-compatible",
                format!("{}/v1", generic.root()),
                1
            ),
        ]
    );
    for s in &found {
        assert_eq!(s.base_url, format!("http://127.0.0.1:{}/v1", s.port));
    }
    let json = serde_json::to_value(&found[0]).unwrap();
    assert_eq!(json["kind"], "koboldCpp");
    assert_eq!(json["kindBaseUrl"], kobold.root());
}

#[tokio::test]
async fn text_completion_providers_are_saved_and_loaded_with_their_samplers() {
    use confab_core::llm::{DrySettings, ProviderConfig};
    use confab_core::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    for kind in [
        ProviderKind::KoboldCpp,
        ProviderKind::LlamaCpp,
        ProviderKind::TextCompletions,
    ] {
        let mut c = ProviderConfig::new(kind, "Local");
        c.generation.top_k = Some(40);
        c.generation.dry = Some(DrySettings::default());
        c.generation.grammar = Some("root ::= \"a\"".into());
        let saved = store.save_provider(&c).await.unwrap();
        assert_eq!(store.provider(&saved.id).await.unwrap(), c);
    }
    assert_eq!(store.providers().await.unwrap().len(), 3);
    store.close().await;
}
