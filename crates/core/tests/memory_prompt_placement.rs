//! Summaries in the assembled prompt: one system message just before the
//! oldest kept history message (after the example dialogue's start line), a
//! part per summary labelled with the messages it stands for, at most about
//! half the history's room (the oldest unpinned left out first, and said so).

mod prompt_support;

use confab_core::prompt::{
    ExampleDialogue, PromptSource, SummaryInput, CHAT_START_LINE, NOT_PLACED,
};
use confab_core::session::Role;
use prompt_support::*;

fn summary(id: &str, text: &str, first: u32, last: u32, pinned: bool) -> SummaryInput {
    SummaryInput {
        id: id.into(),
        text: text.into(),
        covers: last - first + 1,
        first_position: first,
        last_position: last,
        pinned,
    }
}

#[test]
fn summaries_go_in_one_system_message_before_the_oldest_kept_message() {
    let mut inp = with_examples(ExampleDialogue::Keep);
    inp.authors_note = Some(note("Keep it short.", 4, Role::System));
    inp.memory.summaries = vec![
        summary("a", "Ann met {{char}} at the docks.", 1, 40, false),
        summary("b", "They sailed south.", 41, 80, true),
    ];
    let p = run(&inp);
    check_accounting(&p);
    let start = p
        .messages
        .iter()
        .position(|m| m.content == CHAT_START_LINE)
        .expect("the chat start line");
    let at = start + 1;
    let text = &p.messages[at].content;
    assert_eq!(p.messages[at].role, Role::System);
    assert!(
        text.contains("Ann met Mira at the docks."),
        "macros run: {text}"
    );
    assert!(
        text.find("docks").unwrap() < text.find("sailed").unwrap(),
        "oldest first"
    );
    // The Author's Note at a depth beyond the history comes after the summaries, then the history.
    assert_eq!(p.messages[at + 1].content, "Keep it short.");
    assert_eq!(p.messages[at + 2].content, "Hello Mira.");
    let parts: Vec<_> = p
        .parts
        .iter()
        .filter(|x| x.source == PromptSource::Summary)
        .collect();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].label, "summary of messages 1–40");
    assert_eq!(parts[1].label, "summary of messages 41–80, pinned");
    assert!(parts
        .iter()
        .all(|x| x.message_index == at as u32 && x.tokens > 0));
}

#[test]
fn without_summaries_the_prompt_is_as_before() {
    let a = run(&input());
    let mut inp = input();
    inp.memory.summaries = Vec::new();
    assert_eq!(a, run(&inp));
    assert!(a.parts.iter().all(|x| x.source != PromptSource::Summary));
}

#[test]
fn summaries_take_at_most_half_the_history_room_oldest_unpinned_left_out_first() {
    let mut inp = input();
    inp.context_window = 400;
    inp.reply_reserve = 0;
    let words = |n: usize| vec!["w"; n].join(" ");
    inp.memory.summaries = vec![
        summary("pinned-old", &words(60), 1, 10, true),
        summary("old", &words(60), 11, 20, false),
        summary("mid", &words(60), 21, 30, false),
        summary("new", &words(60), 31, 40, false),
    ];
    let p = run(&inp);
    check_accounting(&p);
    let sent: Vec<&str> = p
        .parts
        .iter()
        .filter(|x| x.source == PromptSource::Summary && x.message_index != NOT_PLACED)
        .map(|x| x.label.as_str())
        .collect();
    let left: Vec<&str> = p
        .parts
        .iter()
        .filter(|x| x.source == PromptSource::Summary && x.message_index == NOT_PLACED)
        .map(|x| x.label.as_str())
        .collect();
    assert!(
        sent.contains(&"summary of messages 1–10, pinned"),
        "{sent:?}"
    );
    assert!(
        sent.contains(&"summary of messages 31–40"),
        "the newest stays: {sent:?}"
    );
    assert!(
        left[0].starts_with("summary of messages 11–20 (left out"),
        "{left:?}"
    );
    let summary_tokens: u32 = p
        .parts
        .iter()
        .filter(|x| x.source == PromptSource::Summary && x.message_index != NOT_PLACED)
        .map(|x| x.tokens)
        .sum();
    let fixed: u32 = p
        .parts
        .iter()
        .filter(|x| !matches!(x.source, PromptSource::Summary | PromptSource::History))
        .map(|x| x.tokens)
        .sum();
    assert!(u64::from(summary_tokens) <= u64::from(400 - fixed) / 2 + 5);
    // The history still fits beside them.
    assert!(p.parts.iter().any(|x| x.source == PromptSource::History));
}

#[test]
fn a_summary_counts_against_the_history_budget() {
    let mut inp = input();
    inp.history = (0..40)
        .map(|i| {
            msg(
                if i % 2 == 0 {
                    Role::User
                } else {
                    Role::Assistant
                },
                &format!("m{i} a b c d e f g h i"),
            )
        })
        .collect();
    inp.context_window = 300;
    inp.reply_reserve = 0;
    let before = run(&inp);
    inp.memory.summaries = vec![summary("s", &vec!["w"; 50].join(" "), 1, 5, false)];
    let after = run(&inp);
    check_accounting(&after);
    assert!(after.dropped_history > before.dropped_history);
    assert!(after.total_tokens <= 300);
}

#[test]
fn text_completion_renders_the_summary_as_a_system_turn_of_the_chat() {
    use confab_core::template::TextPromptInput;
    for mode in [ExampleDialogue::Keep, ExampleDialogue::Never] {
        let mut inp = with_examples(mode);
        inp.memory.summaries = vec![summary("a", "They met at the docks.", 1, 40, false)];
        let p = run(&inp);
        let text = TextPromptInput::from_assembled(&p, "Mira", "Ann", &[]);
        let first = &text.history[0];
        assert_eq!(first.role, Role::System, "{mode:?}");
        assert!(first.content.contains("They met at the docks."));
        assert!(
            !text.story.system.contains("docks"),
            "not folded into the story: {mode:?}"
        );
    }
}
