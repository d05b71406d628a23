//! One Confab per library: the real builder ([`confab_app::desktop_builder`])
//! registers the single-instance guard, so a second launch on the same library
//! hands over to the first and exits, while another library opens normally.
//!
//! On Linux the guard is a D-Bus name, so the test runs a private
//! `dbus-daemon` (nothing on it but these apps) and launches this test binary
//! again as each app, on Tauri's mock runtime: the parent only watches.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Set in a child: the data folder of the app it plays.
const CHILD_DIR: &str = "CONFAB_SINGLE_INSTANCE_CHILD";
const STARTED: &str = "CONFAB_APP_STARTED";

/// A child's part: build the app as `run` does and stay up until killed.
/// Passes at once when not run as a child.
#[test]
fn child_app() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let state =
        confab_app::AppState::with_keys(Ok(dir.into()), confab_core::secrets::Keys::in_memory);
    // A second launch never gets past this: the guard exits the process.
    let _app = confab_app::desktop_builder(tauri::test::mock_builder(), state)
        .build(tauri::test::mock_context(tauri::test::noop_assets()))
        .expect("the app builds");
    println!("{STARTED}");
    std::thread::sleep(Duration::from_secs(60));
    panic!("the child app was not stopped");
}

/// Kills a child process if the test ends first.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private session bus; answers it and its address.
fn private_bus() -> (KillOnDrop, String) {
    let mut daemon = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-daemon runs (Debian: dbus-daemon; `make setup` installs it)");
    let mut line = String::new();
    BufReader::new(daemon.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("unix:"), "a bus address: {line:?}");
    (KillOnDrop(daemon), line.trim().to_owned())
}

/// Launches the app on `dir` as a child process using the bus at `bus`.
/// Answers the child and a receiver that gets `()` once it has started.
fn launch(bus: &str, dir: &Path) -> (KillOnDrop, mpsc::Receiver<()>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_app", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir)
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            match line {
                // libtest may print the test's name on the same line first.
                Ok(line) if line.contains(STARTED) => {
                    let _ = tx.send(());
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    (KillOnDrop(child), rx)
}

/// The names the bus knows that the single-instance guard took.
fn guard_names(bus: &str) -> Vec<String> {
    let out = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.ListNames",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .output()
        .expect("dbus-send runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("string \"")?.strip_suffix('"'))
        .filter(|n| n.starts_with("app.confab.desktop.") && n.ends_with(".SingleInstance"))
        .map(str::to_owned)
        .collect()
}

const WAIT: Duration = Duration::from_secs(60);

#[test]
fn a_second_launch_on_a_library_hands_over_and_exits() {
    let (_bus_daemon, bus) = private_bus();
    let library = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();

    let (_first, started) = launch(&bus, library.path());
    started.recv_timeout(WAIT).expect("the first app starts");
    assert_eq!(
        guard_names(&bus).len(),
        1,
        "the guard holds a name for the library"
    );

    // A second launch on the same library hands over to the first and exits at once.
    let (mut second, started) = launch(&bus, library.path());
    let status = second.0.wait().unwrap();
    assert!(
        status.success(),
        "the second launch exits cleanly: {status}"
    );
    assert!(
        started.try_recv().is_err(),
        "the second launch never started an app"
    );

    // Another library is another Confab.
    let (_other, started) = launch(&bus, elsewhere.path());
    started
        .recv_timeout(WAIT)
        .expect("an app on another library starts");
    assert_eq!(guard_names(&bus).len(), 2);

    // A first app that dies (killed, no clean exit) does not keep its library locked out.
    drop(_first);
    for _ in 0..500 {
        if guard_names(&bus).len() == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        guard_names(&bus).len(),
        1,
        "the bus freed the dead app's name"
    );
    let (_again, started) = launch(&bus, library.path());
    started
        .recv_timeout(WAIT)
        .expect("the library opens again after its app died");
}
