//! The template worker, end to end: this test binary is its own worker, as the
//! app and the CLI are (`harness = false`: `main` serves renders when started
//! with `CONFAB_TEMPLATE_WORKER=1`). A template that allocates without bound
//! (a list added to itself in a loop, which minijinja's fuel does not charge)
//! ends the worker, not this process, with a typed error; real templates render as
//! they do in process, errors keep their codes, and a worker that dies or is
//! killed is replaced.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use confab_core::prompt::PromptMessage;
use confab_core::session::Role;
use confab_core::template::{
    isolate_renders, render_chat_template_with, serve_worker_if_asked, ChatTemplateOptions,
    WORKER_MEMORY_BYTES,
};
use confab_core::{Error, ErrorCode};

/// One check, given the in-process renders of [`TEMPLATES`].
type Check = fn(&[String]);

fn main() -> ExitCode {
    if let Some(code) = serve_worker_if_asked() {
        return code;
    }
    // Rendered in process first, as the reference the worker must match.
    let reference: Vec<String> = TEMPLATES
        .iter()
        .map(|source| render(source).expect("a real template renders"))
        .collect();
    isolate_renders(std::env::current_exe().expect("the test binary's path"));

    let checks: &[(&str, Check)] = &[
        ("real templates render as in process", renders_as_in_process),
        (
            "errors keep their codes in the worker",
            errors_keep_their_codes,
        ),
        (
            "a runaway allocation ends the worker, not the app",
            runaway_allocation_is_stopped,
        ),
        (
            "every render from many threads is right",
            renders_from_many_threads,
        ),
        #[cfg(target_os = "linux")]
        (
            "a worker killed between renders is replaced",
            killed_worker_is_replaced,
        ),
    ];
    for (name, check) in checks {
        check(&reference);
        println!("test {name} ... ok");
    }
    println!("test result: ok. {} passed", checks.len());
    ExitCode::SUCCESS
}

/// ChatML as models ship it, and one with a system turn folded into the first user turn.
const TEMPLATES: &[&str] = &[
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
    "{{ bos_token }}{% for m in messages %}{% if m.role == 'user' %}[INST] {{ m.content.strip() }} [/INST]{% elif m.role == 'assistant' %}{{ m.content }}{{ eos_token }}{% endif %}{% endfor %}",
];

fn conversation() -> Vec<PromptMessage> {
    [
        (Role::System, "You are Alice."),
        (
            Role::User,
            "Hi! \"Quotes\", tabs\tand a new\nline, and ünïcödé 🦊.",
        ),
        (Role::Assistant, "Hello, Bob."),
        (Role::User, "Tell me more."),
    ]
    .into_iter()
    .map(|(role, content)| PromptMessage {
        role,
        content: content.into(),
    })
    .collect()
}

fn render(source: &str) -> confab_core::Result<String> {
    let options = ChatTemplateOptions {
        bos_token: "<s>".into(),
        eos_token: "</s>".into(),
        add_generation_prompt: true,
        today: Some((2026, 12, 6)),
    };
    render_chat_template_with(source, &conversation(), &options)
}

fn renders_as_in_process(reference: &[String]) {
    for (source, expected) in TEMPLATES.iter().zip(reference) {
        assert_eq!(&render(source).expect("renders in the worker"), expected);
    }
}

fn errors_keep_their_codes(_: &[String]) {
    let raised = render("{{ raise_exception('no system role, please') }}").unwrap_err();
    assert_eq!(raised.code(), ErrorCode::InvalidInput);
    assert!(
        raised.to_string().contains("no system role, please"),
        "{raised}"
    );

    let endless =
        render("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}")
            .unwrap_err();
    assert!(
        matches!(&endless, Error::TooLarge { what, .. } if what.contains("work")),
        "{endless:?}"
    );

    let broken = render("{% for %}").unwrap_err();
    assert_eq!(broken.code(), ErrorCode::InvalidInput);
}

fn runaway_allocation_is_stopped(reference: &[String]) {
    let too_large = |source: &str| {
        let started = Instant::now();
        let err = render(source).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(60), "bounded time");
        // Whatever stopped it, the next render gets a working worker.
        assert_eq!(render(TEMPLATES[0]).expect("renders after"), reference[0]);
        err
    };
    // A list added to itself escapes minijinja's fuel: only the worker's memory limit stops it.
    let list = "{% set ns = namespace(l=['x']) %}{% for i in range(80) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}";
    let limit = format!("{} MB", WORKER_MEMORY_BYTES / (1024 * 1024));
    let err = too_large(list);
    assert!(
        matches!(&err, Error::TooLarge { what, limit: l } if what.contains("memory") && *l == limit),
        "{err:?}"
    );
    assert_eq!(err.code(), ErrorCode::TooLarge);
    // Strings doubled by `~`, through macro arguments or by `replace` are stopped too.
    for source in [
        "{% set ns = namespace(s='xxxxxxxxxxxxxxxx') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
        "{% macro grow(s, n) %}{% if n > 0 %}{{ grow(s ~ s, n - 1) }}{% else %}{{ s|length }}{% endif %}{% endmacro %}{{ grow('xxxxxxxx', 100) }}",
        "{% set ns = namespace(s='x') %}{% for i in range(80) %}{% set ns.s = ns.s|replace('x', 'xx') %}{% endfor %}{{ ns.s|length }}",
    ] {
        let err = too_large(source);
        assert_eq!(err.code(), ErrorCode::TooLarge, "{source}: {err:?}");
    }
}

fn renders_from_many_threads(reference: &[String]) {
    std::thread::scope(|scope| {
        for i in 0..8 {
            scope.spawn(move || {
                for _ in 0..10 {
                    let which = i % TEMPLATES.len();
                    assert_eq!(render(TEMPLATES[which]).unwrap(), reference[which]);
                }
            });
        }
    });
}

/// The workers this process started (its children), by PID.
#[cfg(target_os = "linux")]
fn workers() -> Vec<i32> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                let after = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
                after.split(' ').nth(1) == Some(me.as_str()) && !after.starts_with('Z')
            })
        })
        .collect()
}

#[cfg(target_os = "linux")]
fn killed_worker_is_replaced(reference: &[String]) {
    assert_eq!(render(TEMPLATES[0]).unwrap(), reference[0]);
    let running = workers();
    assert_eq!(
        running.len(),
        1,
        "one worker serves every render: {running:?}"
    );
    // SAFETY: kill(2) with a PID this process started and a signal number; nothing is borrowed.
    assert_eq!(unsafe { libc::kill(running[0], libc::SIGKILL) }, 0);
    std::thread::sleep(Duration::from_millis(200));
    // Not the template's fault: rendered again by a new worker, without an error.
    assert_eq!(render(TEMPLATES[1]).unwrap(), reference[1]);
    let now = workers();
    assert_eq!(now.len(), 1, "{now:?}");
    assert_ne!(now[0], running[0]);
}
