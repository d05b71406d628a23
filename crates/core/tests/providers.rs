//! Providers as the user manages them, on a real SQLite file and a real HTTP
//! server on 127.0.0.1: configurations, keys, model lists (fetched, cached,
//! pinned), the model a session replies with, and usage. Nothing leaves loopback.
//!
//! This file: configurations and the model a session replies with. Model lists
//! are in providers_models.rs, the HTTP client's hardening in providers_http.rs,
//! cost and usage in providers_usage.rs.

mod http_support;
mod providers_support;

use std::collections::BTreeMap;
use std::sync::Arc;

use confab_core::llm::{ProviderConfig, ProviderKind};
use confab_core::providers;
use confab_core::secrets::{KeyStorage, Keys};
use confab_core::{Error, ErrorCode};
use providers_support::{add, config, env, json_ok, session, Server, OPENROUTER_MODELS};

// ---------------------------------------------------------------------------
// Configurations

#[tokio::test]
async fn save_trims_assigns_an_id_and_lists_with_key_status() {
    let e = env().await;
    let mut c = config(
        ProviderKind::OpenRouter,
        "  My OpenRouter  ",
        "  https://openrouter.ai/api/v1/  ",
    );
    c.default_model = " openai/gpt-4o-mini ".into();
    c.extra_headers.insert(" X-Extra ".into(), " yes ".into());
    c.generation.temperature = Some(0.8);
    c.generation.top_p = Some(1.0);
    c.generation.max_tokens = Some(400);
    c.generation.stop = vec!["\nUser:".into(), String::new()];
    let saved = providers::save(&e.store, &e.keys, c).await.unwrap();
    let id = saved.config.id.clone();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert_eq!(saved.config.name, "My OpenRouter");
    assert_eq!(saved.config.base_url, "https://openrouter.ai/api/v1/");
    assert_eq!(saved.config.default_model, "openai/gpt-4o-mini");
    assert_eq!(saved.config.extra_headers["X-Extra"], "yes");
    assert_eq!(saved.config.extra_headers["X-Title"], "Confab");
    assert!(saved.config.extra_headers.contains_key("HTTP-Referer"));
    assert_eq!(saved.config.generation.stop, ["\nUser:"]);
    assert!(saved.is_default, "the first provider is the default");
    assert!(!saved.key.set);

    let second = add(
        &e,
        ProviderKind::OpenAiCompatible,
        "LM Studio",
        "http://127.0.0.1:1234/v1",
        "",
    )
    .await;
    e.keys
        .set(&second.id, "lm-studio", KeyStorage::Session)
        .await
        .unwrap();
    e.store.set_default_provider(&second.id).await.unwrap();

    let list = providers::list(&e.store, &e.keys).await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].config.id, id);
    assert!(!list[0].is_default && list[1].is_default);
    assert!(!list[0].key.set);
    assert_eq!(list[1].key.storage, Some(KeyStorage::Session));
    // No key in what the UI sees.
    assert!(!serde_json::to_string(&list)
        .unwrap()
        .contains("lm-studio\""));

    // Saving again with the id changes it in place.
    let mut changed = list[0].config.clone();
    changed.name = "Renamed".into();
    let again = providers::save(&e.store, &e.keys, changed).await.unwrap();
    assert_eq!(again.config.id, id);
    let list = providers::list(&e.store, &e.keys).await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].config.name, "Renamed");
}

#[tokio::test]
async fn bad_configurations_are_refused_and_change_nothing() {
    let e = env().await;
    let ok = || config(ProviderKind::OpenAi, "OpenAI", "https://api.openai.com/v1");
    let mut cases: Vec<(ProviderConfig, &str)> = Vec::new();
    let mut c = ok();
    c.name = "   ".into();
    cases.push((c, "needs a name"));
    let mut c = ok();
    c.name = "n".repeat(101);
    cases.push((c, "100 characters"));
    for url in [
        "ftp://example.com",
        "api.openai.com/v1",
        "http://",
        "https://user:pass@example.com/v1",
        "https://example.com/v1?key=1",
        "http://exa mple.com",
    ] {
        let mut c = ok();
        c.base_url = url.into();
        cases.push((c, "address"));
    }
    let mut c = ok();
    c.extra_headers.insert("Bad Header".into(), "v".into());
    cases.push((c, "header name"));
    let mut c = ok();
    c.extra_headers
        .insert("X-Note".into(), "line\r\nInjected: yes".into());
    cases.push((c, "line break"));
    let mut c = ok();
    c.extra_headers
        .insert("Authorization".into(), "Bearer sk-abcdefgh12345".into());
    cases.push((c, "API key instead"));
    let mut c = ok();
    c.extra_headers.insert("X-A".into(), "1".into());
    c.extra_headers.insert("x-a".into(), "2".into());
    cases.push((c, "twice"));
    for t in [-0.1, 2.01, f32::NAN] {
        let mut c = ok();
        c.generation.temperature = Some(t);
        cases.push((c, "temperature"));
    }
    for p in [-0.5, 1.5] {
        let mut c = ok();
        c.generation.top_p = Some(p);
        cases.push((c, "top-p"));
    }
    for m in [0, 1_000_001] {
        let mut c = ok();
        c.generation.max_tokens = Some(m);
        cases.push((c, "token limit"));
    }
    let mut c = ok();
    c.generation.stop = (0..17).map(|i| format!("stop{i}")).collect();
    cases.push((c, "16 stop strings"));
    let mut c = ok();
    c.default_model = "line\nbreak".into();
    cases.push((c, "default model"));

    for (c, needle) in cases {
        let err = providers::save(&e.store, &e.keys, c.clone())
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{c:?}: {err}");
        assert!(err.to_string().contains(needle), "{needle:?} in {err}");
        assert!(!err.to_string().contains("sk-abcdefgh12345"), "{err}");
    }
    assert!(providers::list(&e.store, &e.keys).await.unwrap().is_empty());

    // The edges are allowed.
    let mut c = ok();
    c.name = "n".repeat(100);
    c.generation.temperature = Some(2.0);
    c.generation.top_p = Some(0.0);
    c.generation.max_tokens = Some(1_000_000);
    c.generation.stop = (0..16).map(|i| format!("stop{i}")).collect();
    c.extra_headers = BTreeMap::from([("X-Title".into(), "Confab".into())]);
    providers::save(&e.store, &e.keys, c).await.unwrap();
}

#[tokio::test]
async fn plain_http_is_only_for_this_computer_and_private_networks() {
    let e = env().await;
    let with = |url: &str| config(ProviderKind::OpenAiCompatible, "Server", url);
    // A bearer key in clear text across the internet: refused, nothing saved.
    for url in [
        "http://api.openai.com/v1",
        "HTTP://API.OPENAI.COM/v1",
        "http://8.8.8.8/v1",
        "http://[2001:db8::1]:8080/v1",
        "http://172.32.0.1/v1",
        "http://100.64.0.1/v1",
        "http://192.169.0.1/v1",
        "http://localhost.example.com/v1",
        "http://printer.local.example.com/v1",
        "http://0.0.0.0:8080/v1",
        "http://[::ffff:8.8.8.8]/v1",
    ] {
        let err = providers::save(&e.store, &e.keys, with(url))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{url}: {err}");
        assert!(err.to_string().contains("unencrypted"), "{url}: {err}");
    }
    assert!(providers::list(&e.store, &e.keys).await.unwrap().is_empty());

    // This computer and private networks may use plain HTTP; https goes anywhere.
    for url in [
        "http://127.0.0.1:8080/v1",
        "http://127.5.6.7/v1",
        "http://2130706433/v1", // 127.0.0.1 written as one number
        "http://localhost:1234/v1",
        "http://LocalHost/v1",
        "http://ollama.localhost/v1",
        "http://[::1]:8080/v1",
        "http://10.1.2.3/v1",
        "http://172.16.0.1/v1",
        "http://172.31.255.254/v1",
        "http://192.168.1.20:5001/v1",
        "http://169.254.10.1/v1",
        "http://[fd12:3456::1]/v1",
        "http://[fe80::1]/v1",
        "http://[::ffff:192.168.0.9]/v1",
        "http://gpu-box.local:11434/v1",
        "http://gpu-box.local.:11434/v1",
        "https://api.openai.com/v1",
    ] {
        providers::save(&e.store, &e.keys, with(url))
            .await
            .unwrap_or_else(|err| panic!("{url}: {err}"));
    }

    // The user's confirmation lets a public plain-HTTP server through, and is kept.
    let mut confirmed = with("http://api.example.com/v1");
    confirmed.allow_insecure_http = true;
    let saved = providers::save(&e.store, &e.keys, confirmed).await.unwrap();
    let listed = providers::list(&e.store, &e.keys).await.unwrap();
    let again = listed
        .iter()
        .find(|p| p.config.id == saved.config.id)
        .unwrap();
    assert!(again.config.allow_insecure_http);

    // A configuration stored before the check (or edited by hand) is refused
    // again before a request is built, so the key never leaves.
    let mut old = with("http://api.openai.com/v1");
    old.default_model = "gpt".into();
    let prompt = [confab_core::prompt::PromptMessage {
        role: confab_core::session::Role::User,
        content: "hi".into(),
    }];
    let err = confab_core::llm::build_request(&old, "gpt", &prompt, &[], Some("sk-secretsecret1"))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(!err.to_string().contains("sk-secretsecret1"));
    let err = confab_core::llm::models_request(&old, Some("sk-secretsecret1")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    // Configurations saved before the flag existed read as unconfirmed.
    let json = r#"{"id":"x","name":"Old","kind":"openAiCompatible","baseUrl":"http://10.0.0.2/v1","defaultModel":""}"#;
    let parsed: ProviderConfig = serde_json::from_str(json).unwrap();
    assert!(!parsed.allow_insecure_http);
}

#[tokio::test]
async fn delete_removes_the_key_models_favourites_and_session_choice() {
    let e = env().await;
    let server = Server::always(json_ok(OPENROUTER_MODELS)).await;
    let p = add(
        &e,
        ProviderKind::OpenRouter,
        "OpenRouter",
        &server.url("/api/v1"),
        "openai/gpt-4o-mini",
    )
    .await;
    let other = add(
        &e,
        ProviderKind::OpenAiCompatible,
        "Local",
        "http://127.0.0.1:8080/v1",
        "local.gguf",
    )
    .await;
    e.keys
        .set(&p.id, "sk-or-v1-aaaabbbbcccc", KeyStorage::Session)
        .await
        .unwrap();
    providers::refresh_models(&e.store, &e.keys, &e.http, &p.id)
        .await
        .unwrap();
    providers::set_favourite(&e.store, &p.id, "openai/gpt-4o-mini", true)
        .await
        .unwrap();
    let s = session(&e.store).await;
    providers::set_session_model(&e.store, &s, Some(p.id.clone()), None)
        .await
        .unwrap();

    providers::delete(&e.store, &e.keys, &p.id).await.unwrap();

    assert!(!e.keys.status(&p.id).await.unwrap().set);
    assert_eq!(e.keys.get(&p.id).await.unwrap(), None);
    let list = providers::list(&e.store, &e.keys).await.unwrap();
    assert_eq!(ids_of(&list), [other.id.as_str()]);
    assert_eq!(
        providers::models(&e.store, &p.id).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
    // The session falls back to the default provider and its model.
    let m = providers::session_model(&e.store, &s).await.unwrap();
    assert_eq!(m.chosen_provider_id, None);
    assert_eq!(m.provider_id.as_deref(), Some(other.id.as_str()));
    assert_eq!(m.model, "local.gguf");

    // The same id saved again starts with no models and no favourites.
    let mut again = p.clone();
    again.name = "Back".into();
    providers::save(&e.store, &e.keys, again).await.unwrap();
    let list = providers::models(&e.store, &p.id).await.unwrap();
    assert!(list.models.is_empty() && list.favourites.is_empty());
    assert_eq!(list.fetched_at, None);

    assert_eq!(
        providers::delete(&e.store, &e.keys, "nope")
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
}

/// A keyring that never answers, as on a Linux box without a Secret Service.
#[derive(Debug)]
struct NoKeyring;

impl confab_core::secrets::SecretStore for NoKeyring {
    fn get(&self, _: &str) -> confab_core::Result<Option<String>> {
        Err(Error::KeyringUnavailable("no Secret Service".into()))
    }
    fn set(&self, _: &str, _: &str) -> confab_core::Result<()> {
        Err(Error::KeyringUnavailable("no Secret Service".into()))
    }
    fn delete(&self, _: &str) -> confab_core::Result<()> {
        Err(Error::KeyringUnavailable("no Secret Service".into()))
    }
}

#[tokio::test]
async fn a_keyless_provider_is_removable_without_a_keyring() {
    let e = env().await;
    let keys = Keys::new(Arc::new(NoKeyring), e.store.clone(), None);
    let local = config(
        ProviderKind::OpenAiCompatible,
        "Local",
        "http://127.0.0.1:8080/v1",
    );
    let local = providers::save(&e.store, &keys, local)
        .await
        .unwrap()
        .config;
    // The list still opens, showing no key.
    let list = providers::list(&e.store, &keys).await.unwrap();
    assert!(!list[0].key.set);

    providers::delete(&e.store, &keys, &local.id).await.unwrap();
    assert!(providers::list(&e.store, &keys).await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------
// The model a session replies with

fn ids_of(list: &[providers::Provider]) -> Vec<&str> {
    list.iter().map(|p| p.config.id.as_str()).collect()
}

#[tokio::test]
async fn a_session_resolves_its_provider_model_and_context_length() {
    let e = env().await;
    let s = session(&e.store).await;

    // Nothing configured.
    let m = providers::session_model(&e.store, &s).await.unwrap();
    assert_eq!(m.provider_id, None);
    assert_eq!(m.model, "");
    assert_eq!(m.context_length, None);

    let server = Server::always(json_ok(OPENROUTER_MODELS)).await;
    let router = add(
        &e,
        ProviderKind::OpenRouter,
        "OpenRouter",
        &server.url("/api/v1"),
        "openai/gpt-4o-mini",
    )
    .await;
    let local = add(
        &e,
        ProviderKind::OpenAiCompatible,
        "Local",
        "http://127.0.0.1:8080/v1",
        "local.gguf",
    )
    .await;

    // The first provider is the default; its default model, no list yet.
    let m = providers::session_model(&e.store, &s).await.unwrap();
    assert_eq!(m.provider_id.as_deref(), Some(router.id.as_str()));
    assert_eq!(m.provider_name.as_deref(), Some("OpenRouter"));
    assert_eq!(m.model, "openai/gpt-4o-mini");
    assert_eq!(m.context_length, None);

    // With the list cached, the model's context length is known.
    e.keys
        .set(&router.id, "sk-or-v1-aaaabbbbcccc", KeyStorage::Session)
        .await
        .unwrap();
    providers::refresh_models(&e.store, &e.keys, &e.http, &router.id)
        .await
        .unwrap();
    let m = providers::session_model(&e.store, &s).await.unwrap();
    assert_eq!(m.context_length, Some(128_000));

    // The session's own model, trimmed.
    let m = providers::set_session_model(
        &e.store,
        &s,
        None,
        Some(" anthropic/claude-3.5-sonnet ".into()),
    )
    .await
    .unwrap();
    assert_eq!(m.chosen_provider_id, None);
    assert_eq!(
        m.chosen_model.as_deref(),
        Some("anthropic/claude-3.5-sonnet")
    );
    assert_eq!(m.model, "anthropic/claude-3.5-sonnet");
    assert_eq!(m.context_length, Some(200_000));

    // Another provider chosen explicitly, model cleared: that provider's default.
    let m = providers::set_session_model(&e.store, &s, Some(local.id.clone()), Some("  ".into()))
        .await
        .unwrap();
    assert_eq!(m.chosen_provider_id.as_deref(), Some(local.id.as_str()));
    assert_eq!(m.chosen_model, None);
    assert_eq!(m.provider_name.as_deref(), Some("Local"));
    assert_eq!(m.model, "local.gguf");
    assert_eq!(m.context_length, None);

    // Cleared: the default again, which the user may change.
    providers::set_session_model(&e.store, &s, None, None)
        .await
        .unwrap();
    e.store.set_default_provider(&local.id).await.unwrap();
    let m = providers::session_model(&e.store, &s).await.unwrap();
    assert_eq!(m.provider_id.as_deref(), Some(local.id.as_str()));

    // An unknown provider or session changes nothing.
    let err = providers::set_session_model(&e.store, &s, Some("nope".into()), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    assert_eq!(
        providers::session_model(&e.store, &s)
            .await
            .unwrap()
            .chosen_provider_id,
        None
    );
    let err = providers::set_session_model(&e.store, "no-session", None, Some("m".into()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
}

#[tokio::test]
async fn a_single_model_server_needs_no_model_chosen() {
    let e = env().await;
    let s = session(&e.store).await;
    // KoboldCpp's /v1/models lists the one model it has loaded.
    let kobold_list =
        r#"{"object":"list","data":[{"id":"koboldcpp/Llama-3.1-8B","object":"model"}]}"#;
    let server = Server::always(json_ok(kobold_list)).await;
    let kobold = add(&e, ProviderKind::KoboldCpp, "Kobold", &server.url(""), "").await;

    // No model anywhere: the server's loaded model replies, so nothing is missing.
    let m = providers::session_model(&e.store, &s).await.unwrap();
    assert_eq!(m.provider_id.as_deref(), Some(kobold.id.as_str()));
    assert_eq!(m.model, "", "the request names no model");
    assert!(m.server_model);
    assert_eq!(m.loaded_model, None, "never listed, so unnamed");

    // Listed once, the loaded model has a name; its window stays the server's report.
    providers::refresh_models(&e.store, &e.keys, &e.http, &kobold.id)
        .await
        .unwrap();
    let m = providers::session_model(&e.store, &s).await.unwrap();
    assert!(m.server_model);
    assert_eq!(m.loaded_model.as_deref(), Some("koboldcpp/Llama-3.1-8B"));
    assert_eq!(m.context_length, None);

    // A model chosen is the model in force.
    let m = providers::set_session_model(&e.store, &s, None, Some("other.gguf".into()))
        .await
        .unwrap();
    assert_eq!(m.model, "other.gguf");
    assert!(!m.server_model);
    assert_eq!(m.loaded_model, None);

    // A server that needs a model named is still missing one.
    let tabby = add(
        &e,
        ProviderKind::TextCompletions,
        "Tabby",
        &server.url("/v1"),
        "",
    )
    .await;
    let m = providers::set_session_model(&e.store, &s, Some(tabby.id), None)
        .await
        .unwrap();
    assert_eq!(m.model, "");
    assert!(!m.server_model);
}
