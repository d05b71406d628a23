//! On a full disk, writes fail with `disk_full` and leave the library as it
//! was: importing cards, sending, backing up, restoring a backup and merging
//! a library archive (the last two take a safety backup first), with the
//! backups already taken intact and no partial backup left or listed. The disk is real: a small tmpfs the test mounts in a private mount
//! namespace of its own (so nothing outside sees it, and it vanishes with the
//! test, whatever happens), filled to within a few KiB of its end.
//!
//! The test runs itself again inside `unshare -m` (root, as in CI) or, failing
//! that, `unshare -Urm` (an unprivileged user namespace). When neither can
//! mount a tmpfs, it fails and says why: a skipped proof would look like a
//! passing one.
#![cfg(target_os = "linux")]

mod durable_support;

use std::io::Write;
use std::path::Path;
use std::process::Command;

use durable_support::db::Db;
use durable_support::{chat_library, command, confab, confab_ok, fixture, json_lines, slow_server};

/// Set (to the mount point) in the run inside the namespace.
const INNER: &str = "CONFAB_DISK_FULL_MOUNT";
/// Printed by the inner run once its tmpfs is mounted.
const MOUNTED: &str = "disk_full: tmpfs mounted";
const TMPFS_SIZE: &str = "size=8m";
/// Free space left on the filled disk, in KiB: none, less than a page of the
/// shared-memory index, and a little.
const SLACKS_KIB: [u64; 5] = [0, 4, 16, 48, 96];

#[test]
fn on_a_full_disk_import_send_and_backup_fail_with_disk_full_and_change_nothing() {
    match std::env::var_os(INNER) {
        Some(mount) => full_disk(Path::new(&mount)),
        None => run_in_a_mount_namespace(
            "on_a_full_disk_import_send_and_backup_fail_with_disk_full_and_change_nothing",
        ),
    }
}

/// Runs the test `name` of this binary again in a private mount namespace.
fn run_in_a_mount_namespace(name: &str) {
    let me = std::env::current_exe().unwrap();
    let mount = tempfile::tempdir().unwrap();
    let mut tried = Vec::new();
    for unshare in [&["-m"][..], &["-Urm"][..]] {
        let out = Command::new("unshare")
            .args(unshare)
            .args(["--propagation", "private", "--"])
            .arg(&me)
            .args(["--exact", name, "--nocapture", "--test-threads", "1"])
            .env(INNER, mount.path())
            .output();
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                tried.push(format!("unshare {unshare:?}: {e}"));
                continue;
            }
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stdout.contains(MOUNTED) {
            assert!(
                out.status.success(),
                "the full-disk test failed:\n{stdout}\n{stderr}"
            );
            print!("{stdout}");
            return;
        }
        tried.push(format!(
            "unshare {unshare:?}: {}{}",
            stdout.trim(),
            stderr.trim()
        ));
    }
    panic!(
        "this test needs a small filesystem of its own and could not make one: neither \
         `unshare -m` (as root) nor `unshare -Urm` (unprivileged user namespaces) could \
         mount a tmpfs here. Run it as root (CI does, in its container; a container needs \
         CAP_SYS_ADMIN, e.g. docker --privileged or --cap-add SYS_ADMIN) or enable user \
         namespaces (sysctl kernel.unprivileged_userns_clone=1).\n{}",
        tried.join("\n")
    );
}

/// The test proper, inside the namespace: `mount` is where the tmpfs goes.
fn full_disk(mount: &Path) {
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", TMPFS_SIZE, "tmpfs"])
        .arg(mount)
        .output()
        .expect("mount runs");
    assert!(
        mounted.status.success(),
        "mount -t tmpfs: {}",
        String::from_utf8_lossy(&mounted.stderr)
    );
    println!("{MOUNTED} at {} ({TMPFS_SIZE})", mount.display());
    let data = mount.join("data");
    let url = slow_server(std::time::Duration::from_millis(1));
    let session = chat_library(&data, &url);
    confab_ok(&data, &["chat", &session, "hello"]);
    let card = fixture("v2_png__st_default_FluxTheCat.png");
    let card = card.to_str().unwrap();
    // About 110 KB: more than the room left, less than an argument may hold.
    let long: String = (0..14_000).map(|i| format!("word{i} ")).collect();

    // An earlier backup, and an archive of the library, made while there is room.
    let earlier: serde_json::Value =
        serde_json::from_str(&confab_ok(&data, &["backup", "create", "--json"])).unwrap();
    let earlier_name = earlier["name"].as_str().unwrap().to_owned();
    assert!(
        earlier["size"].as_f64().unwrap() > (SLACKS_KIB[SLACKS_KIB.len() - 1] * 1024) as f64,
        "a backup must need more room than the most that is left free: {earlier}"
    );
    let backups = data.join("backups");
    let earlier_bytes = std::fs::read(backups.join(&earlier_name)).unwrap();
    let archive = mount.join("library.confab");
    confab_ok(
        &data,
        &["library", "export", archive.to_str().unwrap(), "--json"],
    );
    let listed_before = confab_ok(&data, &["backup", "list", "--json"]);

    let mut db = Db::open(&data).unwrap();
    let before = db.dump();
    db.close();
    for slack in SLACKS_KIB {
        let context = format!("{slack} KiB free");
        let filler = fill(mount, slack * 1024);
        for (what, args) in [
            ("import", vec!["import", card, "--json"]),
            ("send", vec!["chat", &session, &long, "--json"]),
            ("backup", vec!["backup", "create", "--json"]),
            (
                "restore",
                vec!["backup", "restore", &earlier_name, "--json"],
            ),
            (
                "library import",
                vec!["library", "import", archive.to_str().unwrap(), "--json"],
            ),
        ] {
            let out = confab(&data, &args);
            let lines = json_lines(&out.stdout);
            let last = lines.last().cloned().unwrap_or_default();
            assert_eq!(
                last["error"]["code"],
                "disk_full",
                "{context}: {what}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(out.status.code(), Some(21), "{context}: {what}'s exit code");
            // Each file says why it failed, too.
            for line in lines.iter().filter(|l| l["status"] == "failed") {
                assert_eq!(line["error"]["code"], "disk_full", "{context}: {line}");
            }
        }
        // Reading needs no room, or fails as clearly.
        let out = confab(&data, &["characters", "--json"]);
        if !out.status.success() {
            let last = json_lines(&out.stdout).pop().unwrap_or_default();
            assert_eq!(
                last["error"]["code"], "disk_full",
                "{context}: reading: {last}"
            );
        }

        // The backups are as they were: the earlier one whole, nothing
        // half-written beside it, nothing new listed.
        let mut names: Vec<String> = std::fs::read_dir(&backups)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            std::slice::from_ref(&earlier_name),
            "{context}: the backups folder"
        );
        assert!(
            std::fs::read(backups.join(&earlier_name)).unwrap() == earlier_bytes,
            "{context}: the earlier backup changed"
        );

        // With room again: the library is exactly as it was, and opens.
        std::fs::remove_file(&filler).unwrap();
        assert_eq!(
            confab_ok(&data, &["backup", "list", "--json"]),
            listed_before,
            "{context}: the backups listed"
        );
        let mut db = Db::open(&data).unwrap();
        db.assert_sound(&context);
        assert!(db.dump() == before, "{context}: the library changed");
        db.close();
        confab_ok(&data, &["info", "--json"]);
    }

    filling_up_while_a_reply_streams(mount, &data, &session);

    // The same import goes through once there is room, and so does a send
    // (a shorter one: the long one is more than the model's window).
    let out = confab_ok(&data, &["import", card, "--json"]);
    assert_eq!(json_lines(out.as_bytes())[0]["status"], "imported");
    let out = confab_ok(&data, &["chat", &session, "hello again", "--json"]);
    assert_eq!(json_lines(out.as_bytes()).last().unwrap()["type"], "done");
}

/// The disk fills while a reply streams: the reply fails with `disk_full`
/// (its final save had no room), and once there is room again the next
/// command marks it interrupted, keeping the text its last checkpoint saved.
fn filling_up_while_a_reply_streams(mount: &Path, data: &Path, session: &str) {
    use std::io::BufRead;
    let url = slow_server(std::time::Duration::from_millis(15));
    // This server is the session's provider from now on.
    confab_ok(data, &["provider", "remove", "Local"]);
    confab_ok(
        data,
        &[
            "provider",
            "add",
            "Slow",
            "--kind",
            "compatible",
            "--base-url",
            &url,
            "--model",
            "m",
        ],
    );
    let mut child = command(data, &["chat", session, "fill up", "--json"])
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut events = Vec::new();
    let mut filler = None;
    for line in lines.by_ref() {
        let event: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        let first_words = event["type"] == "delta" && filler.is_none();
        events.push(event);
        if first_words {
            filler = Some(fill(mount, 0));
        }
    }
    let status = child.wait().unwrap();
    let last = events.last().cloned().unwrap_or_default();
    assert_eq!(last["type"], "failed", "{events:?}");
    assert_eq!(last["error"]["code"], "disk_full", "{last}");
    assert_eq!(status.code(), Some(21));
    let started = &events[0];
    assert_eq!(started["type"], "started");

    std::fs::remove_file(filler.expect("the reply streamed")).unwrap();
    confab_ok(data, &["sessions", "--json"]);
    let mut db = Db::open(data).unwrap();
    db.assert_sound("after a reply cut by a full disk");
    let user = started["userMessageId"].as_str().unwrap();
    let reply = started["assistantMessageId"].as_str().unwrap();
    assert_eq!(
        db.texts(&format!("SELECT content FROM messages WHERE id = '{user}'")),
        ["fill up"]
    );
    assert_eq!(
        db.texts(&format!("SELECT status FROM messages WHERE id = '{reply}'")),
        ["interrupted"]
    );
    db.close();
}

/// Fills the filesystem at `mount` with one file, then gives back `slack`
/// bytes of it; returns the file.
fn fill(mount: &Path, slack: u64) -> std::path::PathBuf {
    let path = mount.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    // Big blocks, then small ones, until the disk refuses.
    for size in [block.len(), 4096, 512] {
        loop {
            match file.write(&block[..size]) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                Err(e) => panic!("filling the disk: {e}"),
            }
        }
    }
    file.set_len(written.saturating_sub(slack)).unwrap();
    file.sync_all().unwrap();
    path
}
