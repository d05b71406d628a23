//! Jinja renders in a worker process, so that a crafted chat template cannot
//! take Confab down.
//!
//! minijinja bounds a render's work with fuel, and charges most allocations
//! against it (a string doubled in a loop runs out), but not all: a list added
//! to itself in a loop doubles within its fuel (the test `template_worker`
//! shows it), and with no allocation hook a failed allocation aborts the
//! process.
//! Templates come from outside (a GGUF's metadata that llama.cpp reports, a
//! paste), so the app and the CLI render them in a worker: their own
//! executable, started with [`WORKER_ENV`] set, which limits its own memory
//! ([`WORKER_MEMORY_BYTES`], `RLIMIT_DATA`) and answers one line of JSON per
//! request on stdout. The worker stays up between renders; one that dies
//! mid-render (out of memory) is reported as `too_large` and the next render
//! starts a fresh one. A worker that cannot be started fails the render with
//! an `io` error rather than lift the limit. Tests and other embedders that
//! never call [`isolate_renders`] render in process.
//!
//! On Linux the limit is enforced by the kernel. On other systems the worker
//! still isolates the crash (Confab keeps running and says why), but how much
//! it may allocate first is up to the system.

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Serialize};

use super::jinja::{render_in_process, ChatTemplateOptions};
use crate::error::{Error, Result};
use crate::prompt::PromptMessage;

/// Set to `1` in a worker's environment: the executable serves renders instead of starting.
pub const WORKER_ENV: &str = "CONFAB_TEMPLATE_WORKER";
/// The most memory a worker's data may take (heap and anonymous mappings).
// A prompt reaches a template already trimmed to the model's window, so real
// renders take a few MB; a runaway one is stopped within seconds.
pub const WORKER_MEMORY_BYTES: u64 = 256 * 1024 * 1024;

/// The executable that serves renders, once [`isolate_renders`] named it.
static WORKER_EXE: OnceLock<PathBuf> = OnceLock::new();
/// The running worker, started on the first render.
static WORKER: Mutex<Option<Worker>> = Mutex::new(None);

/// Renders Jinja chat templates from now on in workers started from `exe`
/// (the caller's own executable, whose `main` calls [`serve_worker_if_asked`]).
pub fn isolate_renders(exe: PathBuf) {
    // The first call wins: one executable serves for the whole run.
    let _ = WORKER_EXE.set(exe);
}

/// Serves renders when this process was started as a worker: call it first
/// thing in `main`, and exit with what it returns. `None` when this process is
/// not a worker.
pub fn serve_worker_if_asked() -> Option<ExitCode> {
    if std::env::var_os(WORKER_ENV).as_deref() != Some("1".as_ref()) {
        return None;
    }
    limit_memory(WORKER_MEMORY_BYTES);
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lines() {
        let Ok(line) = line else { break };
        let answer = match serde_json::from_str::<Request<'_>>(&line) {
            Ok(request) => Answer::of(request.render()),
            Err(e) => Answer::Internal {
                message: format!("the template worker could not read a request: {e}"),
            },
        };
        let Ok(text) = serde_json::to_string(&answer) else {
            return Some(ExitCode::FAILURE);
        };
        if writeln!(stdout, "{text}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return Some(ExitCode::FAILURE);
        }
    }
    Some(ExitCode::SUCCESS)
}

/// Renders in a worker when renders are isolated (an `io` error when no worker
/// can be started); `None` when they are not, so the caller renders in process.
pub(super) fn render_isolated(
    source: &str,
    messages: &[PromptMessage],
    options: &ChatTemplateOptions,
) -> Option<Result<String>> {
    let exe = WORKER_EXE.get()?;
    let request = Request {
        source: Cow::Borrowed(source),
        messages: Cow::Borrowed(messages),
        bos_token: Cow::Borrowed(&options.bos_token),
        eos_token: Cow::Borrowed(&options.eos_token),
        add_generation_prompt: options.add_generation_prompt,
        today: options.today,
    };
    let line = match serde_json::to_string(&request) {
        Ok(line) => line,
        Err(e) => return Some(Err(Error::Internal(format!("a render request: {e}")))),
    };
    let mut slot = WORKER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // A worker that went away between renders (killed from outside) is
    // replaced once; one that dies during this render is the template's doing.
    for attempt in 0..2 {
        if slot.is_none() {
            match Worker::start(exe) {
                Ok(worker) => *slot = Some(worker),
                // Failing closed: a render in process would lift the memory limit.
                Err(source) => {
                    return Some(Err(Error::Io {
                        path: exe.clone(),
                        source,
                    }))
                }
            }
        }
        let worker = slot.as_mut()?;
        if worker.send(&line).is_err() {
            if let Some(gone) = slot.take() {
                gone.end();
            }
            if attempt == 0 {
                continue;
            }
            return Some(Err(Error::Internal(
                "the template worker stopped answering".into(),
            )));
        }
        return Some(match worker.receive() {
            Some(answer) => answer.into_result(),
            None => {
                if let Some(gone) = slot.take() {
                    gone.end();
                }
                Err(Error::TooLarge {
                    what: "the chat template's memory".into(),
                    limit: format!("{} MB", WORKER_MEMORY_BYTES / (1024 * 1024)),
                })
            }
        });
    }
    None
}

/// A running worker and its pipes.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    fn start(exe: &PathBuf) -> std::io::Result<Worker> {
        let mut child = Command::new(exe)
            .env(WORKER_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // A worker that runs out of memory says so on stderr; the render's error says it better.
            .stderr(Stdio::null())
            .spawn()?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other("the worker's pipes were not opened"));
        };
        Ok(Worker {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        })
    }

    fn send(&mut self, line: &str) -> std::io::Result<()> {
        self.stdin.write_all(line.as_bytes())?;
        self.stdin.write_all(b"\n")?;
        self.stdin.flush()
    }

    /// The answer to the request just sent; `None` when the worker died instead.
    fn receive(&mut self) -> Option<Answer> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => serde_json::from_str(&line).ok(),
        }
    }

    /// Stops the worker and reaps it.
    fn end(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One render, as it travels to the worker.
#[derive(Serialize, Deserialize)]
struct Request<'a> {
    #[serde(borrow)]
    source: Cow<'a, str>,
    messages: Cow<'a, [PromptMessage]>,
    #[serde(borrow)]
    bos_token: Cow<'a, str>,
    #[serde(borrow)]
    eos_token: Cow<'a, str>,
    add_generation_prompt: bool,
    today: Option<(i32, u32, u32)>,
}

impl Request<'_> {
    fn render(&self) -> Result<String> {
        let options = ChatTemplateOptions {
            bos_token: self.bos_token.clone().into_owned(),
            eos_token: self.eos_token.clone().into_owned(),
            add_generation_prompt: self.add_generation_prompt,
            today: self.today,
        };
        render_in_process(&self.source, &self.messages, &options)
    }
}

/// A worker's answer: the text, or the error a render in process would give.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
enum Answer {
    Rendered { text: String },
    TooLarge { what: String, limit: String },
    Invalid { message: String },
    Internal { message: String },
}

impl Answer {
    fn of(result: Result<String>) -> Answer {
        match result {
            Ok(text) => Answer::Rendered { text },
            Err(Error::TooLarge { what, limit }) => Answer::TooLarge { what, limit },
            Err(Error::InvalidInput(message)) => Answer::Invalid { message },
            Err(e) => Answer::Internal {
                message: e.to_string(),
            },
        }
    }

    fn into_result(self) -> Result<String> {
        match self {
            Answer::Rendered { text } => Ok(text),
            Answer::TooLarge { what, limit } => Err(Error::TooLarge { what, limit }),
            Answer::Invalid { message } => Err(Error::InvalidInput(message)),
            Answer::Internal { message } => Err(Error::Internal(message)),
        }
    }
}

/// Caps this process's data (heap and private anonymous mappings), so a
/// runaway allocation fails (and the worker aborts) instead of exhausting the machine.
#[cfg(unix)]
fn limit_memory(bytes: u64) {
    let limit = libc::rlimit {
        rlim_cur: bytes as libc::rlim_t,
        rlim_max: bytes as libc::rlim_t,
    };
    // Lowering a limit cannot fail for a valid resource; the result is not needed.
    // SAFETY: setrlimit reads the struct passed by reference and nothing else.
    unsafe {
        libc::setrlimit(libc::RLIMIT_DATA, &limit);
    }
}

/// Other systems have no `RLIMIT_DATA`: the worker still isolates a crash.
#[cfg(not(unix))]
fn limit_memory(_bytes: u64) {}
