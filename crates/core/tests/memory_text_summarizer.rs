//! A text-completion backend (KoboldCpp) as the summarizer: the summary
//! request is rendered through the model's instruct template like a reply.

mod chat_engine_support;
mod chat_support;
mod http_support;
mod memory_support;
mod text_support;

use chat_engine_support::quick;
use chat_support::Fixture;
use confab_core::llm::{ProviderConfig, ProviderKind};
use confab_core::memory::settings::{MemorySettings, ModelChoice, DEFAULT_SUMMARY_PROMPT};
use memory_support::fill;
use text_support::{json_ok, sse, Seen, Server};

fn kobold_tokens(tokens: &[&str]) -> Vec<u8> {
    let mut out = String::new();
    for (i, t) in tokens.iter().enumerate() {
        let finish = if i + 1 == tokens.len() {
            "\"stop\""
        } else {
            "null"
        };
        out.push_str(&format!(
            "event: message\ndata: {{\"token\": {}, \"finish_reason\": {finish}}}\n\n",
            serde_json::to_string(t).unwrap()
        ));
    }
    out.into_bytes()
}

#[tokio::test]
async fn a_koboldcpp_summarizer_gets_the_summary_prompt_in_its_models_format() {
    let server = Server::start(|seen: &Seen| match seen.path.as_str() {
        "/api/extra/version" => json_ok(r#"{"result":"KoboldCpp","version":"1.82.4"}"#),
        "/api/v1/model" => json_ok(r#"{"result":"koboldcpp/Meta-Llama-3.1-8B-Instruct-Q4_K_M"}"#),
        "/api/extra/true_max_context_length" => json_ok(r#"{"value":8192}"#),
        "/api/extra/generate/stream" => sse(&kobold_tokens(&["They ", "met."]), 7, true),
        _ => json_ok("{}"),
    })
    .await;
    let f = Fixture::new(&server.root(), quick()).await;
    let mut config = ProviderConfig::new(ProviderKind::KoboldCpp, "Kobold");
    config.base_url = server.root();
    let config = f.store.save_provider(&config).await.unwrap();
    f.engine
        .set_memory_settings(
            &f.session,
            MemorySettings {
                summarizer: Some(ModelChoice {
                    provider_id: config.id.clone(),
                    model: None,
                }),
                ..MemorySettings::default()
            },
        )
        .await
        .unwrap();
    fill(&f, "a", 12).await;
    let written = f.engine.summarize_now(&f.session).await.unwrap();
    assert!(!written.is_empty());
    assert!(written.iter().all(|s| s.content == "They met."));
    let seen = server.seen();
    let asked: Vec<_> = seen
        .iter()
        .filter(|s| s.path == "/api/extra/generate/stream")
        .collect();
    assert_eq!(asked.len(), written.len());
    let prompt = asked[0].json()["prompt"].as_str().unwrap().to_owned();
    assert!(prompt.contains(DEFAULT_SUMMARY_PROMPT), "{prompt}");
    assert!(
        prompt.contains("<|start_header_id|>user<|end_header_id|>"),
        "{prompt}"
    );
    assert!(prompt.contains("Seraphina: Hello, traveller."), "{prompt}");
    assert!(
        prompt
            .trim_end()
            .ends_with("<|start_header_id|>assistant<|end_header_id|>"),
        "{prompt}"
    );
}
