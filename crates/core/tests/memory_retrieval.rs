//! Retrieval end to end: real SQLite in temp dirs, a fake embeddings server on
//! 127.0.0.1 with deterministic vectors (a hashed bag of words), the prompt
//! preview and the send built by the same function.

mod http_support;
mod retrieval_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use confab_core::chat::StreamEvent;
use confab_core::prompt::PromptSource;
use confab_core::session::turn::{preview_turn, PromptPreview, TurnRequest};
use confab_core::session::Role;
use confab_core::sink::Collect;
use confab_core::ErrorCode;
use retrieval_support::*;

async fn preview(chat: &Chat, message: &str) -> PromptPreview {
    let request = TurnRequest {
        new_message: Some(message.to_owned()),
        ..TurnRequest::default()
    };
    preview_turn(&chat.store, &chat.caches, &chat.session, &request, false)
        .await
        .unwrap()
}

/// A chat whose early messages are about distinct topics, then enough small
/// talk to push them out of the window.
async fn topical_chat(server: &EmbedServer) -> (Chat, Vec<String>) {
    let chat = Chat::new(&server.base_url()).await;
    let mut ids = Vec::new();
    ids.push(
        chat.say(Role::User, "Where does the red dragon sleep at night?")
            .await,
    );
    ids.push(
        chat.say(
            Role::Assistant,
            "The red dragon sleeps in the volcano cave beyond the northern ridge.",
        )
        .await,
    );
    ids.push(chat.say(Role::User, "What about the silver river?").await);
    ids.push(
        chat.say(
            Role::Assistant,
            "The silver river runs past the old mill where the miller bakes bread.",
        )
        .await,
    );
    chat.small_talk(30).await;
    (chat, ids)
}

fn retrieved_parts(p: &PromptPreview) -> Vec<&confab_core::prompt::PromptPart> {
    p.prompt
        .parts
        .iter()
        .filter(|part| part.source == PromptSource::RetrievedMemory)
        .collect()
}

#[tokio::test]
async fn relevant_passages_are_ranked_labelled_and_placed_at_their_depth() {
    let server = EmbedServer::start().await;
    let (chat, ids) = topical_chat(&server).await;
    chat.engine.index_memory(&chat.session).await.unwrap();
    let note = chat
        .engine
        .add_memory_note(
            &chat.session,
            "Seraphina knows the dragon hides gold in the volcano cave.",
        )
        .await
        .unwrap();
    chat.engine.index_memory(&chat.session).await.unwrap();

    let p = preview(&chat, "Tell me about the red dragon and its volcano cave.").await;
    let r = &p.retrieval;
    assert!(r.enabled && r.error.is_none(), "{r:?}");
    assert!(!r.passages.is_empty() && r.passages.len() <= 3, "{r:?}");
    assert!(r.passages.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(r.passages.iter().all(|x| x.score >= 0.4));
    let best = r.passages.iter().find(|x| x.message_id.is_some()).unwrap();
    assert_eq!(best.message_id.as_deref(), Some(ids[1].as_str()), "{r:?}");
    assert_eq!(best.position, Some(2));
    assert_eq!(best.label, format!("memory {:.2} · message 2", best.score));
    assert!(
        r.passages
            .iter()
            .any(|x| x.message_id.is_none() && x.id == note.id && x.label.ends_with("· note")),
        "{r:#?}"
    );
    // The small talk shares no word with the query: never retrieved.
    assert!(r.passages.iter().all(|x| !x.text.contains("herbal")));

    // One system message, one part per passage, with the labels of the report.
    let parts = retrieved_parts(&p);
    assert_eq!(parts.len(), r.passages.len());
    let at = parts[0].message_index;
    assert!(parts.iter().all(|x| x.message_index == at));
    let labels: Vec<&str> = parts.iter().map(|x| x.label.as_str()).collect();
    let reported: Vec<&str> = r.passages.iter().map(|x| x.label.as_str()).collect();
    assert_eq!(labels, reported);
    assert_eq!(p.prompt.messages[at as usize].role, Role::System);
    assert!(p.prompt.messages[at as usize]
        .content
        .contains("volcano cave beyond the northern ridge"));
    // Depth 2: two chat messages after it (the last history message and the new one).
    let chat_after = p
        .prompt
        .parts
        .iter()
        .filter(|x| x.message_index > at)
        .filter(|x| matches!(x.source, PromptSource::History | PromptSource::NewMessage))
        .count();
    assert_eq!(chat_after, 2, "{:#?}", p.prompt.parts);

    // Count and minimum score are honoured.
    let mut s = settings(&chat.provider.id, "embed-test");
    s.retrieval_count = 1;
    chat.set_settings(&s).await;
    let p = preview(&chat, "Tell me about the red dragon and its volcano cave.").await;
    assert_eq!(p.retrieval.passages.len(), 1);
    s.retrieval_count = 5;
    s.retrieval_min_score = 0.99;
    chat.set_settings(&s).await;
    let p = preview(&chat, "Tell me about the red dragon and its volcano cave.").await;
    assert!(p.retrieval.passages.is_empty(), "{:?}", p.retrieval);
    assert!(retrieved_parts(&p).is_empty());

    // Depth 0: after the new message.
    s.retrieval_min_score = 0.4;
    s.retrieval_depth = 0;
    chat.set_settings(&s).await;
    let p = preview(&chat, "Tell me about the red dragon and its volcano cave.").await;
    let at = retrieved_parts(&p)[0].message_index as usize;
    assert_eq!(at, p.prompt.messages.len() - 1);
}

#[tokio::test]
async fn retrieval_off_or_without_a_model_changes_nothing() {
    let server = EmbedServer::start().await;
    let (chat, _) = topical_chat(&server).await;
    let mut s = settings(&chat.provider.id, "embed-test");
    s.retrieval = false;
    chat.set_settings(&s).await;
    let p = preview(&chat, "the red dragon").await;
    assert!(!p.retrieval.enabled && p.retrieval.passages.is_empty());
    assert!(retrieved_parts(&p).is_empty());
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn only_the_active_path_is_retrieved() {
    let server = EmbedServer::start().await;
    let chat = Chat::new(&server.base_url()).await;
    chat.say(Role::User, "Sing me something.").await;
    let reply = chat
        .say(Role::Assistant, "Seraphina sings of the weather.")
        .await;
    // A swipe about the griffin, then back to the first reply: the swipe is off the path.
    let swipe = chat
        .store
        .add_swipe(
            &reply,
            confab_core::store::NewMessage {
                role: Role::Assistant,
                name: "Seraphina",
                content: "Seraphina sings of the golden griffin of the mountain.",
                status: confab_core::session::MessageStatus::Complete,
                image_ids: &[],
                speaker: None,
            },
        )
        .await
        .unwrap();
    // Indexed while the swipe is on the path: its passage is stored.
    chat.engine.index_memory(&chat.session).await.unwrap();
    chat.store.select_swipe(&reply, 0).await.unwrap();
    chat.small_talk(30).await;
    chat.engine.index_memory(&chat.session).await.unwrap();

    let hits = chat
        .engine
        .search_memory(&chat.session, "golden griffin mountain", 10)
        .await
        .unwrap();
    assert!(
        hits.iter()
            .all(|h| h.message_id.as_deref() != Some(swipe.id.as_str())),
        "{hits:?}"
    );
    let p = preview(&chat, "the golden griffin of the mountain").await;
    assert!(
        p.retrieval
            .passages
            .iter()
            .all(|x| !x.text.contains("griffin")),
        "{:?}",
        p.retrieval
    );

    // Chosen again, the swipe's passage comes back (the path followed the switch).
    chat.store.select_swipe(&reply, 1).await.unwrap();
    let hits = chat
        .engine
        .search_memory(&chat.session, "golden griffin mountain", 10)
        .await
        .unwrap();
    assert_eq!(
        hits[0].message_id.as_deref(),
        Some(swipe.id.as_str()),
        "{hits:?}"
    );
}

#[tokio::test]
async fn messages_inside_the_window_are_not_retrieved() {
    let server = EmbedServer::start().await;
    let (chat, _) = topical_chat(&server).await;
    let recent = chat
        .say(Role::Assistant, "A blue heron landed on the lantern post.")
        .await;
    chat.engine.index_memory(&chat.session).await.unwrap();
    let p = preview(&chat, "the blue heron on the lantern post").await;
    assert!(
        p.retrieval
            .passages
            .iter()
            .all(|x| x.message_id.as_deref() != Some(recent.as_str())),
        "{:?}",
        p.retrieval
    );
    assert!(p.retrieval.in_window >= 1, "{:?}", p.retrieval);
    // The search (no window) does find it.
    let hits = chat
        .engine
        .search_memory(&chat.session, "blue heron lantern", 3)
        .await
        .unwrap();
    assert_eq!(hits[0].message_id.as_deref(), Some(recent.as_str()));
}

#[tokio::test]
async fn an_edited_message_is_embedded_again_and_an_unchanged_one_is_not() {
    let server = EmbedServer::start().await;
    let (chat, ids) = topical_chat(&server).await;
    let first = chat.engine.index_memory(&chat.session).await.unwrap();
    assert!(first.embedded > 60, "{first:?}");
    let again = chat.engine.index_memory(&chat.session).await.unwrap();
    assert_eq!(again.embedded, 0);

    // A token count saved moves the rev but not the text: nothing is embedded.
    chat.store
        .save_token_counts(
            "test-counter",
            &[confab_core::store::TokenCount {
                id: ids[3].clone(),
                content: "The silver river runs past the old mill where the miller bakes bread."
                    .into(),
                tokens: 17,
            }],
        )
        .await
        .unwrap();
    let round = chat.engine.index_memory(&chat.session).await.unwrap();
    assert_eq!(round.embedded, 0, "{round:?}");

    chat.store
        .edit_message(
            &ids[3],
            "The silver river floods the emerald meadow every spring.",
        )
        .await
        .unwrap();
    let round = chat.engine.index_memory(&chat.session).await.unwrap();
    assert_eq!(round.embedded, 1, "{round:?}");
    assert!(server.inputs().iter().any(|t| t.contains("emerald meadow")));
    let hits = chat
        .engine
        .search_memory(&chat.session, "emerald meadow floods", 2)
        .await
        .unwrap();
    assert_eq!(hits[0].message_id.as_deref(), Some(ids[3].as_str()));
    assert!(hits[0].text.contains("emerald"));
    let old = chat
        .engine
        .search_memory(&chat.session, "miller bakes bread", 5)
        .await
        .unwrap();
    assert!(old.iter().all(|h| !h.text.contains("miller")), "{old:?}");
}

#[tokio::test]
async fn a_new_embeddings_model_never_mixes_with_the_old_ones_vectors() {
    let server = EmbedServer::start().await;
    let (chat, ids) = topical_chat(&server).await;
    chat.engine
        .add_memory_note(&chat.session, "The miller owes Seraphina a loaf.")
        .await
        .unwrap();
    chat.engine.index_memory(&chat.session).await.unwrap();
    let before = preview(&chat, "red dragon volcano").await;
    assert!(!before.retrieval.passages.is_empty());

    // The "-small" model answers vectors half as long: mixing would be visible.
    chat.set_settings(&settings(&chat.provider.id, "embed-small"))
        .await;
    let p = preview(&chat, "red dragon volcano").await;
    assert!(p.retrieval.passages.is_empty(), "{:?}", p.retrieval);
    assert!(p.retrieval.error.is_none());
    chat.engine.index_memory(&chat.session).await.unwrap();
    let p = preview(&chat, "red dragon volcano").await;
    if p.retrieval.passages.is_empty() {
        let small = format!("{}/embed-small", chat.provider.id);
        let n = chat
            .store
            .passage_count(&chat.session, &small)
            .await
            .unwrap();
        let hits = chat
            .engine
            .search_memory(&chat.session, "red dragon volcano", 3)
            .await
            .unwrap();
        let again = preview(&chat, "red dragon volcano").await;
        panic!(
            "{:?} passages {n} hits {hits:?} again {:?}",
            p.retrieval, again.retrieval
        );
    }
    assert_eq!(
        p.retrieval.passages[0].message_id.as_deref(),
        Some(ids[1].as_str())
    );
    let notes = chat
        .store
        .memory_notes(
            &chat.session,
            Some(&format!("{}/embed-small", chat.provider.id)),
        )
        .await
        .unwrap();
    assert!(notes.iter().all(|n| n.embedded));
    assert_eq!(
        chat.store
            .passage_count(&chat.session, &format!("{}/embed-test", chat.provider.id))
            .await
            .unwrap(),
        0
    );
    assert!(server
        .seen
        .models
        .lock()
        .unwrap()
        .iter()
        .any(|m| m == "embed-small"));
}

#[tokio::test]
async fn notes_are_added_embedded_searched_and_deleted() {
    let server = EmbedServer::start().await;
    let chat = Chat::new(&server.base_url()).await;
    let note = chat
        .engine
        .add_memory_note(&chat.session, "  The traveller carries a silver locket.  ")
        .await
        .unwrap();
    assert_eq!(note.text, "The traveller carries a silver locket.");
    assert!(!note.embedded);
    let hits = chat
        .engine
        .search_memory(&chat.session, "silver locket", 5)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, note.id);
    assert!(hits[0].message_id.is_none() && hits[0].position.is_none());
    assert!(hits[0].score > 0.5);
    let notes = chat
        .store
        .memory_notes(
            &chat.session,
            Some(&format!("{}/embed-test", chat.provider.id)),
        )
        .await
        .unwrap();
    assert!(notes[0].embedded);

    let status = chat.engine.retrieval_status(&chat.session).await.unwrap();
    assert_eq!(status.notes.len(), 1);
    assert!(status.notes[0].embedded);
    assert_eq!(status.passages, 1);
    assert!(status.last_error.is_none());

    chat.engine.delete_memory_note(note.id).await.unwrap();
    let hits = chat
        .engine
        .search_memory(&chat.session, "silver locket", 5)
        .await
        .unwrap();
    assert!(hits.is_empty());
    let gone = chat.engine.delete_memory_note(note.id).await.unwrap_err();
    assert_eq!(gone.code(), ErrorCode::NotFound);
    let empty = chat
        .engine
        .add_memory_note(&chat.session, "   ")
        .await
        .unwrap_err();
    assert_eq!(empty.code(), ErrorCode::InvalidInput);
    let nowhere = chat
        .engine
        .add_memory_note("no-such-chat", "x")
        .await
        .unwrap_err();
    assert_eq!(nowhere.code(), ErrorCode::NotFound);
}

#[tokio::test]
async fn a_reply_is_indexed_in_the_background_and_an_offline_server_never_breaks_a_send() {
    let server = EmbedServer::start().await;
    let chat = Chat::new(&server.base_url()).await;
    let sink = Arc::new(Collect::<StreamEvent>::default());
    chat.engine
        .send(
            &chat.session,
            "Where is the crystal tower?",
            &[],
            sink.clone(),
        )
        .await
        .unwrap();
    let model = format!("{}/embed-test", chat.provider.id);
    let end = Instant::now() + Duration::from_secs(20);
    while chat
        .store
        .passage_count(&chat.session, &model)
        .await
        .unwrap()
        < 2
    {
        assert!(Instant::now() < end, "the reply was not indexed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Embeddings from a provider that is not there: the send still completes, the preview says why.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut gone = provider(&format!("http://{dead}/v1"));
    gone.name = "Gone".into();
    let gone = chat.store.save_provider(&gone).await.unwrap();
    chat.set_settings(&settings(&gone.id, "embed-test")).await;
    let p = preview(&chat, "the crystal tower").await;
    let error = p.retrieval.error.clone().expect("a reason");
    assert_eq!(error.code, ErrorCode::Network, "{error:?}");
    assert!(p.retrieval.passages.is_empty());
    let sink = Arc::new(Collect::<StreamEvent>::default());
    chat.engine
        .send(
            &chat.session,
            "And the crystal tower's keeper?",
            &[],
            sink.clone(),
        )
        .await
        .unwrap();
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let events = sink.0.lock().unwrap().clone();
        if let Some(last) = events.iter().find(|e| e.is_terminal()) {
            assert!(matches!(last, StreamEvent::Done { .. }), "{last:?}");
            break;
        }
        assert!(Instant::now() < end, "no terminal event");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The background failure is kept for display.
    let end = Instant::now() + Duration::from_secs(20);
    while chat.engine.retrieval_error(&chat.session).is_none() {
        assert!(Instant::now() < end, "no error kept");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_hanging_embeddings_server_costs_a_turn_only_the_query_timeout() {
    let server = EmbedServer::start().await;
    let chat = Chat::new(&server.base_url()).await;
    chat.say(Role::User, "Hello there.").await;
    server.set_mode(Mode::Hang);
    let p = preview(&chat, "hello").await;
    assert_eq!(
        p.retrieval.error.expect("a reason").code,
        ErrorCode::Timeout
    );
}

#[tokio::test]
async fn anthropic_is_refused_with_a_clear_error() {
    let server = EmbedServer::start().await;
    let chat = Chat::new(&server.base_url()).await;
    let mut claude =
        confab_core::llm::ProviderConfig::new(confab_core::llm::ProviderKind::Anthropic, "Claude");
    claude.base_url = server.base_url();
    claude.default_model = "claude-x".into();
    let claude = chat.store.save_provider(&claude).await.unwrap();
    chat.set_settings(&settings(&claude.id, "claude-x")).await;
    let err = chat
        .engine
        .search_memory(&chat.session, "anything", 3)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(
        err.to_string().contains("Anthropic offers no embeddings"),
        "{err}"
    );
    chat.say(Role::User, "Hello there.").await;
    let p = preview(&chat, "hello").await;
    assert_eq!(
        p.retrieval.error.expect("a reason").code,
        ErrorCode::InvalidInput
    );
    assert_eq!(server.requests(), 0);
}
