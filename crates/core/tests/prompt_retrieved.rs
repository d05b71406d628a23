//! Retrieved passages in assembly: one system message at the retrieval depth
//! (counted like every depth insertion), one part per passage with its score
//! and origin, passages whose message is inside the kept window left out,
//! the count honoured, and only as many as fit.

mod prompt_support;

use confab_core::prompt::{PromptMemory, PromptSource, RetrievedPassage};
use confab_core::session::Role;
use prompt_support::*;

fn passage(
    id: i64,
    text: &str,
    score: f32,
    position: Option<u32>,
    history_index: Option<u32>,
) -> RetrievedPassage {
    RetrievedPassage {
        id,
        text: text.into(),
        score,
        message_id: position.map(|p| format!("m{p}")),
        position,
        history_index,
    }
}

fn long_history(n: usize) -> Vec<confab_core::prompt::HistoryMessage> {
    (0..n)
        .map(|i| {
            msg(
                if i % 2 == 0 {
                    Role::User
                } else {
                    Role::Assistant
                },
                &format!("message number {i} with a few more words in it"),
            )
        })
        .collect()
}

#[test]
fn passages_go_in_one_system_message_at_their_depth_with_labels() {
    let mut inp = input();
    inp.authors_note = Some(note("Keep it short.", 2, Role::System));
    inp.memory = PromptMemory {
        retrieved: vec![
            passage(
                7,
                "The dragon sleeps in the volcano.",
                0.82,
                Some(412),
                None,
            ),
            passage(9, "Ann carries a silver locket.", 0.77, None, None),
        ],
        retrieval_depth: 2,
        ..PromptMemory::default()
    };
    let p = run(&inp);
    check_accounting(&p);
    let parts: Vec<_> = p
        .parts
        .iter()
        .filter(|x| x.source == PromptSource::RetrievedMemory)
        .collect();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].label, "memory 0.82 · message 412");
    assert_eq!(parts[1].label, "memory 0.77 · note");
    let at = parts[0].message_index as usize;
    assert_eq!(parts[1].message_index as usize, at);
    assert_eq!(p.messages[at].role, Role::System);
    assert_eq!(
        p.messages[at].content,
        "The dragon sleeps in the volcano.\n\nAnn carries a silver locket."
    );
    // Its own message, after the Author's Note sharing its depth.
    let note_at = p
        .parts
        .iter()
        .find(|x| x.source == PromptSource::AuthorsNote)
        .unwrap()
        .message_index as usize;
    assert_eq!(note_at + 1, at);
    // Two chat messages after it: the last history message and the new one.
    let chat_after = p
        .parts
        .iter()
        .filter(|x| x.message_index as usize > at)
        .filter(|x| matches!(x.source, PromptSource::History | PromptSource::NewMessage))
        .count();
    assert_eq!(chat_after, 2);
}

#[test]
fn passages_of_kept_messages_are_left_out_and_the_count_is_honoured() {
    let mut inp = input();
    inp.history = long_history(40);
    inp.context_window = 300;
    inp.reply_reserve = 0;
    inp.memory = PromptMemory {
        retrieved: vec![
            // In the window (the newest message): left out.
            passage(1, "kept already", 0.95, Some(40), Some(39)),
            // Loaded but trimmed out of the window: placed.
            passage(2, "trimmed away", 0.9, Some(1), Some(0)),
            passage(3, "from long ago", 0.8, Some(0), None),
            passage(4, "a fourth one", 0.7, None, None),
        ],
        retrieval_depth: 4,
        retrieval_count: 2,
        ..PromptMemory::default()
    };
    let p = run(&inp);
    assert!(p.dropped_history > 0);
    let texts: Vec<&str> = p
        .parts
        .iter()
        .filter(|x| x.source == PromptSource::RetrievedMemory)
        .map(|x| x.text.as_str())
        .collect();
    assert_eq!(texts, vec!["trimmed away", "from long ago"]);
    assert!(p.total_tokens <= 300);
}

#[test]
fn passages_that_do_not_fit_are_dropped_not_the_prompt() {
    let mut inp = input();
    inp.context_window = 120;
    inp.reply_reserve = 0;
    let huge = "word ".repeat(400);
    inp.memory = PromptMemory {
        retrieved: vec![passage(1, &huge, 0.9, None, None)],
        retrieval_depth: 0,
        ..PromptMemory::default()
    };
    let p = run(&inp);
    assert!(p
        .parts
        .iter()
        .all(|x| x.source != PromptSource::RetrievedMemory));
    assert!(p.total_tokens <= 120);
}
