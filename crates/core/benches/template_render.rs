//! Rendering a 1,000-message history into one text prompt: through a real
//! Jinja chat template (Llama 3.2's, from llama.cpp; target: under 10 ms) and
//! through the built-in Llama 3 Instruct preset, which writes the same turns;
//! then the Jinja render as the app and the CLI make it, in the template worker
//! (this bench binary is its own worker, as they are), warm and at its start.
//!
//! `cargo bench --locked -p confab-core --bench template_render`

use std::time::{Duration, Instant};

use confab_core::prompt::PromptMessage;
use confab_core::session::Role;
use confab_core::template::{
    context_preset, instruct_preset, isolate_renders, render_chat_template_with,
    render_text_prompt, serve_worker_if_asked, ChatTemplateOptions, TextPromptInput, Turn,
};

const MESSAGES: usize = 1_000;
const RUNS: usize = 30;

fn sentence(seed: usize) -> String {
    const W: &[&str] = &[
        "the", "bridge", "toll", "inn", "lantern", "map", "river", "said", "looked", "night",
        "quiet", "storm", "she", "he", "and", "under", "over", "harbor", "road", "keys",
    ];
    let mut x = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..60)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            W[(x % W.len() as u64) as usize]
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    if serve_worker_if_asked().is_some() {
        return;
    }
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/chat_templates/meta-llama-Llama-3.2-3B-Instruct.jinja"
    ))
    .expect("the Llama 3.2 template fixture");
    // Mistral Small 3.1's template rebuilds a filtered list message by
    // message (`list + [message]`): the quadratic case among real templates.
    let mistral = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/chat_templates/mistralai-Mistral-Small-3.1-24B-Instruct-2503.jinja"
    ))
    .expect("the Mistral Small template fixture");
    let mut messages = vec![PromptMessage {
        role: Role::System,
        content: "You are Alice, the innkeeper.".into(),
    }];
    let mut input = TextPromptInput {
        char_name: "Alice".into(),
        user_name: "Bob".into(),
        ..TextPromptInput::default()
    };
    input.story.system = "You are Alice, the innkeeper.".into();
    for i in 0..MESSAGES {
        let role = if i % 2 == 0 {
            Role::User
        } else {
            Role::Assistant
        };
        let text = sentence(i);
        messages.push(PromptMessage {
            role,
            content: text.clone(),
        });
        let name = if role == Role::User { "Bob" } else { "Alice" };
        input.history.push(Turn::new(role, name, text));
    }
    let options = ChatTemplateOptions {
        bos_token: "<|begin_of_text|>".into(),
        eos_token: "<|eot_id|>".into(),
        add_generation_prompt: true,
        today: Some((2024, 7, 26)),
    };
    let instruct = instruct_preset("Llama 3 Instruct").expect("the preset");
    let context = context_preset("Plain").expect("the context");

    let (mut jinja, mut preset, mut quadratic) = (Vec::new(), Vec::new(), Vec::new());
    let (mut jinja_len, mut preset_len) = (0, 0);
    for _ in 0..RUNS {
        let t = Instant::now();
        let out = render_chat_template_with(&source, &messages, &options).expect("renders");
        jinja.push(t.elapsed());
        jinja_len = out.len();

        let t = Instant::now();
        let _ = render_chat_template_with(&mistral, &messages, &options).expect("renders");
        quadratic.push(t.elapsed());

        let t = Instant::now();
        let out = render_text_prompt(instruct, context, &input).expect("renders");
        preset.push(t.elapsed());
        preset_len = out.text.len();
    }
    let (j, p, q) = (median(jinja), median(preset), median(quadratic));
    println!("template render, {MESSAGES}-message history, median of {RUNS}:");
    println!(
        "  Jinja (Llama 3.2 template, minijinja):  {:>7.2} ms  ({} KB out)  target < 10 ms",
        ms(j),
        jinja_len / 1024
    );
    println!(
        "  Jinja (Mistral Small 3.1 template):     {:>7.2} ms",
        ms(q)
    );
    println!(
        "  preset (Llama 3 Instruct):              {:>7.2} ms  ({} KB out)",
        ms(p),
        preset_len / 1024
    );
    println!(
        "  Jinja / preset:                         {:>7.1}x",
        j.as_secs_f64() / p.as_secs_f64().max(1e-9)
    );

    // The same render through the worker: its first (starting the worker), then warm.
    isolate_renders(std::env::current_exe().expect("the bench binary's path"));
    let t = Instant::now();
    let _ = render_chat_template_with(&source, &messages, &options).expect("renders");
    let first = t.elapsed();
    let mut isolated = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let out = render_chat_template_with(&source, &messages, &options).expect("renders");
        isolated.push(t.elapsed());
        assert_eq!(
            out.len(),
            jinja_len,
            "the worker writes what the process does"
        );
    }
    let w = median(isolated);
    println!(
        "  Jinja in the template worker (as the app): {:>4.2} ms  ({:.1}x in process; its first render, starting it: {:.1} ms)",
        ms(w),
        w.as_secs_f64() / j.as_secs_f64().max(1e-9),
        ms(first)
    );
}
