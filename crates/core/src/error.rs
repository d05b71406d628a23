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
            Error::DiskFull(_) => ErrorCode::DiskFull,
            Error::Storage(_) => ErrorCode::Storage,
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::StorageFull => {
                ErrorCode::DiskFull
            }
            Error::Io { .. } => ErrorCode::Io,
            Error::Internal(_) => ErrorCode::Internal,
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

const SQLITE_CORRUPT: i32 = 11;
const SQLITE_FULL: i32 = 13;
const SQLITE_NOTADB: i32 = 26;

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
}

impl From<Error> for AppError {
    fn from(err: Error) -> Self {
        AppError {
            code: err.code(),
            path: err.path().map(|p| p.display().to_string()),
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
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_to_their_stable_strings() {
        let all = [
            ErrorCode::NotFound,
            ErrorCode::InvalidInput,
            ErrorCode::Busy,
            ErrorCode::Unauthorized,
            ErrorCode::RateLimited,
            ErrorCode::Upstream,
            ErrorCode::Network,
            ErrorCode::Timeout,
            ErrorCode::Storage,
            ErrorCode::DiskFull,
            ErrorCode::KeyringUnavailable,
            ErrorCode::DatabaseCorrupt,
            ErrorCode::DatabaseTooNew,
            ErrorCode::Io,
            ErrorCode::Internal,
            ErrorCode::NoCardData,
            ErrorCode::InvalidCard,
            ErrorCode::TooLarge,
            ErrorCode::UnsupportedFormat,
            ErrorCode::InvalidWorldBook,
        ];
        let wire: Vec<String> = all
            .iter()
            .map(|c| {
                serde_json::to_value(c)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        // These strings are a public contract: this list only ever grows.
        assert_eq!(
            wire,
            [
                "not_found",
                "invalid_input",
                "busy",
                "unauthorized",
                "rate_limited",
                "upstream",
                "network",
                "timeout",
                "storage",
                "disk_full",
                "keyring_unavailable",
                "database_corrupt",
                "database_too_new",
                "io",
                "internal",
                "no_card_data",
                "invalid_card",
                "too_large",
                "unsupported_format",
                "invalid_world_book"
            ]
        );
        for (code, s) in all.iter().zip(&wire) {
            assert_eq!(code.as_str(), s);
        }
    }

    #[test]
    fn app_error_carries_code_message_and_path() {
        let err = Error::DatabaseTooNew {
            path: PathBuf::from("/data/confab.db"),
            found: 9,
            supported: 1,
        };
        let json = serde_json::to_value(AppError::from(err)).unwrap();
        assert_eq!(json["code"], "database_too_new");
        assert_eq!(json["path"], "/data/confab.db");
        let message = json["message"].as_str().unwrap();
        assert!(message.contains("newer version of Confab"), "{message}");
        assert!(message.contains("did not change it"), "{message}");
    }

    #[test]
    fn app_error_without_a_path_omits_the_field() {
        let json = serde_json::to_value(AppError::from(Error::InvalidInput("bad".into()))).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "invalid_input", "message": "bad"})
        );
    }

    #[test]
    fn a_full_disk_reported_by_the_os_is_disk_full() {
        let err = Error::io("/x", std::io::Error::from(std::io::ErrorKind::StorageFull));
        assert_eq!(err.code(), ErrorCode::DiskFull);
    }
}
