//! Rolling summaries end to end: written in the background after a reply,
//! sent in place of the messages they cover, and never mixed across branches
//! (swipes, edits, deletes, branched chats). Real SQLite files, a real HTTP
//! server on 127.0.0.1; every wait is bounded.

mod chat_engine_support;
mod chat_support;
mod http_support;
mod memory_support;

use chat_engine_support::quick;
use chat_support::*;
use confab_core::memory::settings::DEFAULT_SUMMARY_PROMPT;
use confab_core::session::{MessageStatus, Role};
use confab_core::store::NewMessage;
use memory_support::*;

/// A chat of 12 long exchanges, a reply sent, and the summaries it caused.
async fn summarised() -> (Server, Fixture, confab_core::memory::summary::MemoryView) {
    let server = Server::start(says("Summary: the early days.")).await;
    let f = Fixture::new(&server.base_url(), quick()).await;
    fill(&f, "a", 12).await;
    send_done(&f, "Go on.").await;
    let view = wait_summaries(&f).await;
    (server, f, view)
}

#[tokio::test]
async fn a_reply_writes_summaries_that_the_next_prompt_sends_instead_of_the_messages() {
    let (server, f, view) = summarised().await;
    assert!(view.last_error.is_none(), "{:?}", view.last_error);
    let s = &view.summaries;
    assert_eq!(view.unsummarized, 0, "{s:#?}");
    assert_eq!(s[0].first_position, 1, "from the greeting on");
    for pair in s.windows(2) {
        assert_eq!(pair[1].first_position, pair[0].last_position + 1, "a chain");
    }
    assert!(s
        .iter()
        .all(|x| x.author == "Local / test-model" && !x.stale));
    // Much more than what left the window: the window's start then stays put.
    let covered = s.last().unwrap().last_position;
    assert!(covered >= 12, "covers {covered} messages");

    // The summarizer got the summary prompt and "Name: text" lines; later chunks the summary so far.
    let asked: Vec<_> = server
        .bodies()
        .into_iter()
        .filter(|b| b["messages"][0]["content"] == DEFAULT_SUMMARY_PROMPT)
        .collect();
    let firsts: Vec<String> = asked
        .iter()
        .map(|b| {
            b["messages"][1]["content"]
                .as_str()
                .unwrap()
                .lines()
                .filter(|l| l.contains(':'))
                .map(|l| l.chars().take(12).collect::<String>())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    let pos: Vec<(u32, u32)> = s
        .iter()
        .map(|x| (x.first_position, x.last_position))
        .collect();
    assert_eq!(asked.len(), s.len(), "{firsts:#?} {pos:?}");
    let first = asked[0]["messages"][1]["content"].as_str().unwrap();
    assert!(first.contains("Seraphina: Hello, traveller."), "{first}");
    assert!(first.contains("Traveller: au0:"), "{first}");
    if asked.len() > 1 {
        let second = asked[1]["messages"][1]["content"].as_str().unwrap();
        assert!(second.contains("Summary: the early days."), "{second}");
    }
    // Recorded like any request.
    assert!(f.usage_rows().await.len() > s.len());

    let p = prompt_now(&f, "And then?").await;
    let labels = summary_labels(&p);
    assert_eq!(labels.len(), s.len());
    assert_eq!(
        labels[0],
        format!("summary of messages 1–{}", s[0].last_position)
    );
    assert!(p.dropped_history == 0, "the rest fits");
    let history = history_texts(&p);
    // Position `covered` is the last covered: its text is not sent; the next one is the first kept.
    let path = f.messages().await;
    let first_kept = &path[covered as usize].content;
    assert_eq!(&history[0], first_kept);
    assert!(history
        .iter()
        .all(|h| !h.starts_with("au0:") && !h.starts_with("aa0:")));
}

#[tokio::test]
async fn a_swipe_leaves_the_other_branch_memory_behind_and_gets_its_own() {
    let (_server, f, view) = summarised().await;
    let old: Vec<String> = view.summaries.iter().map(|s| s.id.clone()).collect();
    // A swipe of the reply at position 3, inside the first summary.
    let path = f.messages().await;
    let reply = &path[2];
    assert_eq!(reply.role, Role::Assistant);
    f.store
        .add_swipe(
            &reply.id,
            NewMessage {
                role: Role::Assistant,
                name: "Seraphina",
                content: "Another answer.",
                status: MessageStatus::Complete,
                image_ids: &[],
                speaker: None,
            },
        )
        .await
        .unwrap();
    let view = f.engine.memory_view(&f.session).await.unwrap();
    assert!(view.summaries.is_empty(), "{:?}", view.summaries);
    assert!(summary_labels(&prompt_now(&f, "Hm?").await).is_empty());

    // The new branch grows past the window: its own summaries, none of the other's.
    fill(&f, "b", 12).await;
    send_done(&f, "Go on.").await;
    let view = wait_summaries(&f).await;
    assert!(view.summaries.iter().all(|s| !old.contains(&s.id)));
    assert_eq!(view.summaries[0].first_position, 1);
    let p = prompt_now(&f, "Hm?").await;
    assert!(history_texts(&p)
        .iter()
        .all(|h| !h.starts_with("aa") && !h.starts_with("au")));
    // Back on the first branch, its summaries apply again.
    f.store.select_swipe(&reply.id, 0).await.unwrap();
    let back = f.engine.memory_view(&f.session).await.unwrap();
    let ids: Vec<String> = back.summaries.iter().map(|s| s.id.clone()).collect();
    assert_eq!(ids, old);
}

#[tokio::test]
async fn an_edit_makes_a_summary_stale_unsent_and_redone_unless_pinned() {
    let (server, f, view) = summarised().await;
    let s0 = view.summaries[0].clone();
    let path = f.messages().await;
    let covered = &path[s0.first_position as usize];
    f.store
        .edit_message(&covered.id, "Something else happened.")
        .await
        .unwrap();
    let view = f.engine.memory_view(&f.session).await.unwrap();
    assert!(view.summaries[0].stale);
    let label = format!(
        "summary of messages {}–{}",
        s0.first_position, s0.last_position
    );
    assert!(!summary_labels(&prompt_now(&f, "Hm?").await).contains(&label));

    // Pinned: sent as it is.
    f.engine.pin_summary(&s0.id, true).await.unwrap();
    let pinned = format!("{label}, pinned");
    assert!(summary_labels(&prompt_now(&f, "Hm?").await).contains(&pinned));
    f.engine.pin_summary(&s0.id, false).await.unwrap();

    // The next reply redoes it.
    server.set_default(says("Summary: something else happened."));
    send_done(&f, "Go on.").await;
    let view = wait_view(&f, |v| !v.summaries[0].stale && !v.summarizing).await;
    assert_eq!(view.summaries[0].id, s0.id);
    assert_eq!(
        view.summaries[0].content,
        "Summary: something else happened."
    );
    assert!(summary_labels(&prompt_now(&f, "Hm?").await).contains(&label));
}

#[tokio::test]
async fn deleting_a_covered_message_takes_its_summaries_with_it() {
    let (_server, f, view) = summarised().await;
    let last = view.summaries.last().unwrap().clone();
    let path = f.messages().await;
    // Deleting a message deletes what hangs below it, and the summaries that end there.
    f.store
        .delete_message(&path[last.first_position as usize - 1].id)
        .await
        .unwrap();
    let view = f.engine.memory_view(&f.session).await.unwrap();
    assert!(view.summaries.iter().all(|s| s.id != last.id));
    assert!(f.store.summary(&last.id).await.is_err());
    let p = prompt_now(&f, "Hm?").await;
    assert!(summary_labels(&p).len() == view.summaries.len());
}

#[tokio::test]
async fn a_branch_copies_only_the_summaries_wholly_on_its_path() {
    let (_server, f, view) = summarised().await;
    let path = f.messages().await;
    let s0 = view.summaries[0].clone();
    // Down to the first summary's last message: that one comes along.
    let at_end = f
        .store
        .branch_session(&path[s0.last_position as usize - 1].id)
        .await
        .unwrap();
    let rows = f.store.chat_summaries(&at_end).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].first_depth, 0);
    assert_eq!(i64::from(s0.last_position) - 1, rows[0].last_depth);
    let copied = f.store.summary(&rows[0].id).await.unwrap();
    assert_eq!(copied.content, s0.content);
    assert_eq!(copied.session_id, at_end);
    // One short of it: none.
    let inside = f
        .store
        .branch_session(&path[s0.last_position as usize - 2].id)
        .await
        .unwrap();
    assert!(f.store.chat_summaries(&inside).await.unwrap().is_empty());
    // The original keeps its own.
    assert_eq!(
        f.store.chat_summaries(&f.session).await.unwrap().len(),
        view.summaries.len()
    );
}

#[tokio::test]
async fn the_panel_edits_pins_and_deletes_and_refuses_bad_text() {
    let (_server, f, view) = summarised().await;
    let heard = notices(&f);
    let s0 = &view.summaries[0];
    let edited = f.engine.edit_summary(&s0.id, "  By hand.  ").await.unwrap();
    assert_eq!(edited.content, "By hand.");
    assert!(edited.edited && edited.author.is_empty());
    let code = |r: confab_core::Result<_>| confab_core::AppError::from(r.unwrap_err()).code;
    use confab_core::ErrorCode;
    assert_eq!(
        code(f.engine.edit_summary(&s0.id, " ").await),
        ErrorCode::InvalidInput
    );
    let huge = "x".repeat(9 * 1024);
    assert_eq!(
        code(f.engine.edit_summary(&s0.id, &huge).await),
        ErrorCode::TooLarge
    );
    assert_eq!(
        code(f.engine.pin_summary("nope", true).await),
        ErrorCode::NotFound
    );
    f.engine.delete_summary(&s0.id).await.unwrap();
    let view = f.engine.memory_view(&f.session).await.unwrap();
    assert!(view.summaries.iter().all(|s| s.id != s0.id));
    assert!(heard.events().len() >= 2);
    // Its messages are summarised again when asked.
    let written = f.engine.summarize_now(&f.session).await.unwrap();
    assert!(!written.is_empty());
    assert_eq!(written[0].first_position, 1);
}
