//! The one error type of Confab, and its stable wire form.
//!
//! [`Error`] is what core functions return. [`AppError`] is how every error
//! leaves the process: over IPC to the UI and as JSON from the CLI. Its
//! [`ErrorCode`] strings are a contract: the UI and scripts match on them, so a
//! code is never renamed or reused.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Shorthand for results in confab-core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every way an operation in Confab can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The thing asked for does not exist.
    #[error("{what} was not found")]
    NotFound {
        /// What was looked for, in the user's words ("character 1234").
        what: String,
    },
    /// The caller gave something Confab cannot accept.
    #[error("{0}")]
    InvalidInput(String),
    /// A file holds no character card (an ordinary image, say).
    #[error("{file} has no character card in it")]
    NoCardData {
        /// The file's name, as the user knows it.
        file: String,
    },
    /// A file claims to be a card but cannot be read as one.
    #[error("{file} is not a readable character card: {detail}")]
    InvalidCard {
        /// The file's name, as the user knows it.
        file: String,
        /// What is wrong, in plain words.
        detail: String,
    },
    /// Input over one of Confab's limits (file size, JSON depth, zip contents).
    #[error("{what} is too large (the limit is {limit})")]
    TooLarge {
        /// What was too large ("card.png", "JSON nesting").
        what: String,
        /// The limit, in words ("50 MB", "64 levels").
        limit: String,
    },
    /// A file of a kind Confab does not import.
    #[error("{file} is not a format Confab can import ({detail})")]
    UnsupportedFormat {
        /// The file's name, as the user knows it.
        file: String,
        /// What it seems to be.
        detail: String,
    },
    /// A world-book (lorebook) file that cannot be read; nothing was imported.
    #[error("{file} is not a readable world book: {}", world_book_detail(entry.as_deref(), field.as_deref(), detail))]
    InvalidWorldBook {
        /// The file's name, as the user knows it (or the card the book is embedded in).
        file: String,
        /// The entry at fault, in words (`entry 12 ("Eldoria")`), when one is.
        entry: Option<String>,
        /// The field at fault, as the file spells it (`key`), when one is.
        field: Option<String>,
        /// What is wrong, in plain words.
        detail: String,
    },
    /// The database file exists but is damaged or is not a Confab database.
    #[error("the database at {path} is damaged or is not a Confab database ({detail}); Confab did not change it")]
    DatabaseCorrupt {
        /// The database file.
        path: PathBuf,
        /// What SQLite or the header check said.
        detail: String,
    },
    /// The database was written by a newer Confab whose schema this build does not know.
    #[error("the database at {path} was made by a newer version of Confab (schema version {found}; this version knows up to {supported}); Confab did not change it")]
    DatabaseTooNew {
        /// The database file.
        path: PathBuf,
        /// The newest schema version recorded in the file.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// A backup or library archive from a newer Confab; nothing was changed.
    #[error("{file} was made by a newer version of Confab (schema version {found}; this version knows up to {supported}); nothing was changed")]
    BackupTooNew {
        /// The backup or archive, as the user knows it.
        file: String,
        /// The schema version recorded in it.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// A backup or library archive that is damaged, hostile or not Confab's; nothing was changed.
    #[error("{file} is not a usable Confab backup ({detail}); nothing was changed")]
    BackupDamaged {
        /// The backup or archive, as the user knows it.
        file: String,
        /// What is wrong, in plain words.
        detail: String,
    },
    /// The disk (or the database's size limit) is full; nothing was written.
    #[error("the disk is full: {0}")]
    DiskFull(String),
    /// SQLite or sqlx failed for a reason other than the ones above.
    #[error("database error: {0}")]
    Storage(String),
    /// A file or folder could not be read or written.
    #[error("could not use {path}: {source}")]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A bug or an impossible state: reported, never a panic.
    #[error("internal error: {0}")]
    Internal(String),
    /// The provider refused the API key (or the key may not use this model).
    #[error("the provider refused the API key: {}", redact_secrets(detail))]
    Unauthorized {
        /// What the provider said, with anything key-like removed.
        detail: String,
    },
    /// The provider asked Confab to slow down.
    #[error("{}", rate_limited_message(*retry_after_secs, detail))]
    RateLimited {
        /// How long the provider asked us to wait, when it said.
        retry_after_secs: Option<u32>,
        /// What the provider said, with anything key-like removed.
        detail: String,
    },
    /// The provider answered with an error Confab has no closer name for.
    #[error("the provider answered with an error{}: {}", status_suffix(*status), redact_secrets(detail))]
    Upstream {
        /// The HTTP status, when the error came with one.
        status: Option<u16>,
        /// What the provider said, with anything key-like removed.
        detail: String,
    },
    /// The provider could not be reached, or the connection broke.
    #[error("could not reach the provider: {}", redact_secrets(.0))]
    Network(String),
    /// The provider stopped answering.
    #[error("the provider stopped answering: {}", redact_secrets(.0))]
    Timeout(String),
    /// The provider is overloaded; trying again later usually works.
    #[error(
        "the provider is overloaded right now; try again in a moment ({})",
        redact_secrets(detail)
    )]
    Overloaded {
        /// What the provider said, with anything key-like removed.
        detail: String,
    },
    /// The prompt does not fit in the model's context window.
    #[error(
        "the conversation is too long for the model's context window: {}",
        redact_secrets(detail)
    )]
    ContextTooLong {
        /// What the provider said, with anything key-like removed.
        detail: String,
    },
    /// The provider rejected the request as malformed (a wrong model name, say).
    #[error("the provider rejected the request: {}", redact_secrets(detail))]
    BadRequest {
        /// What the provider said, with anything key-like removed.
        detail: String,
    },
    /// The reply stream ended before the provider said it was finished.
    #[error("the reply was cut off before it finished: {}", redact_secrets(.0))]
    Truncated(String),
    /// The provider sent something that does not follow its own protocol.
    #[error("the provider sent a reply Confab cannot read: {}", redact_secrets(.0))]
    Protocol(String),
    /// A reply is already streaming for this session (in this or another window).
    #[error("{0}")]
    Busy(String),
    /// A reply is streaming, so the library may not be replaced (a restore, an
    /// archive import) until it ends; nothing was changed.
    #[error(
        "a reply is streaming in {sessions} chat(s): stop it or let it finish, then try again; nothing was changed"
    )]
    ReplyStreaming {
        /// How many chats are streaming.
        sessions: usize,
    },
    /// The OS keyring cannot be reached or refused; the user picks a visible fallback.
    #[error("the system keyring is not available ({}); choose where to keep the key", redact_secrets(.0))]
    KeyringUnavailable(String),
}

impl Error {
    /// The stable machine code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::InvalidInput(_) => ErrorCode::InvalidInput,
            Error::NoCardData { .. } => ErrorCode::NoCardData,
            Error::InvalidCard { .. } => ErrorCode::InvalidCard,
            Error::TooLarge { .. } => ErrorCode::TooLarge,
            Error::UnsupportedFormat { .. } => ErrorCode::UnsupportedFormat,
            Error::InvalidWorldBook { .. } => ErrorCode::InvalidWorldBook,
            Error::DatabaseCorrupt { .. } => ErrorCode::DatabaseCorrupt,
            Error::DatabaseTooNew { .. } => ErrorCode::DatabaseTooNew,
            Error::BackupTooNew { .. } => ErrorCode::BackupTooNew,
            Error::BackupDamaged { .. } => ErrorCode::BackupDamaged,
            Error::DiskFull(_) => ErrorCode::DiskFull,
            Error::Storage(_) => ErrorCode::Storage,
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::StorageFull => {
                ErrorCode::DiskFull
            }
            Error::Io { .. } => ErrorCode::Io,
            Error::Internal(_) => ErrorCode::Internal,
            Error::Unauthorized { .. } => ErrorCode::Unauthorized,
            Error::RateLimited { .. } => ErrorCode::RateLimited,
            Error::Upstream { .. } => ErrorCode::Upstream,
            Error::Network(_) => ErrorCode::Network,
            Error::Timeout(_) => ErrorCode::Timeout,
            Error::Overloaded { .. } => ErrorCode::Overloaded,
            Error::ContextTooLong { .. } => ErrorCode::ContextTooLong,
            Error::BadRequest { .. } => ErrorCode::BadRequest,
            Error::Truncated(_) => ErrorCode::Truncated,
            Error::Protocol(_) => ErrorCode::Protocol,
            Error::Busy(_) => ErrorCode::Busy,
            Error::ReplyStreaming { .. } => ErrorCode::ReplyStreaming,
            Error::KeyringUnavailable(_) => ErrorCode::KeyringUnavailable,
        }
    }

    /// The file this error is about, when there is one worth showing.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Error::DatabaseCorrupt { path, .. }
            | Error::DatabaseTooNew { path, .. }
            | Error::Io { path, .. } => Some(path),
            _ => None,
        }
    }

    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Classifies a sqlx error that happened while using the database at `path`.
    pub(crate) fn from_sqlx(path: &Path, err: sqlx::Error) -> Self {
        if let Some(db) = err.as_database_error() {
            // SQLite's primary result codes; extended codes keep them in the low byte.
            let primary = db
                .code()
                .and_then(|c| c.parse::<i32>().ok())
                .map(|c| c & 0xff);
            // A full disk can also show as an I/O error on the WAL's
            // shared-memory index, which SQLite grows before any write.
            if db.code().and_then(|c| c.parse::<i32>().ok()) == Some(SQLITE_IOERR_SHMSIZE) {
                return Error::DiskFull(format!(
                    "no room to grow the database's shared-memory file ({})",
                    db.message()
                ));
            }
            match primary {
                Some(SQLITE_CORRUPT) | Some(SQLITE_NOTADB) => {
                    return Error::DatabaseCorrupt {
                        path: path.to_owned(),
                        detail: db.message().to_owned(),
                    }
                }
                Some(SQLITE_FULL) => return Error::DiskFull(db.message().to_owned()),
                _ => {}
            }
        }
        if let sqlx::Error::Io(io) = err {
            return Error::io(path, io);
        }
        Error::Storage(err.to_string())
    }
}

/// "entry 3 (\"Eldoria\"), field `key`: detail", leaving out what is unknown.
fn world_book_detail(entry: Option<&str>, field: Option<&str>, detail: &str) -> String {
    match (entry, field) {
        (Some(e), Some(f)) => format!("{e}, field `{f}`: {detail}"),
        (Some(e), None) => format!("{e}: {detail}"),
        (None, Some(f)) => format!("field `{f}`: {detail}"),
        (None, None) => detail.to_owned(),
    }
}

/// "the provider is rate limiting requests; try again in 20 seconds (detail)".
fn rate_limited_message(retry_after_secs: Option<u32>, detail: &str) -> String {
    let detail = redact_secrets(detail);
    match retry_after_secs {
        Some(1) => {
            format!("the provider is rate limiting requests; try again in 1 second ({detail})")
        }
        Some(s) => {
            format!("the provider is rate limiting requests; try again in {s} seconds ({detail})")
        }
        None => format!("the provider is rate limiting requests; try again later ({detail})"),
    }
}

/// " (HTTP 500)" or nothing.
fn status_suffix(status: Option<u16>) -> String {
    status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
}

/// Replaces anything that looks like an API key or an Authorization value.
///
/// Providers echo parts of a request in their errors (a bad key, a header), and
/// an error message travels to the UI, the CLI and logs: none may carry a key.
/// Covers `sk-...` keys (OpenAI, Anthropic, OpenRouter) and `Bearer <token>`.
pub fn redact_secrets(text: &str) -> String {
    static KEY: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)\bbearer\s+[^\s\x22',;}]+|sk-[A-Za-z0-9_-]{8,}").ok()
    });
    match KEY.as_ref() {
        Some(re) => re.replace_all(text, "[redacted]").into_owned(),
        // The pattern is a constant that compiles; never fall back to the raw text.
        None => String::from("[message hidden]"),
    }
}

const SQLITE_CORRUPT: i32 = 11;
const SQLITE_FULL: i32 = 13;
const SQLITE_NOTADB: i32 = 26;
/// SQLITE_IOERR (10) | 19 << 8: the `-shm` file could not be enlarged, "which
/// may indicate that the underlying filesystem volume is out of space" (SQLite's docs).
const SQLITE_IOERR_SHMSIZE: i32 = 4874;

/// The stable machine code of an error, as the UI and scripts see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The thing asked for does not exist.
    NotFound,
    /// The input was rejected.
    InvalidInput,
    /// A stream is already running for this session.
    Busy,
    /// The provider refused the API key.
    Unauthorized,
    /// The provider asked to slow down.
    RateLimited,
    /// The provider answered with an error.
    Upstream,
    /// The provider could not be reached.
    Network,
    /// The provider stopped answering.
    Timeout,
    /// The database failed.
    Storage,
    /// The disk is full.
    DiskFull,
    /// The OS keyring cannot be used.
    KeyringUnavailable,
    /// The database file is damaged or not Confab's.
    DatabaseCorrupt,
    /// The database file comes from a newer Confab.
    DatabaseTooNew,
    /// A file could not be read or written.
    Io,
    /// A bug: an impossible state, reported instead of a crash.
    Internal,
    /// A file holds no character card.
    NoCardData,
    /// A file is a damaged or malformed card.
    InvalidCard,
    /// Input over one of Confab's size or depth limits.
    TooLarge,
    /// A file of a kind Confab does not import.
    UnsupportedFormat,
    /// A world-book file is malformed (names the entry and field at fault).
    InvalidWorldBook,
    /// The provider is overloaded; try again later.
    Overloaded,
    /// The prompt does not fit in the model's context window.
    ContextTooLong,
    /// The provider rejected the request as malformed.
    BadRequest,
    /// The reply stream ended before the provider finished it.
    Truncated,
    /// The provider broke its own wire protocol.
    Protocol,
    /// A backup or library archive comes from a newer Confab.
    BackupTooNew,
    /// A backup or library archive is damaged, hostile or not Confab's.
    BackupDamaged,
    /// A reply is streaming: the library cannot be replaced until it ends.
    ReplyStreaming,
}

impl ErrorCode {
    /// The code as it appears on the wire (`"not_found"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "not_found",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::Busy => "busy",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Upstream => "upstream",
            ErrorCode::Network => "network",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Storage => "storage",
            ErrorCode::DiskFull => "disk_full",
            ErrorCode::KeyringUnavailable => "keyring_unavailable",
            ErrorCode::DatabaseCorrupt => "database_corrupt",
            ErrorCode::DatabaseTooNew => "database_too_new",
            ErrorCode::Io => "io",
            ErrorCode::Internal => "internal",
            ErrorCode::NoCardData => "no_card_data",
            ErrorCode::InvalidCard => "invalid_card",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::UnsupportedFormat => "unsupported_format",
            ErrorCode::InvalidWorldBook => "invalid_world_book",
            ErrorCode::Overloaded => "overloaded",
            ErrorCode::ContextTooLong => "context_too_long",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Truncated => "truncated",
            ErrorCode::Protocol => "protocol",
            ErrorCode::BackupTooNew => "backup_too_new",
            ErrorCode::BackupDamaged => "backup_damaged",
            ErrorCode::ReplyStreaming => "reply_streaming",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as it crosses a process boundary: `{ code, message, path? }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct AppError {
    /// Stable machine code.
    pub code: ErrorCode,
    /// A readable English sentence; the UI shows a localised title above it.
    pub message: String,
    /// The file concerned, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// For `rate_limited`: seconds the provider asked to wait, when it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u32>,
}

impl From<Error> for AppError {
    fn from(err: Error) -> Self {
        AppError {
            code: err.code(),
            path: err.path().map(|p| p.display().to_string()),
            retry_after_secs: match &err {
                Error::RateLimited {
                    retry_after_secs, ..
                } => *retry_after_secs,
                _ => None,
            },
            message: err.to_string(),
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for AppError {}

#[cfg(test)]
mod tests;
