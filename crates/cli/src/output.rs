//! Printing results and errors, as text for people or JSON for scripts.

use std::io::Write;
use std::process::ExitCode;

use confab_core::{AppError, ErrorCode};

use crate::chat_cmd::Ending;
use serde::Serialize;

/// How the CLI prints.
pub struct Output {
    /// JSON on stdout instead of text.
    pub json: bool,
}

impl Output {
    /// Prints a result and returns success.
    pub fn success<T: Serialize + std::fmt::Display>(&self, value: &T) -> ExitCode {
        let printed = if self.json {
            serde_json::to_string_pretty(value)
                .map_err(std::io::Error::other)
                .and_then(|text| writeln!(std::io::stdout(), "{text}"))
        } else {
            writeln!(std::io::stdout(), "{value}")
        };
        match printed {
            Ok(()) => ExitCode::SUCCESS,
            // A closed pipe (`confab info | head -1`) is not worth a panic.
            Err(_) => ExitCode::from(1),
        }
    }

    /// Prints an error (JSON on stdout, or text on stderr) and exits with its code.
    pub fn failure(&self, err: &AppError) -> ExitCode {
        if self.json {
            let body = serde_json::json!({ "error": err });
            let _ = writeln!(std::io::stdout(), "{body}");
        } else {
            let _ = writeln!(std::io::stderr(), "confab: {} [{}]", err.message, err.code);
        }
        ExitCode::from(exit_code(err.code))
    }

    /// Ends a streamed reply (already printed, events included with --json).
    pub fn ending(&self, ending: Ending) -> ExitCode {
        match ending {
            Ending::Done => ExitCode::SUCCESS,
            Ending::Stopped => {
                if !self.json {
                    let _ = writeln!(
                        std::io::stderr(),
                        "confab: stopped; the partial reply is saved"
                    );
                }
                ExitCode::from(STOPPED)
            }
            Ending::Failed(err) => {
                if !self.json {
                    let _ = writeln!(std::io::stderr(), "confab: {} [{}]", err.message, err.code);
                }
                ExitCode::from(exit_code(err.code))
            }
        }
    }
}

/// The exit code of a reply stopped with Ctrl-C (the shell's 128 + SIGINT).
pub const STOPPED: u8 = 130;

/// The exit code for an error: scripts tell failures apart without parsing text.
/// Listed in `confab chat --help`; 2 is clap's usage error.
pub fn exit_code(code: ErrorCode) -> u8 {
    match code {
        ErrorCode::NotFound => 3,
        ErrorCode::InvalidInput => 4,
        ErrorCode::Busy => 5,
        ErrorCode::Unauthorized => 10,
        ErrorCode::RateLimited => 11,
        ErrorCode::Overloaded => 12,
        ErrorCode::ContextTooLong => 13,
        ErrorCode::BadRequest => 14,
        ErrorCode::Upstream => 15,
        ErrorCode::Network => 16,
        ErrorCode::Timeout => 17,
        ErrorCode::Truncated => 18,
        ErrorCode::Protocol => 19,
        ErrorCode::KeyringUnavailable => 20,
        ErrorCode::DiskFull => 21,
        ErrorCode::ReplyStreaming => 22,
        _ => 1,
    }
}
