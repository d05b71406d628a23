//! Printing results and errors, as text for people or JSON for scripts.

use std::io::Write;
use std::process::ExitCode;

use confab_core::AppError;
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

    /// Prints an error (JSON on stdout, or text on stderr) and returns failure.
    pub fn failure(&self, err: &AppError) -> ExitCode {
        if self.json {
            let body = serde_json::json!({ "error": err });
            let _ = writeln!(std::io::stdout(), "{body}");
        } else {
            let _ = writeln!(std::io::stderr(), "confab: {} [{}]", err.message, err.code);
        }
        ExitCode::from(1)
    }
}
