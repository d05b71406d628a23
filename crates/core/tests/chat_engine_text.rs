//! Text-completion backends through the chat engine, against servers on
//! 127.0.0.1 that speak KoboldCpp's and llama.cpp's own APIs: the turn
//! rendered through the instruct template in force (the model's own Jinja
//! template when the server reports one, llama.cpp or KoboldCpp, else a preset by the model's name,
//! else a pinned one), the template's stop strings, reasoning kept apart, Stop
//! aborting generation on the server, and the preview showing the exact text.

mod chat_engine_support;
mod chat_support;
mod http_support;
mod text_support;

use std::time::Duration;

use chat_engine_support::{quick, wait_free};
use chat_support::{Fixture, Recorder};
use confab_core::connection::{self, CharacterPins};
use confab_core::llm::{ProviderConfig, ProviderKind};
use confab_core::session::turn::{preview_turn, PromptPreview, TemplateOrigin, TurnRequest};
use confab_core::session::Message;
use confab_core::session::MessageStatus;
use text_support::{http_chunk, json_ok, sse, Reply, Seen, Server, SSE_HEAD};

const KOBOLD_MODEL: &str = r#"{"result":"koboldcpp/Meta-Llama-3.1-8B-Instruct-Q4_K_M"}"#;

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

/// A KoboldCpp that identifies itself, streams `tokens` (or trickles forever
/// when `endless`), and answers aborts.
async fn kobold(tokens: &'static [&'static str], endless: bool) -> Server {
    Server::start(move |seen: &Seen| match seen.path.as_str() {
        "/api/extra/version" => json_ok(r#"{"result":"KoboldCpp","version":"1.82.4"}"#),
        "/api/v1/model" => json_ok(KOBOLD_MODEL),
        "/api/extra/true_max_context_length" => json_ok(r#"{"value":8192}"#),
        "/api/extra/abort" => json_ok(r#"{"success":"true","done":"true"}"#),
        "/api/extra/generate/stream" if endless => Reply::ThenTicking(
            vec![SSE_HEAD.to_vec(), http_chunk(&kobold_tokens(&["la", "la"]))],
            http_chunk(b"event: message\ndata: {\"token\": \" la\", \"finish_reason\": null}\n\n"),
        ),
        "/api/extra/generate/stream" => sse(&kobold_tokens(tokens), 7, true),
        _ => json_ok("{}"),
    })
    .await
}

/// The fixture's chat, replying through a provider of `kind` at `root` with no model of its own.
async fn text_chat(kind: ProviderKind, root: &str) -> (Fixture, ProviderConfig) {
    let f = Fixture::new(root, quick()).await;
    let mut config = ProviderConfig::new(kind, "Local text");
    config.base_url = root.to_owned();
    let config = f.store.save_provider(&config).await.unwrap();
    confab_core::providers::set_session_model(&f.store, &f.session, Some(config.id.clone()), None)
        .await
        .unwrap();
    (f, config)
}

fn request_to<'a>(seen: &'a [Seen], path: &str) -> &'a Seen {
    seen.iter().find(|s| s.path == path).unwrap_or_else(|| {
        panic!(
            "no request to {path}: {:?}",
            seen.iter().map(|s| &s.path).collect::<Vec<_>>()
        )
    })
}

/// What a send of `message` would go out with now (with its request body when `request`).
async fn preview_of(f: &Fixture, message: &str, request: bool) -> PromptPreview {
    let ask = TurnRequest {
        new_message: Some(message.into()),
        ..Default::default()
    };
    preview_turn(&f.store, &f.caches, &f.session, &ask, request)
        .await
        .unwrap()
}

/// Sends `message` and waits until its reply has ended and the chat is free; that reply.
async fn send_and_wait(f: &Fixture, message: &str) -> Message {
    let sink = Recorder::new();
    f.engine
        .send(&f.session, message, &[], sink.clone())
        .await
        .unwrap();
    sink.terminal().await;
    wait_free(f).await;
    f.messages().await.pop().unwrap()
}

#[tokio::test]
async fn a_koboldcpp_reply_is_prompted_in_its_models_format_and_streams_in() {
    let server = kobold(&["Wel", "come, ", "traveller."], false).await;
    let (f, _) = text_chat(ProviderKind::KoboldCpp, &server.root()).await;
    let reply = send_and_wait(&f, "Where am I?").await;
    assert_eq!(reply.content, "Welcome, traveller.");
    assert_eq!(reply.status, MessageStatus::Complete);

    let seen = server.seen();
    let body = request_to(&seen, "/api/extra/generate/stream").json();
    let prompt = body["prompt"].as_str().unwrap();
    // The server named a Llama 3.1 model: the Llama 3 preset, ending on the reply's opening.
    assert!(
        prompt.contains("<|start_header_id|>user<|end_header_id|>"),
        "{prompt}"
    );
    assert!(prompt.contains("Where am I?"), "{prompt}");
    assert!(
        prompt
            .trim_end()
            .ends_with("<|start_header_id|>assistant<|end_header_id|>"),
        "{prompt}"
    );
    assert!(
        prompt.contains("Hello, traveller."),
        "the greeting is in the history"
    );
    let stops: Vec<&str> = body["stop_sequence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    assert!(stops.contains(&"<|eot_id|>"), "{stops:?}");
    assert_eq!(body["max_context_length"], 8192, "the server's window");
    assert!(body["genkey"].as_str().is_some_and(|k| !k.is_empty()));

    // The preview shows the same text, and why this template.
    let preview = preview_of(&f, "Where am I?", true).await;
    let text = preview.text_prompt.expect("a text prompt");
    assert_eq!(text.template.origin, TemplateOrigin::ModelName);
    assert!(
        text.template.name.starts_with("Llama 3"),
        "{}",
        text.template.name
    );
    assert!(text
        .text
        .contains("<|start_header_id|>user<|end_header_id|>"));
    assert_eq!(preview.context_window, 8192);
    let body = preview.request_body.unwrap();
    assert!(body["prompt"]
        .as_str()
        .unwrap()
        .ends_with(&text.text[text.text.len() - 20..]));
}

#[tokio::test]
async fn a_koboldcpp_that_reports_its_models_template_gets_the_turn_through_it() {
    // KoboldCpp (since late 2024) answers llama.cpp's /props with the GGUF's chat template
    // (ChatML here), which wins over the model's name (a Llama 3.1 one).
    let props = serde_json::json!({
        "chat_template": "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
        "total_slots": 1,
        "default_generation_settings": {"n_ctx": 8192},
    })
    .to_string();
    let server = Server::start(move |seen: &Seen| match seen.path.as_str() {
        "/api/extra/version" => json_ok(r#"{"result":"KoboldCpp","version":"1.82.4"}"#),
        "/api/v1/model" => json_ok(KOBOLD_MODEL),
        "/api/extra/true_max_context_length" => json_ok(r#"{"value":8192}"#),
        "/props" => json_ok(&props),
        "/api/extra/generate/stream" => sse(&kobold_tokens(&["Here."]), 7, true),
        _ => json_ok("{}"),
    })
    .await;
    let (f, _) = text_chat(ProviderKind::KoboldCpp, &server.root()).await;
    let preview = preview_of(&f, "Where am I?", false).await;
    let text = preview.text_prompt.expect("a text prompt");
    assert_eq!(text.template.origin, TemplateOrigin::ModelsOwn);
    assert_eq!(send_and_wait(&f, "Where am I?").await.content, "Here.");

    let seen = server.seen();
    let body = request_to(&seen, "/api/extra/generate/stream").json();
    let prompt = body["prompt"].as_str().unwrap();
    assert!(
        prompt.contains("<|im_start|>user\nWhere am I?<|im_end|>"),
        "{prompt}"
    );
    assert!(prompt.ends_with("<|im_start|>assistant\n"), "{prompt:?}");
    assert!(
        !prompt.contains("<|start_header_id|>"),
        "not the name's preset"
    );
    let stops: Vec<&str> = body["stop_sequence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    assert!(stops.contains(&"<|im_end|>"), "ChatML's stop: {stops:?}");
    assert_eq!(text.text, prompt, "the preview is the very text sent");
}

#[tokio::test]
async fn stop_aborts_koboldcpp_generation_on_the_server_with_the_requests_key() {
    let server = kobold(&[], true).await;
    let (f, _) = text_chat(ProviderKind::KoboldCpp, &server.root()).await;
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "Sing.", &[], sink.clone())
        .await
        .unwrap();
    sink.first_delta().await;
    assert!(f.engine.stop(&f.session));
    sink.terminal().await;
    wait_free(&f).await;
    assert_eq!(
        f.messages().await.pop().unwrap().status,
        MessageStatus::Cancelled
    );
    let mut aborted = None;
    for _ in 0..200 {
        let seen = server.seen();
        if let Some(a) = seen.iter().find(|s| s.path == "/api/extra/abort") {
            aborted = Some((
                a.json(),
                request_to(&seen, "/api/extra/generate/stream").json(),
            ));
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (abort, generate) = aborted.expect("the server was asked to abort");
    assert_eq!(abort["genkey"], generate["genkey"]);
}

#[tokio::test]
async fn a_llamacpp_server_with_a_chat_template_gets_the_turn_through_it_and_reasoning_stays_apart()
{
    let template = include_str!("fixtures/chat_templates/meta-llama-Llama-3.2-3B-Instruct.jinja");
    let props = serde_json::json!({
        "chat_template": template,
        "bos_token": "<|begin_of_text|>",
        "eos_token": "<|eot_id|>",
        "default_generation_settings": {"n_ctx": 4096},
    })
    .to_string();
    let stream = "data: {\"content\":\"<think>They are lost.\",\"stop\":false}\n\n\
                  data: {\"content\":\"</think>You are in the glade.\",\"stop\":false}\n\n\
                  data: {\"content\":\"\",\"stop\":true,\"stop_type\":\"eos\",\"tokens_predicted\":9,\"tokens_evaluated\":120}\n\n";
    let server = Server::start(move |seen: &Seen| match seen.path.as_str() {
        "/props" => json_ok(&props),
        "/completion" => sse(stream.as_bytes(), 11, true),
        _ => json_ok("{}"),
    })
    .await;
    let (f, _) = text_chat(ProviderKind::LlamaCpp, &server.root()).await;
    // The preview, before the send: the exact text the send will go out with.
    let preview = preview_of(&f, "Where am I?", false).await;
    let text = preview.text_prompt.unwrap();
    assert_eq!(text.template.origin, TemplateOrigin::ModelsOwn);
    let previewed = text.text;
    let reply = send_and_wait(&f, "Where am I?").await;
    assert_eq!(reply.content, "You are in the glade.");
    assert_eq!(reply.meta.reasoning.as_deref(), Some("They are lost."));

    let seen = server.seen();
    let body = request_to(&seen, "/completion").json();
    let prompt = body["prompt"].as_str().unwrap();
    // Rendered by the model's own template: its date line, no BOS (the server adds it).
    assert!(
        prompt.starts_with("<|start_header_id|>system<|end_header_id|>"),
        "{prompt}"
    );
    assert!(prompt.contains("Cutting Knowledge Date"), "{prompt}");
    assert!(
        prompt.ends_with("<|start_header_id|>assistant<|end_header_id|>\n\n"),
        "{prompt:?}"
    );
    assert!(body["stop"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "<|eot_id|>"));
    assert_eq!(body["stream"], true);
    assert_eq!(previewed, prompt, "the preview is the very text sent");
}

#[tokio::test]
async fn a_characters_pinned_template_wins_over_the_servers() {
    let server = kobold(&["Yes."], false).await;
    let (f, _) = text_chat(ProviderKind::KoboldCpp, &server.root()).await;
    connection::pin_character(
        &f.store,
        &f.character,
        CharacterPins {
            profile_id: None,
            instruct: Some("Alpaca".into()),
        },
    )
    .await
    .unwrap();
    send_and_wait(&f, "Ready?").await;
    let seen = server.seen();
    let prompt = request_to(&seen, "/api/extra/generate/stream").json()["prompt"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(prompt.contains("### Instruction:"), "{prompt}");
    assert!(!prompt.contains("<|start_header_id|>"), "{prompt}");

    // A pin to a template that does not exist is a clear error, and nothing is sent.
    connection::pin_character(
        &f.store,
        &f.character,
        CharacterPins {
            profile_id: None,
            instruct: Some("No Such Template".into()),
        },
    )
    .await
    .unwrap();
    let before = server.seen().len();
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "Again?", &[], sink.clone())
        .await
        .unwrap();
    let (code, _, _) = chat_engine_support::error_of(&sink.terminal().await);
    assert_eq!(code, confab_core::ErrorCode::InvalidInput);
    assert!(
        server
            .seen()
            .iter()
            .skip(before)
            .all(|s| s.path != "/api/extra/generate/stream"),
        "no generation asked"
    );
}

#[tokio::test]
async fn the_preview_counts_tokens_with_the_servers_tokenizer_and_the_budget_follows_it() {
    use confab_core::tokens::{shared_counter, TokenCounter};
    // This server's tokenizer counts twice what Confab estimates.
    let server = Server::start(|seen: &Seen| match seen.path.as_str() {
        "/api/extra/version" => json_ok(r#"{"result":"KoboldCpp","version":"1.82.4"}"#),
        "/api/v1/model" => json_ok(KOBOLD_MODEL),
        "/api/extra/true_max_context_length" => json_ok(r#"{"value":8192}"#),
        "/api/extra/tokencount" => {
            let prompt = seen.json()["prompt"].as_str().unwrap_or("").to_owned();
            json_ok(&format!(
                r#"{{"value":{}}}"#,
                2 * shared_counter().count(&prompt)
            ))
        }
        _ => json_ok("{}"),
    })
    .await;
    let (f, _) = text_chat(ProviderKind::KoboldCpp, &server.root()).await;
    let ask = TurnRequest {
        new_message: Some("How far is the river?".into()),
        ..Default::default()
    };
    let first = preview_turn(&f.store, &f.caches, &f.session, &ask, false)
        .await
        .unwrap();
    let text = first.text_prompt.unwrap();
    assert!(text.tokens_by_server);
    assert_eq!(text.tokens, 2 * shared_counter().count(&text.text));
    assert_eq!(
        first.context_window, 8192,
        "not calibrated before the first count"
    );
    let second = preview_turn(&f.store, &f.caches, &f.session, &ask, false)
        .await
        .unwrap();
    assert_eq!(
        second.context_window, 4096,
        "the window as this server counts it"
    );

    // A /v1/completions server has no tokenizer: Confab's estimate, said so.
    let plain = Server::start(|_: &Seen| json_ok("{}")).await;
    let (g, _) = text_chat(
        ProviderKind::TextCompletions,
        &format!("{}/v1", plain.root()),
    )
    .await;
    let preview = preview_turn(&g.store, &g.caches, &g.session, &ask, false)
        .await
        .unwrap();
    let text = preview.text_prompt.unwrap();
    assert!(!text.tokens_by_server);
    assert_eq!(text.tokens, shared_counter().count(&text.text));
}
