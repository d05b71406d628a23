//! Text-completion requests, built without a network: each backend's body
//! field by field, with and without samplers; the chat kinds' bodies unchanged
//! unless a sampler they accept is set; abort, tokenizer and property requests.

use confab_core::llm::text::tokenize::{props_requests, tokenize_request};
use confab_core::llm::{
    abort_request, build_request, build_text_request, new_genkey, supported_samplers,
    text_request_body, DrySettings, GenerationSettings, MirostatSettings, ProviderConfig,
    ProviderKind, Sampler, TextPrompt, XtcSettings,
};
use confab_core::prompt::PromptMessage;
use confab_core::session::Role;
use confab_core::ErrorCode;
use serde_json::{json, Value};

fn config(kind: ProviderKind, streaming: bool) -> ProviderConfig {
    let mut c = ProviderConfig::new(kind, "Local");
    c.streaming = streaming;
    c
}

fn every_sampler() -> GenerationSettings {
    GenerationSettings {
        temperature: Some(0.7),
        top_p: Some(0.9),
        max_tokens: Some(300),
        stop: vec!["\nUser:".into(), String::new()],
        top_k: Some(40),
        min_p: Some(0.05),
        typical_p: Some(0.95),
        repetition_penalty: Some(1.1),
        repetition_penalty_range: Some(1024),
        repetition_penalty_slope: Some(0.7),
        presence_penalty: Some(0.2),
        frequency_penalty: Some(0.3),
        dry: Some(DrySettings {
            multiplier: 0.8,
            base: 1.75,
            allowed_length: 2,
            sequence_breakers: vec!["\n".into(), "*".into()],
        }),
        xtc: Some(XtcSettings {
            threshold: 0.1,
            probability: 0.5,
        }),
        mirostat: Some(MirostatSettings {
            mode: 2,
            tau: 5.0,
            eta: 0.1,
        }),
        seed: Some(42),
        grammar: Some("root ::= \"yes\" | \"no\"".into()),
        json_schema: Some(r#"{"type":"object"}"#.into()),
    }
}

fn prompt<'a>(stop: &'a [String], genkey: Option<&'a str>) -> TextPrompt<'a> {
    TextPrompt {
        prompt: "<|user|>Hi<|assistant|>",
        stop,
        genkey,
        context_length: Some(8192),
    }
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[test]
fn kobold_body_without_samplers_is_the_prompt_and_the_server_s_defaults() {
    let c = config(ProviderKind::KoboldCpp, true);
    let stop = ["<|user|>".to_owned()];
    let req = build_text_request(&c, "", &prompt(&stop, Some("KCPP1234")), None).unwrap();
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, "http://127.0.0.1:5001/api/extra/generate/stream");
    assert_eq!(req.header("Accept"), Some("text/event-stream"));
    assert_eq!(req.header("Authorization"), None);
    assert_eq!(
        req.body,
        json!({
            "prompt": "<|user|>Hi<|assistant|>",
            "max_context_length": 8192,
            "stop_sequence": ["<|user|>"],
            "genkey": "KCPP1234",
            "trim_stop": true,
        })
    );
    let c = config(ProviderKind::KoboldCpp, false);
    let req = build_text_request(&c, "", &prompt(&[], None), Some("pw")).unwrap();
    assert_eq!(req.url, "http://127.0.0.1:5001/api/v1/generate");
    assert_eq!(req.header("Accept"), Some("application/json"));
    assert_eq!(req.header("Authorization"), Some("Bearer pw"));
    assert!(!format!("{req:?}").contains("pw\""), "the key is hidden");
}

#[test]
fn kobold_body_with_every_sampler_uses_kobold_names() {
    let mut c = config(ProviderKind::KoboldCpp, true);
    c.generation = every_sampler();
    let stop = ["<|user|>".to_owned(), "\nUser:".to_owned()];
    let body = text_request_body(&c, "", &prompt(&stop, Some("KCPPabc"))).unwrap();
    assert_eq!(
        body,
        json!({
            "prompt": "<|user|>Hi<|assistant|>",
            "max_length": 300,
            "max_context_length": 8192,
            "temperature": 0.7,
            "top_p": 0.9,
            "top_k": 40,
            "min_p": 0.05,
            "typical": 0.95,
            "rep_pen": 1.1,
            "rep_pen_range": 1024,
            "rep_pen_slope": 0.7,
            "presence_penalty": 0.2,
            "dry_multiplier": 0.8,
            "dry_base": 1.75,
            "dry_allowed_length": 2,
            "dry_sequence_breakers": ["\n", "*"],
            "xtc_threshold": 0.1,
            "xtc_probability": 0.5,
            "mirostat": 2,
            "mirostat_tau": 5.0,
            "mirostat_eta": 0.1,
            "sampler_seed": 42,
            "grammar": "root ::= \"yes\" | \"no\"",
            // configured first, then the prompt's; the empty one and the repeat dropped
            "stop_sequence": ["\nUser:", "<|user|>"],
            "genkey": "KCPPabc",
            "trim_stop": true,
        })
    );
    assert!(body.get("frequency_penalty").is_none());
    assert!(body.get("json_schema").is_none());
}

#[test]
fn llamacpp_body_without_and_with_samplers() {
    let c = config(ProviderKind::LlamaCpp, true);
    let req = build_text_request(&c, "", &prompt(&[], None), None).unwrap();
    assert_eq!(req.url, "http://127.0.0.1:8080/completion");
    assert_eq!(
        req.body,
        json!({"prompt": "<|user|>Hi<|assistant|>", "stream": true, "cache_prompt": true})
    );

    let mut c = config(ProviderKind::LlamaCpp, false);
    c.base_url = "http://127.0.0.1:8080/v1/".into(); // a pasted /v1 is taken off
    c.generation = every_sampler();
    let req = build_text_request(&c, "", &prompt(&[], Some("KCPPx")), None).unwrap();
    assert_eq!(req.url, "http://127.0.0.1:8080/completion");
    assert_eq!(
        req.body,
        json!({
            "prompt": "<|user|>Hi<|assistant|>",
            "stream": false,
            "n_predict": 300,
            "temperature": 0.7,
            "top_p": 0.9,
            "top_k": 40,
            "min_p": 0.05,
            "typical_p": 0.95,
            "repeat_penalty": 1.1,
            "repeat_last_n": 1024,
            "presence_penalty": 0.2,
            "frequency_penalty": 0.3,
            "dry_multiplier": 0.8,
            "dry_base": 1.75,
            "dry_allowed_length": 2,
            "dry_sequence_breakers": ["\n", "*"],
            "xtc_probability": 0.5,
            "xtc_threshold": 0.1,
            "mirostat": 2,
            "mirostat_tau": 5.0,
            "mirostat_eta": 0.1,
            "seed": 42,
            "grammar": "root ::= \"yes\" | \"no\"",
            "json_schema": {"type": "object"},
            "stop": ["\nUser:"],
            "cache_prompt": true,
        })
    );
    // No slope, no genkey, no context length on llama.cpp.
    for absent in ["rep_pen_slope", "genkey", "max_context_length"] {
        assert!(req.body.get(absent).is_none(), "{absent}");
    }
}

#[test]
fn completions_body_without_and_with_samplers() {
    let c = config(ProviderKind::TextCompletions, true);
    let req = build_text_request(&c, " my-model ", &prompt(&[], None), None).unwrap();
    assert_eq!(req.url, "http://127.0.0.1:5000/v1/completions");
    assert_eq!(
        req.body,
        json!({
            "model": "my-model",
            "prompt": "<|user|>Hi<|assistant|>",
            "stream": true,
            "stream_options": {"include_usage": true},
        })
    );

    let mut c = config(ProviderKind::TextCompletions, false);
    c.base_url = "http://127.0.0.1:8000/v1".into();
    c.generation = every_sampler();
    let req = build_text_request(&c, "m", &prompt(&[], None), Some("tabby-key")).unwrap();
    assert_eq!(req.url, "http://127.0.0.1:8000/v1/completions");
    assert_eq!(req.header("Authorization"), Some("Bearer tabby-key"));
    assert_eq!(
        keys(&req.body),
        [
            "dry_allowed_length",
            "dry_base",
            "dry_multiplier",
            "dry_sequence_breakers",
            "frequency_penalty",
            "max_tokens",
            "min_p",
            "mirostat_eta",
            "mirostat_mode",
            "mirostat_tau",
            "model",
            "presence_penalty",
            "prompt",
            "repetition_penalty",
            "seed",
            "stop",
            "stream",
            "temperature",
            "top_k",
            "top_p",
            "typical_p",
            "xtc_probability",
            "xtc_threshold",
        ]
    );
    assert_eq!(req.body["max_tokens"], 300);
    assert_eq!(req.body["repetition_penalty"], 1.1);
    assert_eq!(req.body["stop"], json!(["\nUser:"]));
    assert_eq!(req.body["stream"], false);
}

#[test]
fn chat_kinds_send_what_they_sent_before_unless_they_accept_a_sampler() {
    let msgs = [PromptMessage {
        role: Role::User,
        content: "Hi".into(),
    }];
    let plain = GenerationSettings {
        temperature: Some(0.7),
        top_p: Some(0.9),
        max_tokens: Some(100),
        stop: vec![],
        ..GenerationSettings::default()
    };
    let extra = |kind| {
        let mut c = config(kind, false);
        c.generation = plain.clone();
        let before = build_request(&c, "m", &msgs, &[], Some("sk-test-key-123")).unwrap();
        c.generation = GenerationSettings {
            stop: vec![],
            ..every_sampler()
        };
        let after = build_request(&c, "m", &msgs, &[], Some("sk-test-key-123")).unwrap();
        let mut added: Vec<String> = keys(&after.body)
            .into_iter()
            .filter(|k| before.body.get(*k).is_none())
            .map(str::to_owned)
            .collect();
        added.sort();
        (before.body, added)
    };
    let (before, added) = extra(ProviderKind::OpenAi);
    assert_eq!(
        keys(&before),
        [
            "max_tokens",
            "messages",
            "model",
            "stream",
            "temperature",
            "top_p"
        ]
    );
    assert_eq!(added, ["frequency_penalty", "presence_penalty", "seed"]);
    let (_, added) = extra(ProviderKind::OpenRouter);
    assert_eq!(
        added,
        [
            "frequency_penalty",
            "min_p",
            "presence_penalty",
            "repetition_penalty",
            "seed",
            "top_k"
        ]
    );
    let (_, added) = extra(ProviderKind::Anthropic);
    assert_eq!(added, ["top_k"]);
    let (_, added) = extra(ProviderKind::OpenAiCompatible);
    assert_eq!(added, ["frequency_penalty", "presence_penalty", "seed"]);
}

#[test]
fn supported_samplers_match_what_each_body_sends() {
    use Sampler::*;
    assert!(supported_samplers(ProviderKind::Anthropic).contains(&TopK));
    assert!(!supported_samplers(ProviderKind::Anthropic).contains(&Seed));
    assert!(!supported_samplers(ProviderKind::OpenAi).contains(&TopK));
    assert!(supported_samplers(ProviderKind::KoboldCpp).contains(&RepetitionPenaltySlope));
    assert!(!supported_samplers(ProviderKind::KoboldCpp).contains(&FrequencyPenalty));
    assert!(supported_samplers(ProviderKind::LlamaCpp).contains(&JsonSchema));
    assert!(!supported_samplers(ProviderKind::LlamaCpp).contains(&RepetitionPenaltySlope));
    for kind in [
        ProviderKind::OpenRouter,
        ProviderKind::OpenAi,
        ProviderKind::Anthropic,
        ProviderKind::OpenAiCompatible,
        ProviderKind::KoboldCpp,
        ProviderKind::LlamaCpp,
        ProviderKind::TextCompletions,
    ] {
        let s = supported_samplers(kind);
        for basic in [Temperature, TopP, MaxTokens, Stop] {
            assert!(s.contains(&basic), "{kind:?} {basic:?}");
        }
    }
    assert_eq!(
        serde_json::to_value(RepetitionPenaltyRange).unwrap(),
        "repetitionPenaltyRange"
    );
}

#[test]
fn an_old_saved_configuration_still_loads() {
    let old = r#"{"id":"p1","name":"Local","kind":"openAiCompatible","baseUrl":"http://127.0.0.1:8080/v1",
        "defaultModel":"m","extraHeaders":{},"generation":{"temperature":0.8,"topP":0.95,"maxTokens":512,
        "stop":["\nUser:"]},"streaming":true,"allowInsecureHttp":false}"#;
    let c: ProviderConfig = serde_json::from_str(old).unwrap();
    assert_eq!(c.generation.temperature, Some(0.8));
    assert_eq!(c.generation.max_tokens, Some(512));
    assert_eq!(c.generation.top_k, None);
    assert_eq!(c.generation.dry, None);
    assert_eq!(c.generation.seed, None);
    // Older still: no generation at all.
    let older = r#"{"id":"p2","name":"L","kind":"openAi","baseUrl":"https://api.openai.com/v1","defaultModel":""}"#;
    let c: ProviderConfig = serde_json::from_str(older).unwrap();
    assert_eq!(c.generation, GenerationSettings::default());
    // New kinds round-trip under camelCase names; partial sampler groups take defaults.
    let mut c = ProviderConfig::new(ProviderKind::KoboldCpp, "K");
    c.generation.dry = Some(DrySettings::default());
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["kind"], "koboldCpp");
    assert_eq!(serde_json::from_value::<ProviderConfig>(json).unwrap(), c);
    let g: GenerationSettings = serde_json::from_str(r#"{"dry":{"multiplier":1.5}}"#).unwrap();
    assert_eq!(g.dry.unwrap().allowed_length, 2);
    for (kind, name) in [
        (ProviderKind::LlamaCpp, "llamaCpp"),
        (ProviderKind::TextCompletions, "textCompletions"),
    ] {
        assert_eq!(serde_json::to_value(kind).unwrap(), name);
    }
}

#[test]
fn kinds_know_what_they_are() {
    for kind in [
        ProviderKind::KoboldCpp,
        ProviderKind::LlamaCpp,
        ProviderKind::TextCompletions,
    ] {
        assert!(kind.is_text_completion());
        assert!(!kind.is_openai_style());
        assert!(!kind.requires_key());
    }
    assert!(!ProviderKind::OpenAiCompatible.is_text_completion());
    assert_eq!(
        ProviderKind::KoboldCpp.default_base_url(),
        "http://127.0.0.1:5001"
    );
    assert_eq!(
        ProviderKind::LlamaCpp.default_base_url(),
        "http://127.0.0.1:8080"
    );
}

#[test]
fn wrong_kinds_and_bad_input_are_typed_errors() {
    let chat = config(ProviderKind::OpenAiCompatible, true);
    assert_eq!(
        build_text_request(&chat, "m", &prompt(&[], None), None)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidInput
    );
    let msgs = [PromptMessage {
        role: Role::User,
        content: "Hi".into(),
    }];
    let kobold = config(ProviderKind::KoboldCpp, true);
    assert_eq!(
        build_request(&kobold, "m", &msgs, &[], None)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidInput
    );
    let completions = config(ProviderKind::TextCompletions, true);
    assert_eq!(
        build_text_request(&completions, "  ", &prompt(&[], None), None)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidInput
    );
    let mut bad_schema = config(ProviderKind::LlamaCpp, true);
    bad_schema.generation.json_schema = Some("{not json".into());
    assert_eq!(
        build_text_request(&bad_schema, "", &prompt(&[], None), None)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidInput
    );
    assert_eq!(
        build_text_request(&kobold, "", &prompt(&[], Some("a\nb")), None)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidInput
    );
    let mut bad_url = config(ProviderKind::KoboldCpp, true);
    bad_url.base_url = "127.0.0.1:5001".into();
    assert_eq!(
        build_text_request(&bad_url, "", &prompt(&[], None), None)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidInput
    );
    // NaN and infinities are not sent (JSON cannot carry them).
    let mut nan = config(ProviderKind::LlamaCpp, true);
    nan.generation.temperature = Some(f32::NAN);
    nan.generation.min_p = Some(f32::INFINITY);
    let body = text_request_body(&nan, "", &prompt(&[], None)).unwrap();
    assert!(body.get("temperature").is_none() && body.get("min_p").is_none());
}

#[test]
fn abort_tokenize_and_props_requests() {
    let mut k = config(ProviderKind::KoboldCpp, true);
    k.base_url = "http://127.0.0.1:5001/api/".into();
    let req = abort_request(&k, "KCPPabc", None).unwrap();
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, "http://127.0.0.1:5001/api/extra/abort");
    assert_eq!(req.body, json!({"genkey": "KCPPabc"}));
    assert_eq!(
        abort_request(&config(ProviderKind::LlamaCpp, true), "x", None)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidInput
    );

    let req = tokenize_request(&k, "Hello there", None).unwrap();
    assert_eq!(req.url, "http://127.0.0.1:5001/api/extra/tokencount");
    assert_eq!(req.body, json!({"prompt": "Hello there"}));
    let l = config(ProviderKind::LlamaCpp, true);
    let req = tokenize_request(&l, "Hello there", Some("k")).unwrap();
    assert_eq!(req.url, "http://127.0.0.1:8080/tokenize");
    assert_eq!(req.body, json!({"content": "Hello there"}));
    assert_eq!(req.header("Authorization"), Some("Bearer k"));
    assert_eq!(
        tokenize_request(&config(ProviderKind::OpenAi, true), "x", Some("k"))
            .unwrap_err()
            .code(),
        ErrorCode::InvalidInput
    );

    let reqs = props_requests(&l, None).unwrap();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].url.as_str()),
        ("GET", "http://127.0.0.1:8080/props")
    );
    assert!(reqs[0].body.is_null());
    let urls: Vec<String> = props_requests(&k, None)
        .unwrap()
        .into_iter()
        .map(|r| r.url)
        .collect();
    assert_eq!(
        urls,
        [
            "http://127.0.0.1:5001/api/extra/version",
            "http://127.0.0.1:5001/api/v1/model",
            "http://127.0.0.1:5001/api/extra/true_max_context_length",
            "http://127.0.0.1:5001/props",
        ]
    );

    let g = new_genkey();
    assert!(g.starts_with("KCPP") && g.len() == 16, "{g}");
    assert_ne!(g, new_genkey());
}

#[test]
fn models_of_native_servers_are_listed_from_their_root() {
    let k = config(ProviderKind::KoboldCpp, true);
    assert_eq!(
        confab_core::llm::models_url(&k),
        "http://127.0.0.1:5001/v1/models"
    );
    let mut l = config(ProviderKind::LlamaCpp, true);
    l.base_url = "http://127.0.0.1:8080/v1".into();
    assert_eq!(
        confab_core::llm::models_url(&l),
        "http://127.0.0.1:8080/v1/models"
    );
    let t = config(ProviderKind::TextCompletions, true);
    assert_eq!(
        confab_core::llm::models_url(&t),
        "http://127.0.0.1:5000/v1/models"
    );
}

#[test]
fn saved_samplers_are_checked_and_tidied() {
    use confab_core::providers::validate_config;
    let mut c = config(ProviderKind::KoboldCpp, true);
    c.generation = every_sampler();
    c.generation.grammar = Some("  ".into());
    c.generation
        .dry
        .as_mut()
        .unwrap()
        .sequence_breakers
        .push(String::new());
    let ok = validate_config(c.clone()).unwrap();
    assert_eq!(ok.generation.grammar, None);
    assert_eq!(
        ok.generation.dry.unwrap().sequence_breakers,
        ["\n".to_owned(), "*".to_owned()]
    );
    assert_eq!(ok.generation.top_k, Some(40));

    type Spoil = Box<dyn Fn(&mut GenerationSettings)>;
    let bad: Vec<(&str, Spoil)> = vec![
        ("min-p", Box::new(|g| g.min_p = Some(1.5))),
        ("typical", Box::new(|g| g.typical_p = Some(f32::NAN))),
        ("rep pen", Box::new(|g| g.repetition_penalty = Some(-1.0))),
        ("presence", Box::new(|g| g.presence_penalty = Some(3.0))),
        ("top-k", Box::new(|g| g.top_k = Some(1_000_000))),
        ("dry base", Box::new(|g| g.dry.as_mut().unwrap().base = 0.5)),
        (
            "breakers",
            Box::new(|g| g.dry.as_mut().unwrap().sequence_breakers = vec!["x".into(); 100]),
        ),
        (
            "xtc",
            Box::new(|g| g.xtc.as_mut().unwrap().probability = 2.0),
        ),
        (
            "mirostat",
            Box::new(|g| g.mirostat.as_mut().unwrap().mode = 3),
        ),
        ("schema", Box::new(|g| g.json_schema = Some("[1]".into()))),
        (
            "schema json",
            Box::new(|g| g.json_schema = Some("{".into())),
        ),
        (
            "grammar size",
            Box::new(|g| g.grammar = Some("x".repeat(100_000))),
        ),
    ];
    for (what, spoil) in bad {
        let mut c = c.clone();
        spoil(&mut c.generation);
        assert_eq!(
            validate_config(c).unwrap_err().code(),
            ErrorCode::InvalidInput,
            "{what}"
        );
    }
}
