//! Shared by the memory tests: a chat long enough to overflow the default
//! window, waiting (bounded) for the summarising job, the prompt a send would
//! make, and a summarizer on a server of its own.
#![allow(dead_code)] // each test binary uses its own part of this

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::chat_support::*;
use confab_core::chat::StreamEvent;
use confab_core::memory::settings::{MemorySettings, ModelChoice};
use confab_core::memory::summary::{MemoryChanged, MemoryView};
use confab_core::prompt::{AssembledPrompt, PromptSource};
use confab_core::session::turn::{preview_turn, TurnRequest};
use confab_core::session::{MessageStatus, Role};
use confab_core::sink::Collect;
use confab_core::store::NewMessage;

/// Words per filler message: 24 of them overflow the default 8k window.
pub const WORDS: usize = 500;

/// Message `i`'s text: a marker, then filler words.
pub fn long_text(tag: &str, i: usize) -> String {
    format!("{tag}{i}: {}", vec!["apple"; WORDS].join(" "))
}

/// Adds `n` exchanges of long messages tagged `tag`.
pub async fn fill(f: &Fixture, tag: &str, n: usize) {
    for i in 0..n {
        let user = long_text(&format!("{tag}u"), i);
        let reply = long_text(&format!("{tag}a"), i);
        f.store
            .add_exchange(
                &f.session,
                NewMessage {
                    role: Role::User,
                    name: "Traveller",
                    content: &user,
                    status: MessageStatus::Complete,
                    image_ids: &[],
                    speaker: None,
                },
                NewMessage {
                    role: Role::Assistant,
                    name: "Seraphina",
                    content: &reply,
                    status: MessageStatus::Complete,
                    image_ids: &[],
                    speaker: None,
                },
            )
            .await
            .unwrap();
    }
}

/// Sends `text` and waits for its terminal event, which must be `done`.
pub async fn send_done(f: &Fixture, text: &str) {
    let sink = Recorder::new();
    f.engine
        .send(&f.session, text, &[], sink.clone())
        .await
        .unwrap();
    let end = sink.terminal().await;
    assert!(matches!(end, StreamEvent::Done { .. }), "{end:?}");
}

/// Waits (bounded: 20 s) until the chat's memory view satisfies `pred`.
pub async fn wait_view(f: &Fixture, pred: impl Fn(&MemoryView) -> bool) -> MemoryView {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let view = f.engine.memory_view(&f.session).await.unwrap();
        if pred(&view) {
            return view;
        }
        assert!(
            Instant::now() < end,
            "the memory view never got there: {view:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until summaries are written and the job is over.
pub async fn wait_summaries(f: &Fixture) -> MemoryView {
    wait_view(f, |v| !v.summaries.is_empty() && !v.summarizing).await
}

/// The prompt a send of `text` would make now.
pub async fn prompt_now(f: &Fixture, text: &str) -> AssembledPrompt {
    let request = TurnRequest {
        new_message: Some(text.to_owned()),
        ..TurnRequest::default()
    };
    preview_turn(&f.store, &f.caches, &f.session, &request, false)
        .await
        .unwrap()
        .prompt
}

/// The labels of the summary parts sent.
pub fn summary_labels(p: &AssembledPrompt) -> Vec<String> {
    p.parts
        .iter()
        .filter(|x| x.source == PromptSource::Summary && x.message_index != u32::MAX)
        .map(|x| x.label.clone())
        .collect()
}

/// The history messages sent.
pub fn history_texts(p: &AssembledPrompt) -> Vec<String> {
    p.parts
        .iter()
        .filter(|x| x.source == PromptSource::History)
        .map(|x| x.text.clone())
        .collect()
}

/// A summarizer on a server of its own, chosen in the chat's memory settings.
pub async fn own_summarizer(f: &Fixture, script: Script) -> Server {
    let server = Server::start(script).await;
    let mut config = local_provider(&server.base_url());
    config.name = "Summarizer".into();
    config.default_model = "summary-model".into();
    let saved = f.store.save_provider(&config).await.unwrap();
    f.engine
        .set_memory_settings(
            &f.session,
            MemorySettings {
                summarizer: Some(ModelChoice {
                    provider_id: saved.id,
                    model: None,
                }),
                ..MemorySettings::default()
            },
        )
        .await
        .unwrap();
    server
}

/// Memory notices, collected.
pub fn notices(f: &Fixture) -> Arc<Collect<MemoryChanged>> {
    let sink = Arc::new(Collect::default());
    f.engine.set_memory_notices(sink.clone());
    sink
}

/// A whole streamed reply of one piece.
pub fn says(text: &str) -> Script {
    reply_script(&[text])
}
