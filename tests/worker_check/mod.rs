//! The check that a binary serves as Confab's template worker, shared by the
//! app's tests and the CLI's (which include this file by path): a template that
//! allocates without bound ends the worker with `too_large`, and the next
//! render, in a fresh worker, is right.

use std::path::PathBuf;

use confab_core::prompt::PromptMessage;
use confab_core::session::Role;
use confab_core::template::{isolate_renders, render_chat_template_with, ChatTemplateOptions};
use confab_core::ErrorCode;

/// A list added to itself in a loop: minijinja's fuel does not charge it.
const RUNAWAY: &str = "{% set ns = namespace(l=['x']) %}{% for i in range(80) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}";
const CHATML: &str = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}<|im_start|>assistant\n";

/// Routes this process's renders to workers started from `exe` and checks them.
pub fn serves_renders(exe: &str) {
    isolate_renders(PathBuf::from(exe));
    let messages = [PromptMessage {
        role: Role::User,
        content: "Hi, Alice.".into(),
    }];
    let options = ChatTemplateOptions::default();
    let err = render_chat_template_with(RUNAWAY, &messages, &options).unwrap_err();
    assert_eq!(err.code(), ErrorCode::TooLarge);
    assert!(err.to_string().contains("memory"), "{err}");
    assert_eq!(
        render_chat_template_with(CHATML, &messages, &options).unwrap(),
        "<|im_start|>user\nHi, Alice.<|im_end|>\n<|im_start|>assistant"
    );
}
