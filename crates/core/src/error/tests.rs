//! The error codes, their classification and their wire form.

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
        ErrorCode::Overloaded,
        ErrorCode::ContextTooLong,
        ErrorCode::BadRequest,
        ErrorCode::Truncated,
        ErrorCode::Protocol,
        ErrorCode::BackupTooNew,
        ErrorCode::BackupDamaged,
        ErrorCode::ReplyStreaming,
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
            "invalid_world_book",
            "overloaded",
            "context_too_long",
            "bad_request",
            "truncated",
            "protocol",
            "backup_too_new",
            "backup_damaged",
            "reply_streaming"
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
fn provider_errors_never_show_a_key() {
    let key = "sk-proj-AbCdEf0123456789_xyz";
    let errors = [
        Error::Unauthorized {
            detail: format!("Incorrect API key provided: {key}"),
        },
        Error::RateLimited {
            retry_after_secs: Some(3),
            detail: format!("key {key}"),
        },
        Error::Upstream {
            status: Some(500),
            detail: format!("Authorization: Bearer {key}"),
        },
        Error::Network("header was bearer abc.def-ghi".into()),
        Error::BadRequest {
            detail: format!("\"{key}\""),
        },
    ];
    for err in errors {
        let msg = err.to_string();
        assert!(!msg.contains("sk-proj"), "{msg}");
        assert!(!msg.contains("abc.def"), "{msg}");
        assert!(msg.contains("[redacted]"), "{msg}");
    }
    assert_eq!(redact_secrets("sk-short ok"), "sk-short ok");
}

#[test]
fn a_full_disk_reported_by_the_os_is_disk_full() {
    let err = Error::io("/x", std::io::Error::from(std::io::ErrorKind::StorageFull));
    assert_eq!(err.code(), ErrorCode::DiskFull);
}
