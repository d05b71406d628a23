//! Shared by the durability tests (kills and a full disk): a seeded random
//! source whose seed is printed, running `confab`, a slow model server on
//! 127.0.0.1, generated cards, and a read of the database for its invariants.
#![allow(dead_code)] // each test binary uses its own part of this

pub mod db;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// SplitMix64: small, fast, and the same sequence for the same seed everywhere.
pub struct Rng(u64);

impl Rng {
    /// The seed from `CONFAB_KILL_SEED` (to replay a failure), else from the clock;
    /// printed either way, so a failing run can be replayed.
    pub fn from_env(test: &str) -> (Rng, u64) {
        let seed = std::env::var("CONFAB_KILL_SEED")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        println!("{test}: seed {seed} (replay with CONFAB_KILL_SEED={seed})");
        (Rng(seed), seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `confab` on `data_dir`, with no keyring and no display, output piped.
pub fn command(data_dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_confab"));
    cmd.args(args)
        .env("CONFAB_DATA_DIR", data_dir)
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/confab-test-bus",
        )
        .env_remove("DISPLAY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs `confab` to its end.
pub fn confab(data_dir: &Path, args: &[&str]) -> Output {
    command(data_dir, args)
        .output()
        .expect("the confab binary runs")
}

/// Runs `confab` and insists that it succeeded; returns its stdout.
pub fn confab_ok(data_dir: &Path, args: &[&str]) -> String {
    let out = confab(data_dir, args);
    assert!(
        out.status.success(),
        "confab {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The JSON lines a `--json` command printed (a torn last line, cut by a kill, is left out).
pub fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The fixture cards' folder in confab-core.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures/cards")
        .join(name)
}

/// The real card the generated ones vary: SillyTavern's Seraphina (V2 PNG,
/// with a four-entry character_book).
pub const SERAPHINA: &str = "v2_png__st_default_Seraphina_2024.png";
/// Entries in Seraphina's embedded book.
pub const SERAPHINA_BOOK_ENTRIES: i64 = 4;

/// Writes `n` PNG cards into `dir`: Seraphina's card renamed "Seraphina NNNN",
/// each with a one-rule chat dictionary, on a tiny avatar (a real 1x1 card
/// PNG's image chunks) so reading them costs little. Returns their tag count.
pub fn write_cards(dir: &Path, n: usize) -> usize {
    use confab_core::card::{self, Image, Limits};
    std::fs::create_dir_all(dir).unwrap();
    let real = card::read_card_file(&fixture(SERAPHINA), &Limits::default()).unwrap();
    assert!(
        real.data.character_book.is_some(),
        "Seraphina carries a book"
    );
    let tiny = std::fs::read(fixture("ccv3_over_chara__vibetavern.png")).unwrap();
    let avatar = Image {
        bytes: tiny,
        mime: "image/png",
    };
    for i in 0..n {
        let mut data = real.data.clone();
        data.name = format!("Seraphina {i:04}");
        data.extensions.insert(
            "confab/dictionary".into(),
            serde_json::json!({"version": 1, "rules": [{"find": "glade", "replace": format!("grove {i}")}]}),
        );
        let bytes = card::write_png(&data, None, Some(&avatar)).unwrap();
        std::fs::write(dir.join(format!("seraphina-{i:04}.png")), bytes).unwrap();
    }
    real.data.tags.len()
}

/// Words in a full reply of the slow server.
pub const REPLY_WORDS: usize = 40;

/// The full reply: "w0 w1 ... w39 ".
pub fn full_reply() -> String {
    (0..REPLY_WORDS).map(|i| format!("w{i} ")).collect()
}

/// A fake OpenAI-compatible server on 127.0.0.1 that streams [`full_reply`]
/// a word every `pause`; returns its base URL. It serves until the test ends.
pub fn slow_server(pause: Duration) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let mut out = reader.into_inner();
                let _ = out.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n",
                );
                for i in 0..REPLY_WORDS {
                    std::thread::sleep(pause);
                    let chunk = format!(
                        "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"w{i} \"}}}}]}}\n\n"
                    );
                    // The client was killed: stop.
                    if out.write_all(chunk.as_bytes()).is_err() {
                        return;
                    }
                }
                let _ = out.write_all(
                    b"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
                );
            });
        }
    });
    url
}

/// A data folder with Seraphina, a session with her and a provider at `url`;
/// returns the session's id.
pub fn chat_library(dir: &Path, url: &str) -> String {
    let out = confab_ok(
        dir,
        &["import", fixture(SERAPHINA).to_str().unwrap(), "--json"],
    );
    let character = json_lines(out.as_bytes())[0]["characterId"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = confab_ok(dir, &["session", "new", &character, "--json"]);
    let session: serde_json::Value = serde_json::from_str(&out).unwrap();
    confab_ok(
        dir,
        &[
            "provider",
            "add",
            "Local",
            "--kind",
            "compatible",
            "--base-url",
            url,
            "--model",
            "slow-model",
        ],
    );
    session["id"].as_str().unwrap().to_owned()
}
