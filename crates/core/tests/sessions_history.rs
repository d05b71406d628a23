//! The recent history a prompt is built from is kept in memory between turns
//! and brought up to date from the messages' change clock. These tests hold
//! it to a fresh read (a store just opened keeps nothing) through every kind
//! of change a chat sees, and show the kept copy is really what answers.

use confab_core::session::MessageStatus;
use confab_core::store::{RecentHistory, Store, TokenCount};
use sqlx::Connection;

mod sessions_support;
use sessions_support::{path_of, reply, store_with_character, user};

const COUNTER: &str = "o200k_base";

/// A small deterministic generator, so a failure replays.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

/// What a store that kept nothing reads.
async fn fresh_read(
    dir: &std::path::Path,
    session: &str,
    before: Option<&str>,
    max_bytes: usize,
) -> RecentHistory {
    let fresh = Store::open(dir).await.unwrap();
    let history = fresh
        .recent_history(session, before, max_bytes, COUNTER)
        .await
        .unwrap();
    fresh.close().await;
    history
}

#[tokio::test]
async fn the_kept_history_always_reads_as_a_fresh_one_through_every_kind_of_change() {
    let (dir, store, character) = store_with_character().await;
    let session = store.create_session(&character, None, "Ann").await.unwrap();
    let mut dice = Dice(0x5eed);
    for step in 0..160 {
        let path = path_of(&store, &session).await;
        let some_id =
            |dice: &mut Dice| (!path.is_empty()).then(|| path[dice.below(path.len())].0.clone());
        let text = format!("step {step} {}", "word ".repeat(dice.below(40)));
        let op = dice.below(10);
        match op {
            0..=2 => {
                let new = if step % 2 == 0 {
                    user(&text)
                } else {
                    reply(&text)
                };
                store.add_message(&session, new).await.unwrap();
            }
            3 => {
                // A send: the user message and an empty reply, then the reply streams in.
                let (_, reply_id) = store
                    .add_exchange(&session, user(&text), reply(""))
                    .await
                    .unwrap();
                for part in 1..=3 {
                    let streamed = format!("streamed {step} part {part}");
                    store
                        .update_reply(&reply_id, &streamed, MessageStatus::Complete, None)
                        .await
                        .unwrap();
                }
            }
            4 => {
                if let Some(id) = some_id(&mut dice) {
                    store
                        .edit_message(&id, &format!("edited {text}"))
                        .await
                        .unwrap();
                }
            }
            5 => {
                if let Some(id) = some_id(&mut dice) {
                    // Now and then only: a delete takes everything below it.
                    if dice.below(3) == 0 {
                        store.delete_message(&id).await.unwrap();
                    }
                }
            }
            6 => {
                if let Some(id) = some_id(&mut dice) {
                    store
                        .add_swipe(&id, reply(&format!("swipe {text}")))
                        .await
                        .unwrap();
                }
            }
            7 => {
                if let Some(id) = some_id(&mut dice) {
                    // An index past the swipes is refused: that is fine here.
                    let _ = store.select_swipe(&id, dice.below(3) as u32).await;
                }
            }
            8 => {
                // Counts remembered, some for a text that has changed since (not kept).
                let mut counts = Vec::new();
                for (id, content) in &path {
                    if dice.below(2) == 0 {
                        let stale = dice.below(4) == 0;
                        counts.push(TokenCount {
                            id: id.clone(),
                            content: if stale {
                                "stale".into()
                            } else {
                                content.clone()
                            },
                            tokens: (content.len() / 4) as u32 + 1,
                        });
                    }
                }
                store.save_token_counts(COUNTER, &counts).await.unwrap();
            }
            _ => {
                let _ = store.add_message(&session, reply("")).await.unwrap();
            }
        }

        // A prompt may ask for any window, at the newest message or above an earlier one.
        let path = path_of(&store, &session).await;
        let before = (dice.below(4) == 0 && !path.is_empty())
            .then(|| path[dice.below(path.len())].0.clone());
        let max_bytes = [usize::MAX, 200, 2_000][dice.below(3)];
        let kept = store
            .recent_history(&session, before.as_deref(), max_bytes, COUNTER)
            .await
            .unwrap();
        let fresh = fresh_read(dir.path(), &session, before.as_deref(), max_bytes).await;
        assert_eq!(
            kept, fresh,
            "step {step} (change {op}, before {before:?}, {max_bytes} bytes)"
        );
    }
}

#[tokio::test]
async fn the_kept_history_is_what_answers_and_the_clock_is_what_keeps_it_true() {
    let (dir, store, character) = store_with_character().await;
    let session = store.create_session(&character, None, "Ann").await.unwrap();
    for i in 0..30 {
        let text = format!("message {i}");
        let new = if i % 2 == 0 {
            user(&text)
        } else {
            reply(&text)
        };
        store.add_message(&session, new).await.unwrap();
    }
    let first = store
        .recent_history(&session, None, usize::MAX, COUNTER)
        .await
        .unwrap();
    let newest = first.messages.last().unwrap().id.clone();

    // Written behind the store's back with the clock's trigger gone: the kept
    // copy still answers (so it is really used), a fresh read sees the change.
    let url = format!("sqlite://{}", dir.path().join("confab.db").display());
    let mut raw = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("DROP TRIGGER messages_rev_update")
        .execute(&mut raw)
        .await
        .unwrap();
    sqlx::query("UPDATE messages SET content = 'unseen' WHERE id = ?")
        .bind(&newest)
        .execute(&mut raw)
        .await
        .unwrap();
    let kept = store
        .recent_history(&session, None, usize::MAX, COUNTER)
        .await
        .unwrap();
    assert_eq!(kept, first, "the kept history answered");
    let fresh = fresh_read(dir.path(), &session, None, usize::MAX).await;
    assert_eq!(fresh.messages.last().unwrap().content, "unseen");

    // With the trigger back, the same kind of write is seen at once.
    sqlx::query(
        "CREATE TRIGGER messages_rev_update
         AFTER UPDATE OF session_id, parent_id, depth, role, name, content, tokens, tokens_by
         ON messages BEGIN
             UPDATE history_clock SET tick = tick + 1 WHERE id = 0;
             UPDATE messages SET rev = (SELECT tick FROM history_clock WHERE id = 0)
             WHERE rowid = new.rowid;
         END",
    )
    .execute(&mut raw)
    .await
    .unwrap();
    sqlx::query("UPDATE messages SET content = 'seen' WHERE id = ?")
        .bind(&newest)
        .execute(&mut raw)
        .await
        .unwrap();
    raw.close().await.unwrap();
    let kept = store
        .recent_history(&session, None, usize::MAX, COUNTER)
        .await
        .unwrap();
    assert_eq!(kept.messages.last().unwrap().content, "seen");
    assert_eq!(kept.messages.len(), first.messages.len());
}

#[tokio::test]
async fn a_chat_changed_past_what_is_caught_up_on_is_read_afresh() {
    let (dir, store, character) = store_with_character().await;
    let session = store.create_session(&character, None, "Ann").await.unwrap();
    store.add_message(&session, user("before")).await.unwrap();
    store
        .recent_history(&session, None, usize::MAX, COUNTER)
        .await
        .unwrap();
    // More messages written since than a kept history catches up on (an import's worth).
    for i in 0..1100 {
        let text = format!("later {i}");
        let new = if i % 2 == 0 {
            reply(&text)
        } else {
            user(&text)
        };
        store.add_message(&session, new).await.unwrap();
    }
    for max_bytes in [usize::MAX, 3_000] {
        let kept = store
            .recent_history(&session, None, max_bytes, COUNTER)
            .await
            .unwrap();
        let fresh = fresh_read(dir.path(), &session, None, max_bytes).await;
        assert_eq!(kept, fresh, "{max_bytes} bytes");
    }
}
