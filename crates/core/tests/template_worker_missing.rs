//! A template worker that cannot be started fails the render with a typed
//! error: renders never fall back to this process, where memory is unlimited.

use confab_core::prompt::PromptMessage;
use confab_core::session::Role;
use confab_core::template::{isolate_renders, render_chat_template_with, ChatTemplateOptions};
use confab_core::ErrorCode;

#[test]
fn a_worker_that_cannot_start_fails_the_render_closed() {
    let missing = tempfile::tempdir().unwrap().path().join("no-such-confab");
    isolate_renders(missing.clone());
    let messages = [PromptMessage {
        role: Role::User,
        content: "Hi.".into(),
    }];
    let err = render_chat_template_with(
        "{% for m in messages %}{{ m.content }}{% endfor %}",
        &messages,
        &ChatTemplateOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Io, "{err:?}");
    assert!(err.to_string().contains("no-such-confab"), "{err}");
}
