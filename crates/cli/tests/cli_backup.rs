//! `confab backup list|create|restore` and `confab library export|import` on real data folders.

mod cli_support;

use cli_support::{confab, fixture, stdout_json};
use confab_core::store::{LibraryLock, DATABASE_FILE};

fn ok(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout_json(out)
}

fn personas(dir: &std::path::Path) -> Vec<String> {
    let list = ok(&confab(dir, &["--json", "persona", "list"]));
    let mut names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_backup_is_listed_and_restores_the_library_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    ok(&confab(dir.path(), &["--json", "persona", "add", "Ada"]));
    let created = ok(&confab(dir.path(), &["--json", "backup", "create"]));
    assert_eq!(created["kind"], "manual");
    let name = created["name"].as_str().unwrap().to_owned();
    let list = ok(&confab(dir.path(), &["--json", "backup", "list"]));
    assert_eq!(list[0]["name"], name.as_str());
    assert!(list[0]["size"].as_f64().unwrap() > 0.0);

    ok(&confab(dir.path(), &["--json", "persona", "add", "Grace"]));
    assert_eq!(personas(dir.path()), ["Ada", "Grace"]);
    let restored = ok(&confab(dir.path(), &["--json", "backup", "restore", &name]));
    assert_eq!(restored["restored"]["name"], name.as_str());
    assert_eq!(restored["previous"]["kind"], "preRestore");
    assert_eq!(personas(dir.path()), ["Ada"]);

    let text = confab(dir.path(), &["backup", "list"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("pre-restore") && text.contains(&name),
        "{text}"
    );
}

#[test]
fn restore_is_refused_while_the_app_holds_the_library_and_for_unknown_names() {
    let dir = tempfile::tempdir().unwrap();
    let created = ok(&confab(dir.path(), &["--json", "backup", "create"]));
    let name = created["name"].as_str().unwrap();
    // The app holds the library shared for as long as it runs.
    let mut app = LibraryLock::open(&dir.path().join(DATABASE_FILE)).unwrap();
    app.share().unwrap();
    let out = confab(dir.path(), &["--json", "backup", "restore", name]);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(stdout_json(&out)["error"]["code"], "busy");
    drop(app);
    let out = confab(
        dir.path(),
        &["--json", "backup", "restore", "confab-1-manual-v6.db"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stdout_json(&out)["error"]["code"], "not_found");
}

#[test]
fn a_library_moves_to_another_folder_through_an_archive() {
    let from = tempfile::tempdir().unwrap();
    let card = fixture("v2_png__st_default_CodingSensei.png");
    let out = confab(from.path(), &["import", card.to_str().unwrap()]);
    assert!(out.status.success());
    ok(&confab(from.path(), &["--json", "persona", "add", "Ada"]));
    let archive = from.path().join("all.confab");
    let exported = ok(&confab(
        from.path(),
        &["--json", "library", "export", archive.to_str().unwrap()],
    ));
    assert!(exported["size"].as_f64().unwrap() > 0.0);

    let to = tempfile::tempdir().unwrap();
    let report = ok(&confab(
        to.path(),
        &["--json", "library", "import", archive.to_str().unwrap()],
    ));
    assert_eq!(report["added"]["characters"], 1);
    assert_eq!(report["added"]["personas"], 1);
    assert_eq!(report["skipped"], serde_json::json!([]));
    // Again: everything is already there, and says so.
    let again = confab(to.path(), &["library", "import", archive.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(
        text.contains("added 0 characters") && text.contains("AlreadyInLibrary"),
        "{text}"
    );

    let garbage = to.path().join("garbage.confab");
    std::fs::write(&garbage, b"not a zip").unwrap();
    let out = confab(
        to.path(),
        &["--json", "library", "import", garbage.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert_eq!(stdout_json(&out)["error"]["code"], "backup_damaged");
}

#[test]
fn an_import_lists_conflicts_in_a_dry_run_and_settles_them_by_on_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let card = fixture("v2_png__st_default_CodingSensei.png");
    let out = confab(dir.path(), &["--json", "import", card.to_str().unwrap()]);
    let character = cli_support::json_lines(&out)[0]["characterId"]
        .as_str()
        .unwrap()
        .to_owned();
    let session = ok(&confab(
        dir.path(),
        &["--json", "session", "new", &character],
    ));
    let session = session["id"].as_str().unwrap().to_owned();
    let archive = dir.path().join("all.confab");
    ok(&confab(
        dir.path(),
        &["--json", "library", "export", archive.to_str().unwrap()],
    ));
    // The chat goes on here after the export: the archive's differs now.
    ok(&confab(
        dir.path(),
        &[
            "--json",
            "session",
            "say",
            &session,
            "Zanzibar, said only here",
        ],
    ));
    let texts = |dir: &std::path::Path| -> Vec<String> {
        let page = ok(&confab(dir, &["--json", "messages", &session]));
        page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = texts(dir.path());
    let path = archive.to_str().unwrap();

    let preview = ok(&confab(
        dir.path(),
        &["--json", "library", "import", path, "--dry-run"],
    ));
    assert_eq!(preview["conflicts"][0]["kind"], "session", "{preview}");
    assert_eq!(preview["conflicts"][0]["id"], session.as_str());
    assert_eq!(preview["conflicts"][0]["choice"], "skip");
    let text = confab(dir.path(), &["library", "import", path, "--dry-run"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("dry run") && text.contains("1 conflicts"),
        "{text}"
    );
    let backups = ok(&confab(dir.path(), &["--json", "backup", "list"]));
    assert_eq!(backups, serde_json::json!([]), "a dry run takes no backup");

    // Refused while the app (or a `confab chat`) has the library: it may be streaming.
    let mut app = LibraryLock::open(&dir.path().join(DATABASE_FILE)).unwrap();
    app.share().unwrap();
    let out = confab(dir.path(), &["--json", "library", "import", path]);
    assert_eq!(stdout_json(&out)["error"]["code"], "busy");
    drop(app);

    let kept = ok(&confab(
        dir.path(),
        &[
            "--json",
            "library",
            "import",
            path,
            "--on-conflict",
            "keep-both",
        ],
    ));
    assert_eq!(kept["added"]["sessions"], 1, "{kept}");
    assert_eq!(kept["conflicts"][0]["choice"], "keepBoth");
    assert_eq!(texts(dir.path()), before, "the chat here is as it was");
    let sessions = ok(&confab(dir.path(), &["--json", "sessions"]));
    assert_eq!(sessions.as_array().unwrap().len(), 2, "{sessions}");

    let overwritten = ok(&confab(
        dir.path(),
        &[
            "--json",
            "library",
            "import",
            path,
            "--on-conflict",
            "overwrite",
        ],
    ));
    assert_eq!(
        overwritten["conflicts"][0]["choice"], "overwrite",
        "{overwritten}"
    );
    let after = texts(dir.path());
    assert!(!after.iter().any(|t| t.contains("Zanzibar")), "{after:?}");
    assert_eq!(after.len(), before.len() - 1);
}
