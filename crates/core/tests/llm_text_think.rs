//! The `<think>` splitter: reasoning apart from the reply, whatever the
//! chunking (every split point, one byte at a time), with the opening tag in
//! the prompt or in the stream, custom tags, and blocks left open at the end;
//! and the same through a real stream with `start_reply_with`.

mod http_support;
mod text_support;

use std::time::Duration;

use confab_core::llm::text::think::split_events;
use confab_core::llm::{
    build_text_request, start_reply_with, KoboldStream, ProviderKind, StreamParser, TextPrompt,
    ThinkOptions, ThinkParser, ThinkSplitter, WireEvent, DEFAULT_MAX_EVENT_BYTES,
};
use futures_util::StreamExt;
use text_support::*;

fn r(s: &str) -> WireEvent {
    WireEvent::Reasoning(s.into())
}
fn t(s: &str) -> WireEvent {
    WireEvent::Text(s.into())
}

/// Splits `text` cut at the given char boundaries, merged.
fn split_at(opts: &ThinkOptions, text: &str, cuts: &[usize]) -> Vec<WireEvent> {
    let mut s = ThinkSplitter::new(opts.clone());
    let mut out = Vec::new();
    let mut from = 0;
    for &c in cuts {
        out.extend(s.push(&text[from..c]));
        from = c;
    }
    out.extend(s.push(&text[from..]));
    out.extend(s.finish());
    merged(&out)
}

/// Every way of cutting `text` once and twice, and one char at a time, gives `want`.
fn check_all_splits(opts: &ThinkOptions, text: &str, want: &[WireEvent]) {
    let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).skip(1).collect();
    assert_eq!(split_at(opts, text, &[]), want, "whole: {text:?}");
    for &a in &bounds {
        assert_eq!(split_at(opts, text, &[a]), want, "cut at {a}: {text:?}");
        for &b in bounds.iter().filter(|&&b| b > a) {
            assert_eq!(
                split_at(opts, text, &[a, b]),
                want,
                "cut at {a},{b}: {text:?}"
            );
        }
    }
    assert_eq!(
        split_at(opts, text, &bounds),
        want,
        "char by char: {text:?}"
    );
}

#[test]
fn a_block_at_the_start_is_reasoning_at_every_split() {
    let o = ThinkOptions::default();
    check_all_splits(
        &o,
        "<think>Plan: greet.</think>\n\nHello!",
        &[r("Plan: greet."), t("Hello!")],
    );
    check_all_splits(
        &o,
        "\n <think>a<b</thi</think>Hi",
        &[r("a<b</thi"), t("Hi")],
    );
    check_all_splits(&o, "<think></think>Hi", &[t("Hi")]);
    check_all_splits(&o, "<think>ü🌍</think>ß", &[r("ü🌍"), t("ß")]);
}

#[test]
fn text_without_a_block_is_the_reply_at_every_split() {
    let o = ThinkOptions::default();
    check_all_splits(
        &o,
        "Hello <think>not a block</think>",
        &[t("Hello <think>not a block</think>")],
    );
    check_all_splits(&o, "<thin>k", &[t("<thin>k")]);
    check_all_splits(&o, "<", &[t("<")]);
    check_all_splits(&o, "  ", &[t("  ")]);
    // After the block, a second one is the reply's.
    check_all_splits(
        &o,
        "<think>x</think>y<think>z</think>",
        &[r("x"), t("y<think>z</think>")],
    );
}

#[test]
fn a_prefilled_opening_tag_starts_inside_the_block() {
    let o = ThinkOptions {
        prefilled: true,
        ..ThinkOptions::default()
    };
    check_all_splits(
        &o,
        "Let me think.\n</think>\nHi there",
        &[r("Let me think.\n"), t("Hi there")],
    );
    check_all_splits(&o, "</think>Hi", &[t("Hi")]);
    // A literal opening tag inside the block is reasoning text.
    check_all_splits(&o, "<think>x</think>y", &[r("<think>x"), t("y")]);
}

#[test]
fn unterminated_blocks_and_held_back_tags_at_the_end() {
    let o = ThinkOptions::default();
    // The block never closed: all of it was reasoning, a half tag included.
    check_all_splits(
        &o,
        "<think>still thinking</thi",
        &[r("still thinking</thi")],
    );
    let p = ThinkOptions {
        prefilled: true,
        ..ThinkOptions::default()
    };
    check_all_splits(&p, "no end", &[r("no end")]);
    // A stream that stops in the middle of the opening tag: it was text.
    check_all_splits(&o, "  <thi", &[t("  <thi")]);
    // Only whitespace after the block: nothing more.
    check_all_splits(&o, "<think>a</think>\n\n", &[r("a")]);
}

#[test]
fn custom_tags_and_no_tags() {
    let o = ThinkOptions {
        open: "<|channel|>analysis<|message|>".into(),
        close: "<|end|>".into(),
        prefilled: false,
    };
    check_all_splits(
        &o,
        "<|channel|>analysis<|message|>hm<|end|>Ok",
        &[r("hm"), t("Ok")],
    );
    let none = ThinkOptions {
        open: String::new(),
        close: String::new(),
        prefilled: true,
    };
    check_all_splits(&none, "<think>x</think>", &[t("<think>x</think>")]);
}

#[test]
fn memory_held_back_is_bounded() {
    // Whitespace forever, waiting for a tag: past the bound it is reply text.
    let mut s = ThinkSplitter::new(ThinkOptions::default());
    let mut out = Vec::new();
    for _ in 0..100 {
        out.extend(s.push(&" ".repeat(1000)));
    }
    assert!(s.in_reply());
    out.extend(s.finish());
    assert_eq!(merged(&out), [t(&" ".repeat(100_000))]);
    // Inside a long block only a tag's length is held back.
    let mut s = ThinkSplitter::new(ThinkOptions {
        prefilled: true,
        ..ThinkOptions::default()
    });
    for _ in 0..1000 {
        let evs = s.push("reasoning </");
        assert_eq!(evs.len(), 1);
    }
}

#[test]
fn whole_answers_are_split_before_their_finish() {
    let events = vec![
        t("<think>a</th"),
        t("ink>b"),
        WireEvent::Finish {
            reason: "stop".into(),
        },
    ];
    assert_eq!(
        split_events(events, &ThinkOptions::default()),
        [
            r("a"),
            t("b"),
            WireEvent::Finish {
                reason: "stop".into()
            }
        ]
    );
}

const THINKING_KOBOLD: &str = concat!(
    "event: message\ndata: {\"token\": \"<th\", \"finish_reason\": null}\n\n",
    "event: message\ndata: {\"token\": \"ink>Plan\", \"finish_reason\": null}\n\n",
    "event: message\ndata: {\"token\": \" it.</\", \"finish_reason\": null}\n\n",
    "event: message\ndata: {\"token\": \"think>\\n\\nHel\", \"finish_reason\": null}\n\n",
    "event: message\ndata: {\"token\": \"lo</\", \"finish_reason\": \"stop\"}\n\n",
);

#[test]
fn the_parser_wrapper_splits_any_stream_in_every_chunking() {
    for sizes in CHUNKINGS {
        let parser = ThinkParser::new(KoboldStream::new(), ThinkOptions::default());
        let (events, err) = run_pure(parser, THINKING_KOBOLD.as_bytes(), sizes);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(
            merged(&events),
            [
                r("Plan it."),
                t("Hello</"),
                WireEvent::Finish {
                    reason: "stop".into()
                }
            ],
            "{sizes:?}"
        );
    }
    // Wrapped, a stream that ends without a finish is still cut off.
    let mut p = ThinkParser::new(KoboldStream::new(), ThinkOptions::default());
    assert!(p.on_eof().is_err());
}

#[tokio::test]
async fn start_reply_with_splits_streamed_and_whole_answers() {
    let opts = ThinkOptions::default();
    let server = Server::always(sse(THINKING_KOBOLD.as_bytes(), 3, true)).await;
    let c = config(ProviderKind::KoboldCpp, &server.root(), true);
    let p = TextPrompt {
        prompt: "x",
        ..TextPrompt::default()
    };
    let req = build_text_request(&c, "", &p, None).unwrap();
    let stream = start_reply_with(
        &client(),
        &c,
        &req,
        Some(&opts),
        Duration::from_secs(5),
        DEFAULT_MAX_EVENT_BYTES,
    )
    .await
    .unwrap();
    let events: Vec<WireEvent> = stream.map(Result::unwrap).collect().await;
    assert_eq!(
        merged(&events),
        [
            r("Plan it."),
            t("Hello</"),
            WireEvent::Finish {
                reason: "stop".into()
            }
        ]
    );

    let server = Server::always(json_ok(
        r#"{"content":"Reasoning here.</think>\nAnswer.","stop":true,"stop_type":"eos"}"#,
    ))
    .await;
    let c = config(ProviderKind::LlamaCpp, &server.root(), false);
    let req = build_text_request(&c, "", &p, None).unwrap();
    let prefilled = ThinkOptions {
        prefilled: true,
        ..ThinkOptions::default()
    };
    let stream = start_reply_with(
        &client(),
        &c,
        &req,
        Some(&prefilled),
        Duration::from_secs(5),
        DEFAULT_MAX_EVENT_BYTES,
    )
    .await
    .unwrap();
    let events: Vec<WireEvent> = stream.map(Result::unwrap).collect().await;
    assert_eq!(
        events,
        [
            r("Reasoning here."),
            t("Answer."),
            WireEvent::Finish {
                reason: "stop".into()
            }
        ]
    );
}
