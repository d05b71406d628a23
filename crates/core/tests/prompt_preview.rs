//! The preview is the send: the prompt preview and a real send are built by
//! one function, so the request body a 127.0.0.1 server receives is the
//! preview's, byte for byte, for both wire shapes, with every kind of part.

mod chat_support;
mod http_support;

use chat_support::*;
use confab_core::chat::{EngineConfig, StreamEvent};
use confab_core::llm::{ProviderConfig, ProviderKind};
use confab_core::lore::{Book, BookSettings, EntryPosition, EntryRole};
use confab_core::prompt::{AuthorsNote, CharacterNote, PromptSource};
use confab_core::secrets::KeyStorage;
use confab_core::session::notes;
use confab_core::session::turn::{preview_turn, TurnRequest};
use confab_core::session::Role;
use confab_core::store::BookOrigin;

const ANTHROPIC_RAW: &[u8] = include_bytes!("fixtures/streams/anthropic_stream.raw");
/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// Gives the fixture's character example dialogue, a Character's note, an
/// attached book with an @depth entry, a few turns of history, and the chat an Author's Note.
async fn furnish(f: &Fixture) {
    let mut card = f.store.character_detail(&f.character).await.unwrap().card;
    card.mes_example =
        "<START>\n{{user}}: Is the forest safe?\n{{char}}: Safe enough, with me beside you.".into();
    confab_core::library::update_character(&f.store, &f.character, card)
        .await
        .unwrap();
    notes::set_card_note(
        &f.store,
        &f.character,
        Some(CharacterNote {
            text: "{{char}} hides her wound.".into(),
            depth: 2,
            role: Role::System,
        }),
    )
    .await
    .unwrap();
    notes::set_chat_note(
        &f.store,
        &f.session,
        Some(AuthorsNote {
            text: "[Mood: uneasy]".into(),
            depth: 1,
            ..AuthorsNote::default()
        }),
    )
    .await
    .unwrap();
    let mut entry = confab_core::lore::Entry::new(1);
    entry.constant = true;
    entry.position = EntryPosition::AtDepth;
    entry.depth = 3;
    entry.role = EntryRole::Assistant;
    entry.content = "The old oak listens.".into();
    let book = Book {
        name: "Forest".into(),
        description: String::new(),
        settings: BookSettings::default(),
        entries: vec![entry],
        extensions: serde_json::Map::new(),
    };
    f.store
        .insert_world_book(
            &book,
            BookOrigin {
                source_file: "",
                character_id: Some(&f.character),
            },
        )
        .await
        .unwrap();
    for (role, text) in [
        (Role::User, "I wake up."),
        (Role::Assistant, "You are safe now."),
        (Role::User, "Where am I?"),
        (Role::Assistant, "In my glade."),
    ] {
        f.store
            .add_message(
                &f.session,
                confab_core::store::NewMessage {
                    role,
                    name: if role == Role::User {
                        "Traveller"
                    } else {
                        "Seraphina"
                    },
                    content: text,
                    status: Default::default(),
                    image_ids: &[],
                    speaker: None,
                },
            )
            .await
            .unwrap();
    }
}

/// Previews a send of `text` with an image, sends it, and compares bodies.
async fn preview_then_send(f: &Fixture, server: &Server) {
    let image = f
        .store
        .attach_image("dot.png", "image/png", PNG)
        .await
        .unwrap();
    let text = "What is that {{char}}?";
    let request = TurnRequest {
        new_message: Some(text.into()),
        image_ids: vec![image.id.clone()],
        ..TurnRequest::default()
    };
    let preview = preview_turn(&f.store, &f.caches, &f.session, &request, true)
        .await
        .unwrap();
    // Every kind of part is there.
    for source in [
        PromptSource::ExampleDialogue,
        PromptSource::ChatStart,
        PromptSource::CharacterNote,
        PromptSource::AuthorsNote,
        PromptSource::WorldInfo,
        PromptSource::NewMessage,
    ] {
        assert!(
            preview.prompt.parts.iter().any(|p| p.source == source),
            "{source:?} in the preview"
        );
    }
    assert_eq!(preview.images.len(), 1);
    assert_eq!(preview.world_info.activated.len(), 1);
    let expected = serde_json::to_vec(preview.request_body.as_ref().unwrap()).unwrap();

    let sink = Recorder::new();
    f.engine
        .send(&f.session, text, &[image.id], sink.clone())
        .await
        .unwrap();
    let end = sink.terminal().await;
    assert!(matches!(end, StreamEvent::Done { .. }), "{end:?}");
    let sent = server.last_raw_body();
    assert_eq!(
        String::from_utf8_lossy(&sent),
        String::from_utf8_lossy(&expected),
        "the request body is the preview's"
    );
    assert_eq!(sent, expected);
}

#[tokio::test]
async fn an_openai_style_request_is_the_preview_byte_for_byte() {
    let server = Server::start(reply_script(&["It is ", "a sprite."])).await;
    let f = Fixture::new(&server.base_url(), EngineConfig::default()).await;
    furnish(&f).await;
    preview_then_send(&f, &server).await;
    let body = server.last_body();
    let messages = body["messages"].as_array().unwrap();
    // The image rides on the new message, which comes after the post-history instructions.
    let last = messages.last().unwrap();
    assert_eq!(last["role"], "user");
    assert_eq!(last["content"][0]["text"], "What is that Seraphina?");
    assert_eq!(last["content"][1]["type"], "image_url");
}

#[tokio::test]
async fn an_anthropic_request_is_the_preview_byte_for_byte() {
    let server = Server::start(vec![sse_head(), Step::Bytes(ANTHROPIC_RAW.to_vec())]).await;
    let f = Fixture::new(&server.base_url(), EngineConfig::default()).await;
    let mut anthropic = ProviderConfig::new(ProviderKind::Anthropic, "Claude");
    anthropic.base_url = server.base_url();
    anthropic.default_model = "claude-test".into();
    let anthropic = f.store.save_provider(&anthropic).await.unwrap();
    f.keys
        .set(&anthropic.id, "sk-ant-test-key", KeyStorage::Session)
        .await
        .unwrap();
    f.store
        .set_session_model(&f.session, Some(&anthropic.id), Some("claude-test"))
        .await
        .unwrap();
    furnish(&f).await;
    preview_then_send(&f, &server).await;
    let body = server.last_body();
    assert!(body["system"]
        .as_str()
        .unwrap()
        .contains("A forest guardian."));
    let last = body["messages"].as_array().unwrap().last().unwrap().clone();
    // The Author's Note (depth 1) and the post-history instructions keep their
    // places as blocks of the last user turn, before its image and text.
    assert_eq!(last["role"], "user");
    let kinds: Vec<&str> = last["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["text", "text", "image", "text"]);
    assert_eq!(last["content"][0]["text"], "[Mood: uneasy]");
    assert_eq!(last["content"][1]["text"], "Stay in character.");
}
