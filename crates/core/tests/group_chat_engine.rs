//! Group chats through the streaming engine, against a model server on
//! 127.0.0.1: each reply saved with its speaker, a member asked to speak or to
//! regenerate, auto turns that run to their count or end at a stop.

mod chat_engine_support;
mod chat_support;
mod http_support;

use std::time::Duration;

use chat_engine_support::{quick, wait_free};
use chat_support::*;
use confab_core::card::{CardData, CardFormat, CardSpec};
use confab_core::chat::{ReplyKind, StreamEvent};
use confab_core::library::content_hash;
use confab_core::session::group::{CardMode, GroupSettings, Presence, TurnOrder};
use confab_core::session::MessageStatus;
use confab_core::store::{Inserted, NewCharacter};
use confab_core::ErrorCode;

/// The fixture's Seraphina with Bo and Cy added: a group of three (Seraphina first).
async fn group(f: &Fixture) -> (String, String) {
    let mut ids = Vec::new();
    for (name, description) in [("Bo", "Bo guards the bridge."), ("Cy", "Cy sells maps.")] {
        let card = CardData {
            name: name.into(),
            description: description.into(),
            ..Default::default()
        };
        let hash = content_hash(&card);
        let Inserted::New { id } = f
            .store
            .insert_character(NewCharacter {
                card: &card,
                original: &serde_json::json!({}),
                spec: CardSpec::V3,
                format: CardFormat::Json,
                source_file: "c.json",
                content_hash: &hash,
                avatar: None,
                assets: &[],
                collections: &[],
            })
            .await
            .unwrap()
        else {
            panic!("a new character")
        };
        f.store.add_group_member(&f.session, &id).await.unwrap();
        ids.push(id);
    }
    (ids[0].clone(), ids[1].clone())
}

fn settings(order: TurnOrder, auto_turns: u32) -> GroupSettings {
    GroupSettings {
        turn_order: order,
        auto_turns,
        card_mode: CardMode::Join,
    }
}

fn starts(events: &[StreamEvent]) -> Vec<(ReplyKind, Option<String>)> {
    events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Started(s) => Some((s.kind, s.speaker_id.clone())),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_group_reply_is_written_by_the_member_asked_for_and_saved_under_their_name() {
    let server = Server::start(reply_script(&["Hm."])).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    let (bo, _cy) = group(&f).await;
    let sink = Recorder::new();
    let started = f
        .engine
        .send_as(&f.session, "Who guards this?", &[], Some(&bo), sink.clone())
        .await
        .unwrap();
    assert_eq!(started.speaker_id.as_deref(), Some(bo.as_str()));
    sink.terminal().await;
    let reply = f.messages().await.pop().unwrap();
    assert_eq!((reply.name.as_str(), reply.content.as_str()), ("Bo", "Hm."));
    assert_eq!(reply.speaker_id.as_deref(), Some(bo.as_str()));
    // Bo's prompt: named messages, the nudge last.
    let body = server.last_body();
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(
        messages.last().unwrap()["content"],
        "[Write the next reply only as Bo.]"
    );
    assert!(messages
        .iter()
        .any(|m| m["content"] == "User: Who guards this?"
            || m["content"] == "Traveller: Who guards this?"));

    // Regenerate as Cy: a new swipe by Cy under the same message.
    server.set_default(reply_script(&["Maps!"]));
    let (_, cy) = (
        bo.clone(),
        f.store.group_members(&f.session).await.unwrap()[2]
            .character_id
            .clone(),
    );
    let sink = Recorder::new();
    f.engine
        .regenerate_as(&f.session, Some(&cy), sink.clone())
        .await
        .unwrap();
    sink.terminal().await;
    let again = f.messages().await.pop().unwrap();
    assert_eq!((again.name.as_str(), again.swipe_count), ("Cy", 2));
    assert_eq!(again.parent_id, reply.parent_id);
    // Plain regenerate keeps the last reply's speaker.
    let sink = Recorder::new();
    let kept = f.engine.regenerate(&f.session, sink.clone()).await.unwrap();
    assert_eq!(kept.speaker_id.as_deref(), Some(cy.as_str()));
    sink.terminal().await;
}

#[tokio::test]
async fn a_member_speaks_without_a_user_message_and_the_absent_cannot() {
    let server = Server::start(reply_script(&["I pass by."])).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    // A 1:1 chat has no turns to take.
    let refused = f.engine.speak(&f.session, None, Recorder::new()).await;
    assert_eq!(refused.unwrap_err().code(), ErrorCode::InvalidInput);

    let (bo, cy) = group(&f).await;
    f.store
        .set_member_presence(&f.session, &cy, Presence::Absent)
        .await
        .unwrap();
    let before = f.messages().await.len();
    let refused = f.engine.speak(&f.session, Some(&cy), Recorder::new()).await;
    assert_eq!(refused.unwrap_err().code(), ErrorCode::InvalidInput);
    assert_eq!(f.messages().await.len(), before, "nothing saved");

    let sink = Recorder::new();
    let started = f
        .engine
        .speak(&f.session, Some(&bo), sink.clone())
        .await
        .unwrap();
    assert_eq!(started.kind, ReplyKind::Speak);
    assert_eq!(started.user_message_id, None);
    sink.terminal().await;
    let path = f.messages().await;
    assert_eq!(path.len(), before + 1);
    assert_eq!(path.last().unwrap().name, "Bo");

    // With everyone muted or absent, nobody may speak and nothing is saved.
    for id in [&bo, &f.character] {
        f.store
            .set_member_presence(&f.session, id, Presence::Muted)
            .await
            .unwrap();
    }
    let refused = f
        .engine
        .send(&f.session, "Hello?", &[], Recorder::new())
        .await;
    assert_eq!(refused.unwrap_err().code(), ErrorCode::InvalidInput);
    assert_eq!(f.messages().await.len(), before + 1);
}

#[tokio::test]
async fn auto_turns_let_members_answer_each_other_up_to_the_count() {
    let server = Server::start(reply_script(&["Indeed."])).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    group(&f).await;
    f.store
        .set_group_settings(&f.session, &settings(TurnOrder::List, 2))
        .await
        .unwrap();
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "Talk among yourselves.", &[], sink.clone())
        .await
        .unwrap();
    assert!(
        sink.wait_for(Duration::from_secs(10), |e| {
            e.iter().filter(|e| e.is_terminal()).count() == 3
        })
        .await,
        "three replies: the answer and two auto turns"
    );
    wait_free(&f).await;
    let events = sink.events();
    let kinds: Vec<ReplyKind> = starts(&events).into_iter().map(|(k, _)| k).collect();
    assert_eq!(kinds, [ReplyKind::Send, ReplyKind::Speak, ReplyKind::Speak]);
    // List order from the top (the greeting was written before the chat was a
    // group, by no member): Seraphina, Bo, Cy.
    let path = f.messages().await;
    let names: Vec<&str> = path
        .iter()
        .rev()
        .take(3)
        .rev()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(names, ["Seraphina", "Bo", "Cy"]);
    assert!(path.iter().all(|m| m.status == MessageStatus::Complete));
    // No fourth turn comes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.terminal_count(), 3);
}

#[tokio::test]
async fn a_stop_ends_the_auto_turns_with_the_reply_it_cut() {
    // Every reply trickles until the client goes away.
    let slow = vec![
        sse_head(),
        Step::Trickle(chunk("la ").into_bytes(), Duration::from_millis(20)),
    ];
    let server = Server::start(slow).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    group(&f).await;
    f.store
        .set_group_settings(&f.session, &settings(TurnOrder::Natural, 5))
        .await
        .unwrap();
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "Sing.", &[], sink.clone())
        .await
        .unwrap();
    sink.first_delta().await;
    assert!(f.engine.stop(&f.session));
    assert!(
        sink.wait_for(Duration::from_secs(5), |e| e
            .iter()
            .any(|e| e.is_terminal()))
            .await
    );
    wait_free(&f).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(starts(&sink.events()).len(), 1, "no turn after the stop");
    let last = f.messages().await.pop().unwrap();
    assert_eq!(last.status, MessageStatus::Cancelled);
    assert!(!f.engine.stop(&f.session), "nothing left to stop");
}

#[tokio::test]
async fn a_stop_between_auto_turns_ends_the_chain_too() {
    let server = Server::start(reply_script(&["Fine."])).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    group(&f).await;
    // The first reply is held until the test lets it go.
    let gate = std::sync::Arc::new(tokio::sync::Notify::new());
    let mut held = vec![Step::Wait(gate.clone())];
    held.extend(reply_script(&["Fine."]));
    server.push(held);
    f.store
        .set_group_settings(&f.session, &settings(TurnOrder::Random, 3))
        .await
        .unwrap();
    let sink = Recorder::new();
    f.engine
        .send(&f.session, "Go on.", &[], sink.clone())
        .await
        .unwrap();
    // Stop the chain (the current reply too), then let the server answer.
    assert!(f.engine.stop(&f.session));
    gate.notify_one();
    assert!(
        sink.wait_for(Duration::from_secs(5), |e| e
            .iter()
            .any(|e| e.is_terminal()))
            .await
    );
    wait_free(&f).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(starts(&sink.events()).len(), 1);
}

/// The first reply waits at `gate` before it answers; later ones answer at once.
fn hold_next(server: &Server, gate: &std::sync::Arc<tokio::sync::Notify>, text: &str) {
    let mut held = vec![Step::Wait(gate.clone())];
    held.extend(reply_script(&[text]));
    server.push(held);
}

#[tokio::test]
async fn a_window_that_attaches_during_the_first_reply_follows_every_auto_turn_once() {
    let server = Server::start(reply_script(&["Later."])).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    group(&f).await;
    let gate = std::sync::Arc::new(tokio::sync::Notify::new());
    hold_next(&server, &gate, "First.");
    f.store
        .set_group_settings(&f.session, &settings(TurnOrder::List, 2))
        .await
        .unwrap();
    let sender = Recorder::new();
    f.engine
        .send(&f.session, "Talk.", &[], sender.clone())
        .await
        .unwrap();
    // A second window opens the chat while the first reply is held.
    let window = Recorder::new();
    assert!(f
        .engine
        .attach_as(&f.session, Some("chat-2"), window.clone()));
    gate.notify_one();
    for sink in [&sender, &window] {
        assert!(
            sink.wait_for(Duration::from_secs(10), |e| {
                e.iter().filter(|e| e.is_terminal()).count() == 3
            })
            .await,
            "both hear the answer and two auto turns"
        );
    }
    wait_free(&f).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let kinds = |s: &Recorder| -> Vec<ReplyKind> {
        starts(&s.events()).into_iter().map(|(k, _)| k).collect()
    };
    let expected = [ReplyKind::Send, ReplyKind::Speak, ReplyKind::Speak];
    assert_eq!(kinds(&sender), expected);
    assert_eq!(kinds(&window), expected, "each turn's start once, in order");
    assert_eq!(window.terminal_count(), 3);
    assert_eq!(
        window
            .events()
            .iter()
            .filter(|e| matches!(e, StreamEvent::Done { .. }))
            .count(),
        3
    );
}

#[tokio::test]
async fn a_window_that_attaches_again_mid_chain_hears_the_later_turns_on_its_new_channel_only() {
    let server = Server::start(reply_script(&["Third."])).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    group(&f).await;
    let (first, second) = (
        std::sync::Arc::new(tokio::sync::Notify::new()),
        std::sync::Arc::new(tokio::sync::Notify::new()),
    );
    hold_next(&server, &first, "First.");
    hold_next(&server, &second, "Second.");
    f.store
        .set_group_settings(&f.session, &settings(TurnOrder::List, 2))
        .await
        .unwrap();
    let sender = Recorder::new();
    f.engine
        .send(&f.session, "Talk.", &[], sender.clone())
        .await
        .unwrap();
    let old = Recorder::new();
    assert!(f.engine.attach_as(&f.session, Some("chat-2"), old.clone()));
    first.notify_one();
    // The first auto turn starts (and waits): the window hears it on its old channel.
    assert!(
        old.wait_for(Duration::from_secs(10), |e| starts(e).len() == 2)
            .await
    );
    // The window reloads and attaches again: its new channel takes over.
    let new = Recorder::new();
    assert!(f.engine.attach_as(&f.session, Some("chat-2"), new.clone()));
    second.notify_one();
    assert!(
        sender
            .wait_for(Duration::from_secs(10), |e| {
                e.iter().filter(|e| e.is_terminal()).count() == 3
            })
            .await
    );
    wait_free(&f).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(starts(&old.events()).len(), 2);
    assert_eq!(old.terminal_count(), 1, "only the first reply's end");
    let new_starts: Vec<ReplyKind> = starts(&new.events()).into_iter().map(|(k, _)| k).collect();
    assert_eq!(new_starts, [ReplyKind::Speak, ReplyKind::Speak]);
    assert_eq!(new.terminal_count(), 2);
}
