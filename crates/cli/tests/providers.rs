//! `confab provider ...` and `confab usage`, run as a user would run them.
//!
//! Commands that reach the OS keyring (`provider list`, `add`, `remove`,
//! `models --refresh`, `key set|delete|test`) are exercised here only up to the
//! point where they need it: their argument checks and errors. Their full runs
//! wait for `Keys::from_env`, which the secrets work provides.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use confab_core::llm::{ModelInfo, ProviderConfig, ProviderKind};
use confab_core::store::{Store, UsageOutcome, UsageRecord};

fn confab(data_dir: &Path, args: &[&str]) -> Output {
    confab_with_stdin(data_dir, args, None)
}

fn confab_with_stdin(data_dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_confab"))
        .args(args)
        .env("CONFAB_DATA_DIR", data_dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the confab binary runs");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        // A command that refuses before reading stdin may already have closed
        // it (EPIPE): its answer, not the write, is what the tests check.
        let _ = pipe.write_all(bytes);
    }
    child.wait_with_output().unwrap()
}

fn stdout_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn error_code(out: &Output) -> String {
    assert!(!out.status.success());
    stdout_json(out)["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A data folder with two providers, OpenRouter (first, so the default) and Local.
fn seeded() -> (tempfile::TempDir, ProviderConfig, ProviderConfig) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = block_on(async {
        let store = Store::open(dir.path()).await.unwrap();
        let mut a = ProviderConfig::new(ProviderKind::OpenRouter, "OpenRouter");
        a.default_model = "openai/gpt-4o-mini".into();
        let a = store.save_provider(&a).await.unwrap();
        let b = ProviderConfig::new(ProviderKind::OpenAiCompatible, "Local");
        let b = store.save_provider(&b).await.unwrap();
        store.close().await;
        (a, b)
    });
    (dir, a, b)
}

#[test]
fn set_default_takes_an_id_or_a_name() {
    let (dir, a, b) = seeded();
    let out = confab(dir.path(), &["--json", "provider", "set-default", "local"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout_json(&out)["default"], b.id.as_str());

    let out = confab(dir.path(), &["provider", "set-default", &a.id]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("default {}", a.id)
    );
    let default = block_on(async {
        let store = Store::open(dir.path()).await.unwrap();
        let id = store.default_provider_id().await.unwrap();
        store.close().await;
        id
    });
    assert_eq!(default.as_deref(), Some(a.id.as_str()));

    assert_eq!(
        error_code(&confab(
            dir.path(),
            &["--json", "provider", "set-default", "nope"]
        )),
        "not_found"
    );
}

#[test]
fn an_ambiguous_name_asks_for_the_id() {
    let (dir, _, _) = seeded();
    block_on(async {
        let store = Store::open(dir.path()).await.unwrap();
        let c = ProviderConfig::new(ProviderKind::OpenAi, "local");
        store.save_provider(&c).await.unwrap();
        store.close().await;
    });
    let out = confab(dir.path(), &["--json", "provider", "set-default", "LOCAL"]);
    assert_eq!(error_code(&out), "invalid_input");
    assert!(stdout_json(&out)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("use the id"));
}

#[test]
fn models_shows_the_cached_list_favourites_first() {
    let (dir, a, _) = seeded();
    let out = confab(dir.path(), &["--json", "provider", "models", "openrouter"]);
    assert!(out.status.success());
    let list = stdout_json(&out);
    assert_eq!(list["fetchedAt"], serde_json::Value::Null);
    assert_eq!(list["models"], serde_json::json!([]));
    let text = confab(dir.path(), &["provider", "models", "openrouter"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("never fetched"));

    block_on(async {
        let store = Store::open(dir.path()).await.unwrap();
        let model = |id: &str, name: &str, ctx: Option<u32>, price: Option<f64>| ModelInfo {
            id: id.into(),
            name: name.into(),
            context_length: ctx,
            prompt_price_per_million: price,
            completion_price_per_million: price.map(|p| p * 4.0),
            cache_read_price_per_million: None,
            cache_write_price_per_million: None,
        };
        store
            .save_cached_models(
                &a.id,
                &[
                    model("a/alpha", "Alpha", Some(8192), Some(0.5)),
                    model("z/zeta", "Zeta", None, None),
                ],
            )
            .await
            .unwrap();
        store
            .set_favourite_model(&a.id, "z/zeta", true)
            .await
            .unwrap();
        store.close().await;
    });
    let list = stdout_json(&confab(
        dir.path(),
        &["--json", "provider", "models", &a.id],
    ));
    assert_eq!(list["models"][0]["id"], "z/zeta");
    assert_eq!(list["models"][1]["contextLength"], 8192);
    assert_eq!(list["favourites"], serde_json::json!(["z/zeta"]));

    let text = confab(dir.path(), &["provider", "models", "OpenRouter"]);
    let text = String::from_utf8_lossy(&text.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "2 models");
    assert!(lines[1].starts_with("* z/zeta  Zeta"), "{text}");
    assert!(
        lines[2].contains("a/alpha  Alpha  8192 tokens  $0.5 in / $2 out per million"),
        "{text}"
    );
}

#[test]
fn usage_sums_per_day_and_lists_unfinished_requests() {
    let dir = tempfile::tempdir().unwrap();
    let out = confab(dir.path(), &["usage"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "no requests in this period"
    );

    block_on(async {
        let store = Store::open(dir.path()).await.unwrap();
        let record = |outcome, reason: &str, pt, ct, cost| UsageRecord {
            provider_id: None,
            provider_name: "OpenRouter".into(),
            model: "openai/gpt-4o-mini".into(),
            outcome,
            reason: reason.into(),
            prompt_tokens: pt,
            completion_tokens: ct,
            cost_usd: cost,
            cache_write_tokens: 0,
            cache_read_tokens: 0,
            cache_saved_usd: None,
        };
        for r in [
            record(UsageOutcome::Done, "", 1000, 200, Some(0.25)),
            record(UsageOutcome::Done, "", 500, 100, Some(0.5)),
            record(UsageOutcome::Failed, "rate_limited", 0, 0, None),
            UsageRecord {
                model: "anthropic/claude-sonnet-4.5".into(),
                cache_read_tokens: 1800,
                cache_write_tokens: 100,
                cache_saved_usd: Some(0.0046),
                ..record(UsageOutcome::Done, "", 2000, 10, Some(0.01))
            },
        ] {
            store.record_usage(&r).await.unwrap();
        }
        store.close().await;
    });
    let report = stdout_json(&confab(dir.path(), &["--json", "usage", "--days", "7"]));
    // Per model, by name: the Claude row first.
    assert_eq!(report["rows"][0]["cacheReadTokens"], 1800);
    assert_eq!(report["rows"][0]["cacheSavedUsd"], 0.0046);
    assert_eq!(report["rows"][1]["requests"], 3);
    assert_eq!(report["rows"][1]["promptTokens"], 1500);
    assert_eq!(report["rows"][1]["costUsd"], 0.75);
    assert_eq!(report["rows"][1]["cacheReadTokens"], 0);
    assert_eq!(report["outcomes"][0]["reason"], "rate_limited");

    let text = confab(dir.path(), &["usage"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("OpenRouter  openai/gpt-4o-mini  3 requests  1500 + 300 tokens  $0.7500"),
        "{text}"
    );
    assert!(text.contains("failed  rate_limited  1"), "{text}");
    assert!(
        text.contains("anthropic/claude-sonnet-4.5  1 requests  2000 + 10 tokens  $0.0100  cache 1800 read, 100 written, saved $0.0046"),
        "{text}"
    );
    assert!(text.contains("saved by prompt caching: $0.0046"), "{text}");

    assert_eq!(
        error_code(&confab(dir.path(), &["--json", "usage", "--days", "0"])),
        "invalid_input"
    );
}

#[test]
fn key_set_refuses_session_storage_and_empty_or_odd_stdin() {
    let (dir, _, _) = seeded();
    let out = confab_with_stdin(
        dir.path(),
        &[
            "--json",
            "provider",
            "key",
            "set",
            "openrouter",
            "--storage",
            "session",
        ],
        Some(b"sk-or-v1-secret\n"),
    );
    assert_eq!(error_code(&out), "invalid_input");
    let message = stdout_json(&out)["error"]["message"].to_string();
    assert!(message.contains("--storage keyring"), "{message}");
    assert!(!message.contains("sk-or-v1-secret"));

    let out = confab(
        dir.path(),
        &["--json", "provider", "key", "set", "openrouter"],
    );
    assert_eq!(error_code(&out), "invalid_input");
    assert!(stdout_json(&out)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no key on stdin"));

    let out = confab_with_stdin(
        dir.path(),
        &["--json", "provider", "key", "set", "openrouter"],
        Some(b"line one\nline two\n"),
    );
    assert_eq!(error_code(&out), "invalid_input");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("line one"));

    // An unknown provider is refused before anything is read.
    let out = confab_with_stdin(
        dir.path(),
        &["--json", "provider", "key", "set", "nope"],
        Some(b"sk-or-v1-secret\n"),
    );
    assert_eq!(error_code(&out), "not_found");

    // The key is never an argument.
    let out = confab(
        dir.path(),
        &["provider", "key", "set", "openrouter", "sk-or-v1-secret"],
    );
    assert!(!out.status.success());
}

#[test]
fn add_checks_its_arguments_before_anything_else() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--kind", "openai", "--temperature", "3"][..],
        &["--kind", "openai", "--header", "no colon here"],
        &["--kind", "compatible", "--base-url", "ftp://127.0.0.1/v1"],
        &[
            "--kind",
            "openai",
            "--header",
            "Authorization: Bearer sk-abcdef123456",
        ],
    ] {
        let mut all = vec!["--json", "provider", "add", "My provider"];
        all.extend_from_slice(args);
        let out = confab(dir.path(), &all);
        assert_eq!(error_code(&out), "invalid_input", "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("sk-abcdef123456"));
    }
    let out = confab(
        dir.path(),
        &["--json", "provider", "add", "   ", "--kind", "openai"],
    );
    assert_eq!(error_code(&out), "invalid_input");
}

#[test]
fn remove_and_key_commands_name_an_unknown_provider() {
    let (dir, _, _) = seeded();
    for args in [
        &["provider", "remove", "nope"][..],
        &["provider", "key", "delete", "nope"],
        &["provider", "key", "test", "nope"],
        &["provider", "models", "nope", "--refresh"],
    ] {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        assert_eq!(
            error_code(&confab(dir.path(), &all)),
            "not_found",
            "{args:?}"
        );
    }
}

#[test]
fn find_local_answers_with_a_list() {
    let dir = tempfile::tempdir().unwrap();
    let out = confab(dir.path(), &["--json", "provider", "find-local"]);
    assert!(out.status.success());
    assert!(stdout_json(&out).is_array());
}
