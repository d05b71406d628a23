//! Jinja chat templates: a model's own template, rendered with minijinja in a sandbox.
//!
//! Rendered as Hugging Face's `apply_chat_template` renders them:
//! `trim_blocks` and `lstrip_blocks` on, a single trailing newline dropped,
//! the variables `messages`, `bos_token`, `eos_token`, `add_generation_prompt`,
//! the functions `raise_exception(message)` and `strftime_now(format)`, and
//! Python's string and dict methods (`.strip()`, `.startswith()`, `.get()`,
//! `.items()`; minijinja-contrib's pycompat).
//!
//! A template is outside input (a GGUF's metadata, a server's report, a
//! user's paste), so every render is bounded: the source by
//! [`MAX_CHAT_TEMPLATE_BYTES`], the work by minijinja's fuel (each
//! instruction costs one; a loop nest over `range(100000)` or a recursive
//! macro runs out in milliseconds), recursion by a depth limit, and the
//! output by a cap that stops the render at the write that crosses it. A
//! template that raises gives its own message, as `invalid_input`.
//!
//! Memory is bounded through fuel only in part: minijinja charges what most
//! operations allocate (a string doubled in a loop runs out of fuel), caps
//! `range` at 100,000 items, but a list added to itself in a loop still
//! doubles within its fuel, and minijinja has no allocation hook. The app and
//! the CLI therefore render in a memory-limited worker process
//! ([`super::sandbox`]); a render in process (tests, other embedders) keeps
//! the other bounds.

use std::io;
use std::sync::{Arc, Mutex};

use minijinja::syntax::SyntaxConfig;
use minijinja::{context, Environment, ErrorKind, UndefinedBehavior, Value};

use crate::error::{Error, Result};
use crate::prompt::PromptMessage;

/// The longest template source accepted (real ones are under 20 KB).
pub const MAX_CHAT_TEMPLATE_BYTES: usize = 256 * 1024;
/// The most fuel a render gets (500,000 plus 5,000 per message, capped here).
pub const MAX_CHAT_TEMPLATE_FUEL: u64 = 50_000_000;
/// The base of the output cap; each message's bytes add four times their size.
pub const MAX_CHAT_TEMPLATE_OUTPUT_BYTES: usize = 8 * 1024 * 1024;
/// Fuel every render gets, whatever the history's length.
const BASE_FUEL: u64 = 500_000;
/// Fuel each message adds (a template spends a few hundred instructions per message).
const FUEL_PER_MESSAGE: u64 = 5_000;
/// How deep macros and includes may nest.
const RECURSION_LIMIT: usize = 128;

/// A message as a chat template sees it: `{"role": …, "content": …}`.
pub type ChatTemplateMessage = PromptMessage;

/// What a render takes besides the template and the messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatTemplateOptions {
    /// `bos_token` (`<s>`, `<|begin_of_text|>`; empty when the server adds it).
    pub bos_token: String,
    /// `eos_token` (`</s>`, `<|eot_id|>`, `<|im_end|>`).
    pub eos_token: String,
    /// Open the assistant's turn at the end.
    pub add_generation_prompt: bool,
    /// Today for `strftime_now`, as (year, month, day) in the user's time zone; `None` = 1970-01-01.
    pub today: Option<(i32, u32, u32)>,
}

/// Renders a Jinja chat template over `messages` (roles `system`, `user`, `assistant`).
pub fn render_chat_template(
    source: &str,
    messages: &[ChatTemplateMessage],
    bos_token: &str,
    eos_token: &str,
    add_generation_prompt: bool,
) -> Result<String> {
    render_chat_template_with(
        source,
        messages,
        &ChatTemplateOptions {
            bos_token: bos_token.to_owned(),
            eos_token: eos_token.to_owned(),
            add_generation_prompt,
            today: None,
        },
    )
}

/// Like [`render_chat_template`], with every option; in the template worker
/// when renders are isolated ([`super::isolate_renders`]).
pub fn render_chat_template_with(
    source: &str,
    messages: &[ChatTemplateMessage],
    options: &ChatTemplateOptions,
) -> Result<String> {
    // Refused here too, so an oversized template never travels to the worker.
    if source.len() > MAX_CHAT_TEMPLATE_BYTES {
        return Err(Error::TooLarge {
            what: "the chat template".into(),
            limit: format!("{} KB", MAX_CHAT_TEMPLATE_BYTES / 1024),
        });
    }
    match super::sandbox::render_isolated(source, messages, options) {
        Some(result) => result,
        None => render_in_process(source, messages, options),
    }
}

/// Renders in this process, with every bound but memory's (see the module's notes).
pub(super) fn render_in_process(
    source: &str,
    messages: &[ChatTemplateMessage],
    options: &ChatTemplateOptions,
) -> Result<String> {
    if source.len() > MAX_CHAT_TEMPLATE_BYTES {
        return Err(Error::TooLarge {
            what: "the chat template".into(),
            limit: format!("{} KB", MAX_CHAT_TEMPLATE_BYTES / 1024),
        });
    }
    let fuel = (BASE_FUEL + FUEL_PER_MESSAGE.saturating_mul(messages.len() as u64))
        .min(MAX_CHAT_TEMPLATE_FUEL);
    let input_bytes: usize = messages.iter().map(|m| m.content.len()).sum();
    let cap = MAX_CHAT_TEMPLATE_OUTPUT_BYTES.saturating_add(input_bytes.saturating_mul(4));

    let raised: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let env = environment(fuel, options.today, Arc::clone(&raised))?;
    let template = env.template_from_str(source).map_err(|e| {
        Error::InvalidInput(format!("the chat template cannot be read: {}", short(&e)))
    })?;
    let ctx = context! {
        messages => message_values(messages),
        bos_token => options.bos_token.as_str(),
        eos_token => options.eos_token.as_str(),
        add_generation_prompt => options.add_generation_prompt,
    };
    let mut out = CappedWriter {
        buf: Vec::new(),
        cap,
        overflowed: false,
    };
    let result = template.render_captured_to(ctx, &mut out).map(|_| ());
    if let Err(e) = result {
        if let Some(message) = raised.lock().ok().and_then(|mut m| m.take()) {
            return Err(Error::InvalidInput(format!(
                "the chat template refused the conversation: {message}"
            )));
        }
        if out.overflowed {
            return Err(Error::TooLarge {
                what: "the chat template's output".into(),
                limit: format!("{} MB", cap / (1024 * 1024)),
            });
        }
        return Err(match e.kind() {
            ErrorKind::OutOfFuel => Error::TooLarge {
                what: "the chat template's work".into(),
                limit: format!("{fuel} steps"),
            },
            _ => Error::InvalidInput(format!("the chat template failed: {}", short(&e))),
        });
    }
    String::from_utf8(out.buf)
        .map_err(|_| Error::Internal("the chat template wrote invalid UTF-8".into()))
}

/// The messages as maps of `role` and `content` (no serde round trip).
fn message_values(messages: &[ChatTemplateMessage]) -> Value {
    Value::from_iter(messages.iter().map(|m| {
        context! {
            role => m.role.as_str(),
            content => m.content.as_str(),
        }
    }))
}

/// The sandboxed environment: HF's whitespace rules, fuel, recursion limit, the two HF functions.
fn environment(
    fuel: u64,
    today: Option<(i32, u32, u32)>,
    raised: Arc<Mutex<Option<String>>>,
) -> Result<Environment<'static>> {
    let mut env = Environment::new();
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
        .map_err(|e| Error::Internal(format!("chat template syntax: {e}")))?;
    env.set_syntax(syntax);
    env.set_fuel(Some(fuel));
    env.set_recursion_limit(RECURSION_LIMIT);
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function(
        "raise_exception",
        move |message: String| -> std::result::Result<Value, minijinja::Error> {
            if let Ok(mut slot) = raised.lock() {
                *slot = Some(message.clone());
            }
            Err(minijinja::Error::new(ErrorKind::InvalidOperation, message))
        },
    );
    let (y, m, d) = today.unwrap_or((1970, 1, 1));
    env.add_function("strftime_now", move |format: String| -> String {
        strftime(&format, y, m, d)
    });
    Ok(env)
}

/// minijinja's error without its debug dump, bounded in length.
fn short(e: &minijinja::Error) -> String {
    let mut s = e.to_string();
    if s.len() > 500 {
        let mut end = 500;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

/// A writer that refuses to grow past `cap` bytes.
struct CappedWriter {
    buf: Vec<u8>,
    cap: usize,
    overflowed: bool,
}

impl io::Write for CappedWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len().saturating_add(data.len()) > self.cap {
            self.overflowed = true;
            return Err(io::Error::other("chat template output over its cap"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Python's `strftime` for a date at midnight: `%Y %y %m %d %e %b %B %a %A %j %H %M %S %%`.
fn strftime(format: &str, year: i32, month: u32, day: u32) -> String {
    // Outside input: keep the arithmetic below far from overflow.
    let year = year.clamp(0, 9999);
    let month = month.clamp(1, 12);
    let day = day.clamp(1, 31);
    let mi = (month - 1) as usize;
    let weekday = weekday_index(year, month, day);
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&year.to_string()),
            Some('y') => out.push_str(&format!("{:02}", year.rem_euclid(100))),
            Some('m') => out.push_str(&format!("{month:02}")),
            Some('d') => out.push_str(&format!("{day:02}")),
            Some('e') => out.push_str(&format!("{day:>2}")),
            Some('B') => out.push_str(MONTHS[mi]),
            Some('b') => out.push_str(&MONTHS[mi][..3]),
            Some('A') => out.push_str(WEEKDAYS[weekday]),
            Some('a') => out.push_str(&WEEKDAYS[weekday][..3]),
            Some('j') => out.push_str(&format!("{:03}", day_of_year(year, month, day))),
            Some('H') | Some('M') | Some('S') => out.push_str("00"),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn day_of_year(y: i32, m: u32, d: u32) -> u32 {
    const CUM: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let leap = u32::from(m > 2 && is_leap(y));
    CUM[(m - 1) as usize] + d + leap
}

/// 0 = Monday (Sakamoto's method).
fn weekday_index(y: i32, m: u32, d: u32) -> usize {
    const T: [i32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
    let y = if m < 3 { y - 1 } else { y };
    let sunday0 = (y + y.div_euclid(4) - y.div_euclid(100)
        + y.div_euclid(400)
        + T[(m - 1) as usize]
        + d as i32)
        .rem_euclid(7);
    ((sunday0 + 6) % 7) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strftime_formats_what_templates_ask() {
        assert_eq!(strftime("%d %b %Y", 2024, 7, 26), "26 Jul 2024");
        assert_eq!(strftime("%Y-%m-%d", 2025, 3, 1), "2025-03-01");
        assert_eq!(
            strftime("%A %B %e, %j%%", 2024, 12, 31),
            "Tuesday December 31, 366%"
        );
    }
}
