//! Prompt assembly: token accounting and trimming the history to the budget,
//! parts labelled and explained, stored token counts reused.

mod prompt_support;

use confab_core::lore::{EntryPosition, EntryRole};
use confab_core::prompt::{assemble, explain, HistoryMessage};
use confab_core::session::Role;
use confab_core::tokens::{default_counter, EstimateCounter, TokenCounter};
use confab_core::Error;
use prompt_support::{check_accounting, input, msg, run, wi, Words};

#[test]
fn history_is_trimmed_from_the_oldest_end() {
    let mut inp = input();
    inp.history = (0..10)
        .map(|i| {
            msg(
                if i % 2 == 0 {
                    Role::User
                } else {
                    Role::Assistant
                },
                &format!("m{i} a b"),
            )
        })
        .collect();
    inp.world_info = vec![wi(
        1,
        EntryPosition::AtDepth,
        2,
        EntryRole::System,
        "note here",
    )];
    let full = run(&inp);
    check_accounting(&full);
    let history_tokens = 10 * 3;
    let fixed = full.total_tokens - history_tokens;
    // Room for exactly four history messages (and not quite five).
    inp.context_window = fixed + 4 * 3 + 2 + 50;
    inp.reply_reserve = 50;
    let p = run(&inp);
    check_accounting(&p);
    assert_eq!(p.dropped_history, 6);
    assert_eq!(p.total_tokens, fixed + 12);
    assert!(p.total_tokens <= inp.context_window - inp.reply_reserve);
    let history: Vec<&str> = p.messages[1..p.messages.len() - 2]
        .iter()
        .map(|x| x.content.as_str())
        .collect();
    // Depth 2: two chat messages after it, the new message counted (as SillyTavern counts).
    assert_eq!(
        history,
        vec!["m6 a b", "m7 a b", "m8 a b", "note here", "m9 a b"]
    );
    let labels: Vec<&str> = p.parts.iter().map(|x| x.label.as_str()).collect();
    assert!(labels.contains(&"message 7") && !labels.contains(&"message 6"));
    // One message of room: the depth entry sits at the top of what is left.
    inp.context_window = fixed + 3 + 50;
    let p = run(&inp);
    assert_eq!(p.dropped_history, 9);
    assert_eq!(p.messages[1].content, "note here");
    assert_eq!(p.messages[2].content, "m9 a b");
    // No room for history at all.
    inp.context_window = fixed + 50;
    let p = run(&inp);
    assert_eq!(p.dropped_history, 10);
    assert_eq!(p.total_tokens, fixed);
    // One token short of the fixed parts: refused.
    inp.context_window = fixed + 50 - 1;
    let err = assemble(&inp, &Words).unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)));
    assert!(
        err.to_string().contains("context window is too small"),
        "{err}"
    );
    // A reserve larger than the window is not an underflow.
    inp.reply_reserve = u32::MAX;
    assert!(assemble(&inp, &Words).is_err());
}

#[test]
fn exact_accounting_with_the_estimate_counter() {
    let mut inp = input();
    inp.world_info = vec![
        wi(1, EntryPosition::AtDepth, 1, EntryRole::User, "abc"),
        wi(2, EntryPosition::AtDepth, 1, EntryRole::User, "defgh"),
    ];
    let p = assemble(&inp, &EstimateCounter).unwrap();
    let total: u32 = p
        .messages
        .iter()
        .map(|x| EstimateCounter.count(&x.content))
        .sum();
    assert_eq!(p.total_tokens, total);
    for part in &p.parts {
        assert_eq!(part.tokens, EstimateCounter.count(&part.text));
    }
    // The grouped depth message ("abc\ndefgh", 9 bytes) counts 3, its parts 1 + 2.
    let group = p
        .messages
        .iter()
        .position(|x| x.content == "abc\ndefgh")
        .unwrap();
    let parts: Vec<u32> = p
        .parts
        .iter()
        .filter(|x| x.message_index as usize == group)
        .map(|x| x.tokens)
        .collect();
    assert_eq!(parts, vec![1, 2]);
    // The real tokenizer agrees with itself the same way.
    let p = assemble(&inp, default_counter()).unwrap();
    let total: u32 = p
        .messages
        .iter()
        .map(|x| default_counter().count(&x.content))
        .sum();
    assert_eq!(p.total_tokens, total);
}

#[test]
fn parts_are_labelled_and_point_at_their_message() {
    let p = run(&input());
    let summary: Vec<(&str, u32)> = p
        .parts
        .iter()
        .map(|x| (x.label.as_str(), x.message_index))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("primary context", 0),
            ("character system prompt", 0),
            ("character description", 0),
            ("persona", 0),
            ("preferences", 0),
            ("message 1", 1),
            ("message 2", 2),
            ("post-history instructions", 3),
            ("global post-history", 3),
            ("new message", 4),
        ]
    );
    for part in &p.parts {
        let message = &p.messages[part.message_index as usize].content;
        assert!(message.contains(&part.text), "{}", part.label);
    }
    let text = explain(&p);
    assert!(
        text.contains("primary context") && text.contains("5 messages"),
        "{text}"
    );
}

/// Counts every call, so a test can see which texts were counted.
struct Calls(std::sync::Mutex<Vec<String>>);

impl TokenCounter for Calls {
    fn count(&self, text: &str) -> u32 {
        self.0.lock().unwrap().push(text.to_owned());
        text.split_whitespace().count() as u32
    }
}

#[test]
fn stored_token_counts_are_used_for_unchanged_messages_only() {
    let mut inp = input();
    inp.history = vec![
        HistoryMessage {
            tokens: Some(40),
            ..msg(Role::User, "plain words here")
        },
        HistoryMessage {
            tokens: Some(40),
            ..msg(Role::Assistant, "hi {{user}}")
        },
    ];
    let calls = Calls(Default::default());
    let p = assemble(&inp, &calls).unwrap();
    let counted = calls.0.lock().unwrap().clone();
    assert!(!counted.contains(&"plain words here".to_owned()));
    assert!(
        counted.contains(&"hi Ann".to_owned()),
        "a macro changed it: counted again"
    );
    let first = p.parts.iter().find(|x| x.label == "message 1").unwrap();
    assert_eq!(first.tokens, 40);
    assert_eq!(
        p.total_tokens,
        p.messages
            .iter()
            .enumerate()
            .map(|(i, x)| if i == 1 { 40 } else { Words.count(&x.content) })
            .sum::<u32>()
    );
}
